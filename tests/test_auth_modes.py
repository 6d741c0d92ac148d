"""Okta's Header and Basic Auth modes: the team token alone, or as the HTTP Basic password.

Okta's SCIM integrations offer "HTTP Header" (the field's value sent as the whole
``Authorization`` header) and "Basic Auth" (a user name and a password). Each
carries the same team token as a bearer, so each obeys every rule of one.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from scim_provisioning import tokens
from scim_provisioning.models import SCIMRequestLog, SCIMToken
from scim_provisioning.request_log_writer import writer

from .conftest import IdPClient, assert_scim_error
from .factories import SCIMUserFactory

pytestmark = pytest.mark.django_db

NOT_VALID = "The bearer token is not valid, has expired or was revoked."


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def get_users(authorization: str):
    return IdPClient(None, HTTP_AUTHORIZATION=authorization).get("/Users")


def user_names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["userName"] for r in response.json()["Resources"]]


@pytest.fixture
def ada(team):
    return SCIMUserFactory(team=team, user_name="ada@acme.com")


@pytest.fixture
def grace(other_team):
    return SCIMUserFactory(team=other_team, user_name="grace@globex.com")


def test_the_token_alone_reads_its_teams_users(team, ada, grace):
    """Okta's Header mode: ``Authorization: <token>``."""
    plaintext = tokens.issue_token(team).plaintext

    assert user_names(get_users(plaintext)) == ["ada@acme.com"]


def test_basic_with_the_token_as_password_reads_its_teams_users(team, ada, grace):
    """Okta's Basic Auth mode: the user name is ignored, the password is the token."""
    plaintext = tokens.issue_token(team).plaintext

    assert user_names(get_users(basic("okta", plaintext))) == ["ada@acme.com"]


def test_basic_ignores_an_empty_user_name(team, ada):
    plaintext = tokens.issue_token(team).plaintext

    assert user_names(get_users(basic("", plaintext))) == ["ada@acme.com"]


def test_basic_with_the_token_as_user_name_is_refused(team):
    """One rule, documented: the token is the password."""
    plaintext = tokens.issue_token(team).plaintext

    response = get_users(basic(plaintext, ""))

    assert_scim_error(response, 401)
    assert response.json()["detail"] == NOT_VALID


def test_basic_of_another_teams_token_does_not_find_this_teams_user(team, other_team, ada):
    plaintext = tokens.issue_token(other_team).plaintext

    response = IdPClient(None, HTTP_AUTHORIZATION=basic("x", plaintext)).get(f"/Users/{ada.pk}")

    assert_scim_error(response, 404)


@pytest.mark.parametrize("form", ["header", "basic"])
def test_a_token_revoked_after_use_is_refused_on_the_next_request(team, form):
    """The token was remembered by the first request; revocation still holds at once."""
    plaintext = tokens.issue_token(team).plaintext
    authorization = plaintext if form == "header" else basic("okta", plaintext)
    assert get_users(authorization).status_code == 200

    tokens.revoke_tokens(team)

    assert_scim_error(get_users(authorization), 401)


@pytest.mark.parametrize("form", ["header", "basic"])
def test_an_expired_token_is_refused(team, form):
    issued = tokens.issue_token(team)
    SCIMToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    authorization = issued.plaintext if form == "header" else basic("okta", issued.plaintext)

    assert_scim_error(get_users(authorization), 401)


def test_basic_requests_share_the_tokens_throttle(team, settings):
    settings.SCIM_PROVISIONING_RATE_LIMIT = 1
    settings.SCIM_PROVISIONING_RATE_LIMIT_WINDOW = 1
    plaintext = tokens.issue_token(team).plaintext
    assert get_users(plaintext).status_code == 200

    response = get_users(basic("okta", plaintext))

    assert_scim_error(response, 429)
    assert response["Retry-After"]


def test_neither_form_leaves_the_token_in_the_request_log(team):
    plaintext = tokens.issue_token(team).plaintext
    get_users(plaintext)
    get_users(basic("okta", plaintext))
    writer.flush()

    rows = list(SCIMRequestLog.objects.values())
    assert len(rows) == 2
    assert plaintext not in repr(rows)
    assert plaintext[len("scim_") :] not in repr(rows)


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        ("Basic !!notbase64", "The Basic credentials are not valid."),
        ("Basic " + base64.b64encode(b"no colon").decode(), None),
        ("Basic " + base64.b64encode("okta:scim_\u00e9".encode()).decode(), None),
        ("Basic " + base64.b64encode(b"okta:scim_\x00" + b"A" * 42).decode(), NOT_VALID),
        ("scim_" + "A" * 42 + "\x7f", NOT_VALID),
        ("Bearer", None),
    ],
    ids=["not-base64", "no-colon", "not-ascii", "nul", "del", "keyword-alone"],
)
def test_hostile_credentials_are_a_401(team, authorization, detail):
    response = get_users(authorization)

    assert_scim_error(response, 401)
    if detail:
        assert response.json()["detail"] == detail


@pytest.mark.parametrize(
    ("schemes", "authorization_of"),
    [
        (["bearer", "basic"], lambda t: t),
        (["bearer", "header"], lambda t: basic("okta", t)),
        (["header", "basic"], lambda t: f"Bearer {t}"),
    ],
    ids=["header-off", "basic-off", "bearer-off"],
)
def test_a_scheme_switched_off_is_refused(team, settings, schemes, authorization_of):
    settings.SCIM_PROVISIONING_AUTHENTICATION_SCHEMES = schemes
    plaintext = tokens.issue_token(team).plaintext

    response = get_users(authorization_of(plaintext))

    assert_scim_error(response, 401)
    assert response.json()["detail"].startswith("The Authorization header must be")


def test_discovery_lists_every_scheme_that_is_on(idp):
    schemes = idp.get("/ServiceProviderConfig").json()["authenticationSchemes"]

    assert [s["type"] for s in schemes] == ["oauthbearertoken", "httpbasic", "oauth2"]
    assert [s["primary"] for s in schemes] == [True, False, False]
    assert "'Authorization: <token>'" in schemes[0]["description"]


def test_discovery_lists_only_the_schemes_that_are_on(idp, settings):
    settings.SCIM_PROVISIONING_AUTHENTICATION_SCHEMES = ["bearer"]

    schemes = idp.get("/ServiceProviderConfig").json()["authenticationSchemes"]

    assert [s["type"] for s in schemes] == ["oauthbearertoken"]
    assert "'Authorization: <token>'" not in schemes[0]["description"]


def test_an_unknown_scheme_setting_is_refused(idp, settings):
    from django.core.exceptions import ImproperlyConfigured

    from scim_provisioning.conf import app_settings

    settings.SCIM_PROVISIONING_AUTHENTICATION_SCHEMES = ["bearer", "digest"]

    with pytest.raises(ImproperlyConfigured, match="digest"):
        _ = app_settings.AUTHENTICATION_SCHEMES


def _queries_of_a_second_get(authorization: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert get_users(authorization).status_code == 200  # remembered; last_used_at written
    with CaptureQueriesContext(connection) as queries:
        assert get_users(authorization).status_code == 200
    return len(queries)


@pytest.mark.parametrize("form", ["header", "basic", "oauth"])
def test_every_form_costs_the_queries_a_bearer_does(team, ada, form, monkeypatch):
    """Same count as a bearer's GET (whose budget tests/test_query_budgets.py holds)."""
    from scim_provisioning.oauth.clients import create_client
    from scim_provisioning.oauth.grants import access_token_response

    monkeypatch.setattr(writer, "submit", lambda row: None)  # as the budgets measure
    bearer = _queries_of_a_second_get(f"Bearer {tokens.issue_token(team).plaintext}")
    if form == "oauth":
        plaintext = access_token_response(create_client(team).client, refresh=False)["access_token"]
        authorization = f"Bearer {plaintext}"
    else:
        plaintext = tokens.issue_token(team).plaintext
        authorization = plaintext if form == "header" else basic("okta", plaintext)

    assert _queries_of_a_second_get(authorization) == bearer == 1  # the page, with its groups


def test_with_only_oauth_on_access_tokens_work_and_team_tokens_do_not(team, settings):
    from scim_provisioning.oauth.clients import create_client
    from scim_provisioning.oauth.grants import access_token_response

    settings.SCIM_PROVISIONING_AUTHENTICATION_SCHEMES = ["oauth"]
    access = access_token_response(create_client(team).client, refresh=False)["access_token"]
    team_token = tokens.issue_token(team).plaintext

    assert get_users(f"Bearer {access}").status_code == 200
    assert_scim_error(get_users(f"Bearer {team_token}"), 401)


def test_with_oauth_off_an_access_token_issued_before_is_refused(team, settings):
    from scim_provisioning.oauth.clients import create_client
    from scim_provisioning.oauth.grants import access_token_response

    access = access_token_response(create_client(team).client, refresh=False)["access_token"]
    assert get_users(f"Bearer {access}").status_code == 200  # remembered from now on

    settings.SCIM_PROVISIONING_AUTHENTICATION_SCHEMES = ["bearer", "header", "basic"]

    assert_scim_error(get_users(f"Bearer {access}"), 401)
