"""The discovery documents: ServiceProviderConfig, ResourceTypes and Schemas (RFC 7644 §4)."""

from __future__ import annotations

from typing import Any

from .conf import app_settings
from .resource_types import RESOURCE_TYPES
from .schemas import published_schemas

SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"


def service_provider_config(base_url: str, *, bulk_max_operations: int) -> dict[str, Any]:
    """What this server supports, truthfully.

    ``bulk_max_operations`` is the asking token's (its rate limit may lower it).
    """
    return {
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": True},
        "bulk": {
            "supported": bulk_max_operations > 0,
            "maxOperations": max(0, bulk_max_operations),
            "maxPayloadSize": app_settings.MAX_BODY_SIZE if bulk_max_operations > 0 else 0,
        },
        "filter": {"supported": True, "maxResults": app_settings.MAX_PAGE_SIZE},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A per-team bearer token, sent as 'Authorization: Bearer <token>'.",
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base_url}/ServiceProviderConfig",
        },
    }


def resource_type(name: str, base_url: str) -> dict[str, Any]:
    kind = RESOURCE_TYPES[name]
    return {
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": name,
        "name": name,
        "endpoint": kind.endpoint,
        "description": kind.description,
        "schema": kind.schema.id,
        "schemaExtensions": [{"schema": e.id, "required": False} for e in kind.extensions],
        "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/{name}"},
    }


def resource_types(base_url: str) -> list[dict[str, Any]]:
    return [resource_type(name, base_url) for name in RESOURCE_TYPES]


def schema(urn: str, base_url: str) -> dict[str, Any] | None:
    found = next((s for s in published_schemas() if s.id.lower() == urn.lower()), None)
    return found.to_scim(f"{base_url}/Schemas/{found.id}") if found else None


def schemas(base_url: str) -> list[dict[str, Any]]:
    return [s.to_scim(f"{base_url}/Schemas/{s.id}") for s in published_schemas()]
