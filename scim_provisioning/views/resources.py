"""The resource endpoints, one set of views for every resource type.

``/Users`` and ``/Groups`` (list, filter, create), ``/{type}/.search``,
``/{type}/{id}`` (read, replace, patch, delete), and the root query ``GET /`` and
``POST /.search`` over every type.
Every write is one of :mod:`..writes`, the functions ``/Bulk`` runs too.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from .. import writes
from ..listing import ListRequest, list_resources
from ..reads import Found
from ..resource_types import RESOURCE_TYPES, ResourceType
from .base import SCIMView


class ResourceView(SCIMView):
    """A view bound to one resource type by ``as_view(kind=...)``."""

    kind: ResourceType | None = None

    @property
    def resource_type(self) -> ResourceType:
        assert self.kind is not None
        return self.kind

    def render(
        self, record: Any, status: int = 200, found: Found | None = None, **headers: str
    ) -> Response:
        """``record`` as SCIM JSON; ``found``: the read that found it (what it brought along)."""
        kind = self.resource_type
        selection = kind.selection(
            self.query_param("attributes"), self.query_param("excludedAttributes")
        )
        groups = None
        if found is not None and found.groups is not None:
            groups = {record.pk: found.groups}
        (body,) = kind.represent([record], self.base_url, selection, groups=groups)
        return Response(body, status=status, headers={"ETag": record.etag, **headers})


class ResourceListView(ResourceView):
    """GET lists and filters the team's resources; POST creates one."""

    #: A create's first read checks the token too, and reads the team's config with it.
    token_checked_in_query = frozenset({"get", "post"})

    def get(self, request: Request) -> Response:
        query = ListRequest.from_parameters(self.query_param)
        return Response(
            list_resources(
                [self.resource_type], self.scope, query, self.base_url, guard=self.token_guard
            )
        )

    def post(self, request: Request) -> Response:
        record = writes.create(self.resource_type, self.token_guard, request.data)
        location = self.resource_type.location(self.base_url, record.id)
        # A record this request created belongs to no group yet: its answer reads none.
        return self.render(record, status=201, found=Found(record, groups=()), Location=location)


class ResourceSearchView(ResourceView):
    """``POST /{type}/.search``: a list request in the body (RFC 7644 §3.4.3).

    The same path as a GET list: only where the parameters come from differs.
    """

    token_checked_in_query = frozenset({"post"})

    def post(self, request: Request) -> Response:
        query = ListRequest.from_body(request.data)
        return Response(
            list_resources(
                [self.resource_type], self.scope, query, self.base_url, guard=self.token_guard
            )
        )


class RootListView(SCIMView):
    """``GET /``: a query of every resource type at once (RFC 7644 §3.4.2.1).

    The same list as ``POST /.search``, with its parameters in the query string;
    ``scim2-cli query`` and ``scim2-client``'s ``query()`` send it.
    """

    def get(self, request: Request) -> Response:
        query = ListRequest.from_parameters(self.query_param)
        return Response(list_resources(_every_type(), self.scope, query, self.base_url))


class RootSearchView(SCIMView):
    """``POST /.search``: every resource type at once."""

    def post(self, request: Request) -> Response:
        query = ListRequest.from_body(request.data)
        return Response(list_resources(_every_type(), self.scope, query, self.base_url))


def _every_type() -> list[ResourceType]:
    return list(RESOURCE_TYPES.values())


class ResourceDetailView(ResourceView):
    """One resource: GET, PUT (replace what is sent), PATCH, DELETE."""

    #: A write's locked read checks the token too, and reads the team's config with it.
    token_checked_in_query = frozenset({"get", "put", "patch", "delete"})

    @property
    def if_match(self) -> str | None:
        return self.request.META.get("HTTP_IF_MATCH")  # not .headers: see if_none_match

    def get(self, request: Request, pk: str) -> Response:
        kind = self.resource_type
        found = kind.read(self.scope, pk, self.token_guard.unchecked_digest)
        self.token_guard.confirm(found.token_ok)  # a 401 or 403 before a 404 says anything
        record = found.record
        if record is None:
            raise kind.not_found(pk)
        if self.if_none_match(record.etag):
            return Response(status=304, headers={"ETag": record.etag})
        return self.render(record, found=found)

    def put(self, request: Request, pk: str) -> Response:
        kind, body = self.resource_type, request.data
        found = writes.replace(kind, self.token_guard, pk, body, if_match=self.if_match)
        return self.render(found.record, found=found)

    def patch(self, request: Request, pk: str) -> Response:
        kind, body = self.resource_type, request.data
        found = writes.patch(kind, self.token_guard, pk, body, if_match=self.if_match)
        return self.render(found.record, found=found)

    def delete(self, request: Request, pk: str) -> Response:
        writes.delete(self.resource_type, self.token_guard, pk, if_match=self.if_match)
        return Response(status=204)
