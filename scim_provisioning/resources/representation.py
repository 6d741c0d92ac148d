"""Pages of records as SCIM JSON, in a fixed number of queries whatever their number.

A user's ``groups`` and a group's ``members`` are rows of their own: they are
loaded for the whole page at once, and only when the response returns them
(``attributes``/``excludedAttributes``). A user read by id or by one exact
value carries its groups from its own query (:func:`with_groups`); the answer
to one written record reads them with a query compiled once per process.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connections
from django.db.models import Aggregate, OuterRef, QuerySet, Subquery, TextField
from django.db.models.fields.json import KeyTextTransform

from ..models import SCIMGroup, SCIMGroupMembership, SCIMUser
from ..prepared import PreparedQuery
from ..urns import ENTERPRISE_USER_SCHEMA_URN
from .groups import group_to_scim, member_to_scim
from .projection import Selection
from .users import user_to_scim


def represent_users(
    records: list[SCIMUser], base_url: str, selection: Selection
) -> list[dict[str, Any]]:
    """SCIM JSON of the users ``records``, with their groups and manager when returned."""
    groups: dict[Any, list[dict]] | None = None
    if selection.returns("groups") and records:
        groups = defaultdict(list)
        rows: Iterable[tuple[Any, ...]]
        if all(hasattr(record, GROUPS_FIELD) for record in records):
            # Read with the records, in their query (GET by id, a lookup by userName).
            rows = [
                row for r in records for row in _groups_from_json(r.pk, getattr(r, GROUPS_FIELD))
            ]
        elif len(records) == 1:  # the answer to a write: compiled once
            rows = _GROUPS_OF_USER.rows(user=records[0].pk)
        else:
            rows = _groups_of(SCIMGroupMembership.objects.filter(user__in=records))
        # By name, then id: one order whatever the query and the database's collation.
        for user_id, group_id, display in sorted(rows, key=_by_group_name):
            groups[user_id].append(
                {
                    "value": str(group_id),
                    "$ref": f"{base_url}/Groups/{group_id}",
                    "display": display,
                    "type": "direct",
                }
            )
    manager_display_name = selection.requested(ENTERPRISE_USER_SCHEMA_URN, "manager")
    if manager_display_name:
        manager_ids = {r.manager_id for r in records if r.manager_id is not None}
        managers = SCIMUser.objects.in_bulk(manager_ids) if manager_ids else {}
        for record in records:
            if record.manager_id is not None:
                record.manager = managers.get(record.manager_id)
    return [
        selection.apply(
            user_to_scim(
                record,
                base_url,
                groups=groups.get(record.pk, []) if groups is not None else None,
                manager_display_name=manager_display_name,
            )
        )
        for record in records
    ]


def represent_groups(
    records: list[SCIMGroup], base_url: str, selection: Selection
) -> list[dict[str, Any]]:
    """SCIM JSON of the groups ``records``, with their members when returned."""
    members: dict[Any, list[dict]] | None = None
    if selection.returns("members") and records:
        display = selection.requested("members", "display")
        members = defaultdict(list)
        rows: Iterable[tuple[Any, ...]]
        if len(records) == 1:  # GET by id and the answer to a write: compiled once
            rows = _MEMBERS_OF_GROUP.rows(group=records[0].pk)
        else:
            rows = _members_of(SCIMGroupMembership.objects.filter(group__in=records))
        for group_id, user_id, user_name, display_name in rows:
            name = (display_name or user_name) if display else None
            members[group_id].append(member_to_scim(user_id, base_url, name))
    return [
        selection.apply(
            group_to_scim(
                record,
                base_url,
                members=members.get(record.pk, []) if members is not None else None,
            )
        )
        for record in records
    ]


def _groups_of(memberships: QuerySet) -> QuerySet:
    """(user id, group id, group displayName) of ``memberships``, in no order."""
    return memberships.order_by().values_list("user_id", "group_id", "group__display_name")


def _by_group_name(row: tuple[Any, ...]) -> tuple[str, str]:
    return (row[2] or "", str(row[1]))


#: The attribute of a user read by :func:`with_groups`: its groups as JSON text.
GROUPS_FIELD = "_scim_groups"


class _JSONPairs(Aggregate):
    """The rows' ``(a, b)`` as one JSON array of two-element arrays, as text."""

    output_field = TextField()
    VENDORS = ("sqlite", "postgresql", "mysql")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "JSON_GROUP_ARRAY(JSON_ARRAY(%(expressions)s))"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "(JSON_AGG(JSON_BUILD_ARRAY(%(expressions)s)))::text"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_mysql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "JSON_ARRAYAGG(JSON_ARRAY(%(expressions)s))"
        return self.as_sql(compiler, connection, template=template, **extra)


def with_groups(records: QuerySet) -> QuerySet:
    """``records`` (users) each carrying its groups, read in the same query.

    For answers of one or a few users (GET by id, a lookup by ``userName``):
    their groups cost no second round trip. Not for pages: the subquery runs
    once per row returned. On a database without JSON aggregates the records come as they are,
    and their groups are read by a query of their own.
    """
    if connections[records.db].vendor not in _JSONPairs.VENDORS:
        return records
    pairs = (
        SCIMGroupMembership.objects.filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(pairs=_JSONPairs("group_id", "group__display_name"))
        .values("pairs")
    )
    return records.annotate(**{GROUPS_FIELD: Subquery(pairs, output_field=TextField())})


def _groups_from_json(user_id: Any, text: str | None) -> list[tuple[Any, ...]]:
    # No membership: NULL (PostgreSQL, MySQL) or no row at all. Ids come as the
    # database keeps them (hex on SQLite, with dashes on PostgreSQL): made UUIDs.
    return [(user_id, uuid.UUID(str(g)), name) for g, name in json.loads(text or "[]")]


def _members_of(memberships: QuerySet) -> QuerySet:
    """(group id, user id, userName, displayName) of ``memberships``, in the order they joined."""
    return (
        memberships.order_by("created", "id")
        # The text as stored: a values_list of a JSON key would decode
        # "42" into 42 on SQLite.
        .annotate(display_name=KeyTextTransform("displayName", "user__attributes"))
        .values_list("group_id", "user_id", "user__user_name", "display_name")
    )


_MEMBERSHIP_USER = SCIMGroupMembership._meta.get_field("user")
_MEMBERSHIP_GROUP = SCIMGroupMembership._meta.get_field("group")
_GROUPS_OF_USER = PreparedQuery(
    SCIMGroupMembership,
    lambda user: _groups_of(SCIMGroupMembership.objects.filter(user=user)),
    {"user": _MEMBERSHIP_USER},
)
_MEMBERS_OF_GROUP = PreparedQuery(
    SCIMGroupMembership,
    lambda group: _members_of(SCIMGroupMembership.objects.filter(group=group)),
    {"group": _MEMBERSHIP_GROUP},
)
