"""The schemas this server publishes and accepts."""

from .attributes import Attribute, Schema
from .group import GROUP_SCHEMA, GROUP_SCHEMA_URN
from .user import ENTERPRISE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA_URN, USER_SCHEMA, USER_SCHEMA_URN

PUBLISHED_SCHEMAS: tuple[Schema, ...] = (USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA)

__all__ = [
    "Attribute",
    "Schema",
    "USER_SCHEMA",
    "USER_SCHEMA_URN",
    "ENTERPRISE_USER_SCHEMA",
    "ENTERPRISE_USER_SCHEMA_URN",
    "GROUP_SCHEMA",
    "GROUP_SCHEMA_URN",
    "PUBLISHED_SCHEMAS",
]
