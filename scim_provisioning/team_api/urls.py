"""Mount with the team's slug as ``team_slug``::

    path("api/teams/<str:team_slug>/scim/", include("scim_provisioning.team_api.urls")),

The slug is looked up in ``SCIM_PROVISIONING_TEAM_SLUG_FIELD``.
"""

from django.urls import path

from . import views

app_name = "scim_team_api"

urlpatterns = [
    path("", views.StatusView.as_view(), name="status"),
    path("timeline/", views.TimelineView.as_view(), name="timeline"),
    path("people/", views.PeopleView.as_view(), name="people"),
    path("tokens/", views.IssueTokenView.as_view(), name="issue"),
    path("tokens/rotate/", views.RotateTokenView.as_view(), name="rotate"),
    path("tokens/revoke-all/", views.RevokeAllTokensView.as_view(), name="revoke-all"),
    path("tokens/<str:prefix>/revoke/", views.RevokeTokenView.as_view(), name="revoke"),
    path("domains/", views.AddDomainView.as_view(), name="add-domain"),
    path("domains/<str:domain>/check/", views.CheckDomainView.as_view(), name="check-domain"),
    path("domains/<str:domain>/remove/", views.RemoveDomainView.as_view(), name="remove-domain"),
]
