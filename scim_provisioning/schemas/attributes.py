"""Attribute and schema definitions (RFC 7643 §7).

One definition per attribute drives everything that depends on it: what
``/Schemas`` publishes, which names are accepted (case-insensitively), how
values are coerced, which attributes are read-only or never returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from ..urns import SCHEMA_SCHEMA


def _by_folded_name(attributes: tuple[Attribute, ...]) -> dict[str, Attribute]:
    """``attributes`` by their lower-case name; the first of two spellings wins, as a scan would."""
    index: dict[str, Attribute] = {}
    for attribute in attributes:
        index.setdefault(attribute.name.lower(), attribute)
    return index


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
        return self._sub_attributes_by_name.get(name.lower())

    # Definitions are immutable and live for the process: what every value read
    # asks of them is worked out once (a scan folding every name, and a
    # dataclasses.replace() per multi-valued value, were a tenth of a create's
    # document read).
    @cached_property
    def _sub_attributes_by_name(self) -> dict[str, Attribute]:
        return _by_folded_name(self.sub_attributes)

    @cached_property
    def single(self) -> Attribute:
        """The attribute of one value of this one (itself if it is single-valued)."""
        return replace(self, multi_valued=False) if self.multi_valued else self

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
        return self._attributes_by_name.get(name.lower())

    @cached_property
    def _attributes_by_name(self) -> dict[str, Attribute]:
        return _by_folded_name(self.attributes)

    def to_scim(self, location: str) -> dict[str, Any]:
        return {
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [a.to_scim() for a in self.attributes],
            "meta": {"resourceType": "Schema", "location": location},
        }
