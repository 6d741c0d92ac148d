"""``/ServiceProviderConfig``, ``/ResourceTypes`` and ``/Schemas``.

Read-only: any other method is a 405.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from .. import bulk, discovery
from ..exceptions import NotFound
from ..listing import list_response
from .base import SCIMView


class ServiceProviderConfigView(SCIMView):
    def get(self, request: Request) -> Response:
        bulk_max_operations = bulk.max_operations(self.client)
        spc = discovery.service_provider_config(
            self.base_url, bulk_max_operations=bulk_max_operations
        )
        return Response(spc)


class ResourceTypeListView(SCIMView):
    def get(self, request: Request) -> Response:
        resources = discovery.resource_types(self.base_url)
        return Response(list_response(resources))


class ResourceTypeDetailView(SCIMView):
    def get(self, request: Request, name: str) -> Response:
        if name not in discovery.RESOURCE_TYPES:
            raise NotFound(f"Resource type {name} not found.")
        return Response(discovery.resource_type(name, self.base_url))


class SchemaListView(SCIMView):
    def get(self, request: Request) -> Response:
        resources = discovery.schemas(self.base_url)
        return Response(list_response(resources))


class SchemaDetailView(SCIMView):
    def get(self, request: Request, urn: str) -> Response:
        found = discovery.schema(urn, self.base_url)
        if found is None:
            raise NotFound(f"Schema {urn} not found.")
        return Response(found)
