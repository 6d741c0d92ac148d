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
    path("oauth-clients/", views.CreateOAuthClientView.as_view(), name="create-oauth-client"),
    path(
        "oauth-clients/<str:client_id>/rotate/",
        views.RotateOAuthSecretView.as_view(),
        name="rotate-oauth-secret",
    ),
    path(
        "oauth-clients/<str:client_id>/revoke/",
        views.RevokeOAuthClientView.as_view(),
        name="revoke-oauth-client",
    ),
    path("setup-links/", views.SetupLinksView.as_view(), name="setup-links"),
    path(
        "setup-links/revoke-all/",
        views.RevokeAllSetupLinksView.as_view(),
        name="revoke-setup-links",
    ),
    path(
        "setup-links/<int:pk>/revoke/",
        views.RevokeSetupLinkView.as_view(),
        name="revoke-setup-link",
    ),
    path("held/", views.HeldChangesView.as_view(), name="held"),
    path("held/release/", views.ReleaseHeldView.as_view(), name="release-held"),
    path("held/discard/", views.DiscardHeldView.as_view(), name="discard-held"),
    path("domains/", views.AddDomainView.as_view(), name="add-domain"),
    path("domains/<str:domain>/check/", views.CheckDomainView.as_view(), name="check-domain"),
    path("domains/<str:domain>/remove/", views.RemoveDomainView.as_view(), name="remove-domain"),
]
