"""Hostile input (issue 21, items 4, 5 and 8): a SCIM 4xx that changes nothing, never a 500.

The red-team review found inputs that still reached the database or the
renderer as they came: a lone surrogate (legal in JSON as ``"\\udc00"``, but
no UTF-8 encoder takes it), a NUL in the URL path (PostgreSQL stores no NUL),
JSON text inside a value that is parsed after the body's depth check, dates
whose UTC instant lies outside years 1-9999, a custom attribute longer than
its host field, and a token lifetime that overflows ``timedelta``. Each test
is one of those attacks, as the IdP (or a team manager) would send it.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMRequestLog, SCIMToken, SCIMUser

from .conftest import assert_scim_error, patch_op
from .team_helpers import logged_in, member_of

pytestmark = pytest.mark.django_db
User = get_user_model()

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
EXTENSION = "urn:ietf:params:scim:schemas:extension:example:2.0:User"


def _user(user_name: str = "ada@acme.com", **extra) -> dict:
    return {"schemas": [USER], "userName": user_name, **extra}


def _nothing_created() -> None:
    assert not SCIMUser.objects.exists()
    assert not Membership.objects.exists()
    assert not User.objects.exists()


def _logged(status: int) -> SCIMRequestLog:
    """The request's own log row: the refusal is recorded, not lost with its batch."""
    (entry,) = SCIMRequestLog.objects.order_by("-pk")[:1]
    assert entry.status == status
    return entry


# -- lone surrogates and NUL: refused where they enter, before any row is built ------------


def test_a_lone_surrogate_in_a_name_is_a_400(idp):
    """Was a 500, and the request-log batch of that moment was lost with it."""
    response = idp.post("/Users", _user(name={"givenName": "\udc00"}))

    body = assert_scim_error(response, 400, "invalidValue")
    assert body["detail"] == "'name.givenName' contains a lone surrogate (\\udc00)."
    _nothing_created()
    _logged(400)


def test_a_lone_surrogate_in_the_user_name_is_a_400(idp):
    response = idp.post("/Users", _user("ada\ud800@acme.com"))

    body = assert_scim_error(response, 400, "invalidValue")
    assert body["detail"] == "'userName' contains a lone surrogate (\\ud800)."
    _nothing_created()


def test_a_lone_surrogate_in_a_key_is_an_invalid_syntax(idp):
    response = idp.post("/Users", {**_user(), "title\udfff": "x"})

    body = assert_scim_error(response, 400, "invalidSyntax")
    assert "lone surrogate (\\udfff)" in body["detail"]
    _nothing_created()


def test_a_nul_in_a_patch_value_changes_nothing(idp, provision):
    ada = provision()

    response = idp.patch(
        f"/Users/{ada['id']}",
        patch_op({"op": "replace", "path": "name.familyName", "value": "Love\x00lace"}),
    )

    body = assert_scim_error(response, 400, "invalidValue")
    assert body["detail"] == "'Operations[0].value' contains a NUL character (\\x00)."
    assert SCIMUser.objects.get().version == 1


def test_a_lone_surrogate_in_a_bulk_operation_is_a_400(idp):
    bulk = {
        "schemas": [BULK],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": _user(title="\udc00")}
        ],
    }

    response = idp.post("/Bulk", bulk)

    assert_scim_error(response, 400, "invalidValue")
    _nothing_created()


def test_a_surrogate_pair_is_a_character_like_any_other(idp):
    """``json.dumps`` (and Java's encoders) escape characters beyond the BMP as a pair."""
    response = idp.post("/Users", _user(name={"givenName": "Ada \U0001f600"}))

    assert response.status_code == 201, response.content
    assert response.json()["name"]["givenName"] == "Ada \U0001f600"


@pytest.mark.parametrize("path", ["/scim/v2/%00", "/scim/v2/Users/%00", "/scim/v2/Groups/%00"])
def test_a_nul_in_the_path_is_an_invalid_syntax(idp, path):
    """``GET /Users/%00`` was a 500 on PostgreSQL (the id reached a text column)."""
    response = idp.get(path)

    body = assert_scim_error(response, 400, "invalidSyntax")
    assert body["detail"] == "The URL path contains a NUL character (\\x00)."
    _logged(400)


def test_a_nul_in_the_path_of_a_revoked_token_is_still_a_401(team, idp):
    SCIMToken.objects.update(revoked_at="2020-01-01T00:00:00Z")

    response = idp.get("/Users/%00")

    assert response.status_code == 401


def test_a_nul_in_a_query_parameter_name_is_an_invalid_syntax(idp):
    response = idp.get("/Users?co%00unt=1")

    body = assert_scim_error(response, 400, "invalidSyntax")
    assert body["detail"] == "A query parameter name contains a NUL character (\\x00)."


def test_a_nul_in_a_search_filter_is_a_400(idp):
    response = idp.post("/Users/.search", {"schemas": [SEARCH], "filter": 'userName eq "a\x00"'})

    assert_scim_error(response, 400, "invalidValue")


# -- JSON text inside a value: the body's bounds, before it is parsed ---------------------


def _deep_json_text(depth: int = 60_000) -> str:
    """~120 KB of JSON text nesting ``depth`` arrays: Python's parser recurses on each."""
    return '{"value":' + "[" * depth + "]" * depth + "}"


def test_json_text_nested_deeper_than_the_body_may_be_is_a_400_on_create(idp):
    """Was a 500 (RecursionError): Entra's JSON-in-a-value roles are parsed after the body's
    depth check."""
    response = idp.post("/Users", _user(roles=[{"value": _deep_json_text()}]))

    assert_scim_error(response, 400, "invalidValue")
    _nothing_created()


def test_json_text_nested_just_past_the_bound_is_refused_before_it_is_parsed(idp, settings):
    settings.SCIM_PROVISIONING_MAX_JSON_DEPTH = 4
    value = '{"value": [[[["Admin"]]]]}'  # five levels, 26 characters

    response = idp.post("/Users", _user(roles=[{"value": value}]))

    body = assert_scim_error(response, 400, "invalidValue")
    assert "deeper than 4 levels" in body["detail"]


def test_json_text_nested_deeply_is_a_400_in_a_patch(idp, provision):
    ada = provision()

    response = idp.patch(
        f"/Users/{ada['id']}",
        patch_op({"op": "add", "path": "roles", "value": [{"value": _deep_json_text()}]}),
    )

    assert_scim_error(response, 400, "invalidValue")
    assert SCIMUser.objects.get().version == 1


def test_json_text_nested_deeply_is_a_400_in_a_bulk_operation(idp):
    bulk = {
        "schemas": [BULK],
        "Operations": [
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": "a",
                "data": _user(roles=[{"value": _deep_json_text()}]),
            }
        ],
    }

    response = idp.post("/Bulk", bulk)

    assert response.status_code == 200, response.content
    (operation,) = response.json()["Operations"]
    assert operation["status"] == "400"
    assert operation["response"]["scimType"] == "invalidValue"
    _nothing_created()


def test_json_text_in_a_value_may_not_smuggle_a_nul(idp):
    """The value's own text is checked where the body is; what it decodes to is checked too."""
    value = json.dumps({"value": "Admin\x00", "display": "Admin"})

    response = idp.post("/Users", _user(roles=[{"value": value}]))

    assert_scim_error(response, 400, "invalidValue")
    _nothing_created()


def test_a_recursion_error_anywhere_on_the_request_path_is_a_400(idp, monkeypatch):
    from scim_provisioning.views import resources

    def overflow(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(resources.writes, "create", overflow)

    response = idp.post("/Users", _user())

    assert_scim_error(response, 400, "invalidSyntax")


# -- dates outside what a database stores --------------------------------------------------


def test_a_filter_date_past_year_9999_in_utc_is_a_400(idp, provision):
    """``9999-12-31T23:59:59-14:00`` is in year 10000 UTC: an OverflowError (500) on SQLite."""
    provision()

    response = idp.get("/Users", {"filter": 'meta.created gt "9999-12-31T23:59:59-14:00"'})

    body = assert_scim_error(response, 400, "invalidFilter")
    assert "9999-12-31T23:59:59-14:00" in body["detail"]


def test_an_extension_date_before_year_1_in_utc_is_a_400(idp):
    """``0001-01-01T00:00:00+14:00`` is in year 0 UTC: an OverflowError (500) on SQLite."""
    response = idp.post("/Users", _user(**{EXTENSION: {"startDate": "0001-01-01T00:00:00+14:00"}}))

    body = assert_scim_error(response, 400, "invalidValue")
    assert "startDate" in body["detail"]
    _nothing_created()


def test_the_last_storable_moment_is_accepted(idp):
    response = idp.post("/Users", _user(**{EXTENSION: {"startDate": "9999-12-31T23:59:59Z"}}))

    assert response.status_code == 201, response.content


class TestWithoutTimeZoneSupport:
    """A host with ``USE_TZ = False``: an IdP's ``…Z`` reaches naive columns as it would
    with Django's own forms (the moment in the site's time zone), not as a 500."""

    @pytest.fixture(autouse=True)
    def _naive(self, settings):
        settings.USE_TZ = False

    def test_a_filter_on_a_moment_with_an_offset(self, idp, provision):
        provision()

        response = idp.get("/Users", {"filter": 'meta.created gt "2020-01-01T00:00:00Z"'})

        assert response.status_code == 200, response.content
        assert response.json()["totalResults"] == 1

    def test_an_extension_date_time_with_an_offset(self, idp):
        response = idp.post("/Users", _user(**{EXTENSION: {"startDate": "2026-03-01T09:30:00Z"}}))

        assert response.status_code == 201, response.content
        assert str(User.objects.get().start_date) == "2026-03-01"
        found = idp.get("/Users", {"filter": f'{EXTENSION}:startDate gt "2026-02-01T00:00:00Z"'})
        assert found.json()["totalResults"] == 1


# -- a custom attribute longer than its host field -----------------------------------------


def test_a_custom_attribute_longer_than_its_host_field_is_a_400(idp):
    """``costCode`` goes onto ``User.cost_code`` (``max_length=64``): PostgreSQL refused the
    65th character with a DataError (a 500); SQLite stored it regardless."""
    response = idp.post("/Users", _user(**{EXTENSION: {"costCode": "C" * 65}}))

    body = assert_scim_error(response, 400, "invalidValue")
    assert body["detail"] == (
        f"'{EXTENSION}:costCode' is longer than the 64 characters this site stores."
    )
    _nothing_created()


def test_a_custom_attribute_as_long_as_its_host_field_is_stored(idp):
    response = idp.post("/Users", _user(**{EXTENSION: {"costCode": "C" * 64}}))

    assert response.status_code == 201, response.content
    assert User.objects.get().cost_code == "C" * 64


def test_a_patch_past_the_host_fields_length_changes_nothing(idp, provision):
    ada = provision(**{EXTENSION: {"costCode": "CC-1"}})

    response = idp.patch(
        f"/Users/{ada['id']}",
        patch_op({"op": "replace", "path": f"{EXTENSION}:costCode", "value": "C" * 65}),
    )

    assert_scim_error(response, 400, "invalidValue")
    assert SCIMUser.objects.get().attributes[EXTENSION] == {"costCode": "CC-1"}
    assert User.objects.get().cost_code == "CC-1"


# -- the team API ---------------------------------------------------------------------------


@pytest.mark.parametrize("lifetime", ["99999999999d", "99999999999999999w", 10**30])
def test_a_token_lifetime_past_what_a_timedelta_holds_is_a_400(team, lifetime):
    """Was a 500 (OverflowError in ``timedelta``)."""
    client = logged_in(member_of(team, Membership.Role.OWNER))

    response = client.post(
        "/api/teams/acme/scim/tokens/",
        json.dumps({"expires_in": lifetime}),
        content_type="application/json",
    )

    assert response.status_code == 400, response.content
    assert "expires_in" in response.json()
    assert not SCIMToken.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "tokens/%00/revoke/"),
        ("post", "domains/a%00b.example/check/"),
        ("get", "timeline/?person=%00"),
    ],
)
def test_a_nul_in_a_team_api_url_is_a_400(team, method, path):
    """Each reached a text column: a 500 on PostgreSQL."""
    client = logged_in(member_of(team, Membership.Role.OWNER))

    response = getattr(client, method)(f"/api/teams/acme/scim/{path}")

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert "NUL character" in response.json()["detail"]


def test_a_lone_surrogate_in_a_team_api_body_is_a_400(team):
    client = logged_in(member_of(team, Membership.Role.OWNER))

    response = client.post(
        "/api/teams/acme/scim/domains/",
        '{"domain": "acme\\udc00.example"}',
        content_type="application/json",
    )

    assert response.status_code == 400, response.content


def test_a_date_with_an_offset_reaches_a_date_field_as_the_day_written(idp):
    """The moment is compared and stored in UTC; a date field keeps the day the admin typed."""
    response = idp.post("/Users", _user(**{EXTENSION: {"startDate": "2026-03-01T00:00:00+02:00"}}))

    assert response.status_code == 201, response.content
    assert str(User.objects.get().start_date) == "2026-03-01"
