"""Mount under the SCIM base path: ``path("scim/v2/", include("scim_provisioning.urls"))``.

Resource names match case-insensitively (``/users`` is ``/Users``) and a
trailing slash is tolerated everywhere (Entra sends ``/Users/?filter=…``).
"""

from django.urls import path, re_path

from .oauth.views import authorize_endpoint, token_endpoint
from .resource_types import RESOURCE_TYPES
from .views.base import NotFoundView, NotImplementedView
from .views.bulk import BulkView
from .views.discovery import (
    ResourceTypeDetailView,
    ResourceTypeListView,
    SchemaDetailView,
    SchemaListView,
    ServiceProviderConfigView,
)
from .views.resources import (
    ResourceDetailView,
    ResourceListView,
    ResourceSearchView,
    RootListView,
    RootSearchView,
)

app_name = "scim_provisioning"


def _ci(word: str) -> str:
    """A case-insensitive, still reversible, regex for ``word`` (``[Uu][Ss]…``)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


def _resource_patterns() -> list:
    patterns = []
    for kind in RESOURCE_TYPES.values():
        name, prefix = kind.name.lower(), _ci(kind.endpoint.lstrip("/"))
        patterns += [
            re_path(rf"^{prefix}/?$", ResourceListView.as_view(kind=kind), name=f"{name}-list"),
            re_path(
                rf"^{prefix}/\.search/?$",
                ResourceSearchView.as_view(kind=kind),
                name=f"{name}-search",
            ),
            re_path(
                rf"^{prefix}/(?P<pk>[^/]+)/?$",
                ResourceDetailView.as_view(kind=kind),
                name=f"{name}-detail",
            ),
        ]
    return patterns


urlpatterns = [
    path("", RootListView.as_view(), name="root"),
    re_path(r"^\.search/?$", RootSearchView.as_view(), name="search"),
    *_resource_patterns(),
    re_path(
        rf"^{_ci('ServiceProviderConfig')}s?/?$",
        ServiceProviderConfigView.as_view(),
        name="service-provider-config",
    ),
    re_path(rf"^{_ci('ResourceTypes')}/?$", ResourceTypeListView.as_view(), name="resource-types"),
    re_path(
        rf"^{_ci('ResourceTypes')}/(?P<name>[^/]+)/?$",
        ResourceTypeDetailView.as_view(),
        name="resource-type",
    ),
    re_path(rf"^{_ci('Schemas')}/?$", SchemaListView.as_view(), name="schemas"),
    re_path(rf"^{_ci('Schemas')}/(?P<urn>[^/]+)/?$", SchemaDetailView.as_view(), name="schema"),
    re_path(rf"^{_ci('Bulk')}/?$", BulkView.as_view(), name="bulk"),
    # OAuth 2.0 (RFC 6749) under the same mount, so a host adds nothing to its URLconf.
    re_path(r"^oauth/token/?$", token_endpoint, name="oauth-token"),
    re_path(r"^oauth/authorize/?$", authorize_endpoint, name="oauth-authorize"),
    re_path(rf"^{_ci('Me')}(?:/.*)?$", NotImplementedView.as_view(), name="not-implemented"),
    re_path(r"^.*$", NotFoundView.as_view(), name="not-found"),
]
