"""Mount once, anywhere outside the SCIM base URL::

    path("scim/setup-link/", include("scim_provisioning.setup.link_urls")),

The absolute links are built from ``SCIM_PROVISIONING_BASE_URL``'s scheme and host
and this mount point (:mod:`scim_provisioning.setup_links`).
"""

from django.urls import path

from . import link_views

app_name = "scim_setup_link"

urlpatterns = [
    path("", link_views.link_page, name="page"),
    path("status/", link_views.link_status, name="status"),
    path("<str:secret>/", link_views.open_link, name="open"),
]
