"""OAuth 2.0 client credentials (RFC 6749 §4.4), as Entra ID's provisioning uses it.

Entra's admin enters a token endpoint, a client id and a client secret; Entra
posts ``grant_type=client_credentials`` to the endpoint and sends the access
token it gets as a bearer until it expires (an hour), then asks again.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from scim_provisioning import tokens
from scim_provisioning.models import (
    SCIMOAuthClient,
    SCIMOAuthSecret,
    SCIMTeamConfig,
    SCIMToken,
)
from scim_provisioning.oauth.clients import create_client, revoke_client, rotate_secret

from .conftest import IdPClient, assert_scim_error
from .factories import SCIMUserFactory
from .oauth_helpers import FORM, TOKEN_URL, basic, client_credentials, token_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def entra(team):
    """Team A's client for Entra ID: the client and its secret."""
    return create_client(team, name="Entra ID")


def access_token(entra, **kwargs) -> str:
    response = client_credentials(entra.client.client_id, entra.secret, **kwargs)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def assert_oauth_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    return body


def run_command(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("scim_oauth_client", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().splitlines()


# --- the command's contract ----------------------------------------------------


def test_create_ends_with_the_three_lines_an_admin_pastes(team):
    lines = run_command("create", "--team", "acme")

    assert [line.split("=", 1)[0] for line in lines[-3:]] == [
        "token_url",
        "client_id",
        "client_secret",
    ]
    token_url = lines[-3].split("=", 1)[1]
    assert token_url.startswith("http") and token_url.endswith("/scim/v2/oauth/token")
    client_id = lines[-2].split("=", 1)[1]
    assert SCIMOAuthClient.objects.get(client_id=client_id).team == team


def test_token_url_follows_the_base_url_setting(team, settings):
    settings.SCIM_PROVISIONING_BASE_URL = "https://scim.example.com/scim/v2"

    lines = run_command("create", "--team", "acme")

    assert lines[-3] == "token_url=https://scim.example.com/scim/v2/oauth/token"


def test_a_client_created_by_the_command_gets_a_token_both_ways(team):
    lines = run_command("create", "--team", "acme")
    client_id, secret = (line.split("=", 1)[1] for line in lines[-2:])

    by_body = client_credentials(client_id, secret, in_body=True)
    by_basic = client_credentials(client_id, secret, in_body=False)

    assert by_body.status_code == 200, by_body.content
    assert by_basic.status_code == 200, by_basic.content


def test_revoke_by_the_command_refuses_the_clients_access_tokens_on_the_next_request(entra):
    bearer = IdPClient(access_token(entra))
    assert bearer.get("/Users").status_code == 200  # the token is now remembered

    lines = run_command("revoke", "--team", "acme", "--client-id", entra.client.client_id)

    assert "Revoked" in lines[-1]
    assert_scim_error(bearer.get("/Users"), 401)
    assert_oauth_error(
        client_credentials(entra.client.client_id, entra.secret), 401, "invalid_client"
    )


def test_revoke_of_another_teams_client_is_refused(entra, other_team):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no OAuth client"):
        run_command("revoke", "--team", "globex", "--client-id", entra.client.client_id)
    assert SCIMOAuthClient.objects.get(pk=entra.client.pk).revoked_at is None


def test_create_for_a_disabled_team_is_refused(disabled_team):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not enabled"):
        run_command("create", "--team", "initech")


# --- the token endpoint ---------------------------------------------------------


def test_the_token_response_is_rfc_6749_5_1(entra):
    response = client_credentials(entra.client.client_id, entra.secret)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}  # §4.4.3: no refresh token
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    row = SCIMToken.objects.get(digest=tokens.digest(body["access_token"]))
    assert row.oauth_client == entra.client
    assert row.team == entra.client.team
    expected_expiry = timezone.now() + timedelta(hours=1)
    assert abs((row.expires_at - expected_expiry).total_seconds()) < 60


@pytest.mark.parametrize("in_body", [True, False], ids=["body", "basic"])
def test_the_access_token_reads_exactly_its_team(entra, other_team, in_body):
    SCIMUserFactory(team=entra.client.team, user_name="ada@acme.com")
    grace = SCIMUserFactory(team=other_team, user_name="grace@globex.com")
    bearer = IdPClient(access_token(entra, in_body=in_body))

    listed = bearer.get("/Users").json()["Resources"]

    assert [u["userName"] for u in listed] == ["ada@acme.com"]
    assert_scim_error(bearer.get(f"/Users/{grace.pk}"), 404)


@pytest.mark.parametrize("in_body", [True, False], ids=["body", "basic"])
def test_a_wrong_secret_is_invalid_client(entra, in_body):
    response = client_credentials(entra.client.client_id, "scim_" + "A" * 43, in_body=in_body)

    assert_oauth_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")
    assert not SCIMToken.objects.filter(oauth_client=entra.client).exists()


def test_another_clients_secret_is_invalid_client(entra, other_team):
    theirs = create_client(other_team)

    response = client_credentials(entra.client.client_id, theirs.secret)

    assert_oauth_error(response, 401, "invalid_client")


def test_a_missing_secret_is_invalid_client(entra):
    response = token_request(
        {"grant_type": "client_credentials", "client_id": entra.client.client_id}
    )

    assert_oauth_error(response, 401, "invalid_client")


def test_an_unknown_grant_type_is_unsupported_grant_type(entra):
    response = token_request(
        {"grant_type": "password", "username": "ada", "password": "x"},
        authorization=basic(entra.client.client_id, entra.secret),
    )

    assert_oauth_error(response, 400, "unsupported_grant_type")


def test_a_missing_grant_type_is_invalid_request(entra):
    response = token_request({}, authorization=basic(entra.client.client_id, entra.secret))

    assert_oauth_error(response, 400, "invalid_request")


def test_two_client_authentications_at_once_are_invalid_request(entra):
    """RFC 6749 §2.3: a client MUST NOT use more than one authentication method."""
    response = token_request(
        {"grant_type": "client_credentials", "client_secret": entra.secret},
        authorization=basic(entra.client.client_id, entra.secret),
    )

    assert_oauth_error(response, 400, "invalid_request")


def test_a_repeated_parameter_is_invalid_request(entra):
    """RFC 6749 §3.2: request parameters MUST NOT be included more than once."""
    body = (
        f"grant_type=client_credentials&grant_type=client_credentials"
        f"&client_id={entra.client.client_id}&client_secret={entra.secret}"
    )

    response = Client().post(TOKEN_URL, body, content_type=FORM)

    assert_oauth_error(response, 400, "invalid_request")


def test_a_secret_in_the_url_is_invalid_request(entra):
    response = Client().post(
        f"{TOKEN_URL}?client_secret={entra.secret}",
        f"grant_type=client_credentials&client_id={entra.client.client_id}",
        content_type=FORM,
    )

    assert_oauth_error(response, 400, "invalid_request")
    assert not SCIMToken.objects.filter(oauth_client=entra.client).exists()


def test_a_json_body_is_invalid_request(entra):
    response = Client().post(
        TOKEN_URL,
        {
            "grant_type": "client_credentials",
            "client_id": entra.client.client_id,
            "client_secret": entra.secret,
        },
        content_type="application/json",
    )

    assert_oauth_error(response, 400, "invalid_request")


def test_get_is_405(entra):
    response = Client().get(TOKEN_URL)

    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_a_disabled_team_gets_no_token(entra):
    SCIMTeamConfig.objects.filter(team=entra.client.team).update(enabled=False)

    response = client_credentials(entra.client.client_id, entra.secret)

    assert_oauth_error(response, 400, "unauthorized_client")
    assert not SCIMToken.objects.filter(oauth_client=entra.client).exists()


def test_an_expired_access_token_is_refused(entra):
    plaintext = access_token(entra)
    SCIMToken.objects.filter(oauth_client=entra.client).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert_scim_error(IdPClient(plaintext).get("/Users"), 401)


def test_the_access_token_lifetime_is_the_clients(team):
    issued = create_client(team, access_token_lifetime=timedelta(minutes=10))

    body = client_credentials(issued.client.client_id, issued.secret).json()

    assert body["expires_in"] == 600


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [
        ("scimclient_\x00" + "0" * 23, "scim_" + "A" * 43),
        ("scimclient_" + "0" * 24, "scim_\x00" + "A" * 42),
        ("\ud800", "\udfff"),
        ("scimclient_" + "0" * 24, "x" * 100_000),
        ('{"client_id": "x"}', "scim_" + "A" * 43),
    ],
    ids=["nul-id", "nul-secret", "surrogates", "huge", "json-in-string"],
)
def test_hostile_credentials_are_invalid_client(entra, client_id, secret):
    body = "grant_type=client_credentials&client_id={}&client_secret={}".format(
        *(
            value.encode("utf-8", "surrogatepass").decode("latin-1").replace("\x00", "%00")
            for value in (client_id, secret)
        )
    )

    response = Client().post(TOKEN_URL, body.encode("latin-1"), content_type=FORM)

    assert_oauth_error(response, 401, "invalid_client")


def test_hostile_basic_credentials_are_invalid_client(entra):
    response = token_request(
        {"grant_type": "client_credentials"}, authorization="Basic \x00\xff not base64"
    )

    assert_oauth_error(response, 401, "invalid_client")


def test_a_client_id_and_secret_form_encoded_in_basic_are_decoded(team):
    """RFC 6749 §2.3.1: both are form-urlencoded before they are joined with a colon."""
    issued = create_client(team)
    encoded = issued.secret.replace("-", "%2D")

    response = client_credentials(issued.client.client_id, encoded, in_body=False)

    assert response.status_code == 200, response.content


# --- secrets: digests, rotation, expiry, revocation -----------------------------


def test_no_secret_or_token_is_stored_in_plaintext(entra):
    plaintext = access_token(entra)

    rows = [
        *SCIMOAuthClient.objects.values(),
        *SCIMOAuthSecret.objects.values(),
        *SCIMToken.objects.values(),
    ]
    for secret in (entra.secret, plaintext):
        assert secret not in repr(rows)
        assert secret[5:] not in repr(rows)
    stored = SCIMOAuthSecret.objects.get(client=entra.client)
    assert stored.digest == tokens.digest(entra.secret)


def test_a_rotated_secret_overlaps_the_old_one(entra):
    new = rotate_secret(entra.client, overlap=timedelta(hours=1))

    assert client_credentials(entra.client.client_id, entra.secret).status_code == 200
    assert client_credentials(entra.client.client_id, new).status_code == 200


def test_after_the_overlap_only_the_new_secret_works(entra):
    new = rotate_secret(entra.client, overlap=timedelta(0))

    assert_oauth_error(
        client_credentials(entra.client.client_id, entra.secret), 401, "invalid_client"
    )
    assert client_credentials(entra.client.client_id, new).status_code == 200


def test_rotation_leaves_issued_access_tokens_working(entra):
    bearer = IdPClient(access_token(entra))

    rotate_secret(entra.client, overlap=timedelta(0))

    assert bearer.get("/Users").status_code == 200


def test_an_expired_secret_is_invalid_client(team):
    issued = create_client(team, secret_expires_in=timedelta(days=1))
    SCIMOAuthSecret.objects.filter(client=issued.client).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert_oauth_error(
        client_credentials(issued.client.client_id, issued.secret), 401, "invalid_client"
    )


def test_revocation_refuses_every_access_token_of_the_client_on_the_next_request(entra):
    first, second = IdPClient(access_token(entra)), IdPClient(access_token(entra))
    assert first.get("/Users").status_code == 200
    assert second.get("/Users").status_code == 200

    revoke_client(entra.client)

    assert_scim_error(first.get("/Users"), 401)
    assert_scim_error(second.get("/Users"), 401)


def test_revoking_a_client_leaves_the_teams_own_tokens_alone(entra):
    team_token = IdPClient(tokens.issue_token(entra.client.team).plaintext)

    revoke_client(entra.client)

    assert team_token.get("/Users").status_code == 200


def test_rotating_the_team_token_leaves_access_tokens_alone(entra):
    bearer = IdPClient(access_token(entra))

    tokens.rotate_token(entra.client.team, overlap=timedelta(0))

    assert bearer.get("/Users").status_code == 200


def test_one_clients_access_tokens_share_one_rate_limit(entra, settings):
    """A client that fetches a new token must not get a fresh allowance with it."""
    settings.SCIM_PROVISIONING_RATE_LIMIT = 1
    settings.SCIM_PROVISIONING_RATE_LIMIT_WINDOW = 1
    assert IdPClient(access_token(entra)).get("/Users").status_code == 200

    assert_scim_error(IdPClient(access_token(entra)).get("/Users"), 429)


def test_oauth_switched_off_hides_the_token_endpoint(entra, settings):
    settings.SCIM_PROVISIONING_AUTHENTICATION_SCHEMES = ["bearer"]

    response = client_credentials(entra.client.client_id, entra.secret)

    assert response.status_code == 404
    assert not SCIMToken.objects.filter(oauth_client=entra.client).exists()


# --- bounded under abuse ------------------------------------------------------------


def test_a_client_holds_at_most_twenty_live_access_tokens(entra):
    first = access_token(entra)
    for _ in range(20):
        access_token(entra)

    live = SCIMToken.objects.filter(oauth_client=entra.client, revoked_at__isnull=True)
    assert live.count() == 20
    assert_scim_error(IdPClient(first).get("/Users"), 401)


def test_long_dead_access_tokens_and_grants_are_forgotten(entra):
    from scim_provisioning.models import SCIMOAuthGrant
    from scim_provisioning.oauth.grants import access_token_response

    refresh_token = access_token_response(entra.client, refresh=True)["refresh_token"]
    two_days_ago = timezone.now() - timedelta(days=2)
    SCIMToken.objects.filter(oauth_client=entra.client).update(expires_at=two_days_ago)
    SCIMOAuthGrant.objects.filter(digest=tokens.digest(refresh_token)).update(used_at=two_days_ago)
    team_token = tokens.issue_token(entra.client.team)

    fresh = access_token(entra)

    assert list(SCIMToken.objects.filter(oauth_client=entra.client)) == [
        SCIMToken.objects.get(digest=tokens.digest(fresh))
    ]
    assert not SCIMOAuthGrant.objects.exists()
    assert SCIMToken.objects.filter(pk=team_token.token.pk).exists()


# --- requests replayed as the IdPs send them ------------------------------------------


def test_rfc_6749_4_4_2_example_request_as_entra_sends_it(entra):
    """The RFC's own example (Basic, a form body, nothing else), with the charset a .NET
    client adds to the media type and the ``scope`` some clients send; ignored."""
    response = Client().post(
        TOKEN_URL,
        "grant_type=client_credentials&scope=scim",
        content_type="application/x-www-form-urlencoded; charset=utf-8",
        HTTP_AUTHORIZATION=basic(entra.client.client_id, entra.secret),
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 200, response.content
    assert IdPClient(response.json()["access_token"]).get("/Users").status_code == 200


def test_the_client_id_may_be_repeated_in_the_body_next_to_basic(entra):
    response = token_request(
        {"grant_type": "client_credentials", "client_id": entra.client.client_id},
        authorization=basic(entra.client.client_id, entra.secret),
    )

    assert response.status_code == 200, response.content


def test_a_different_client_id_in_the_body_next_to_basic_is_invalid_request(entra, team):
    other = create_client(team)

    response = token_request(
        {"grant_type": "client_credentials", "client_id": other.client.client_id},
        authorization=basic(entra.client.client_id, entra.secret),
    )

    assert_oauth_error(response, 400, "invalid_request")
