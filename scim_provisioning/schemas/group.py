"""The Group schema, as far as we support it."""

from __future__ import annotations

from ..urns import GROUP_SCHEMA_URN
from .attributes import Attribute, Schema

GROUP_SCHEMA = Schema(
    id=GROUP_SCHEMA_URN,
    name="Group",
    description="Group",
    attributes=(
        Attribute(
            "displayName",
            required=True,
            uniqueness="server",
            description="The group's name, unique in the team (case-insensitively).",
        ),
        Attribute(
            "members",
            type="complex",
            multi_valued=True,
            stored_as_rows=True,
            description="Users of the team in the group; values naming none are ignored.",
            sub_attributes=(
                Attribute("value", mutability="immutable", description="The member's id."),
                Attribute(
                    "$ref",
                    type="reference",
                    mutability="immutable",
                    reference_types=("User",),
                    description="The member's URI.",
                ),
                # returned: request, like the manager's displayName: a client that
                # reads back the members it wrote finds exactly what it sent.
                Attribute(
                    "display",
                    mutability="readOnly",
                    returned="request",
                    description="The member's name, returned when asked for.",
                ),
                Attribute(
                    "type",
                    mutability="immutable",
                    canonical_values=("User",),
                    description="Always User: groups are not nested.",
                ),
            ),
        ),
    ),
)
