"""The HTTP contract shared by every endpoint: media types, SCIM errors, sizes, routing."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMTeamConfig, SCIMUser

from .conftest import IdPClient, assert_scim_error

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_JSON = "application/scim+json"
DISCOVERY_PATHS = ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"]


def media_type(response) -> str:
    return response["Content-Type"].split(";")[0].strip().lower()


def user_body(user_name: str = "ada@acme.com") -> dict:
    return {
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "active": True,
    }


def nothing_provisioned(accounts_before: int) -> bool:
    return (
        not SCIMUser.objects.exists()
        and not Membership.objects.exists()
        and get_user_model().objects.count() == accounts_before
    )


# --- every response is application/scim+json ---------------------------------


def test_success_is_scim_json(idp):
    response = idp.get("/Users")

    assert response.status_code == 200
    assert media_type(response) == SCIM_JSON


def test_created_is_scim_json(idp):
    response = idp.post("/Users", user_body())

    assert response.status_code == 201, response.content
    assert media_type(response) == SCIM_JSON


def test_401_is_scim_json(team):
    assert_scim_error(IdPClient(None).get("/Users"), 401)


def test_403_is_scim_json(idp, team):
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)

    assert_scim_error(idp.get("/Users"), 403)


def test_404_is_scim_json(idp):
    assert_scim_error(idp.get("/Users/00000000-0000-0000-0000-000000000000"), 404)


def test_405_is_scim_json(idp):
    assert_scim_error(idp.delete("/ServiceProviderConfig"), 405)


def test_400_is_scim_json(idp):
    assert_scim_error(idp.post("/Users", "{not json"), 400, "invalidSyntax")


def test_415_is_scim_json(idp):
    assert_scim_error(idp.post("/Users", json.dumps(user_body()), content_type="text/plain"), 415)


# --- Accept never causes a 406 ------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/json", SCIM_JSON, "text/html", "application/xml"],
    ids=["missing", "any", "json", "scim-json", "html", "xml"],
)
@pytest.mark.parametrize("path", ["/ServiceProviderConfig", "/Users"])
def test_any_accept_gets_scim_json(idp, accept, path):
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}

    response = idp.get(path, **extra)

    assert response.status_code == 200, response.content
    assert media_type(response) == SCIM_JSON
    json.loads(response.content)


def test_error_with_html_accept_is_still_scim_json(idp):
    assert_scim_error(idp.get("/Nope", HTTP_ACCEPT="text/html"), 404)


# --- request bodies ----------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        SCIM_JSON,
        "application/scim+json; charset=utf-8",
        "application/scim+json;charset=UTF-8",
        "application/json",
        "application/json; charset=utf-8",
    ],
)
def test_request_body_media_types_are_parsed(idp, content_type):
    response = idp.post("/Users", user_body(), content_type=content_type)

    assert response.status_code == 201, response.content
    assert response.json()["userName"] == "ada@acme.com"
    assert SCIMUser.objects.filter(user_name="ada@acme.com").exists()


def test_text_plain_body_is_415(idp):
    accounts = get_user_model().objects.count()

    response = idp.post("/Users", json.dumps(user_body()), content_type="text/plain")

    assert_scim_error(response, 415)
    assert nothing_provisioned(accounts)


def test_form_body_is_415(idp):
    response = idp.post("/Users", "userName=ada", content_type="application/x-www-form-urlencoded")

    assert_scim_error(response, 415)


def test_invalid_json_is_400_invalid_syntax(idp):
    accounts = get_user_model().objects.count()

    response = idp.post("/Users", '{"userName": "ada@acme.com",')

    assert_scim_error(response, 400, "invalidSyntax")
    assert nothing_provisioned(accounts)


def test_body_that_is_not_utf8_is_400_invalid_syntax(idp):
    response = idp.post("/Users", b'{"userName": "\xff\xfe"}')

    assert_scim_error(response, 400, "invalidSyntax")


def test_invalid_json_on_patch_is_400_invalid_syntax(idp, provision):
    user = provision()

    response = idp.patch(f"/Users/{user['id']}", "not json at all")

    assert_scim_error(response, 400, "invalidSyntax")


# --- routing ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/Nope", "/Users/x/y", "/users/x/y/z", "/Groups/x/members"])
def test_unknown_path_is_404(idp, path):
    assert_scim_error(idp.get(path), 404)


def test_unknown_path_with_post_is_404(idp):
    assert_scim_error(idp.post("/Nope", {"a": 1}), 404)


def test_base_url_answers_only_get(idp):
    """GET is the root query (RFC 7644 §3.4.2.1); nothing else is defined on the root."""
    assert idp.get("/scim/v2/").status_code == 200
    assert_scim_error(idp.post("/scim/v2/", {"userName": "x"}), 405)
    assert_scim_error(idp.delete("/scim/v2/"), 405)


def test_unknown_path_without_token_is_401(team):
    response = IdPClient(None).get("/Nope")

    assert_scim_error(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="scim"'


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", DISCOVERY_PATHS)
def test_writes_on_discovery_endpoints_are_405(idp, path, method):
    if method == "delete":
        response = idp.delete(path)
    else:
        response = getattr(idp, method)(path, {"schemas": []})

    assert_scim_error(response, 405)
    assert "GET" in response["Allow"]
    assert method.upper() not in response["Allow"]


@pytest.mark.parametrize(
    "path",
    ["/ResourceTypes/User", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"],
)
def test_writes_on_discovery_detail_endpoints_are_405(idp, path):
    assert_scim_error(idp.delete(path), 405)


# --- body size ---------------------------------------------------------------


@override_settings(SCIM_PROVISIONING_MAX_BODY_SIZE=256)
def test_body_over_max_size_is_413(idp):
    accounts = get_user_model().objects.count()
    body = user_body()
    body["displayName"] = "x" * 512

    response = idp.post("/Users", body)

    assert_scim_error(response, 413)
    assert nothing_provisioned(accounts)


@override_settings(SCIM_PROVISIONING_MAX_BODY_SIZE=256)
def test_body_over_max_size_on_patch_is_413(idp, provision):
    user = provision()
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "x" * 512}],
    }

    response = idp.patch(f"/Users/{user['id']}", body)

    assert_scim_error(response, 413)
    assert SCIMUser.objects.get(pk=user["id"]).attributes.get("displayName") != "x" * 512


@override_settings(SCIM_PROVISIONING_MAX_BODY_SIZE=4096)
def test_body_under_max_size_is_accepted(idp):
    response = idp.post("/Users", user_body())

    assert response.status_code == 201, response.content


def test_a_limit_changed_after_a_request_holds_for_the_next_one(idp, settings):
    """Settings are remembered once read (a request reads a dozen or more), and
    forgotten when Django says one changed: the next request sees the new limit."""
    body = user_body()
    body["displayName"] = "x" * 512
    assert idp.post("/Users", user_body()).status_code == 201  # the default limit, now read
    accounts, records = get_user_model().objects.count(), SCIMUser.objects.count()

    settings.SCIM_PROVISIONING_MAX_BODY_SIZE = 256

    assert_scim_error(idp.post("/Users", body), 413)
    assert (get_user_model().objects.count(), SCIMUser.objects.count()) == (accounts, records)


# --- endpoints this server does not implement --------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("get", "/Me"), ("post", "/Me"), ("put", "/Me"), ("patch", "/Me")]
)
def test_me_is_501(idp, method, path):
    if method == "get":
        response = idp.get(path)
    else:
        response = getattr(idp, method)(path, {"schemas": []})

    assert_scim_error(response, 501)


# --- unexpected exceptions ---------------------------------------------------


def test_unexpected_exception_is_500_scim_error_and_writes_nothing(idp, monkeypatch):
    from scim_provisioning import resource_types

    real_create_user = resource_types.create_user

    def create_then_crash(config, document):
        real_create_user(config, document)  # rows written, then the request fails
        raise RuntimeError("boom")

    monkeypatch.setattr("scim_provisioning.resource_types.create_user", create_then_crash)
    accounts = get_user_model().objects.count()

    response = idp.post("/Users", user_body())

    body = assert_scim_error(response, 500)
    assert b"<html" not in response.content.lower()
    assert "boom" not in body["detail"]
    assert nothing_provisioned(accounts)


def test_unexpected_exception_on_get_is_500_scim_error(idp, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("scim_provisioning.views.resources.list_resources", crash)

    body = assert_scim_error(idp.get("/Users"), 500)
    assert "boom" not in body["detail"]
