"""What the token endpoint hands out and takes back: access tokens, codes, refresh tokens.

Codes (RFC 6749 §4.1.2) and refresh tokens (§6) are secrets of the token's shape,
stored as digests and redeemed once: one conditional UPDATE marks a grant used,
so of two requests redeeming the same grant at once exactly one wins (the other
gets ``invalid_grant``). A refresh token is replaced on every use (rotation,
OAuth 2.0 Security BCP §4.14.2): a stolen one stops working once either party uses it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from ..models import SCIMOAuthClient, SCIMOAuthGrant, SCIMOAuthGrantKind, SCIMToken
from ..tokens import digest, is_well_formed, issue_token, new_secret
from . import pkce
from .errors import invalid_grant

#: A code lives minutes (RFC 6749 §4.1.2 recommends at most ten): the IdP redeems it at once.
CODE_LIFETIME = timedelta(minutes=5)
#: A refresh token unused this long expires; every use replaces it with a fresh one.
REFRESH_TOKEN_LIFETIME = timedelta(days=90)
#: Live access tokens one client may hold; a new one past this revokes the oldest. An IdP
#: holds one or a few; a client asking in a loop must not grow the table without end.
MAX_LIVE_ACCESS_TOKENS = 20
#: How long a dead (expired, revoked, used) access token, code or refresh token is kept.
KEEP_DEAD = timedelta(days=1)


def access_token_response(client: SCIMOAuthClient, *, refresh: bool) -> dict[str, Any]:
    """A new access token (and refresh token when ``refresh``), as RFC 6749 §5.1 returns them.

    Raises :class:`~scim_provisioning.teams.SCIMNotEnabled` when the team's SCIM is off.
    """
    lifetime = timedelta(seconds=client.access_token_seconds)
    issued = issue_token(client.team, expires_in=lifetime, oauth_client=client)
    _keep_bounded(client)
    body: dict[str, Any] = {
        "access_token": issued.plaintext,
        "token_type": "Bearer",
        "expires_in": client.access_token_seconds,
    }
    if refresh:
        body["refresh_token"] = _new_grant(
            client, SCIMOAuthGrantKind.REFRESH, lifetime=REFRESH_TOKEN_LIFETIME
        )
    return body


def _keep_bounded(client: SCIMOAuthClient) -> None:
    """Forget the client's long-dead tokens and grants; revoke live tokens past the cap.

    Access tokens are the client's alone (a timeline entry keeps a token's prefix,
    not the row), so an IdP fetching a token an hour leaves about a day's worth.
    """
    now = timezone.now()
    dead = now - KEEP_DEAD
    SCIMToken.objects.filter(oauth_client=client).filter(
        Q(expires_at__lt=dead) | Q(revoked_at__lt=dead)
    ).delete()
    SCIMOAuthGrant.objects.filter(client=client).filter(
        Q(expires_at__lt=dead) | Q(used_at__lt=dead)
    ).delete()
    live = SCIMToken.objects.filter(oauth_client=client, revoked_at__isnull=True).filter(
        expires_at__gt=now
    )
    newest = list(
        live.order_by("-created_at", "-pk").values_list("pk", flat=True)[:MAX_LIVE_ACCESS_TOKENS]
    )
    if len(newest) == MAX_LIVE_ACCESS_TOKENS:
        live.exclude(pk__in=newest).update(revoked_at=now)


def issue_code(
    client: SCIMOAuthClient,
    *,
    consented_by: Any,
    redirect_uri: str,
    code_challenge: str = "",
    code_challenge_method: str = "",
) -> str:
    """A code for ``client``, bound to the redirect URI and PKCE challenge it was asked with."""
    return _new_grant(
        client,
        SCIMOAuthGrantKind.CODE,
        lifetime=CODE_LIFETIME,
        consented_by=consented_by,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
    )


def _new_grant(
    client: SCIMOAuthClient, kind: SCIMOAuthGrantKind, *, lifetime: timedelta, **fields: Any
) -> str:
    plaintext = new_secret()
    SCIMOAuthGrant.objects.create(
        client=client,
        kind=kind,
        digest=digest(plaintext),
        expires_at=timezone.now() + lifetime,
        **fields,
    )
    return plaintext


def redeem_code(
    client: SCIMOAuthClient, code: str, *, redirect_uri: str, code_verifier: str
) -> SCIMOAuthGrant:
    """The code's grant, now used; raises ``invalid_grant`` for anything amiss (§4.1.3).

    The code must be this client's, unexpired, unused, asked for with this
    ``redirect_uri``, and answer its PKCE challenge when it has one. A verifier
    sent for a code without a challenge is refused too (RFC 7636 §4.6: the server
    cannot tell a downgrade from a client bug).
    """
    grant = _redeem(client, code, SCIMOAuthGrantKind.CODE, "authorization code")
    if grant.redirect_uri != redirect_uri:
        raise invalid_grant("redirect_uri differs from the one the code was issued for.")
    if grant.code_challenge:
        if not pkce.verifies(code_verifier, grant.code_challenge, grant.code_challenge_method):
            raise invalid_grant("code_verifier does not match the code_challenge.")
    elif code_verifier:
        raise invalid_grant("code_verifier sent for a code issued without a code_challenge.")
    return grant


def redeem_refresh_token(client: SCIMOAuthClient, refresh_token: str) -> SCIMOAuthGrant:
    """The refresh token's grant, now used; raises ``invalid_grant`` (§6) when it cannot be."""
    return _redeem(client, refresh_token, SCIMOAuthGrantKind.REFRESH, "refresh token")


def _redeem(
    client: SCIMOAuthClient, plaintext: str, kind: SCIMOAuthGrantKind, what: str
) -> SCIMOAuthGrant:
    """Mark the client's grant ``plaintext`` used, in one conditional UPDATE, and return it.

    The grant is burnt before the caller checks the rest (redirect URI, PKCE): a
    code tried with a wrong verifier is gone, so a verifier cannot be guessed.
    """
    refused = invalid_grant(f"The {what} is not valid, has expired or was already used.")
    if not is_well_formed(plaintext):
        raise refused
    now = timezone.now()
    live = SCIMOAuthGrant.objects.filter(
        digest=digest(plaintext),
        kind=kind,
        client=client,
        used_at__isnull=True,
        expires_at__gt=now,
    )
    if live.update(used_at=now) != 1:
        raise refused
    return SCIMOAuthGrant.objects.get(digest=digest(plaintext))
