"""Pages of records as SCIM JSON, in a fixed number of queries whatever their number.

A user's ``groups`` and a group's ``members`` are rows of their own: they are
loaded for the whole page at once, and only when the response returns them
(``attributes``/``excludedAttributes``). A read of one user by id, or of a
few by one exact value, brings their groups from its own query: they come in
as ``groups``, from the read's result (:mod:`..reads`); the answer to one
written record reads them with a query compiled once per process.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from ..models import SCIMGroup, SCIMUser
from ..reads import GroupRow, groups_of_user, groups_of_users, members_of_group, members_of_groups
from ..urns import ENTERPRISE_USER_SCHEMA_URN
from .groups import group_to_scim, member_to_scim
from .projection import Selection
from .users import user_to_scim


def represent_users(
    records: list[SCIMUser],
    base_url: str,
    selection: Selection,
    *,
    groups: Mapping[Any, tuple[GroupRow, ...]] | None = None,
) -> list[dict[str, Any]]:
    """SCIM JSON of the users ``records``, with their groups and manager when returned.

    ``groups``: the users' groups by id when the read that found them brought them.
    """
    listed: dict[Any, list[dict]] | None = None
    if selection.returns("groups") and records:
        listed = defaultdict(list)
        rows: Iterable[GroupRow]
        if groups is not None:
            # Read with the records, in their query (GET by id, a lookup by userName).
            rows = [row for r in records for row in groups.get(r.pk, ())]
        elif len(records) == 1:  # the answer to a write: compiled once
            rows = groups_of_user(records[0].pk)
        else:
            rows = groups_of_users(records)
        # By name, then id: one order whatever the query and the database's collation.
        for user_id, group_id, display in sorted(rows, key=_by_group_name):
            listed[user_id].append(
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
                groups=listed.get(record.pk, []) if listed is not None else None,
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
            rows = members_of_group(records[0].pk)
        else:
            rows = members_of_groups(records)
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


def _by_group_name(row: tuple[Any, ...]) -> tuple[str, str]:
    return (row[2] or "", str(row[1]))
