"""Conditional requests on a resource's ETag (RFC 7232, RFC 7644 §3.14).

One reading of ``If-Match`` and ``If-None-Match`` for every place that has a
version to compare: the headers of a single request, and the ``version`` of a
bulk operation (RFC 7644 §3.7), which means what ``If-Match`` means.
"""

from __future__ import annotations

from .exceptions import PreconditionFailed


def names_version(header: str | None, etag: str) -> bool:
    """Whether the list of entity tags ``header`` names ``etag`` (``*`` names any).

    Comparison is weak (RFC 7232 §2.3.2): ``W/"3"`` and ``"3"`` are the same
    version, since clients echo either form back.
    """
    if header is None:
        return False
    wanted = {tag.strip() for tag in header.split(",")}
    strong = etag[2:] if etag.startswith("W/") else etag
    return "*" in wanted or bool(wanted & {etag, strong})


def check_if_match(header: str | None, etag: str) -> None:
    """``If-Match`` on a write: a 412 when the resource changed since the client read it.

    ``None`` (no header, no ``version``) means unconditional.
    """
    if header is not None and not names_version(header, etag):
        raise PreconditionFailed()
