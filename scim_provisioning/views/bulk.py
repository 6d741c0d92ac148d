"""``POST /Bulk`` (RFC 7644 §3.7): the operations of a BulkRequest, each its own write."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db import transaction
from rest_framework.request import Request
from rest_framework.response import Response

from ..bulk import BulkRequest, max_operations, read_bulk_request, run_bulk
from ..exceptions import NotImplementedSCIM
from .base import SCIMView


class BulkView(SCIMView):
    """Runs a BulkRequest and answers a BulkResponse (200, whatever each operation's status).

    Every operation commits on its own, so the view is exempt from a host's
    ``ATOMIC_REQUESTS``: one transaction around the whole request would hold
    each operation's locks until the last one ran, and send no signal until then.
    """

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    @cached_property
    def bulk_request(self) -> BulkRequest:
        """The request's operations, bounded; read once (the throttle counts them first)."""
        limit = max_operations(self.client)
        if limit <= 0:
            raise NotImplementedSCIM("/Bulk is turned off on this server.")
        return read_bulk_request(self.request.data, max_operations=limit)

    def throttle_cost(self) -> int:
        """One request of the rate limit per operation (the throttle runs before the method
        is checked: any other method is one request, answered 405)."""
        return len(self.bulk_request.operations) if self.request.method == "POST" else 1

    def post(self, request: Request) -> Response:
        return Response(run_bulk(self.bulk_request, self.config, self.base_url))
