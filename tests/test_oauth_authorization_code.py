"""OAuth 2.0 authorization code with PKCE and refresh (RFC 6749 §4.1, §6; RFC 7636), as Okta does.

Okta's SCIM integration sends the IT admin's browser to the authorize endpoint;
a manager of the team signs in and consents; Okta's callback receives the code
and ``state``, exchanges the code at the token endpoint with its client id and
secret, and refreshes the access token when it expires.
"""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from example_project.teams.models import Membership
from scim_provisioning import tokens
from scim_provisioning.models import SCIMOAuthGrant, SCIMToken
from scim_provisioning.oauth.clients import create_client, revoke_client

from .conftest import IdPClient, assert_scim_error
from .factories import SCIMUserFactory
from .oauth_helpers import (
    AUTHORIZE_URL,
    OKTA_CALLBACK,
    basic,
    redirect_base,
    redirect_params,
    s256,
    token_request,
)
from .team_helpers import logged_in, member_of

pytestmark = pytest.mark.django_db

VERIFIER = "dBjftJeZ4CVP-mJ92K9qgPxDLUW9OcspExD9hd5bfmKq1Ow8IZmsj5y1C7E5ALRH"  # 64 characters
STATE = "okta-7f3a9c"


@pytest.fixture
def okta(team):
    """Team A's client for Okta, with Okta's callback registered."""
    return create_client(team, name="Okta", redirect_uris=[OKTA_CALLBACK])


def authorize_params(okta, **overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": okta.client.client_id,
        "redirect_uri": OKTA_CALLBACK,
        "state": STATE,
        "scope": "scim",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


def consent(browser: Client, okta, *, allow: bool = True, **overrides: str):
    """The manager's GET of the consent page, then the press of its button."""
    params = authorize_params(okta, **overrides)
    page = browser.get(AUTHORIZE_URL, params)
    assert page.status_code == 200, page.content
    answer = {"allow": "1"} if allow else {"deny": "1"}
    return browser.post(AUTHORIZE_URL, {**page.context["fields"], **answer})


def code_of(browser: Client, okta, **overrides: str) -> str:
    return redirect_params(consent(browser, okta, **overrides))["code"]


def exchange(okta, code: str, *, verifier: str | None = VERIFIER, redirect_uri=OKTA_CALLBACK):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    return token_request(form, authorization=basic(okta.client.client_id, okta.secret))


def refresh(okta, refresh_token: str):
    return token_request(
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": okta.client.client_id,
            "client_secret": okta.secret,
        }
    )


def assert_invalid_grant(response) -> None:
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_grant"


# --- the whole flow ---------------------------------------------------------------


def test_okta_connects_with_pkce_reads_the_team_and_refreshes(owner_client, okta, other_team):
    SCIMUserFactory(team=okta.client.team, user_name="ada@acme.com")
    SCIMUserFactory(team=other_team, user_name="grace@globex.com")

    page = owner_client.get(AUTHORIZE_URL, authorize_params(okta))
    assert page.status_code == 200
    assert "Acme" in page.content.decode()
    assert "deactivate" in page.content.decode()
    back = owner_client.post(AUTHORIZE_URL, {**page.context["fields"], "allow": "1"})
    assert redirect_base(back) == OKTA_CALLBACK
    answer = redirect_params(back)
    assert answer["state"] == STATE

    tokens_now = exchange(okta, answer["code"])
    assert tokens_now.status_code == 200, tokens_now.content
    body = tokens_now.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    listed = IdPClient(body["access_token"]).get("/Users").json()["Resources"]
    assert [u["userName"] for u in listed] == ["ada@acme.com"]

    refreshed = refresh(okta, body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.content
    again = refreshed.json()
    assert again["refresh_token"] != body["refresh_token"]
    assert IdPClient(again["access_token"]).get("/Users").status_code == 200


def test_the_consent_page_names_the_team_and_what_the_idp_may_do(owner_client, okta):
    page = owner_client.get(AUTHORIZE_URL, authorize_params(okta))

    html = unescape(page.content.decode())
    assert "Allow Okta to provision Acme?" in html
    for ability in page.context["abilities"]:
        assert ability in html
    assert "system-admin.okta.com" in html
    assert page["X-Frame-Options"] == "DENY"


def test_denying_sends_access_denied_with_the_state(owner_client, okta):
    response = consent(owner_client, okta, allow=False)

    assert redirect_params(response) == {"error": "access_denied", "state": STATE}
    assert not SCIMOAuthGrant.objects.exists()


def test_the_redirect_uri_keeps_its_own_query(owner, team):
    callback = OKTA_CALLBACK + "?tenant=acme"
    issued = create_client(team, redirect_uris=[callback])

    params = redirect_params(consent(logged_in(owner), issued, redirect_uri=callback))

    assert params["tenant"] == "acme"
    assert params["state"] == STATE


def test_plain_pkce_works(owner_client, okta):
    code = code_of(owner_client, okta, code_challenge=VERIFIER, code_challenge_method="plain")

    assert exchange(okta, code).status_code == 200


def test_without_pkce_the_code_still_works(owner_client, okta):
    code = code_of(owner_client, okta, code_challenge=None, code_challenge_method=None)

    assert exchange(okta, code, verifier=None).status_code == 200


def test_the_only_registered_redirect_uri_may_be_left_out(owner_client, okta):
    back = consent(owner_client, okta, redirect_uri=None)

    assert redirect_base(back) == OKTA_CALLBACK


# --- codes ----------------------------------------------------------------------


def test_a_code_is_single_use(owner_client, okta):
    code = code_of(owner_client, okta)
    assert exchange(okta, code).status_code == 200

    assert_invalid_grant(exchange(okta, code))


def test_a_wrong_verifier_is_refused_and_burns_the_code(owner_client, okta):
    code = code_of(owner_client, okta)

    assert_invalid_grant(exchange(okta, code, verifier="x" * 43))
    assert_invalid_grant(exchange(okta, code))


def test_a_missing_verifier_is_refused(owner_client, okta):
    assert_invalid_grant(exchange(okta, code_of(owner_client, okta), verifier=None))


def test_a_verifier_for_a_code_without_challenge_is_refused(owner_client, okta):
    code = code_of(owner_client, okta, code_challenge=None, code_challenge_method=None)

    assert_invalid_grant(exchange(okta, code))


def test_another_redirect_uri_at_the_token_endpoint_is_refused(owner_client, okta):
    code = code_of(owner_client, okta)

    assert_invalid_grant(exchange(okta, code, redirect_uri=OKTA_CALLBACK + "/other"))


def test_an_expired_code_is_refused(owner_client, okta):
    code = code_of(owner_client, okta)
    SCIMOAuthGrant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_invalid_grant(exchange(okta, code))


def test_a_code_is_this_clients_only(owner_client, okta, team):
    other = create_client(team, redirect_uris=[OKTA_CALLBACK])
    code = code_of(owner_client, okta)

    assert_invalid_grant(exchange(other, code))


def test_codes_and_refresh_tokens_are_stored_as_digests(owner_client, okta):
    code = code_of(owner_client, okta)
    body = exchange(okta, code).json()

    rows = repr(list(SCIMOAuthGrant.objects.values()))
    for secret in (code, body["refresh_token"], body["access_token"]):
        assert secret[5:] not in rows
    assert SCIMOAuthGrant.objects.filter(digest=tokens.digest(code)).exists()


# --- who may consent, and what is never redirected to ---------------------------


def test_a_visitor_signs_in_first(okta):
    response = Client().get(AUTHORIZE_URL, authorize_params(okta))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_member_who_is_not_a_manager_may_not_consent(okta, team):
    browser = logged_in(member_of(team, Membership.Role.MEMBER))

    response = browser.get(AUTHORIZE_URL, authorize_params(okta))

    assert response.status_code == 403
    assert not SCIMOAuthGrant.objects.exists()


def test_another_teams_owner_may_not_consent(okta, other_team):
    browser = logged_in(member_of(other_team, Membership.Role.OWNER))

    get = browser.get(AUTHORIZE_URL, authorize_params(okta))
    post = browser.post(AUTHORIZE_URL, {**authorize_params(okta), "allow": "1"})

    assert get.status_code == 403
    assert post.status_code == 403
    assert not SCIMOAuthGrant.objects.exists()


def test_an_unregistered_redirect_uri_is_never_redirected_to(owner_client, okta):
    response = owner_client.get(
        AUTHORIZE_URL, authorize_params(okta, redirect_uri="https://evil.example/cb")
    )

    assert response.status_code == 400
    assert "redirect_uri" in response.content.decode()


def test_a_redirect_uri_matching_only_by_prefix_is_refused(owner_client, okta):
    response = owner_client.get(
        AUTHORIZE_URL, authorize_params(okta, redirect_uri=OKTA_CALLBACK + "/../x")
    )

    assert response.status_code == 400


def test_an_unknown_client_is_shown_not_redirected(owner_client, okta):
    response = owner_client.get(
        AUTHORIZE_URL, authorize_params(okta, client_id="scimclient_" + "0" * 24)
    )

    assert response.status_code == 400


def test_a_revoked_client_cannot_be_consented_to(owner_client, okta):
    revoke_client(okta.client)

    assert owner_client.get(AUTHORIZE_URL, authorize_params(okta)).status_code == 400


def test_another_response_type_is_sent_back_as_unsupported(owner_client, okta):
    response = owner_client.get(AUTHORIZE_URL, authorize_params(okta, response_type="token"))

    assert redirect_params(response) == {"error": "unsupported_response_type", "state": STATE}


@pytest.mark.parametrize(
    "challenge",
    ["short", "x" * 129, "a\x00" * 30, "\ud800" * 43],
    ids=["short", "long", "nul", "surrogates"],
)
def test_a_malformed_challenge_is_sent_back_as_invalid_request(owner_client, okta, challenge):
    response = owner_client.get(
        AUTHORIZE_URL,
        authorize_params(okta, code_challenge=challenge.encode("utf-8", "replace").decode()),
    )

    assert redirect_params(response)["error"] == "invalid_request"


def test_an_unknown_challenge_method_is_sent_back_as_invalid_request(owner_client, okta):
    response = owner_client.get(AUTHORIZE_URL, authorize_params(okta, code_challenge_method="S512"))

    assert redirect_params(response)["error"] == "invalid_request"


def test_the_consent_post_needs_the_csrf_token(owner, okta):
    browser = logged_in(owner, enforce_csrf_checks=True)

    response = browser.post(AUTHORIZE_URL, {**authorize_params(okta), "allow": "1"})

    assert response.status_code == 403
    assert not SCIMOAuthGrant.objects.exists()


# --- refresh tokens ---------------------------------------------------------------


@pytest.fixture
def refresh_token(owner_client, okta) -> str:
    return exchange(okta, code_of(owner_client, okta)).json()["refresh_token"]


def test_a_refresh_token_is_replaced_on_use(okta, refresh_token):
    assert refresh(okta, refresh_token).status_code == 200

    assert_invalid_grant(refresh(okta, refresh_token))


def test_a_refresh_token_is_this_clients_only(okta, team, refresh_token):
    other = create_client(team)

    assert_invalid_grant(refresh(other, refresh_token))


def test_an_expired_refresh_token_is_refused(okta, refresh_token):
    SCIMOAuthGrant.objects.filter(digest=tokens.digest(refresh_token)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert_invalid_grant(refresh(okta, refresh_token))


def test_revocation_ends_refresh_and_access_tokens_on_the_next_request(owner_client, okta):
    body = exchange(okta, code_of(owner_client, okta)).json()
    bearer = IdPClient(body["access_token"])
    assert bearer.get("/Users").status_code == 200

    revoke_client(okta.client)

    assert_scim_error(bearer.get("/Users"), 401)
    response = refresh(okta, body["refresh_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert not SCIMToken.objects.filter(oauth_client=okta.client, revoked_at__isnull=True).exists()


def test_a_missing_refresh_token_is_invalid_request(okta):
    response = refresh(okta, "")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
