from django.urls import include, path

urlpatterns = [path("scim/v2/", include("scim_provisioning.urls"))]
