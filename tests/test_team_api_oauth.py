"""OAuth 2.0 clients through the team SCIM API: create, rotate, revoke; the team's managers only."""

from __future__ import annotations

import re

import pytest

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMOAuthClient, SCIMToken
from scim_provisioning.oauth.clients import create_client

from .conftest import IdPClient, assert_scim_error
from .oauth_helpers import OKTA_CALLBACK, client_credentials
from .team_helpers import logged_in, member_of

pytestmark = pytest.mark.django_db


def api(slug: str, path: str = "") -> str:
    return f"/api/teams/{slug}/scim/{path}"


def test_a_manager_creates_a_client_and_sees_its_secret_once(owner_client, team):
    response = owner_client.post(
        api("acme", "oauth-clients/"),
        {"name": "Entra ID", "expires_in": "90d"},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token_url"] == "http://testserver/scim/v2/oauth/token"
    assert client_credentials(body["client_id"], body["client_secret"]).status_code == 200
    status = owner_client.get(api("acme")).json()
    assert [c["client_id"] for c in status["oauth_clients"]] == [body["client_id"]]
    assert body["client_secret"] not in repr(status)
    assert status["tokens"] == []  # the access token just issued is the client's, not listed


def test_a_client_with_a_redirect_uri_for_okta(owner_client, team):
    response = owner_client.post(
        api("acme", "oauth-clients/"),
        {"name": "Okta", "redirect_uris": [OKTA_CALLBACK]},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    client = SCIMOAuthClient.objects.get(client_id=response.json()["client_id"])
    assert client.redirect_uris == [OKTA_CALLBACK]


@pytest.mark.parametrize(
    "uri",
    ["http://okta.example/cb", "https://okta.example/cb#x", "javascript:alert(1)", "/relative"],
)
def test_an_unsafe_redirect_uri_is_a_400(owner_client, team, uri):
    response = owner_client.post(
        api("acme", "oauth-clients/"), {"redirect_uris": [uri]}, content_type="application/json"
    )

    assert response.status_code == 400
    assert not SCIMOAuthClient.objects.exists()


def test_rotate_gives_a_new_secret_and_keeps_the_old_one_for_the_overlap(owner_client, team):
    issued = create_client(team)

    response = owner_client.post(
        api("acme", f"oauth-clients/{issued.client.client_id}/rotate/"),
        {"overlap_hours": 1},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    new = response.json()["client_secret"]
    assert client_credentials(issued.client.client_id, new).status_code == 200
    assert client_credentials(issued.client.client_id, issued.secret).status_code == 200


def test_revoke_refuses_the_clients_access_tokens_on_the_next_request(owner_client, team):
    issued = create_client(team)
    bearer = IdPClient(
        client_credentials(issued.client.client_id, issued.secret).json()["access_token"]
    )
    assert bearer.get("/Users").status_code == 200

    response = owner_client.post(api("acme", f"oauth-clients/{issued.client.client_id}/revoke/"))

    assert response.json() == {"revoked_access_tokens": 1}
    assert_scim_error(bearer.get("/Users"), 401)


def test_another_teams_client_is_a_404(owner_client, other_team):
    theirs = create_client(other_team)

    response = owner_client.post(api("acme", f"oauth-clients/{theirs.client.client_id}/revoke/"))

    assert response.status_code == 404
    assert SCIMOAuthClient.objects.get(pk=theirs.client.pk).revoked_at is None


def test_a_member_who_is_not_a_manager_may_not_create_a_client(team):
    browser = logged_in(member_of(team, Membership.Role.MEMBER))

    response = browser.post(api("acme", "oauth-clients/"), {}, content_type="application/json")

    assert response.status_code == 403
    assert not SCIMOAuthClient.objects.exists()
    assert not SCIMToken.objects.exists()


# --- the example site's team page, which calls the same services ---------------------

PAGE = "/teams/acme/scim/"


def test_the_team_page_creates_a_client_and_shows_entras_three_fields_once(owner_client, team):
    response = owner_client.post(PAGE, {"action": "create_oauth_client", "name": "Entra ID"})

    assert response.status_code == 200
    html = response.content.decode()
    for label in ("Token Endpoint", "Client ID", "Client Secret"):
        assert label in html
    client = SCIMOAuthClient.objects.get(team=team)
    secret = re.search(r'class="secret">(scim_[^<]+)<', html).group(1)
    assert client_credentials(client.client_id, secret).status_code == 200
    assert secret not in owner_client.get(PAGE).content.decode()


def test_the_team_page_refuses_an_unsafe_redirect_uri(owner_client, team):
    response = owner_client.post(
        PAGE, {"action": "create_oauth_client", "redirect_uris": "http://evil.example/cb"}
    )

    assert response.status_code == 400
    assert not SCIMOAuthClient.objects.exists()


def test_the_team_page_revokes_a_client(owner_client, team):
    issued = create_client(team)
    bearer = IdPClient(
        client_credentials(issued.client.client_id, issued.secret).json()["access_token"]
    )

    response = owner_client.post(
        PAGE, {"action": "revoke_oauth_client", "client_id": issued.client.client_id}
    )

    assert response.status_code == 302
    assert_scim_error(bearer.get("/Users"), 401)


def test_the_team_page_rotates_a_secret(owner_client, team):
    issued = create_client(team)

    response = owner_client.post(
        PAGE, {"action": "rotate_oauth_secret", "client_id": issued.client.client_id}
    )

    secret = re.search(r'class="secret">(scim_[^<]+)<', response.content.decode()).group(1)
    assert secret != issued.secret
    assert client_credentials(issued.client.client_id, secret).status_code == 200


def test_the_team_page_cannot_revoke_another_teams_client(owner_client, other_team):
    theirs = create_client(other_team)

    response = owner_client.post(
        PAGE, {"action": "revoke_oauth_client", "client_id": theirs.client.client_id}
    )

    assert response.status_code == 404
    assert SCIMOAuthClient.objects.get(pk=theirs.client.pk).revoked_at is None
