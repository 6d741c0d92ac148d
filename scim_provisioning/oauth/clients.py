"""A team's OAuth 2.0 clients: create, rotate the secret, revoke, authenticate (RFC 6749 §2).

A client secret is a team token's twin (:func:`~scim_provisioning.tokens.new_secret`):
256 random bits, shown once, stored as its SHA-256 digest and looked up by it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..conf import app_settings
from ..models import SCIMOAuthClient, SCIMOAuthGrant, SCIMOAuthSecret, SCIMToken
from ..scope import TeamScope
from ..teams import require_enabled
from ..tokens import DISPLAY_PREFIX_LENGTH, digest, is_well_formed, new_secret

CLIENT_ID_PREFIX = "scimclient_"
#: A client id: public, but only ever this shape (checked before any lookup: no NUL, no
#: megabyte reaches the database).
CLIENT_ID_RE = re.compile(r"scimclient_[0-9a-f]{24}")
#: Access token lifetime when none is given: an hour, as Entra ID expects.
DEFAULT_ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
#: Longest access token lifetime: a day; past it a revoked secret would leave live tokens
#: too long, and IdPs refresh well before.
MAX_ACCESS_TOKEN_LIFETIME = timedelta(days=1)


@dataclass(frozen=True)
class IssuedClient:
    """A freshly created client and the only copy of its secret."""

    client: SCIMOAuthClient
    secret: str


def validate_redirect_uri(uri: str) -> str:
    """``uri`` if it may be registered: absolute ``https`` (``http`` only for localhost),
    without a fragment (RFC 6749 §3.1.2); raises ``ValueError`` with a message for people."""
    if len(uri) > 2000 or any(ord(c) < 33 or ord(c) == 127 for c in uri):
        raise ValueError("A redirect URI is one absolute URL without spaces.")
    parts = urlsplit(uri)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise ValueError(f"{uri!r} is not an absolute https URL.")
    if parts.scheme == "http" and not local:
        raise ValueError(f"{uri!r}: a redirect URI must use https (http only for localhost).")
    if parts.fragment or "#" in uri:
        raise ValueError(f"{uri!r}: a redirect URI has no fragment (RFC 6749 §3.1.2).")
    return uri


def create_client(
    team: Any,
    *,
    created_by: Any | None = None,
    name: str = "",
    redirect_uris: Iterable[str] = (),
    secret_expires_in: timedelta | None = None,
    access_token_lifetime: timedelta | None = None,
) -> IssuedClient:
    """A new client of ``team`` with one secret (shown only in the result).

    Raises :class:`~scim_provisioning.teams.SCIMNotEnabled` when the team's SCIM is
    off, ``ValueError`` for a redirect URI or lifetime that cannot be.
    """
    uris = [validate_redirect_uri(uri) for uri in redirect_uris]
    lifetime = access_token_lifetime or DEFAULT_ACCESS_TOKEN_LIFETIME
    if not timedelta(0) < lifetime <= MAX_ACCESS_TOKEN_LIFETIME:
        raise ValueError("An access token lives more than 0 seconds and at most a day.")
    with transaction.atomic():
        require_enabled(team)
        client = SCIMOAuthClient.objects.create(
            team=team,
            client_id=CLIENT_ID_PREFIX + secrets.token_hex(12),
            name=name[:100],
            redirect_uris=uris,
            access_token_seconds=int(lifetime.total_seconds()),
            created_by=created_by,
        )
        return IssuedClient(client, _add_secret(client, secret_expires_in))


def _add_secret(client: SCIMOAuthClient, expires_in: timedelta | None) -> str:
    plaintext = new_secret()
    SCIMOAuthSecret.objects.create(
        client=client,
        digest=digest(plaintext),
        prefix=plaintext[:DISPLAY_PREFIX_LENGTH],
        expires_at=timezone.now() + expires_in if expires_in is not None else None,
    )
    return plaintext


def live_secrets(client: SCIMOAuthClient) -> Any:
    """The client's secrets that still authenticate it."""
    return client.secrets.filter(revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )


def rotate_secret(
    client: SCIMOAuthClient,
    *,
    overlap: timedelta | None = None,
    expires_in: timedelta | None = None,
) -> str:
    """A new secret; the client's other secrets end after ``overlap``.

    The overlap (default ``TOKEN_ROTATION_OVERLAP_HOURS``, as for team tokens) is
    the IdP admin's time to paste the new secret; access tokens already issued
    live on to their own (short) expiry.
    """
    if overlap is None:
        overlap = timedelta(hours=app_settings.TOKEN_ROTATION_OVERLAP_HOURS)
    with transaction.atomic():
        require_enabled(client.team)
        if client.revoked_at is not None:
            raise ValueError("A revoked client gets no new secret.")
        ends = timezone.now() + overlap
        live_secrets(client).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=ends)).update(
            expires_at=ends
        )
        return _add_secret(client, expires_in)


def revoke_client(client: SCIMOAuthClient) -> int:
    """Revoke the client, its secrets, codes, refresh tokens and access tokens at once.

    Access tokens are team tokens, checked on every SCIM request: the next one
    made with any of them is a 401. Returns how many access tokens were live.
    """
    now = timezone.now()
    with transaction.atomic():
        SCIMOAuthClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(revoked_at=now)
        client.revoked_at = client.revoked_at or now
        SCIMOAuthSecret.objects.filter(client=client, revoked_at__isnull=True).update(
            revoked_at=now
        )
        SCIMOAuthGrant.objects.filter(client=client, used_at__isnull=True).update(used_at=now)
        return SCIMToken.objects.filter(oauth_client=client, revoked_at__isnull=True).update(
            revoked_at=now
        )


def find_client(team: Any, client_id: str) -> SCIMOAuthClient | None:
    """The team's client with ``client_id`` (revoked or not), or ``None``."""
    if not CLIENT_ID_RE.fullmatch(client_id):
        return None
    return TeamScope.of(team).filter(SCIMOAuthClient.objects.filter(client_id=client_id)).first()


def active_client(client_id: str) -> SCIMOAuthClient | None:
    """The unrevoked client with ``client_id``, with its team, or ``None`` (the authorize page)."""
    if not CLIENT_ID_RE.fullmatch(client_id):
        return None
    return (
        SCIMOAuthClient.objects.select_related("team")
        .filter(client_id=client_id, revoked_at__isnull=True)
        .first()
    )


def authenticate_client(client_id: str, secret: str) -> SCIMOAuthClient | None:
    """The client whose id is ``client_id`` and one of whose live secrets is ``secret``.

    One query through the secret digest's unique index; the digests are compared
    once more in constant time. ``None`` for anything else, whatever the reason
    (RFC 6749 §5.2 ``invalid_client`` does not say which part was wrong).
    """
    if not CLIENT_ID_RE.fullmatch(client_id) or not is_well_formed(secret):
        return None
    wanted = digest(secret)
    found = (
        live_secrets_by_digest(wanted)
        .filter(client__client_id=client_id, client__revoked_at__isnull=True)
        .select_related("client__team")
        .first()
    )
    if found is None or not secrets.compare_digest(found.digest, wanted):
        return None
    return found.client


def live_secrets_by_digest(wanted: str) -> Any:
    now = timezone.now()
    return SCIMOAuthSecret.objects.filter(digest=wanted, revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
