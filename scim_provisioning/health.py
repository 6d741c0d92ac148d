"""Sync health per team, from the request log: is the team's IdP still provisioning?

IdPs sync at least daily (Entra every 40 minutes, Okta and OneLogin on every
change plus imports), so a team whose IdP has gone quiet for days usually has a
revoked token, a disabled app or a broken proxy, and nobody notices until a
leaver keeps their seat. Health is computed from :class:`SCIMRequestLog` with
four indexed queries per team (the log's ``(team, -created)`` index and the
token's team key):

- the last request, the last successful one and the last successful write
  (POST, PUT, PATCH or DELETE answered 2xx; searches are reads);
- the requests of the last 24 hours and how many failed;
- how many live tokens the team holds.

A team is **unhealthy** when it has been connected (any request on record) and:
no successful request for ``HEALTH_STALE_AFTER_HOURS`` (an IdP retrying with a
revoked token is not syncing); or no live token; or at least
:data:`MIN_FAILURES_FOR_ERROR_RATE` of the last day's requests failed and more
than ``HEALTH_MAX_ERROR_RATE`` of them (a small sample is judged as it is:
4 failures of 5 is failing, 1 of 1 is not yet a trend); or its SCIM is
switched off while its IdP still calls (within the stale window). A team
switched off whose IdP has stopped calling is *switched off*, never healthy
(issue 24: "Healthy" was shown beside "5 requests, 4 failed" on a team that
staff had switched off). A *failed* request is one answered 400 or above,
except 404: IdPs look up records that are gone as part of their reconciliation.
A 401 with a revoked token may or may not name the team (only a process that
remembers the token knows whose it was), so revocation is told by the silence
of successful requests and by "no live token", not by errors. The connection doctor's own requests
(``User-Agent: scim-doctor/…``) are not the IdP's and are left out.

:func:`team_health` computes; :func:`record_health` (``manage.py scim_health``)
also stores each team's state in :class:`SCIMTeamHealth` and sends
:data:`~scim_provisioning.signals.team_health_changed` when it changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any

from django.db import transaction
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from .conf import app_settings
from .doctor import USER_AGENT as DOCTOR_USER_AGENT
from .models import (
    HealthState,
    HeldChangeKind,
    SCIMHeldChange,
    SCIMRequestLog,
    SCIMTeamConfig,
    SCIMTeamHealth,
    SCIMToken,
)
from .scope import TeamScope
from .signals import send_after_commit, team_health_changed

#: Fewer failures than this in a day say nothing about an error rate.
MIN_FAILURES_FOR_ERROR_RATE = 3
#: Days the chart of :func:`daily_requests` covers.
CHART_DAYS = 14
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

__all__ = [
    "CHART_DAYS",
    "DayCount",
    "MIN_FAILURES_FOR_ERROR_RATE",
    "HealthProblem",
    "HealthState",
    "Problem",
    "TeamHealth",
    "failed_requests",
    "idp_requests",
    "record_health",
    "daily_requests",
    "team_health",
]


class HealthProblem(str, Enum):
    """Why a team is unhealthy; the values are stable names for scripts."""

    SILENT = "silent"
    NO_LIVE_TOKEN = "no-live-token"
    ERRORS = "errors"
    SWITCHED_OFF = "switched-off"
    HELD = "held"


@dataclass(frozen=True)
class Problem:
    code: HealthProblem
    message: str


@dataclass(frozen=True)
class TeamHealth:
    """One team's sync health at ``checked_at``."""

    team: Any
    state: HealthState
    problems: tuple[Problem, ...]
    last_request: datetime | None
    last_success: datetime | None
    last_write: datetime | None
    requests_last_day: int
    failed_last_day: int
    live_tokens: int
    checked_at: datetime

    @property
    def healthy(self) -> bool:
        """Only a connected team with no problem: never a switched-off one (issue 24)."""
        return self.state == HealthState.HEALTHY

    @property
    def error_rate(self) -> float | None:
        """Failed share of the last day's requests (``None`` without requests)."""
        if not self.requests_last_day:
            return None
        return self.failed_last_day / self.requests_last_day

    @property
    def silent_days(self) -> int | None:
        """Whole days since the last successful request (``None`` when there was none)."""
        if self.last_success is None:
            return None
        return (self.checked_at - self.last_success).days

    @property
    def summary(self) -> str:
        """One sentence for a page or a terminal."""
        if self.state == HealthState.NOT_CONNECTED:
            return "No request from an identity provider yet."
        if self.state == HealthState.SWITCHED_OFF:
            return "SCIM is switched off for this team; its identity provider has stopped calling."
        if self.problems:
            return " ".join(problem.message for problem in self.problems)
        return "The identity provider is syncing."


def idp_requests(scope: TeamScope) -> QuerySet[SCIMRequestLog]:
    """The team's logged requests, without the connection doctor's."""
    return scope.filter(SCIMRequestLog.objects.all()).exclude(
        user_agent__startswith=DOCTOR_USER_AGENT.split("/")[0] + "/"
    )


def failed_requests() -> Q:
    """Requests that failed: 400 and above, except 404 (IdPs look up what is gone)."""
    return Q(status__gte=400) & ~Q(status=404)


def _days(delta: timedelta) -> str:
    """``2 days``, ``5 hours`` or ``3 minutes``: the largest whole unit, never "0 hours".

    ``scim_health --stale-after 1m`` judges silences shorter than an hour (issue 24).
    """
    seconds = delta.total_seconds()
    unit, length = next(
        (unit, length)
        for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60))
        if seconds >= length or unit == "minute"
    )
    count = int(seconds // length)
    return f"{count} {unit}{'s' if count != 1 else ''}"


def team_health(
    team: Any, *, now: datetime | None = None, stale_after: timedelta | None = None
) -> TeamHealth:
    """``team``'s sync health now (or at ``now``); ``stale_after`` overrides the setting.

    ``team`` is the host's team (the result names it); its key or scope also do.
    """
    now = now or timezone.now()
    stale_after = stale_after or timedelta(hours=app_settings.HEALTH_STALE_AFTER_HOURS)
    scope = TeamScope.of(team)
    requests = idp_requests(scope)
    last_request = requests.order_by("-created").values_list("created", flat=True).first()
    succeeded = requests.exclude(failed_requests())
    last_success = succeeded.order_by("-created").values_list("created", flat=True).first()
    last_write = (
        requests.filter(method__in=WRITE_METHODS, status__gte=200, status__lt=300)
        .exclude(Q(path__endswith=".search") | Q(path__endswith=".search/"))
        .order_by("-created")
        .values_list("created", flat=True)
        .first()
    )
    day = requests.filter(created__gt=now - timedelta(days=1)).aggregate(
        total=Count("pk"), failed=Count("pk", filter=failed_requests())
    )
    live_tokens = (
        scope.filter(SCIMToken.objects.for_idp())
        .filter(revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .count()
    )
    enabled = scope.filter(SCIMTeamConfig.objects.filter(enabled=True)).exists()
    problems: list[Problem] = []
    if not enabled and last_request is not None and now - last_request < stale_after:
        problems.append(
            Problem(
                HealthProblem.SWITCHED_OFF,
                "SCIM is switched off for this team, but its identity provider still sends "
                "requests, and each is refused: switch it on again, or turn provisioning off "
                "in the identity provider.",
            )
        )
    if last_request is not None and enabled:
        check = "check that its token is live, its app is enabled and provisioning is on."
        if last_success is None:
            problems.append(
                Problem(
                    HealthProblem.SILENT,
                    f"No successful request from your identity provider yet: {check}",
                )
            )
        elif now - last_success >= stale_after:
            problems.append(
                Problem(
                    HealthProblem.SILENT,
                    "No successful request from your identity provider for "
                    f"{_days(now - last_success)}: {check}",
                )
            )
        if not live_tokens:
            problems.append(
                Problem(
                    HealthProblem.NO_LIVE_TOKEN,
                    "The team has no live token (all revoked or expired): issue one and "
                    "paste it into the identity provider.",
                )
            )
    if last_request is not None:
        total, failed = day["total"], day["failed"]
        if failed >= MIN_FAILURES_FOR_ERROR_RATE and failed / total > (
            app_settings.HEALTH_MAX_ERROR_RATE
        ):
            problems.append(
                Problem(
                    HealthProblem.ERRORS,
                    f"{failed} of the last day's {total} requests failed: the request log "
                    "shows which and why.",
                )
            )
    held = _held_problem(scope)
    if held is not None:
        problems.append(held)
    if problems:
        state = HealthState.UNHEALTHY
    elif not enabled:
        state = HealthState.SWITCHED_OFF if last_request is not None else HealthState.NOT_CONNECTED
    elif last_request is None:
        state = HealthState.NOT_CONNECTED
    else:
        state = HealthState.UNHEALTHY if problems else HealthState.HEALTHY
    return TeamHealth(
        team=team,
        state=state,
        problems=tuple(problems),
        last_request=last_request,
        last_success=last_success,
        last_write=last_write,
        requests_last_day=day["total"],
        failed_last_day=day["failed"],
        live_tokens=live_tokens,
        checked_at=now,
    )


def _held_problem(scope: TeamScope) -> Problem | None:
    """ "9 deactivations and 2 removals held since 09:14 (UTC)": the guard waits for a manager."""
    held = scope.filter(SCIMHeldChange.objects.filter(resolved_at__isnull=True)).aggregate(
        deactivations=Count("pk", filter=Q(kind=HeldChangeKind.DEACTIVATE)),
        removals=Count("pk", filter=Q(kind=HeldChangeKind.DELETE)),
        since=Min("held_at"),
    )
    if held["since"] is None:
        return None
    parts = [
        f"{count} {noun}{'s' if count != 1 else ''}"
        for count, noun in ((held["deactivations"], "deactivation"), (held["removals"], "removal"))
        if count
    ]
    since = timezone.localtime(held["since"], timezone.get_current_timezone())
    return Problem(
        HealthProblem.HELD,
        f"{' and '.join(parts)} held since {since:%H:%M} ({since:%Y-%m-%d %Z}) by the "
        "deprovisioning guard: a team manager releases or discards them on the team's "
        "SCIM page.",
    )


def record_health(
    *, now: datetime | None = None, stale_after: timedelta | None = None
) -> list[TeamHealth]:
    """The health of every team with SCIM enabled, or switched off while its IdP still
    calls (within the stale window), stored; signals the teams that changed.

    "Changed" compares with the state this function stored last time. A team seen
    for the first time counts as changed only when it is unhealthy, so that a
    first run signals the teams in trouble and not every healthy one. The signal
    is sent after the transaction that stored the new state commits, so that two
    concurrent runs (the row is locked) cannot both report the same change.
    """
    now = now or timezone.now()
    window = stale_after or timedelta(hours=app_settings.HEALTH_STALE_AFTER_HOURS)
    results = []
    still_called = (
        SCIMRequestLog.objects.filter(created__gt=now - window, team__isnull=False)
        .exclude(user_agent__startswith=DOCTOR_USER_AGENT.split("/")[0] + "/")
        .values("team_id")
    )
    configs = SCIMTeamConfig.objects.filter(
        Q(enabled=True) | Q(team_id__in=still_called)
    ).select_related("team")
    for config in configs.order_by("pk"):
        health = team_health(config.team, now=now, stale_after=stale_after)
        _store(health)
        results.append(health)
    return results


@transaction.atomic
def _store(health: TeamHealth) -> None:
    problems = [problem.code.value for problem in health.problems]
    row, created = SCIMTeamHealth.objects.get_or_create(
        team=health.team,
        defaults={
            "state": health.state,
            "problems": problems,
            "checked_at": health.checked_at,
            "changed_at": health.checked_at,
        },
    )
    previous: HealthState | None = None
    if not created:
        row = SCIMTeamHealth.objects.select_for_update().get(pk=row.pk)
        previous = HealthState(row.state)
        row.checked_at = health.checked_at
        row.problems = problems
        if previous != health.state:
            row.state = health.state
            row.changed_at = health.checked_at
        row.save()
    changed = previous != health.state if previous is not None else not health.healthy
    if changed:
        send_after_commit(team_health_changed, SCIMTeamHealth, health=health, previous=previous)


@dataclass(frozen=True)
class DayCount:
    """One day of the chart: the IdP's requests and how many failed."""

    day: date
    requests: int
    failed: int


def daily_requests(
    team: Any, *, days: int = CHART_DAYS, now: datetime | None = None
) -> list[DayCount]:
    """The last ``days`` days (today last, in the site's time zone) of ``team``'s IdP requests
    and failures: one aggregate query, days without requests counted as 0.

    ``team`` is a host team, its key or its :class:`~scim_provisioning.scope.TeamScope`.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    rows = (
        idp_requests(TeamScope.of(team))
        .filter(created__gte=start)
        .annotate(day=TruncDate("created", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .order_by("day")
        .annotate(total=Count("pk"), failed=Count("pk", filter=failed_requests()))
    )
    counts = {row["day"]: (row["total"], row["failed"]) for row in rows}
    return [
        DayCount(day, *counts.get(day, (0, 0)))
        for day in (first + timedelta(days=offset) for offset in range(days))
    ]
