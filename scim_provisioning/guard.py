"""The deprovisioning guard's counter: may this deactivation or DELETE go through now?

A misconfigured IdP can deprovision a whole team in a minute (an assignment
removed from "Everyone", a group rule edited). The guard lets a team lose at
most ``max(minimum, percent % of its active members)`` people per window
(``SCIM_PROVISIONING_DEPROVISION_GUARD``, or the team's ``guard_percent`` /
``guard_minimum``); the ones beyond are *held* (:mod:`.provisioning.held`).

Counting is one conditional ``UPDATE`` of the team's :class:`SCIMTeamConfig`
row, never check-then-write: the row's lock serialises a burst of parallel
deprovisionings, and each one that matches increments ``guard_count`` once.
On PostgreSQL a waiting ``UPDATE`` re-evaluates its ``WHERE`` on the row the
other transaction committed (READ COMMITTED), so the 6th of 9 parallel
requests sees a count of 5 and is held; on SQLite writers take turns anyway.
Every value the condition reads is a column of that row (the window's start,
its count, the team's size when the window opened, the number of pending
holds), so none can be stale. A write that rolls back takes its count back
with it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Min, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from .conf import GuardThreshold, app_settings
from .durations import describe
from .models import SCIMHeldChange, SCIMTeamConfig, SCIMUser
from .reads import Update
from .scope import TeamScope


def threshold_for(config: SCIMTeamConfig) -> GuardThreshold | None:
    """The team's threshold: the site's, with the team's own percent and minimum if set.

    ``None`` when the site switched the guard off (a team cannot).
    """
    site = app_settings.DEPROVISION_GUARD
    if site is None:
        return None
    return replace(
        site,
        percent=config.guard_percent or site.percent,
        minimum=config.guard_minimum or site.minimum,
    )


def let_through(config: SCIMTeamConfig, *, already_inactive: int = 0) -> bool:
    """Count one deprovisioning of ``config``'s team; ``False``: it is beyond the threshold.

    One statement (an ``UPDATE``; none with the guard off), in the write's
    transaction: the row stays locked until it commits. ``already_inactive``:
    1 when the person's record was saved inactive already, so that the team's
    size when a window opens counts them.

    Let through when no change of the team is held and either a new window
    opens, or the count stays within ``minimum``, or within ``percent`` of the
    team's active members when the window opened.
    """
    threshold = threshold_for(config)
    if threshold is None:
        return True
    now = timezone.now()
    counted = _COUNT.run(
        team_id=config.team_id,
        now=now,
        since=now - threshold.window,
        minimum=threshold.minimum,
        percent=threshold.percent,
        already_inactive=already_inactive,
    )
    return counted == 1


def _count(
    team_id: Any, now: Any, since: Any, minimum: int, percent: int, already_inactive: int
) -> tuple[Any, dict[str, Any]]:
    """The guard's conditional ``UPDATE`` (see :func:`let_through`): the rows, the changes."""
    fresh = Q(guard_window_start__isnull=True) | Q(guard_window_start__lte=since)
    active = (
        SCIMUser.objects.filter(team_id=team_id, active=True)
        .order_by()
        .values("team_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    team_size = Coalesce(Subquery(active), Value(0)) + Value(already_inactive)
    within = (
        fresh
        | Q(guard_count__lt=minimum)
        | Q(LessThanOrEqual((F("guard_count") + 1) * 100, F("guard_base") * Value(percent)))
    )
    rows = SCIMTeamConfig.objects.filter(pk=team_id, guard_held=0).filter(within)
    return rows, {
        "guard_count": Case(When(fresh, then=Value(1)), default=F("guard_count") + 1),
        "guard_base": Case(
            When(fresh, then=team_size), default=F("guard_base"), output_field=IntegerField()
        ),
        "guard_window_start": Case(When(fresh, then=Value(now)), default=F("guard_window_start")),
    }


#: Compiled once per process and database: building this UPDATE through the ORM
#: cost more than running it (issue 27).
_COUNT = Update(
    SCIMTeamConfig,
    _count,
    {
        "team_id": SCIMTeamConfig._meta.pk,
        "now": SCIMTeamConfig._meta.get_field("guard_window_start"),
        "since": SCIMTeamConfig._meta.get_field("guard_window_start"),
        "minimum": SCIMTeamConfig._meta.get_field("guard_count"),
        "percent": SCIMTeamConfig._meta.get_field("guard_count"),
        "already_inactive": SCIMTeamConfig._meta.get_field("guard_count"),
    },
)


def note_held(scope: TeamScope, change: int) -> None:
    """``change`` more (or, negative, fewer) changes of the team are held.

    While any is held, every further deprovisioning of the team is held too: an
    IdP that deprovisions en masse is not let through piecemeal while a
    manager decides.
    """
    scope.filter(SCIMTeamConfig.objects.all()).update(
        guard_held=Greatest(F("guard_held") + change, Value(0))
    )


def status_line(team: Any) -> str:
    """One line for ``scim_doctor --team``: the team's threshold and what it holds.

    ``team`` is a host team, its key or its :class:`~scim_provisioning.scope.TeamScope`.
    """
    scope = TeamScope.of(team)
    config = scope.filter(SCIMTeamConfig.objects.all()).first()
    threshold = threshold_for(config) if config is not None else app_settings.DEPROVISION_GUARD
    if threshold is None:
        return "Deprovisioning guard: off (SCIM_PROVISIONING_DEPROVISION_GUARD = None)."
    rule = (
        f"Deprovisioning guard: on, holds beyond {threshold.percent} % of the team's active "
        f"members and beyond {threshold.minimum} people per {describe(threshold.window)}"
    )
    held = scope.filter(SCIMHeldChange.objects.filter(resolved_at__isnull=True)).aggregate(
        count=Count("pk"), since=Min("held_at")
    )
    if not held["count"]:
        return f"{rule}; nothing held."
    since = timezone.localtime(held["since"])
    return (
        f"{rule}; {held['count']} deprovisioning(s) held since {since:%Y-%m-%d %H:%M %Z}: a team "
        "manager releases or discards them (manage.py scim_held list --team SLUG)."
    )
