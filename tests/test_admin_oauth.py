"""OAuth 2.0 clients in the Django admin: staff create (secret shown once), rotate and revoke."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from scim_provisioning.models import SCIMOAuthClient
from scim_provisioning.oauth.clients import create_client

from .conftest import IdPClient, assert_scim_error
from .oauth_helpers import OKTA_CALLBACK, client_credentials

pytestmark = pytest.mark.django_db

ADD = reverse("admin:scim_provisioning_scimoauthclient_add")
CHANGELIST = reverse("admin:scim_provisioning_scimoauthclient_changelist")


def secret_in(response) -> str:
    return re.search(r'class="secret">(scim_[^<]+)<', response.content.decode()).group(1)


def test_the_add_form_creates_a_client_and_shows_its_secret_once(admin_client, team):
    response = admin_client.post(
        ADD,
        {
            "team": team.pk,
            "name": "Okta",
            "redirect_uris": OKTA_CALLBACK,
            "access_token_seconds": 3600,
        },
    )

    assert response.status_code == 200, response.content
    client = SCIMOAuthClient.objects.get(team=team)
    assert client.redirect_uris == [OKTA_CALLBACK]
    html = response.content.decode()
    assert "Token Endpoint" in html and client.client_id in html
    assert client_credentials(client.client_id, secret_in(response)).status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_add_form_refuses_a_team_whose_scim_is_off(admin_client, disabled_team):
    response = admin_client.post(
        ADD,
        {"team": disabled_team.pk, "name": "x", "redirect_uris": "", "access_token_seconds": 3600},
    )

    assert response.status_code == 200
    assert "not enabled" in response.content.decode()
    assert not SCIMOAuthClient.objects.exists()


def test_the_add_form_refuses_an_unsafe_redirect_uri(admin_client, team):
    response = admin_client.post(
        ADD,
        {
            "team": team.pk,
            "name": "x",
            "redirect_uris": "http://evil.example/cb",
            "access_token_seconds": 3600,
        },
    )

    assert response.status_code == 200
    assert not SCIMOAuthClient.objects.exists()


def test_the_revoke_action_refuses_access_tokens_on_the_next_request(admin_client, team):
    issued = create_client(team)
    bearer = IdPClient(
        client_credentials(issued.client.client_id, issued.secret).json()["access_token"]
    )
    assert bearer.get("/Users").status_code == 200

    admin_client.post(CHANGELIST, {"action": "revoke", "_selected_action": [issued.client.pk]})

    assert SCIMOAuthClient.objects.get(pk=issued.client.pk).revoked_at is not None
    assert_scim_error(bearer.get("/Users"), 401)


def test_the_rotate_action_shows_a_new_secret(admin_client, team):
    issued = create_client(team)

    response = admin_client.post(
        CHANGELIST, {"action": "rotate_secret", "_selected_action": [issued.client.pk]}
    )

    secret = secret_in(response)
    assert secret != issued.secret
    assert client_credentials(issued.client.client_id, secret).status_code == 200
