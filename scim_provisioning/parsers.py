"""Request bodies: ``application/scim+json`` and plain JSON, any ``charset``, bounded.

A body nested deeper than ``MAX_JSON_DEPTH`` is a 400 ``invalidSyntax``,
measured before it is parsed (:mod:`.json_text`); its size is bounded before
it is read (``MAX_BODY_SIZE``, see the views). A body holding text no
database stores (a NUL, a lone surrogate: :mod:`.storable_text`) is a 400
here too, before any view sees it: the one place a body's text is checked.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework.parsers import JSONParser

from .conf import app_settings
from .exceptions import InvalidSyntax
from .json_text import too_deep
from .storable_text import may_hold_unstorable, refuse_unstorable
from .urns import SCIM_MEDIA_TYPE


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than ``MAX_JSON_DEPTH`` and
    bodies holding text no database stores."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        if too_deep(raw):
            limit = app_settings.MAX_JSON_DEPTH
            raise InvalidSyntax(f"The body nests arrays and objects deeper than {limit} levels.")
        data = super().parse(io.BytesIO(raw), media_type, parser_context)
        encoding = str((parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET)
        utf8 = encoding.lower().replace("-", "").replace("_", "") in ("utf8", "ascii", "usascii")
        if not utf8 or may_hold_unstorable(raw):  # another charset: no shortcut, walk it
            refuse_unstorable(data)
        return data


class SCIMParser(BoundedJSONParser):
    """Parses ``application/scim+json`` bodies (Entra sends ``; charset=utf-8``)."""

    media_type = SCIM_MEDIA_TYPE
