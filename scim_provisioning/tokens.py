"""Issue, rotate, revoke and verify team tokens.

A token is ``scim_`` followed by 43 URL-safe characters (256 random bits).
Only its SHA-256 digest is stored: a fast hash is the right tool for a
high-entropy secret (a slow password hash would cost milliseconds on every
request and buy nothing). The plaintext exists once, in the
:class:`IssuedToken` handed to whoever asked for it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .conf import app_settings
from .models import SCIMToken
from .reads import TokenCheck, token_by_digest
from .redaction import TOKEN_PREFIX, TOKEN_RE
from .scope import TeamScope
from .teams import SCIMNotEnabled as SCIMNotEnabled  # where callers have always caught it
from .teams import require_enabled

DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
#: The longest rotation overlap the admin page, the team page and API and ``scim_token
#: rotate`` accept, in hours: 30 days is time enough to paste a token into an IdP; longer,
#: the old token is simply a second live one.
MAX_ROTATION_OVERLAP_HOURS = 24 * 30


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: the stored row and the only copy of its plaintext."""

    token: SCIMToken
    plaintext: str


def digest(plaintext: str) -> str:
    """The stored form of a token: hex SHA-256."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def new_secret() -> str:
    """A fresh secret in the token's shape: ``scim_`` and 256 random bits.

    Team tokens, OAuth client secrets, codes and refresh tokens all take it, so
    the request log's scrubbing (:mod:`.redaction`) recognises every one of them.
    """
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def team_tokens(team: Any) -> Any:
    """The team's own bearer tokens (:meth:`~.models.SCIMTokenQuerySet.own`), newest first.

    ``team``: a host team, its key or a :class:`~.scope.TeamScope`. What the token list
    of ``manage.py scim_token``, the admin and the team page shows, and what a rotation ends.
    """
    return TeamScope.of(team).filter(SCIMToken.objects.own()).order_by("-created_at")


def _live(team: Any) -> Any:
    now = timezone.now()
    tokens = team_tokens(team).order_by().filter(revoked_at__isnull=True)
    return tokens.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class _SiteDefault:
    """The lifetime ``SCIM_PROVISIONING_TOKEN_DEFAULT_TTL`` gives."""

    def __repr__(self) -> str:
        return "SITE_DEFAULT"


#: ``expires_in`` of a token issued without a lifetime of its own.
SITE_DEFAULT: Any = _SiteDefault()


def issue_token(
    team: Any,
    *,
    created_by: Any | None = None,
    expires_at: datetime | None = None,
    expires_in: timedelta | None = SITE_DEFAULT,
    doctor: bool = False,
    oauth_client: Any | None = None,
) -> IssuedToken:
    """Create a new token for ``team``.

    ``doctor``: a throwaway token of the connection doctor, left out of the token
    lists and the setup status (:meth:`~.models.SCIMTokenQuerySet.for_idp`).

    Raises :class:`~scim_provisioning.teams.SCIMNotEnabled` if the team's SCIM is off.
    It expires at ``expires_at`` if given, else after ``expires_in``: by default the
    site's ``TOKEN_DEFAULT_TTL``; ``None`` means never. An expired token is refused
    like a revoked one (401). ``oauth_client`` marks an OAuth 2.0 access token
    (:mod:`.oauth`): the same row, so the same rules, and revoked with its client.
    """
    require_enabled(team)
    if expires_at is None:
        lifetime = app_settings.TOKEN_DEFAULT_TTL if expires_in is SITE_DEFAULT else expires_in
        expires_at = timezone.now() + lifetime if lifetime is not None else None
    plaintext = new_secret()
    token = SCIMToken.objects.create(
        team=team,
        digest=digest(plaintext),
        prefix=plaintext[:DISPLAY_PREFIX_LENGTH],
        created_by=created_by,
        expires_at=expires_at,
        is_doctor=doctor,
        oauth_client=oauth_client,
    )
    return IssuedToken(token=token, plaintext=plaintext)


def rotate_token(
    team: Any,
    *,
    overlap: timedelta | None = None,
    created_by: Any | None = None,
    expires_in: timedelta | None = SITE_DEFAULT,
) -> IssuedToken:
    """Issue a new token and let the team's other live tokens expire after ``overlap``.

    The overlap (default ``TOKEN_ROTATION_OVERLAP_HOURS``) gives the IdP admin
    time to paste the new token; a zero overlap ends the old ones at once.
    The new token's lifetime is ``expires_in``, as for :func:`issue_token`.
    """
    if overlap is None:
        overlap = timedelta(hours=app_settings.TOKEN_ROTATION_OVERLAP_HOURS)
    # A block, not the decorator: mutmut 3 leaves decorated functions unmutated.
    with transaction.atomic():
        require_enabled(team)
        ends = timezone.now() + overlap
        _live(team).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=ends)).update(
            expires_at=ends
        )
        return issue_token(team, created_by=created_by, expires_in=expires_in)


def revoke_tokens(team: Any, *, prefix: str | None = None) -> int:
    """Revoke the team's tokens (all, or the one with ``prefix``); returns how many.

    Revocation is checked on every request, so it takes effect on the next one.
    """
    tokens = TeamScope.of(team).filter(SCIMToken.objects.filter(revoked_at__isnull=True))
    if prefix is not None:
        tokens = tokens.filter(prefix=prefix)
    return tokens.update(revoked_at=timezone.now())


def verify_token(plaintext: str) -> SCIMToken | None:
    """The usable token matching ``plaintext``, or ``None``.

    The lookup goes through the digest's unique index, and the digests are
    compared once more in constant time; timing reveals nothing about a token
    because the index is keyed by a hash of it. The team and its SCIM config
    come in the same query.
    """
    if not is_well_formed(plaintext):
        return None
    return verify_digest(digest(plaintext))


def is_well_formed(plaintext: str) -> bool:
    """Whether ``plaintext`` has the shape of a token (checked before any lookup)."""
    return TOKEN_RE.fullmatch(plaintext) is not None


def check_digest(wanted: str) -> TokenCheck:
    """The token whose digest is ``wanted`` and the rule's verdict on it, in one query.

    ``token`` is ``None`` when no token has the digest or the token is revoked or
    expired (:func:`.reads.token_rule`); ``team_on`` says whether its team's SCIM
    is on. A usable token's use is recorded.
    """
    found = token_by_digest(wanted)
    token = found.token
    if token is None or not hmac.compare_digest(token.digest, wanted) or not found.live:
        return TokenCheck(None)
    record_use(token)
    return found


def verify_digest(wanted: str) -> SCIMToken | None:
    """The usable token whose digest is ``wanted``, with its team and SCIM config, or ``None``."""
    return check_digest(wanted).token


def record_use(token: SCIMToken) -> bool:
    """Write ``last_used_at`` at most once per ``TOKEN_LAST_USED_INTERVAL``; True if written."""
    now = timezone.now()
    stale = now - timedelta(seconds=app_settings.TOKEN_LAST_USED_INTERVAL)
    if token.last_used_at is not None and token.last_used_at > stale:
        return False
    SCIMToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
    ).update(last_used_at=now)
    token.last_used_at = now
    return True
