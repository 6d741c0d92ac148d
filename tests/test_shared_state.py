"""Objects shared by every request of a process hold no request's state.

Threaded servers (runserver, gunicorn ``gthread``, ASGI) run requests at the
same time against the same module-level objects: the resource types and
their PATCH engines. A PATCH that kept its delegates on the shared engine
handed one request's member operations to another request's group (issue:
eight parallel group PATCHes, seven groups with foreign members). These
tests interleave two requests on one engine deterministically, with real
threads, so the interleaving does not depend on luck.
"""

from __future__ import annotations

import threading
from typing import Any

from scim_provisioning.resource_types import GROUPS
from scim_provisioning.schemas import GROUP_SCHEMA

from .conftest import patch_op

TIMEOUT = 10


def _members_patch(*ids: str) -> dict[str, Any]:
    return patch_op(*({"op": "add", "path": "members", "value": [{"value": i}]} for i in ids))


def test_a_patch_engine_shared_by_two_requests_keeps_each_requests_delegates():
    engine = GROUPS._patcher  # the one instance every GroupType PATCH goes through
    document = {"schemas": [GROUP_SCHEMA.id], "displayName": "Engineering"}
    first_seen: list[str] = []
    second_seen: list[str] = []
    first_waiting, second_done = threading.Event(), threading.Event()

    def first_delegate(op: str, target: Any, value: Any, has_value: bool) -> None:
        first_seen.append(value[0]["value"])
        if len(first_seen) == 1:
            # Hold the first request between its two operations while the
            # second request runs from start to end.
            first_waiting.set()
            assert second_done.wait(TIMEOUT)

    def second_delegate(op: str, target: Any, value: Any, has_value: bool) -> None:
        second_seen.append(value[0]["value"])

    errors: list[BaseException] = []

    def first_request() -> None:
        try:
            engine.apply(document, _members_patch("a-1", "a-2"), {"members": first_delegate})
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    thread = threading.Thread(target=first_request)
    thread.start()
    assert first_waiting.wait(TIMEOUT)
    engine.apply(document, _members_patch("b-1", "b-2"), {"members": second_delegate})
    second_done.set()
    thread.join(TIMEOUT)

    assert not errors
    assert first_seen == ["a-1", "a-2"]
    assert second_seen == ["b-1", "b-2"]
