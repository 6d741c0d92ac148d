"""The SCIM media type for responses, rendered by orjson when it is installed.

A page of 100 users is about 50 kB of JSON: the standard library's encoder
spends about 0.4 ms on it, orjson (the ``fast`` extra) a tenth of that. The
bytes are the ones DRF's ``JSONRenderer`` writes with its defaults (compact,
UTF-8 unescaped, U+2028 and U+2029 escaped, datetimes by DRF's own encoder);
anything orjson cannot write as DRF would goes through DRF's renderer:
an indented response (``Accept: …; indent=4``), a site that changed
``UNICODE_JSON``, ``COMPACT_JSON`` or ``STRICT_JSON``, and a value orjson
refuses (an integer beyond 64 bits, a non-string key, a lone surrogate: the
last never reaches a response, :mod:`.storable_text` refuses it on the way in).

Two differences are decided, not inherited. A float written with an exponent
may be spelled otherwise (``1e-7``, not ``1e-07``): the same number to any
JSON reader. A non-finite float, which DRF's strict encoder refuses (a 500),
would be written as ``null``; none reaches a document: the body's parser
refuses ``NaN`` and ``Infinity``, and a decimal attribute must be finite
(:mod:`.resources.values`).
"""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

try:  # the ``fast`` extra
    import orjson
except ImportError:  # pragma: no cover - exercised by monkeypatching ``orjson`` to None
    orjson = None  # type: ignore[assignment]

from .urns import SCIM_MEDIA_TYPE

#: What DRF's encoder does for what JSON has no type for (datetimes, lazy text, decimals).
_default = JSONEncoder().default
_LINE_SEPARATORS = (("\u2028".encode(), b"\\u2028"), ("\u2029".encode(), b"\\u2029"))


class SCIMRenderer(JSONRenderer):
    """Renders JSON under ``application/scim+json`` (RFC 7644 §3.1)."""

    media_type = SCIM_MEDIA_TYPE
    format = "scim"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Any = None,
    ) -> bytes:
        if (
            orjson is None
            or data is None
            or self.ensure_ascii
            or not self.compact
            or not self.strict
            or self._indent(accepted_media_type, renderer_context) is not None
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            text = orjson.dumps(
                data,
                default=_default,
                option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS,
            )
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        for raw, escaped in _LINE_SEPARATORS:
            if raw in text:
                text = text.replace(raw, escaped)
        return text

    def _indent(self, accepted_media_type: str | None, renderer_context: Any) -> Any:
        """``get_indent``: an ``indent`` parameter of the media type, else the context's.

        A media type without parameters (what :mod:`.negotiation` always accepts)
        has no ``indent``: it is not parsed on every response.
        """
        context = renderer_context or {}
        if accepted_media_type and ";" in accepted_media_type:
            return self.get_indent(accepted_media_type, context)
        return context.get("indent")
