"""ListResponse and its paging parameters (RFC 7644 §3.4.2.4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .conf import app_settings
from .exceptions import InvalidValue

LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


@dataclass(frozen=True)
class Page:
    """1-based ``start_index`` and a ``count`` already clamped to the configured maximum."""

    start_index: int
    count: int

    @property
    def offset(self) -> int:
        return self.start_index - 1


def _integer(name: str, raw: str | None) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        return int(raw.strip())
    except ValueError as exc:
        raise InvalidValue(f"'{name}' must be an integer, not {raw!r}.") from exc


def read_page(start_index: str | None, count: str | None) -> Page:
    """Paging as RFC 7644 asks: ``startIndex`` below 1 is 1; ``count`` is clamped to [0, max]."""
    start = _integer("startIndex", start_index)
    size = _integer("count", count)
    start = 1 if start is None or start < 1 else start
    size = app_settings.DEFAULT_PAGE_SIZE if size is None else size
    size = max(0, min(size, app_settings.MAX_PAGE_SIZE))
    return Page(start_index=start, count=size)


def list_response(resources: list[dict[str, Any]], total: int, start_index: int) -> dict[str, Any]:
    return {
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }
