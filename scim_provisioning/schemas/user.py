"""The User schema and the enterprise extension, exactly as far as we support them."""

from __future__ import annotations

from ..urns import ENTERPRISE_USER_SCHEMA_URN, USER_SCHEMA_URN
from .attributes import Attribute, Schema


def _typed_values(
    name: str, description: str, types: tuple[str, ...], *, required: bool = False
) -> Attribute:
    """A multi-valued ``value``/``type``/``primary`` attribute such as ``emails``."""
    return Attribute(
        name,
        type="complex",
        multi_valued=True,
        required=required,
        description=description,
        sub_attributes=(
            Attribute("value", required=required, description=f"The {description.lower()} value."),
            Attribute(
                "type", description="A label: " + ", ".join(types) + ".", canonical_values=types
            ),
            Attribute("primary", type="boolean", description="The preferred value."),
        ),
    )


USER_SCHEMA = Schema(
    id=USER_SCHEMA_URN,
    name="User",
    description="User Account",
    attributes=(
        Attribute(
            "userName",
            required=True,
            uniqueness="server",
            description="Unique identifier for the user within the team, usually an email.",
        ),
        Attribute(
            "name",
            type="complex",
            description="The components of the user's name.",
            sub_attributes=(
                Attribute("formatted", description="The full name, formatted for display."),
                Attribute("familyName", description="The family name."),
                Attribute("givenName", description="The given name."),
                Attribute("middleName", description="The middle name."),
                Attribute("honorificPrefix", description="The honorific prefix (e.g. Ms.)."),
                Attribute("honorificSuffix", description="The honorific suffix (e.g. III)."),
            ),
        ),
        Attribute("displayName", description="The name displayed to end users."),
        Attribute("nickName", description="The casual name."),
        Attribute("title", description="The user's title, e.g. Vice President."),
        Attribute("userType", description="The relationship to the organisation, e.g. Employee."),
        Attribute("preferredLanguage", description="Preferred language, e.g. en-US."),
        Attribute("locale", description="Default location for localisation, e.g. en-US."),
        Attribute("timezone", description="Time zone in IANA format, e.g. Europe/Paris."),
        # Always has a value here: a create without it means true, and a seat
        # is either taken or not, so it cannot be removed (only set to false).
        Attribute(
            "active",
            type="boolean",
            required=True,
            description="Whether the user holds a seat in the team; true when a create omits it.",
        ),
        Attribute(
            "password",
            mutability="writeOnly",
            returned="never",
            description="Accepted and discarded: accounts provisioned by SCIM sign in through SSO.",
        ),
        # The host account is keyed by email. A userName that is an email address
        # stands in when a client sends none (OneLogin's Core Schema connector).
        _typed_values("emails", "Email addresses", ("work", "home", "other"), required=True),
        _typed_values(
            "phoneNumbers", "Phone numbers", ("work", "home", "mobile", "fax", "pager", "other")
        ),
        # Roles the IdP assigns in the application (Entra's app roles, an Okta
        # attribute): stored, returned and filterable like emails; a team's
        # SCIMTeamConfig.user_roles maps their values onto membership roles.
        Attribute(
            "roles",
            type="complex",
            multi_valued=True,
            description="Roles of the user in this application, as the IdP assigns them.",
            sub_attributes=(
                Attribute("value", description="The role's value, e.g. Admin."),
                Attribute("display", description="The role's name, for display."),
                Attribute("type", description="A label the IdP gives the role."),
                Attribute("primary", type="boolean", description="The preferred role."),
            ),
        ),
        Attribute(
            "groups",
            type="complex",
            multi_valued=True,
            mutability="readOnly",
            description="Groups the user belongs to, managed through /Groups.",
            sub_attributes=(
                Attribute("value", mutability="readOnly", description="The group's id."),
                Attribute(
                    "$ref",
                    type="reference",
                    mutability="readOnly",
                    reference_types=("Group",),
                    description="The group's URI.",
                ),
                Attribute("display", mutability="readOnly", description="The group's displayName."),
                Attribute(
                    "type",
                    mutability="readOnly",
                    canonical_values=("direct",),
                    description="How the user belongs to the group.",
                ),
            ),
        ),
    ),
)

ENTERPRISE_USER_SCHEMA = Schema(
    id=ENTERPRISE_USER_SCHEMA_URN,
    name="EnterpriseUser",
    description="Enterprise User",
    attributes=(
        Attribute("employeeNumber", description="Identifier assigned by the organisation."),
        Attribute("costCenter", description="Name of a cost center."),
        Attribute("organization", description="Name of an organisation."),
        Attribute("division", description="Name of a division."),
        Attribute("department", description="Name of a department."),
        Attribute(
            "manager",
            type="complex",
            description="The user's manager, another user of the same team.",
            sub_attributes=(
                Attribute("value", description="The manager's id."),
                Attribute(
                    "$ref",
                    type="reference",
                    reference_types=("User",),
                    description="The manager's URI (derived from value).",
                ),
                Attribute(
                    "displayName",
                    mutability="readOnly",
                    returned="request",
                    description="The manager's displayName; returned when asked for with "
                    "attributes=...:manager.",
                ),
            ),
        ),
    ),
)
