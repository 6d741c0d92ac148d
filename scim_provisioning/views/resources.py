"""The resource endpoints, one set of views for every resource type.

``/Users`` and ``/Groups`` (list, filter, create), ``/{type}/.search``,
``/{type}/{id}`` (read, replace, patch, delete), and the root query ``GET /`` and
``POST /.search`` over every type.
Every write runs in one transaction that locks the record it changes.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from rest_framework.request import Request
from rest_framework.response import Response

from ..exceptions import LinkRefused, NotFound
from ..listing import ListRequest, list_resources
from ..provisioning.refusals import record_refusal
from ..resource_types import RESOURCE_TYPES, ResourceType
from .base import SCIMView


class ResourceView(SCIMView):
    """A view bound to one resource type by ``as_view(kind=...)``."""

    kind: ResourceType | None = None

    @property
    def resource_type(self) -> ResourceType:
        assert self.kind is not None
        return self.kind

    def render(self, record: Any, status: int = 200, **headers: str) -> Response:
        kind = self.resource_type
        selection = kind.selection(
            self.query_param("attributes"), self.query_param("excludedAttributes")
        )
        (body,) = kind.represent([record], self.base_url, selection)
        return Response(body, status=status, headers={"ETag": record.etag, **headers})


class ResourceListView(ResourceView):
    """GET lists and filters the team's resources; POST creates one."""

    token_checked_in_query = frozenset({"get"})

    def get(self, request: Request) -> Response:
        query = ListRequest.from_parameters(self.query_param)
        return Response(
            list_resources(
                [self.resource_type], self.config, query, self.base_url, guard=self.token_guard
            )
        )

    def post(self, request: Request) -> Response:
        try:
            with transaction.atomic():
                record = self.resource_type.create(self.config, request.data)
        except LinkRefused as refused:
            # The create rolled back; the refusal outlives it, for the team's managers.
            record_refusal(refused)
            raise
        location = f"{self.base_url}{self.resource_type.endpoint}/{record.id}"
        return self.render(record, status=201, Location=location)


class ResourceSearchView(ResourceView):
    """``POST /{type}/.search``: a list request in the body (RFC 7644 §3.4.3)."""

    def post(self, request: Request) -> Response:
        query = ListRequest.from_body(request.data)
        return Response(list_resources([self.resource_type], self.config, query, self.base_url))


class RootListView(SCIMView):
    """``GET /``: a query of every resource type at once (RFC 7644 §3.4.2.1).

    The same list as ``POST /.search``, with its parameters in the query string;
    ``scim2-cli query`` and ``scim2-client``'s ``query()`` send it.
    """

    def get(self, request: Request) -> Response:
        query = ListRequest.from_parameters(self.query_param)
        return Response(list_resources(_every_type(), self.config, query, self.base_url))


class RootSearchView(SCIMView):
    """``POST /.search``: every resource type at once."""

    def post(self, request: Request) -> Response:
        query = ListRequest.from_body(request.data)
        return Response(list_resources(_every_type(), self.config, query, self.base_url))


def _every_type() -> list[ResourceType]:
    return list(RESOURCE_TYPES.values())


class ResourceDetailView(ResourceView):
    """One resource: GET, PUT (replace what is sent), PATCH, DELETE."""

    token_checked_in_query = frozenset({"get"})

    def get_record(self, pk: str, *, for_update: bool = False) -> Any:
        """The team's record whose id is ``pk``, else a 404.

        ``pk`` is one of our UUIDs or, for a type with legacy ids, the id another
        SCIM server gave the record before the site moved here (django-scim2's
        ``scim_id``); both are looked up in the team's records only.
        """
        kind = self.resource_type
        try:
            key: uuid.UUID | None = uuid.UUID(pk)
        except ValueError:
            key = None

        def records() -> Any:
            if for_update:
                return kind.for_update(self.config)
            return self.token_guard.annotate(kind.queryset(self.config))

        if key is not None and not for_update:
            # The common case, compiled once: our own id.
            record = kind.by_id(self.config, key, self.token_guard.unchecked_digest)
        else:
            record = self._find(records(), {"pk": key} if key is not None else None)
        if record is None and kind.legacy_id_field is not None:
            record = self._find(records(), {kind.legacy_id_field: pk})
        self.token_guard.confirm(record)  # a 401 or 403 before a 404 says anything
        if record is None:
            raise NotFound(f"{kind.name} {pk} not found.")
        return record

    @staticmethod
    def _find(records: Any, lookup: dict[str, Any] | None) -> Any | None:
        """The record ``lookup`` names among ``records``, or ``None``."""
        if lookup is None:
            return None
        try:
            # get(), not first(): no ORDER BY to compile or run.
            return records.get(**lookup)
        except records.model.DoesNotExist:
            return None

    def get(self, request: Request, pk: str) -> Response:
        record = self.get_record(pk)
        if self.if_none_match(record.etag):
            return Response(status=304, headers={"ETag": record.etag})
        return self.render(record)

    def put(self, request: Request, pk: str) -> Response:
        with transaction.atomic():
            record = self.get_record(pk, for_update=True)
            self.check_if_match(record.etag)
            record = self.resource_type.replace(self.config, record, request.data)
        return self.render(record)

    def patch(self, request: Request, pk: str) -> Response:
        with transaction.atomic():
            record = self.get_record(pk, for_update=True)
            self.check_if_match(record.etag)
            record = self.resource_type.patch(self.config, record, request.data)
        return self.render(record)

    def delete(self, request: Request, pk: str) -> Response:
        with transaction.atomic():
            record = self.get_record(pk, for_update=True)
            self.check_if_match(record.etag)
            self.resource_type.delete(self.config, record)
        return Response(status=204)
