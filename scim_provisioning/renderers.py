"""The SCIM media type for responses."""

from rest_framework.renderers import JSONRenderer

from .urns import SCIM_MEDIA_TYPE


class SCIMRenderer(JSONRenderer):
    """Renders JSON under ``application/scim+json`` (RFC 7644 §3.1)."""

    media_type = SCIM_MEDIA_TYPE
    format = "scim"
    charset = None
