"""Group resources: SCIM JSON ⇄ :class:`~scim_provisioning.models.SCIMGroup`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..exceptions import InvalidValue
from ..models import SCIMGroup
from ..schemas import GROUP_SCHEMA
from ..urns import GROUP_SCHEMA_URN
from .documents import Document, fits, meta, read_document


def read_group_document(body: Any) -> Document:
    """The canonical document of a Group body (POST/PUT).

    Entra sends a non-standard schema URN alongside the core one; ``schemas``
    is not read at all, so it does no harm.
    """
    return read_document(body, GROUP_SCHEMA)


@dataclass(frozen=True)
class GroupState:
    """What a group document says: its columns, and its members when it names them."""

    display_name: str
    external_id: str | None
    member_ids: list[str] | None  # None: leave the members as they are


def state_from_group_document(document: Document) -> GroupState:
    display_name = (document.get("displayName") or "").strip()
    if not display_name:
        raise InvalidValue("'displayName' is required.")
    fits(display_name, SCIMGroup, "display_name", "displayName")
    external_id = (document.get("externalId") or "").strip() or None
    fits(external_id, SCIMGroup, "external_id", "externalId")
    members = member_ids(document["members"]) if "members" in document else None
    return GroupState(display_name=display_name, external_id=external_id, member_ids=members)


def member_ids(members: list[dict[str, Any]] | None) -> list[str]:
    """The ids of the ``members`` values that name one (POST, PUT and PATCH alike)."""
    return [str(m["value"]) for m in members or [] if m.get("value") not in (None, "")]


def group_document(record: SCIMGroup) -> Document:
    """The group's writable attributes, members aside (they are applied as set operations)."""
    document: Document = {"displayName": record.display_name}
    if record.external_id is not None:
        document["externalId"] = record.external_id
    return document


def member_to_scim(user_id: Any, base_url: str, display: str | None = None) -> dict[str, Any]:
    """One ``members`` value; ``display`` only when the request asked for it."""
    member = {"value": str(user_id), "$ref": f"{base_url}/Users/{user_id}", "type": "User"}
    if display is not None:
        member["display"] = display
    return member


def group_to_scim(
    record: SCIMGroup, base_url: str, *, members: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The group as SCIM JSON; ``members`` is left out when ``None`` (not asked for)."""
    resource: dict[str, Any] = {"schemas": [GROUP_SCHEMA_URN], "id": str(record.id)}
    if record.external_id is not None:
        resource["externalId"] = record.external_id
    resource["displayName"] = record.display_name
    if members is not None:
        resource["members"] = members
    resource["meta"] = meta(record, "Group", f"{base_url}/Groups/{record.id}")
    return resource
