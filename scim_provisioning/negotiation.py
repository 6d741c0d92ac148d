"""Content negotiation that always answers SCIM JSON.

IdPs send ``Accept: application/json``, ``*/*`` or nothing at all (Entra's
connection test); RFC 7644 responses are ``application/scim+json`` whatever
was asked, so negotiation never fails with a 406.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import BaseContentNegotiation

from .urns import SCIM_MEDIA_TYPE


class SCIMContentNegotiation(BaseContentNegotiation):
    def select_parser(self, request: Any, parsers: Iterable[Any]) -> Any:
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        for parser in parsers:
            if parser.media_type == content_type:
                return parser
        return None

    def select_renderer(
        self, request: Any, renderers: Iterable[Any], format_suffix: str | None = None
    ) -> tuple[Any, str]:
        return next(iter(renderers)), SCIM_MEDIA_TYPE
