"""CSV exports of the team's people and timeline: streamed, bounded, safe to open.

A manager opens the file in a spreadsheet, which runs a cell that begins with
``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) as a formula: a
userName is whatever the IdP sent, so such a cell is prefixed with ``'``
(OWASP, "CSV Injection"). Rows are written as they are read, and at most
:data:`MAX_ROWS`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

__all__ = ["MAX_ROWS", "csv_response", "safe_cell"]

#: Rows an export holds at most.
MAX_ROWS = 10_000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """``value`` as a cell no spreadsheet runs; ``None`` is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, header: list[str], rows: Iterable[Iterable[Any]]
) -> StreamingHttpResponse:
    """A streamed ``text/csv`` attachment: ``header``, then at most :data:`MAX_ROWS` rows."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for count, row in enumerate(rows):
            if count >= MAX_ROWS:
                break
            yield writer.writerow([safe_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
