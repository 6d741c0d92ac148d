from django.urls import include, path

urlpatterns = [
    path("scim/setup-link/", include("scim_provisioning.setup.link_urls")),
    path("scim/v2/", include("scim_provisioning.urls")),
]
