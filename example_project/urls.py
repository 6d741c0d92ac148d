from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from example_project.teams.views import home

urlpatterns = [
    # First: every IdP request resolves its URL, and each include() tried before the one
    # that matches costs a failed match (Django raises and catches Resolver404 for each):
    # ~20 µs of a GET by id's ~0.45 ms behind five includes.
    path("scim/v2/", include("scim_provisioning.urls")),
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="home"), name="logout"),
    path("teams/", include("example_project.teams.urls")),
    # Guided IdP setup next to the team's SCIM page (who may: the adapter's can_manage_scim).
    path("teams/<slug:team_slug>/scim/setup/", include("scim_provisioning.setup.urls")),
    # The team SCIM API for a front end of the site's own (same permissions as the page).
    path("api/teams/<slug:team_slug>/scim/", include("scim_provisioning.team_api.urls")),
    # A setup link opens one team's guided setup for an IT contact without an account.
    path("scim/setup-link/", include("scim_provisioning.setup.link_urls")),
]
