from django.contrib import admin
from django.urls import include, path

from example_project.teams.views import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("scim/v2/", include("scim_provisioning.urls")),
]
