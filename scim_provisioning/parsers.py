"""Request bodies: ``application/scim+json`` and plain JSON, any ``charset``, bounded depth.

Python's JSON parser recurses once per nesting level, so a body of 50,000
nested arrays is a ``RecursionError`` (a 500) before any of our checks run.
The depth is therefore measured on the raw bytes first, in linear time and
without recursion, and a body deeper than ``MAX_JSON_DEPTH`` is a 400
``invalidSyntax``. The body's size is bounded before it is read
(``MAX_BODY_SIZE``, see the views).
"""

from __future__ import annotations

import io
import re
from itertools import accumulate
from typing import Any

from rest_framework.parsers import JSONParser

from .conf import app_settings
from .exceptions import InvalidSyntax
from .renderers import SCIM_MEDIA_TYPE

_ESCAPE = re.compile(rb"\\.", re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(raw: bytes) -> int:
    """How deeply the arrays and objects of the JSON text ``raw`` nest (brackets in strings aside).

    Text that is not valid JSON gets a number too; the parser refuses it afterwards.
    """
    # Linear, in three passes over bytes: drop escape pairs (so every quote left
    # delimits a string), keep what lies outside quotes, keep only the brackets.
    outside = b"".join(_ESCAPE.sub(b"", raw).split(b'"')[0::2])
    brackets = outside.translate(None, _NOT_BRACKETS)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than ``MAX_JSON_DEPTH``."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        limit = app_settings.MAX_JSON_DEPTH
        # Cheap first: a body with fewer opening brackets than the limit cannot exceed it.
        if raw.count(b"[") + raw.count(b"{") > limit and json_depth(raw) > limit:
            raise InvalidSyntax(f"The body nests arrays and objects deeper than {limit} levels.")
        return super().parse(io.BytesIO(raw), media_type, parser_context)


class SCIMParser(BoundedJSONParser):
    """Parses ``application/scim+json`` bodies (Entra sends ``; charset=utf-8``)."""

    media_type = SCIM_MEDIA_TYPE
