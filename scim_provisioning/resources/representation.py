"""Pages of records as SCIM JSON, in a fixed number of queries whatever their number.

A user's ``groups`` and a group's ``members`` are rows of their own: they are
loaded for the whole page at once, and only when the response returns them
(``attributes``/``excludedAttributes``). The answer to one record (GET by id,
the answer to a write) reads them with a query compiled once per process.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.db.models.fields.json import KeyTextTransform

from ..models import SCIMGroup, SCIMGroupMembership, SCIMUser
from ..prepared import PreparedQuery
from ..schemas import ENTERPRISE_USER_SCHEMA_URN
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
        if len(records) == 1:  # GET by id and the answer to a write: compiled once
            rows = _GROUPS_OF_USER.rows(user=records[0].pk)
        else:
            rows = _groups_of(SCIMGroupMembership.objects.filter(user__in=records))
        for user_id, group_id, display in rows:
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
    """(user id, group id, group displayName) of ``memberships``, by group name."""
    return memberships.order_by("group__display_name").values_list(
        "user_id", "group_id", "group__display_name"
    )


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
