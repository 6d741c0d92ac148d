"""Setup links: one team's guided setup for an IT contact who has no account on the site.

WorkOS's Admin Portal answers a common case the same way: the person who
configures the identity provider is the customer's IT admin, not a member of
the team on the site. Staff or a team manager create a link; whoever holds it
can, for that team only, choose the IdP, read the base URL, issue the team's
token once, check the connection and watch the status. Nothing else: the link
signs nobody in, and no other page of the site knows it.

The rules, each one because a link travels by e-mail and chat:

- The secret is ``scimsetup_`` and 43 URL-safe characters (256 random bits). Only
  its SHA-256 digest is stored (:func:`~.tokens.digest`, compared in constant time),
  and :mod:`.redaction` scrubs it from the request log and Django's request loggers.
- A link always expires (``SCIM_PROVISIONING_SETUP_LINK_TTL``, 7 days) and can be
  revoked; a wrong, expired or revoked link gets the same 404, so that nobody learns
  whether a link exists or which team it was for.
- A link issues **one** token. The first issue spends it (a conditional ``UPDATE``,
  so two requests at once cannot both win); the page, the status and the connection
  check keep working until the link expires or is revoked, because the IT contact
  still has to paste the token and see the first request arrive. A second token
  needs a new link, from a manager.
- The link is opened once per browser session: its ``GET`` stores the link's id (not
  the secret) in the session and redirects to a URL without the secret (as Django's
  password reset does), so the secret leaves no trace in the next requests'
  ``Referer`` or the browser's later history. Every request re-reads the link, so a
  revocation ends an open session at its next request.
- Opening links is rate limited per client address (``SETUP_LINK_RATE_LIMIT`` per
  ``RATE_LIMIT_WINDOW``), counted before the lookup: a burst of guesses is a 429.
- Every use (opened, token issued, connection checked, a refused second token) is a
  :class:`~.models.SCIMSetupLinkUse` row the team's managers see.
- The absolute link is built from ``SCIM_PROVISIONING_BASE_URL``'s scheme and host,
  never from a request's ``Host`` header (which its sender chooses).
"""

from __future__ import annotations

import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import caches
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from .conf import app_settings
from .models import SCIMSetupLink, SCIMSetupLinkAction, SCIMSetupLinkUse
from .redaction import SETUP_LINK_PREFIX, SETUP_LINK_RE
from .request_log import client_address, user_agent
from .scope import TeamScope
from .throttling import KEY_PREFIX, increment
from .tokens import IssuedToken, digest, issue_token

#: The session key holding the id of the link this browser opened.
SESSION_KEY = "scim_setup_link"
#: The URL namespace the host mounts ``scim_provisioning.setup.link_urls`` under.
URL_NAMESPACE = "scim_setup_link"


class SiteURLUnknown(Exception):
    """No absolute link can be built: ``SCIM_PROVISIONING_BASE_URL`` is not set."""

    def __init__(self) -> None:
        super().__init__(
            "Set SCIM_PROVISIONING_BASE_URL (https://<site>/scim/v2): a setup link is "
            "built from the site's configured address, never from a request's Host header."
        )


class LinkSpent(Exception):
    """The link has issued its token already (or ended meanwhile): ask a manager for a new one."""


@dataclass(frozen=True)
class CreatedLink:
    """A new link: its row, its secret (only here) and the absolute URL to send."""

    link: SCIMSetupLink
    secret: str
    url: str | None


def site_url(site: str | None = None) -> str:
    """``https://site.example``: ``site`` if given, else ``SCIM_PROVISIONING_BASE_URL``'s."""
    configured = site or app_settings.BASE_URL
    if not configured:
        raise SiteURLUnknown()
    parts = urlsplit(configured)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SiteURLUnknown()
    return f"{parts.scheme}://{parts.netloc}"


def link_path(secret: str) -> str:
    """The site-relative path that opens the link (the host mounts ``setup.link_urls``)."""
    return reverse(f"{URL_NAMESPACE}:open", kwargs={"secret": secret})


def link_url(secret: str, *, site: str | None = None) -> str:
    """The absolute link: :func:`site_url` and :func:`link_path`."""
    return site_url(site) + link_path(secret)


def create_link(
    team: Any,
    *,
    created_by: Any | None = None,
    expires_in: timedelta | None = None,
    site: str | None = None,
) -> CreatedLink:
    """A new link for ``team``, alive for ``expires_in`` (default ``SETUP_LINK_TTL``).

    ``url`` is ``None`` when the site's address is unknown (:class:`SiteURLUnknown`
    says why); the link exists and its path is :func:`link_path` of the secret.
    """
    lifetime = expires_in if expires_in is not None else app_settings.SETUP_LINK_TTL
    secret = SETUP_LINK_PREFIX + secrets.token_urlsafe(32)
    link = SCIMSetupLink.objects.create(
        team=team,
        digest=digest(secret),
        created_by=created_by,
        expires_at=timezone.now() + lifetime,
    )
    try:
        url: str | None = link_url(secret, site=site)
    except (SiteURLUnknown, NoReverseMatch):
        url = None
    return CreatedLink(link=link, secret=secret, url=url)


def revoke_links(team: Any, *, pk: Any = None) -> int:
    """Revoke the team's live links (all, or the one with ``pk``); how many.

    Live: neither revoked nor expired (a link that issued its token still opens the page).
    ``team`` is a host team, its key or its :class:`~scim_provisioning.scope.TeamScope`.
    """
    now = timezone.now()
    live = SCIMSetupLink.objects.filter(revoked_at__isnull=True, expires_at__gt=now)
    links = TeamScope.of(team).filter(live)
    if pk is not None:
        links = links.filter(pk=pk)
    return links.update(revoked_at=now)


def find_link(secret: str) -> SCIMSetupLink | None:
    """The link ``secret`` opens (still alive), with its team; ``None`` for any other text.

    A wrong, expired and revoked link are one answer: ``None``.
    """
    if not isinstance(secret, str) or SETUP_LINK_RE.fullmatch(secret) is None:
        return None
    wanted = digest(secret)
    link = SCIMSetupLink.objects.select_related("team").filter(digest=wanted).first()
    if link is None or not hmac.compare_digest(link.digest, wanted) or not link.opens:
        return None
    return link


def open_in_session(request: Any, link: SCIMSetupLink) -> None:
    """Remember in the browser's session that it opened ``link`` (its id, never the secret)."""
    request.session[SESSION_KEY] = link.pk
    record_use(link, SCIMSetupLinkAction.OPENED, request)


def link_of_session(request: Any) -> SCIMSetupLink | None:
    """The link this session opened, read again (revoked or expired since: ``None``)."""
    session = getattr(request, "session", None)
    pk = session.get(SESSION_KEY) if session is not None else None
    if not isinstance(pk, int) or isinstance(pk, bool):
        return None
    link = SCIMSetupLink.objects.select_related("team").filter(pk=pk).first()
    return link if link is not None and link.opens else None


def issue_through(link: SCIMSetupLink, request: Any) -> IssuedToken:
    """The team's token, issued through ``link``: the first call wins, every other is refused.

    Raises :class:`LinkSpent` when the link has issued its token (or was revoked or
    expired meanwhile), :class:`~.teams.SCIMNotEnabled` when the team's SCIM is off
    (the link is not spent then). The claim is one conditional ``UPDATE``: of two
    requests at once, the database lets exactly one change the row.
    """
    with transaction.atomic():
        now = timezone.now()
        claimed = SCIMSetupLink.objects.filter(
            pk=link.pk, revoked_at__isnull=True, token_issued_at__isnull=True, expires_at__gt=now
        ).update(token_issued_at=now)
        if claimed:
            issued = issue_token(link.team)
            SCIMSetupLink.objects.filter(pk=link.pk).update(token=issued.token)
            link.token_issued_at, link.token = now, issued.token
            prefix = issued.token.prefix
            record_use(link, SCIMSetupLinkAction.TOKEN_ISSUED, request, token_prefix=prefix)
    if not claimed:  # recorded outside the claim's transaction, which did nothing
        record_use(link, SCIMSetupLinkAction.REFUSED, request)
        raise LinkSpent()
    return issued


def record_use(
    link: SCIMSetupLink, action: SCIMSetupLinkAction, request: Any, *, token_prefix: str = ""
) -> SCIMSetupLinkUse:
    """A use of ``link``, with the client's address and browser, for the team's managers."""
    return SCIMSetupLinkUse.objects.create(
        link=link,
        team_id=link.team_id,
        action=action,
        token_prefix=token_prefix,
        client_ip=client_address(request),
        user_agent=user_agent(request),
    )


def recent_uses(team: Any, limit: int = 50) -> list[SCIMSetupLinkUse]:
    """The team's latest link uses, newest first (the team's managers read them)."""
    uses = TeamScope.of(team).filter(SCIMSetupLinkUse.objects.all())
    return list(uses.order_by("-created", "-id")[:limit])


def links_of(team: Any) -> list[SCIMSetupLink]:
    """The team's links, newest first (no secret: only digests are stored)."""
    links = TeamScope.of(team).filter(SCIMSetupLink.objects.all())
    return list(links.select_related("created_by", "token"))


def retry_after(request: Any, what: str) -> int | None:
    """``None`` if this client may open a link now, else the seconds to wait (the 429's
    ``Retry-After``). ``what`` is the action counted: ``"open"`` (a link) or ``"check"`` (the
    connection check, which makes the server call itself).

    A fixed window of ``RATE_LIMIT_WINDOW`` seconds per client address, on the
    throttle's cache and its atomic counter; every attempt counts, good or bad, since
    the count comes before the lookup. If the cache fails, the link is let through:
    the digest lookup is what protects it, the limit only slows guessing.
    """
    limit = app_settings.SETUP_LINK_RATE_LIMIT
    if limit <= 0:
        return None
    window = app_settings.RATE_LIMIT_WINDOW
    index, elapsed = divmod(timezone.now().timestamp(), window)
    address = client_address(request) or "unknown"
    key = f"{KEY_PREFIX}:setup-link-{what}:{address}:{int(index)}"
    try:
        count = increment(caches[app_settings.THROTTLE_CACHE], key, timeout=window + 1)
    except Exception:  # the cache is down: fail open, as the SCIM throttle does
        return None
    if count <= limit:
        return None
    return max(1, math.ceil(window - elapsed))
