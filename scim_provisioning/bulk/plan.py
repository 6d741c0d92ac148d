"""The order a bulk request's operations run in: the client's, except that references wait.

RFC 7644 §3.7.2 lets an operation reference, with ``bulkId:qwerty``, the
resource that a POST of the same request creates, wherever that POST stands in
the request. An operation therefore runs after the POSTs it references, and
otherwise in the order the client sent: of the operations that are ready, the
first sent runs first (a stable topological order), so that independent
operations keep the order the client meant (a DELETE before a POST of the same
``userName`` still frees it first).

Operations whose references are circular (a group A whose member is B, and B
whose member is A; a user who manages their own manager) can never be ready:
RFC 7644 §3.7.1 lets the server answer them with a 409, which the runner does.
So are the operations that wait on them.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from .request import Operation


@dataclass(frozen=True)
class Plan:
    """``ordered``: the operations in the order they run; ``circular``: those that cannot."""

    ordered: tuple[Operation, ...]
    circular: tuple[Operation, ...]


def plan(operations: Sequence[Operation]) -> Plan:
    """Order ``operations`` so that each runs after the POSTs whose ``bulkId`` it references.

    A reference to a ``bulkId`` no POST of the request declares orders nothing;
    the operation fails when it runs. Linear in operations and references.
    """
    declared = {op.declares: op.index for op in operations if op.declares is not None}
    dependents: dict[int, list[int]] = defaultdict(list)
    waiting: dict[int, int] = {}
    for op in operations:
        producers = {declared[b] for b in op.references if b in declared}
        waiting[op.index] = len(producers)
        for producer in producers:
            dependents[producer].append(op.index)
    by_index = {op.index: op for op in operations}
    ready = [index for index, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ordered: list[Operation] = []
    while ready:
        index = heapq.heappop(ready)
        ordered.append(by_index[index])
        for dependent in dependents[index]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, dependent)
    ran = {op.index for op in ordered}
    circular = tuple(op for op in operations if op.index not in ran)
    return Plan(ordered=tuple(ordered), circular=circular)
