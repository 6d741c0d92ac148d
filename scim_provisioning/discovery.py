"""The discovery documents: ServiceProviderConfig, ResourceTypes and Schemas (RFC 7644 §4)."""

from __future__ import annotations

from typing import Any

from .casefold import find_insensitive
from .conf import app_settings
from .resource_types import RESOURCE_TYPES
from .schemas import published_schemas
from .urns import RESOURCE_TYPE_SCHEMA, SPC_SCHEMA


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
        "authenticationSchemes": authentication_schemes(),
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base_url}/ServiceProviderConfig",
        },
    }


def authentication_schemes() -> list[dict[str, Any]]:
    """The schemes switched on (``SCIM_PROVISIONING_AUTHENTICATION_SCHEMES``), as RFC 7643 §5
    types them; the first is primary."""
    on = app_settings.AUTHENTICATION_SCHEMES
    found: list[dict[str, Any]] = []
    header_forms = [
        form
        for scheme, form in (
            ("bearer", "'Authorization: Bearer <token>'"),
            ("header", "'Authorization: <token>'"),
        )
        if scheme in on
    ]
    if header_forms:
        found.append(
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A per-team token, sent as " + " or as ".join(header_forms) + ".",
                "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            }
        )
    if "basic" in on:
        found.append(
            {
                "type": "httpbasic",
                "name": "HTTP Basic",
                "description": (
                    "The per-team token as the password of HTTP Basic; the user name is ignored."
                ),
                "specUri": "https://www.rfc-editor.org/rfc/rfc7617",
            }
        )
    if "oauth" in on:
        found.append(
            {
                "type": "oauth2",
                "name": "OAuth 2.0",
                "description": (
                    "Access tokens from the token endpoint (client credentials, or an "
                    "authorization code a team manager consented to), sent as bearer tokens."
                ),
                "specUri": "https://www.rfc-editor.org/rfc/rfc6749",
            }
        )
    for index, scheme in enumerate(found):
        scheme["primary"] = index == 0
    return found


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
    found = find_insensitive(published_schemas(), urn, key=lambda s: s.id)
    return found.to_scim(f"{base_url}/Schemas/{found.id}") if found else None


def schemas(base_url: str) -> list[dict[str, Any]]:
    return [s.to_scim(f"{base_url}/Schemas/{s.id}") for s in published_schemas()]
