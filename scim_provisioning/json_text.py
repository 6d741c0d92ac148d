"""JSON text under the body's bounds: its depth measured without parsing, its text storable.

Python's JSON parser recurses once per nesting level, so a text of 50,000
nested arrays is a ``RecursionError`` (a 500) before any of our checks run.
The depth is therefore measured on the raw bytes first, in linear time and
without recursion. The request body is parsed under these rules by
:mod:`.parsers`; JSON text *inside* a value (Entra's app roles arrive as the
JSON text of an object) by :func:`loads_bounded`, under the same ones (issue
21: a 60,000-deep string in ``roles[].value`` was a RecursionError).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from .conf import app_settings
from .exceptions import InvalidValue
from .storable_text import find_in_document, may_hold_unstorable

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


def too_deep(raw: bytes) -> bool:
    """Whether the JSON text ``raw`` nests deeper than ``MAX_JSON_DEPTH``."""
    limit = app_settings.MAX_JSON_DEPTH
    # Cheap first: a text with fewer opening brackets than the limit cannot exceed it.
    return raw.count(b"[") + raw.count(b"{") > limit and json_depth(raw) > limit


def loads_bounded(text: str, path: str) -> Any:
    """The JSON text ``text``, the value of ``path``, parsed under the body's rules.

    Its length (``MAX_STRING_LENGTH``, the bound of any string value) and its
    depth (``MAX_JSON_DEPTH``) are checked before it is parsed, and what it
    decodes to may hold no unstorable text: each a 400 ``invalidValue``.
    Raises ``ValueError`` when ``text`` is not JSON (the caller keeps it as text).
    """
    if len(text) > app_settings.MAX_STRING_LENGTH:
        raise InvalidValue(f"'{path}' is longer than {app_settings.MAX_STRING_LENGTH} characters.")
    raw = text.encode("utf-8", "surrogatepass")
    if too_deep(raw):
        raise InvalidValue(
            f"'{path}' holds JSON nested deeper than {app_settings.MAX_JSON_DEPTH} levels."
        )
    decoded = json.loads(text)
    found = find_in_document(decoded) if may_hold_unstorable(raw) else None
    if found is not None:
        raise InvalidValue(f"'{path}' holds JSON text that contains {found.what}.")
    return decoded
