"""Running a bulk request: every operation is the write its single request would make.

Each operation goes through :mod:`..writes`, the functions behind ``POST
/Users``, ``PUT /Groups/{id}`` and the rest, with the request's team: the same
scope, identity rules, bounds, ``If-Match`` (an operation's ``version``),
signals and locking. Each runs in a transaction of its own: a failed operation
changes nothing and undoes nothing of the others, and no lock is held from one
operation to the next. Its outcome is its own entry in the BulkResponse
(RFC 7644 §3.7.3): ``status``, ``location`` (but for a failed POST), ``version``
after a write, and the SCIM Error as ``response`` on failure.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from typing import Any

from .. import failed_writes, writes
from ..casefold import find_insensitive
from ..exceptions import (
    InvalidValue,
    NotFound,
    SCIMError,
    ServiceUnavailable,
    scim_exception_handler,
)
from ..models import SCIMTeamConfig
from ..resource_types import RESOURCE_TYPES, ResourceType
from ..urns import BULK_RESPONSE_SCHEMA
from .plan import plan
from .request import BulkRequest, Operation, path_id, reference

METHODS = ("POST", "PUT", "PATCH", "DELETE")


def run_bulk(request: BulkRequest, config: SCIMTeamConfig, base_url: str) -> dict[str, Any]:
    """Run ``request``'s operations for ``config``'s team; the BulkResponse body.

    Results are listed in the order of the request. With ``failOnErrors``, the
    operations after that many failures do not run and are not listed; nor do
    those after a 503 (the database is down or busy past its timeout: the next
    operations would only wait as long to fail, so the client retries them).
    """
    steps = plan(request.operations)
    declared = {o.declares for o in request.operations if o.declares is not None}
    run = _BulkRun(config, base_url, declared=declared)
    circular_ids = sorted(o.declares for o in steps.circular if o.declares is not None)
    circular = partial(_circular, circular_ids=circular_ids)
    outcomes: Iterable[tuple[Operation, Callable[[Operation], dict[str, Any]]]] = chain(
        ((o, run.operation) for o in steps.ordered), ((o, circular) for o in steps.circular)
    )
    results: dict[int, dict[str, Any]] = {}
    errors = 0
    for operation, outcome in outcomes:
        result = outcome(operation)
        results[operation.index] = result
        status = int(result["status"])
        if status == ServiceUnavailable.status_code:
            break
        if status >= 400:
            errors += 1
            if request.fail_on_errors is not None and errors >= request.fail_on_errors:
                break
    return {
        "schemas": [BULK_RESPONSE_SCHEMA],
        "Operations": [results[index] for index in sorted(results)],
    }


@dataclass(frozen=True)
class _Target:
    kind: ResourceType
    pk: str | None  # None: the type's endpoint (a POST)


@dataclass
class _BulkRun:
    """One bulk request in progress: the ids its POSTs created, by ``bulkId``."""

    config: SCIMTeamConfig
    base_url: str
    declared: set[str]
    created: dict[str, str] = field(default_factory=dict)

    def operation(self, operation: Operation) -> dict[str, Any]:
        """Run ``operation``; its BulkResponse entry, whether it succeeded or not."""
        target: _Target | None = None
        try:
            method = _method(operation.method)
            target = self._target(operation.path, method)
            data = operation.data
            if operation.references and method != "DELETE":  # a DELETE has no data
                data = self._resolved(data)
            return self._write(operation, method, target, data)
        except Exception as exc:  # every failure is this operation's own SCIM error
            error = scim_exception_handler(exc, {})
            location = None
            if target is not None and target.pk is not None:
                location = target.kind.location(self.base_url, target.pk)
            if target is not None:  # the person's timeline has it, as for a single request
                failed_writes.record_failure(
                    failed_writes.FailedWrite(
                        scope=self.config.scope,
                        kind=target.kind,
                        pk=str(target.pk or ""),
                        body=operation.data,
                        method=str(operation.method or "").upper(),
                        path=str(operation.path),
                        status=error.status_code,
                        error=error.data,
                    ),
                    exc,
                )
            return _result(operation, error.status_code, location=location, response=error.data)

    def _write(
        self, operation: Operation, method: str, target: _Target, data: Any
    ) -> dict[str, Any]:
        kind, pk, config = target.kind, target.pk, self.config
        if method == "POST":
            record = writes.create(kind, config, data)
            if operation.bulk_id is not None:
                self.created[operation.bulk_id] = str(record.id)
            location = kind.location(self.base_url, record.id)
            return _result(operation, 201, location=location, version=record.etag)
        assert pk is not None
        version = _version(operation.version)
        if method == "DELETE":
            writes.delete(kind, config, pk, if_match=version)
            return _result(operation, 204, location=kind.location(self.base_url, pk))
        write = writes.replace if method == "PUT" else writes.patch
        record = write(kind, config, pk, data, if_match=version, answered=False).record
        assert record is not None  # a 404 was raised otherwise
        # The record's own id: the path may have named it by a legacy id.
        location = kind.location(self.base_url, record.id)
        return _result(operation, 200, location=location, version=record.etag)

    def _target(self, path: Any, method: str) -> _Target:
        """The resource type and id a path names, references resolved; the errors of a
        single request to that path (404 for no endpoint, 405 for the wrong method)."""
        if not isinstance(path, str) or not path.strip():
            raise InvalidValue("Each operation needs a 'path', e.g. '/Users' or '/Groups/{id}'.")
        segments = [s for s in self._relative(path).split("/") if s]
        kind = None
        if len(segments) in (1, 2):
            kind = find_insensitive(
                RESOURCE_TYPES.values(), segments[0], key=lambda k: k.endpoint[1:]
            )
        if kind is None:
            raise NotFound(f"There is no SCIM endpoint at {path}.")
        pk = path_id(path) if len(segments) == 2 else None
        if (method == "POST") != (pk is None):
            raise SCIMError(f"{method} is not allowed on {path}.", status=405)
        bulk_id = reference(pk)
        return _Target(kind, self._id_of(bulk_id) if bulk_id is not None else pk)

    def _relative(self, path: str) -> str:
        """``path`` from the SCIM root: ``/Users``; an absolute URL or the base path is fine too."""
        base_path = urllib.parse.urlsplit(self.base_url).path.rstrip("/")
        for prefix in (self.base_url, base_path):
            if prefix and path.startswith(prefix + "/"):
                return path[len(prefix) :]
        return path

    def _id_of(self, bulk_id: str) -> str:
        """The id of the resource the POST with ``bulk_id`` created (RFC 7644 §3.7.2)."""
        if bulk_id in self.created:
            return self.created[bulk_id]
        if bulk_id in self.declared:
            raise SCIMError(
                f"bulkId '{bulk_id}' cannot be resolved: the POST that declares it failed.",
                status=409,
            )
        raise InvalidValue(
            f"bulkId '{bulk_id}' cannot be resolved: no POST of this request has it."
        )

    def _resolved(self, value: Any) -> Any:
        """``value`` with every ``"bulkId:…"`` replaced by the id it stands for.

        Recursive: depth is bounded by ``MAX_JSON_DEPTH`` before the body is parsed.
        """
        if isinstance(value, dict):
            return {key: self._resolved(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._resolved(item) for item in value]
        bulk_id = reference(value)
        return self._id_of(bulk_id) if bulk_id is not None else value


def _circular(operation: Operation, circular_ids: list[str]) -> dict[str, Any]:
    """The 409 of an operation whose references are circular (RFC 7644 §3.7.1)."""
    detail = (
        "The bulkId references of this operation are circular (among "
        + ", ".join(f"'{bulk_id}'" for bulk_id in circular_ids)
        + "): no order of the operations resolves them. Create the resources first, "
        "then reference them with their ids in a PATCH."
    )
    error = scim_exception_handler(SCIMError(detail, status=409), {})
    return _result(operation, 409, response=error.data)


def _method(method: Any) -> str:
    folded = method.upper() if isinstance(method, str) else None
    if folded not in METHODS:
        raise InvalidValue("An operation's 'method' must be POST, PUT, PATCH or DELETE.")
    return folded


def _version(version: Any) -> str | None:
    """An operation's ``version``: its ``If-Match`` (RFC 7644 §3.7)."""
    if version is not None and not isinstance(version, str):
        raise InvalidValue("An operation's 'version' must be an ETag string, e.g. 'W/\"3\"'.")
    return version


def _result(
    operation: Operation,
    status: int,
    *,
    location: str | None = None,
    version: str | None = None,
    response: Any = None,
) -> dict[str, Any]:
    """An operation's entry in the BulkResponse; ``status`` a string, as RFC 7644's examples."""
    method = operation.method
    result: dict[str, Any] = {"method": method.upper() if isinstance(method, str) else method}
    if operation.bulk_id is not None:
        result["bulkId"] = operation.bulk_id
    if location is not None:
        result["location"] = location
    if version is not None:
        result["version"] = version
    result["status"] = str(status)
    if response is not None:
        result["response"] = response
    return result
