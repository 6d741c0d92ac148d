"""Reading a BulkRequest (RFC 7644 §3.7): the envelope, its limits, and each operation as sent.

What makes the whole request unusable is refused here, before anything runs:
a body that is not a BulkRequest, more operations than ``maxOperations`` (a 413,
§3.7.4), a ``failOnErrors`` that is not a positive integer, a ``bulkId`` that is
not a string or that two POSTs share (references to it would be ambiguous).
What concerns one operation only (its method, path, version or data) is that
operation's error when it runs, so that the others still run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..authentication import SCIMClient
from ..casefold import fold_keys
from ..conf import app_settings
from ..exceptions import InvalidSyntax, InvalidValue, PayloadTooLarge
from ..throttling import burst_for

#: The literal prefix of a reference to the resource a POST of the same request creates.
REFERENCE_PREFIX = "bulkId:"


@dataclass(frozen=True)
class Operation:
    """One operation of a bulk request, as sent; ``index`` is its place in the request."""

    index: int
    method: Any
    path: Any
    bulk_id: str | None
    version: Any
    data: Any
    #: The bulkIds its path and data reference (``"bulkId:qwerty"`` → ``qwerty``).
    references: frozenset[str]

    @property
    def declares(self) -> str | None:
        """The ``bulkId`` other operations may reference: a POST's own."""
        return self.bulk_id if _upper(self.method) == "POST" else None


@dataclass(frozen=True)
class BulkRequest:
    """The operations of a bulk request and how many failures it accepts (``None``: all)."""

    operations: tuple[Operation, ...]
    fail_on_errors: int | None


def max_operations(client: SCIMClient) -> int:
    """``bulk.maxOperations`` for ``client``'s token: the setting, within its rate-limit burst.

    Each operation spends one request of the token's rate limit, so a bulk request
    larger than the burst could never pass; it is refused with a 413 instead,
    saying how many operations fit. ``0``: bulk is turned off.
    """
    limit = app_settings.BULK_MAX_OPERATIONS
    burst = burst_for(client)
    return limit if burst is None or limit <= 0 else min(limit, burst)


def read_bulk_request(body: Any, *, max_operations: int) -> BulkRequest:
    """The :class:`BulkRequest` in ``body``, or the SCIM error that refuses it whole."""
    if not isinstance(body, dict):
        raise InvalidSyntax("The bulk request must be a JSON object (a BulkRequest).")
    # Keys are case-insensitive, as everywhere in SCIM (RFC 7643 §2.1).
    fields = fold_keys(body)
    sent = fields.get("operations")
    if not isinstance(sent, list):
        raise InvalidSyntax("The bulk request needs an 'Operations' list.")
    if not sent:
        raise InvalidValue("The bulk request has no operations.")
    if len(sent) > max_operations:
        raise PayloadTooLarge(
            f"The bulk request has {len(sent)} operations; maxOperations is {max_operations}. "
            "Send them in smaller batches."
        )
    operations = tuple(_operation(index, item) for index, item in enumerate(sent))
    _check_declarations(operations)
    return BulkRequest(operations, _fail_on_errors(fields.get("failonerrors")))


def reference(text: Any) -> str | None:
    """``qwerty`` for the value ``"bulkId:qwerty"`` (RFC 7644 §3.7.2); else ``None``."""
    if isinstance(text, str) and text.startswith(REFERENCE_PREFIX):
        return text[len(REFERENCE_PREFIX) :] or None
    return None


def path_id(path: Any) -> str:
    """The last segment of a path: the resource id of ``/Users/{id}``."""
    return path.rstrip("/").rsplit("/", 1)[-1] if isinstance(path, str) else ""


def references_in(data: Any) -> set[str]:
    """The bulkIds referenced by the values of ``data``, at any depth (a member's ``value``,
    a manager's ``value``, a PATCH operation's ``value``)."""
    found: set[str] = set()
    stack = [data]
    while stack:  # no recursion: depth is bounded by MAX_JSON_DEPTH, but a loop needs no bound
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif (bulk_id := reference(item)) is not None:
            found.add(bulk_id)
    return found


def _operation(index: int, item: Any) -> Operation:
    if not isinstance(item, dict):
        raise InvalidSyntax(f"Operation {index + 1} of the bulk request is not a JSON object.")
    fields = fold_keys(item)
    bulk_id = fields.get("bulkid")
    if bulk_id is not None and (not isinstance(bulk_id, str) or not bulk_id.strip()):
        raise InvalidValue(f"The 'bulkId' of operation {index + 1} must be a non-empty string.")
    path, data = fields.get("path"), fields.get("data")
    return Operation(
        index=index,
        method=fields.get("method"),
        path=path,
        bulk_id=bulk_id,
        version=fields.get("version"),
        data=data,
        references=frozenset(references_in([path_id(path), data])),
    )


def _check_declarations(operations: tuple[Operation, ...]) -> None:
    """Each ``bulkId`` is declared by one POST at most: a reference must name one resource."""
    seen: dict[str, int] = {}
    for operation in operations:
        bulk_id = operation.declares
        if bulk_id is None:
            continue
        if bulk_id in seen:
            raise InvalidValue(
                f"Operations {seen[bulk_id] + 1} and {operation.index + 1} both have "
                f"bulkId '{bulk_id}'; a bulkId must be unique within a bulk request."
            )
        seen[bulk_id] = operation.index


def _fail_on_errors(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValue("'failOnErrors' must be a positive integer.")
    return value


def _upper(method: Any) -> Any:
    return method.upper() if isinstance(method, str) else method
