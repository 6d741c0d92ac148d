"""What a team's managers can do with its SCIM: one function per operation.

The example site's team page and the JSON API both call these, so each
operation has one implementation. Access is checked once, by
:func:`get_managed_team`, before anything else. Teams are found, and their
switch and latest requests read, by the team service (:mod:`scim_provisioning.teams`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .. import domains
from ..adapters import get_adapter
from ..domains import DomainCheck, InvalidDomain
from ..health import TeamHealth, team_health
from ..health_chart import Chart, health_chart
from ..links import scim_base_url
from ..models import SCIMLinkRefusal, SCIMRequestLog, SCIMTeamDomain, SCIMToken
from ..people import PeoplePage, people_page
from ..teams import (
    DISABLED_MESSAGE,
    RECENT_REQUESTS,
    SCIMNotEnabled,
    find_team,
    is_enabled,
    recent_requests,
)
from ..timeline import TimelinePage, team_timeline, timeline_page
from ..tokens import SITE_DEFAULT, IssuedToken, issue_token, revoke_tokens, rotate_token

__all__ = [
    "DISABLED_MESSAGE",
    "DomainCheck",
    "InvalidDomain",
    "add_domain",
    "check_domain",
    "remove_domain",
    "RECENT_REQUESTS",
    "SCIMNotEnabled",
    "TeamSCIMStatus",
    "get_managed_team",
    "get_status",
    "is_enabled",
    "issue",
    "people",
    "revoke",
    "revoke_all",
    "rotate",
    "timeline",
]


@dataclass(frozen=True)
class TeamSCIMStatus:
    """Everything the team page shows; never a token's plaintext or digest."""

    team: Any
    enabled: bool
    base_url: str
    tokens: list[SCIMToken]
    recent_requests: list[SCIMRequestLog]
    refused_links: list[SCIMLinkRefusal]
    domains: list[SCIMTeamDomain]
    health: TeamHealth | None = None
    #: The last 14 days of requests and failures (:mod:`scim_provisioning.health_chart`).
    chart: Chart | None = None

    @property
    def message(self) -> str | None:
        return None if self.enabled else DISABLED_MESSAGE


def get_managed_team(user: Any, slug: str) -> Any:
    """The team with this slug (``TEAM_SLUG_FIELD``), if ``user`` may manage its SCIM.

    Raises :class:`~django.http.Http404` when there is no such team or the user
    does not belong to it (the team's existence is not revealed), and
    :class:`~django.core.exceptions.PermissionDenied` for a member who may not
    manage it. The caller makes sure ``user`` is logged in.
    """
    team = find_team(slug)
    if team is None:
        raise Http404("No such team.")
    adapter = get_adapter()
    if adapter.can_manage_scim(team, user):
        return team
    if adapter.is_team_member(team, user):
        raise PermissionDenied("Only the team's owners and admins manage its SCIM.")
    raise Http404("No such team.")


def get_status(team: Any, request: Any) -> TeamSCIMStatus:
    """The base URL, the team's tokens (newest first; not the doctor's), its latest requests
    and refused links."""
    tokens = list(
        SCIMToken.objects.for_idp()
        .filter(team=team)
        .select_related("created_by")
        .order_by("-created_at")
    )
    return TeamSCIMStatus(
        team=team,
        enabled=is_enabled(team),
        base_url=scim_base_url(request),
        tokens=tokens,
        recent_requests=recent_requests(team),
        refused_links=list(SCIMLinkRefusal.objects.filter(team=team)[:RECENT_REQUESTS]),
        domains=list(SCIMTeamDomain.objects.filter(team=team).select_related("verified_by")),
        health=team_health(team),
        chart=health_chart(team),
    )


def timeline(team: Any, *, person: str = "", action: str = "") -> TimelinePage:
    """The team's provisioning timeline, newest first, filtered by ``person`` and ``action``.

    The team scope comes first (:func:`scim_provisioning.timeline.team_timeline`).
    """
    return timeline_page(team, person=person, action=action)


def timeline_export(team: Any, *, person: str = "", action: str = "", limit: int) -> Any:
    """The entries :func:`timeline` would list, up to ``limit``, read in chunks (an export)."""
    entries = team_timeline(
        team, person=person.strip()[:255], action=action.strip()[:32], limit=limit
    )
    return entries.iterator(chunk_size=500)


def people(team: Any, *, q: str = "", page: Any = 1) -> PeoplePage:
    """A page of the people the team's IdP manages, found by any name they had."""
    return people_page(team, q=q, page=page)


def issue(team: Any, user: Any, expires_in: timedelta | None = SITE_DEFAULT) -> IssuedToken:
    """A new token issued by ``user``; its plaintext exists only in the result.

    It expires after ``expires_in`` (``None``: never; default: the site's
    ``TOKEN_DEFAULT_TTL``). Raises :class:`SCIMNotEnabled` while the team's SCIM
    is off (as every issue does).
    """
    return issue_token(team, created_by=user, expires_in=expires_in)


def rotate(
    team: Any,
    user: Any,
    overlap_hours: float | None = None,
    expires_in: timedelta | None = SITE_DEFAULT,
) -> IssuedToken:
    """A new token; the team's other live tokens end after ``overlap_hours``.

    ``None`` means ``TOKEN_ROTATION_OVERLAP_HOURS``; ``0`` ends them at once.
    The new token's lifetime is ``expires_in``, as for :func:`issue`.
    """
    overlap = None if overlap_hours is None else timedelta(hours=overlap_hours)
    return rotate_token(team, overlap=overlap, created_by=user, expires_in=expires_in)


def revoke(team: Any, prefix: str) -> int:
    """Revoke the team's unrevoked token with ``prefix``; how many (0 when none matched).

    Allowed while SCIM is off too: ending a credential is always safe.
    """
    return revoke_tokens(team, prefix=prefix)


def revoke_all(team: Any) -> int:
    """Revoke every unrevoked token of the team (SCIM on or off); how many."""
    return revoke_tokens(team)


def add_domain(team: Any, user: Any, domain: str) -> SCIMTeamDomain:
    """Claim ``domain`` for the team: the TXT record to publish (raises :class:`InvalidDomain`)."""
    return domains.add_domain(team, domain, created_by=user)


def check_domain(team: Any, user: Any, domain: str) -> DomainCheck:
    """Check the team's claim on ``domain`` in the DNS now; 404 when the team has no such claim."""
    try:
        claim = SCIMTeamDomain.objects.get(team=team, domain=domains.clean_domain(domain))
    except (InvalidDomain, SCIMTeamDomain.DoesNotExist) as exc:
        raise Http404("This team has not added that domain.") from exc
    return domains.check_domain(claim, checked_by=user)


def remove_domain(team: Any, domain: str) -> int:
    """Withdraw the team's claim on ``domain``; how many were removed (0 or 1)."""
    return domains.remove_domain(team, domain)
