"""Mount under the SCIM base path: ``path("scim/v2/", include("scim_provisioning.urls"))``.

A trailing slash is tolerated everywhere (Entra sends ``/Users/?filter=…``).
"""

from django.urls import path, re_path

from .views.base import NotFoundView, NotImplementedView
from .views.discovery import (
    ResourceTypeDetailView,
    ResourceTypeListView,
    SchemaDetailView,
    SchemaListView,
    ServiceProviderConfigView,
)
from .views.users import UserDetailView, UserListView

app_name = "scim_provisioning"

urlpatterns = [
    path("", NotFoundView.as_view(), name="root"),
    re_path(r"^(?:[A-Za-z]+/)?\.search/?$", NotImplementedView.as_view(), name="search"),
    re_path(r"^Users/?$", UserListView.as_view(), name="users"),
    re_path(r"^Users/(?P<pk>[^/]+)/?$", UserDetailView.as_view(), name="user"),
    re_path(
        r"^ServiceProviderConfigs?/?$",
        ServiceProviderConfigView.as_view(),
        name="service-provider-config",
    ),
    re_path(r"^ResourceTypes/?$", ResourceTypeListView.as_view(), name="resource-types"),
    re_path(
        r"^ResourceTypes/(?P<name>[^/]+)/?$",
        ResourceTypeDetailView.as_view(),
        name="resource-type",
    ),
    re_path(r"^Schemas/?$", SchemaListView.as_view(), name="schemas"),
    re_path(r"^Schemas/(?P<urn>[^/]+)/?$", SchemaDetailView.as_view(), name="schema"),
    re_path(r"^(?:Bulk|Me)(?:/.*)?$", NotImplementedView.as_view(), name="not-implemented"),
    re_path(r"^.*$", NotFoundView.as_view(), name="not-found"),
]
