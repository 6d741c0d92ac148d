"""Request bodies: ``application/scim+json`` and plain JSON, any ``charset``."""

from rest_framework.parsers import JSONParser

from .renderers import SCIM_MEDIA_TYPE


class SCIMParser(JSONParser):
    """Parses ``application/scim+json`` bodies (Entra sends ``; charset=utf-8``)."""

    media_type = SCIM_MEDIA_TYPE
