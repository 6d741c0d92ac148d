"""The team a query is scoped to, as one small value: :class:`TeamScope`.

Every SCIM request is scoped to its token's team before anything else runs
(promise 1 of the design). Most reads and bookkeeping writes need only *which*
team that is, not the team's policy: a timeline, the people page, the held
changes, a refusal row, the guard's counters. They take a :class:`TeamScope`.
The team's :class:`~scim_provisioning.models.SCIMTeamConfig` (its switch, roles,
verified domains, guard thresholds…) is passed only where that policy is read,
and the host's team object only where the host is asked something.

A scope is built from what the caller holds: ``TeamScope.of(team)`` from a host
team, ``config.scope`` from a configuration, ``TeamScope(team_id)`` from a key.
It is not a configuration and cannot stand in for one: it has no ``save`` and no
policy fields, and it is no model instance (a query that filters ``team=scope`` by
mistake is refused for integer and UUID keys rather than compared).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

__all__ = ["TeamScope"]

_M = TypeVar("_M", bound=Model)


@dataclass(frozen=True, slots=True)
class TeamScope:
    """The key of one host team, and the filters that keep a query inside it.

    Frozen and slotted: a scope is shared freely (across a request, between
    threads) and never changes once built. ``team_id`` is the host team's primary
    key, of whatever type the host uses (an integer, a UUID, a string).
    """

    team_id: Any

    def __post_init__(self) -> None:
        # An unsaved team has no key: a scope of ``None`` would match the rows of no
        # team (SQL ``IS NULL``) and hide the mistake; a model instance is a mistake too.
        if self.team_id is None:
            raise ValueError("A team scope needs the key of a saved team, not None.")
        if isinstance(self.team_id, (Model, TeamScope)):
            raise TypeError("TeamScope(team_id) takes a key; use TeamScope.of(team) for a team.")

    @classmethod
    def of(cls, team: Any) -> TeamScope:
        """The scope of ``team``: a host team instance, or its primary key."""
        if isinstance(team, TeamScope):
            return team
        return cls(team.pk if isinstance(team, Model) else team)

    def q(self, prefix: str = "") -> Q:
        """The condition ``<prefix>team_id = team_id`` (``prefix`` e.g. ``"scim_user__"``)."""
        return Q(**{f"{prefix}team_id": self.team_id})

    def filter(self, queryset: QuerySet[_M]) -> QuerySet[_M]:
        """``queryset`` restricted to this team's rows: the first filter of any team read."""
        return queryset.filter(self.q())
