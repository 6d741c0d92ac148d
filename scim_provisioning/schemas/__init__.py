"""The schemas this server publishes and accepts."""

from ..urns import ENTERPRISE_USER_SCHEMA_URN, GROUP_SCHEMA_URN, USER_SCHEMA_URN
from .attributes import Attribute, Schema
from .custom import UserExtension, user_extension
from .group import GROUP_SCHEMA
from .user import ENTERPRISE_USER_SCHEMA, USER_SCHEMA


def user_extensions() -> tuple[Schema, ...]:
    """The User schema's extensions: the enterprise one, and the host's own if it declares one."""
    custom = user_extension()
    return (ENTERPRISE_USER_SCHEMA,) + ((custom.schema,) if custom else ())


def published_schemas() -> tuple[Schema, ...]:
    """Every schema ``/Schemas`` lists."""
    return (USER_SCHEMA, *user_extensions(), GROUP_SCHEMA)


__all__ = [
    "Attribute",
    "Schema",
    "UserExtension",
    "user_extension",
    "user_extensions",
    "published_schemas",
    "USER_SCHEMA",
    "USER_SCHEMA_URN",
    "ENTERPRISE_USER_SCHEMA",
    "ENTERPRISE_USER_SCHEMA_URN",
    "GROUP_SCHEMA",
    "GROUP_SCHEMA_URN",
]
