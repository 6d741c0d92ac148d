"""Every SCIM schema URN and the SCIM media type, each written once (RFC 7643, RFC 7644).

The rest of the package imports these names; a URN spelled out anywhere else is a
second definition that can drift (``grep -rn 'urn:ietf:params:scim' scim_provisioning``
shows this module, docstrings and the migrations).
"""

from __future__ import annotations

#: The media type of every SCIM request and response body (RFC 7644 §3.1).
SCIM_MEDIA_TYPE = "application/scim+json"

# Resources (RFC 7643 §4, §8.7).
USER_SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER_SCHEMA_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
#: What a site's own User extension URN starts with (``…:extension:<name>:2.0:User``).
EXTENSION_URN_PREFIX = "urn:ietf:params:scim:schemas:extension:"

# Discovery (RFC 7643 §5-7).
SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"

# Messages (RFC 7644 §3).
LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
