"""Attribute and schema definitions (RFC 7643 §7).

One definition per attribute drives everything that depends on it: what
``/Schemas`` publishes, which names are accepted (case-insensitively), how
values are coerced, which attributes are read-only or never returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from ..casefold import find_insensitive
from ..urns import SCHEMA_SCHEMA

_name = attrgetter("name")


@dataclass(frozen=True)
class Attribute:
    """One SCIM attribute, with the RFC 7643 characteristics we publish."""

    name: str
    type: str = "string"
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    description: str = ""
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    #: Values kept as rows of their own (a group's members), never in one document:
    #: bounded per request by ``MAX_MEMBERS_PER_REQUEST`` rather than per attribute
    #: by ``MAX_ITEMS_PER_ATTRIBUTE``.
    stored_as_rows: bool = False

    def sub_attribute(self, name: str) -> Attribute | None:
        """The sub-attribute called ``name`` (case-insensitive), if any."""
        return find_insensitive(self.sub_attributes, name, key=_name)

    @property
    def writable(self) -> bool:
        return self.mutability in ("readWrite", "writeOnly", "immutable")

    def to_scim(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "mutability": self.mutability,
            "returned": self.returned,
        }
        if self.type in ("string", "reference", "binary"):
            data["caseExact"] = self.case_exact
        if self.type != "complex":
            data["uniqueness"] = self.uniqueness
        if self.canonical_values:
            data["canonicalValues"] = list(self.canonical_values)
        if self.reference_types:
            data["referenceTypes"] = list(self.reference_types)
        if self.sub_attributes:
            data["subAttributes"] = [a.to_scim() for a in self.sub_attributes]
        return data


@dataclass(frozen=True)
class Schema:
    """A SCIM schema: its URN, name and attributes."""

    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...] = field(default_factory=tuple)

    def attribute(self, name: str) -> Attribute | None:
        """The top-level attribute called ``name`` (case-insensitive), if any."""
        return find_insensitive(self.attributes, name, key=_name)

    def to_scim(self, location: str) -> dict[str, Any]:
        return {
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [a.to_scim() for a in self.attributes],
            "meta": {"resourceType": "Schema", "location": location},
        }
