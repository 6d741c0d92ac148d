"""The people a team's IdP manages, as its managers look for them: current state, any name.

"Is Jane still in?" is asked with the name support knows, which may be her
former address or her given name: :func:`team_people` finds a person by a
case-insensitive substring of any userName, email, name or externalId they
ever had (:func:`.timeline.matching_people`). A page costs a fixed number of
queries whatever the team's size: the count, the page (with each account),
the page's groups and the page's ``roles`` values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from .models import SCIMGroupMembership, SCIMUser, SCIMUserValue
from .scope import TeamScope
from .timeline import matching_people

__all__ = ["PAGE_SIZE", "PeoplePage", "Person", "describe", "people_page", "team_people"]

#: People a page shows.
PAGE_SIZE = 50


def team_people(team: Any, *, q: str = "") -> QuerySet[SCIMUser]:
    """``team``'s SCIM users matching ``q`` (any name they had), by userName; groups and
    roles prefetched. The team scope comes first.

    ``team`` is a host team, its key or its :class:`~scim_provisioning.scope.TeamScope`.
    """
    scope = TeamScope.of(team)
    people = scope.filter(SCIMUser.objects.all())
    q = q.strip()
    if q:
        people = people.filter(matching_people(scope, q))
    return (
        people.select_related("user")
        .prefetch_related(
            Prefetch(
                "group_memberships",
                queryset=SCIMGroupMembership.objects.select_related("group").order_by(
                    "group__display_name", "pk"
                ),
                to_attr="memberships_with_groups",
            ),
            Prefetch(
                "values",
                queryset=SCIMUserValue.objects.filter(attribute="roles").order_by("value", "pk"),
                to_attr="role_values",
            ),
        )
        .order_by("user_name", "pk")
    )


@dataclass(frozen=True)
class Person:
    """One person as the people view shows them."""

    id: str
    user_name: str
    external_id: str
    display_name: str
    email: str
    active: bool
    groups: list[str]
    roles: list[str]
    login: str
    last_modified: Any


def describe(record: SCIMUser) -> Person:
    """``record`` (from :func:`team_people`) as a :class:`Person`; no query."""
    account = record.user
    attributes = record.attributes or {}
    name = attributes.get("name")
    if not isinstance(name, dict):
        name = {}
    display = attributes.get("displayName") or " ".join(
        str(part) for part in (name.get("givenName"), name.get("familyName")) if part
    )
    return Person(
        id=str(record.pk),
        user_name=record.user_name,
        external_id=record.external_id or "",
        display_name=str(display or ""),
        email=record.email or "",
        active=record.active,
        groups=[m.group.display_name for m in getattr(record, "memberships_with_groups", [])],
        roles=[row.value for row in getattr(record, "role_values", [])],
        # The account's real login, which may differ from the SCIM record's userName.
        login=account.get_username() if account is not None else "",
        last_modified=record.last_modified,
    )


@dataclass(frozen=True)
class PeoplePage:
    """One page of a team's people and the search that chose them."""

    people: list[Person]
    count: int
    page: int
    pages: int
    q: str = ""


def people_page(team: Any, *, q: str = "", page: Any = 1) -> PeoplePage:
    """Page ``page`` (from 1; anything else is the first) of :func:`team_people`."""
    q = q.strip()[:255]
    people = team_people(TeamScope.of(team), q=q)
    count = people.count()
    pages = max(1, -(-count // PAGE_SIZE))
    try:
        number = min(max(1, int(str(page))), pages)
    except ValueError:
        number = 1
    start = (number - 1) * PAGE_SIZE
    rows = [describe(record) for record in people[start : start + PAGE_SIZE]]
    return PeoplePage(people=rows, count=count, page=number, pages=pages, q=q)
