"""Mount with the team's slug as ``team_slug`` (looked up in ``TEAM_SLUG_FIELD``)::

path("teams/<slug:team_slug>/scim/setup/", include("scim_provisioning.setup.urls")),
"""

from django.urls import path

from . import views

app_name = "scim_setup"

urlpatterns = [
    path("", views.setup_page, name="page"),
    path("status/", views.setup_status, name="status"),
]
