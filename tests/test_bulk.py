"""POST /Bulk (RFC 7644 §3.7): many operations in one request, each the write of a single one.

The RFC's own examples (§3.7.1-3.7.3, ``tests/payloads/rfc7644``, with email
userNames and this test's ids), a department provisioned in one request,
``failOnErrors``, team scope per operation, circular references, the limits
and the rate limit, the request log, and concurrent bulk requests over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from example_project.teams.models import Membership
from scim_provisioning import signals, writes
from scim_provisioning.models import (
    SCIMGroup,
    SCIMGroupMembership,
    SCIMLinkRefusal,
    SCIMRequestLog,
    SCIMUser,
)
from scim_provisioning.request_log_writer import writer
from scim_provisioning.tokens import issue_token

from .conftest import ERROR_SCHEMA, PAYLOADS, SCIM_JSON, IdPClient, assert_scim_error, patch_op
from .factories import SCIMUserFactory, UserFactory
from .host import prove_mailbox
from .test_concurrency import Call, assert_no_server_errors, race
from .test_query_budgets import BUDGETS
from .test_throttling import clock, limits, redis_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
BASE = "http://testserver/scim/v2"


# --- the IdP's side -----------------------------------------------------------------------


def bulk_request(*operations: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"schemas": [BULK_REQUEST], "Operations": list(operations), **fields}


def post_user(bulk_id: str | None, user_name: str, **extra: Any) -> dict[str, Any]:
    operation = {
        "method": "POST",
        "path": "/Users",
        "data": {
            "schemas": [USER],
            "userName": user_name,
            "name": {"givenName": user_name.split("@")[0].title(), "familyName": "Example"},
            "emails": [{"value": user_name, "type": "work", "primary": True}],
            "active": True,
            **extra,
        },
    }
    if bulk_id is not None:
        operation["bulkId"] = bulk_id
    return operation


def post_group(bulk_id: str, name: str, members: list[str]) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "/Groups",
        "bulkId": bulk_id,
        "data": {
            "schemas": [GROUP],
            "displayName": name,
            "members": [{"type": "User", "value": value} for value in members],
        },
    }


def rfc_payload(name: str, **ids: str) -> dict[str, Any]:
    """An RFC 7644 example from ``tests/payloads/rfc7644``, its ``{placeholders}`` filled in."""
    text = (PAYLOADS / "rfc7644" / name).read_text()
    for key, value in ids.items():
        text = text.replace("{" + key + "}", value.replace('"', '\\"'))
    payload = json.loads(text)
    payload.pop("source", None)  # where the example comes from; never sent
    return payload


def send(idp: IdPClient, body: Any) -> list[dict[str, Any]]:
    """POST ``body`` to /Bulk; the BulkResponse's operations (the bulk job itself is a 200)."""
    response = idp.post("/Bulk", body)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].split(";")[0] == SCIM_JSON
    answer = response.json()
    assert answer["schemas"] == [BULK_RESPONSE]
    return answer["Operations"]


def assert_operation_error(result: dict[str, Any], status: int, scim_type: str | None = None):
    assert result["status"] == str(status), result
    error = result["response"]
    assert error["schemas"] == [ERROR_SCHEMA]
    assert error["status"] == str(status)
    assert error.get("scimType") == scim_type
    assert error["detail"].strip()
    assert "version" not in result
    return error


def user_named(team, user_name: str) -> SCIMUser:
    return SCIMUser.objects.get(team=team, user_name=user_name)


def provisioned(idp: IdPClient, user_name: str, **extra: Any) -> dict[str, Any]:
    response = idp.post("/Users", post_user(None, user_name, **extra)["data"])
    assert response.status_code == 201, response.content
    return response.json()


# --- RFC 7644 §3.7.2: bulkId references -----------------------------------------------------


def test_rfc_3_7_2_a_user_and_a_group_naming_them_as_member(idp, team):
    results = send(idp, rfc_payload("bulk_3_7_2_user_and_group.json"))

    alice = user_named(team, "alice@example.com")
    group = SCIMGroup.objects.get(team=team, display_name="Tour Guides")
    assert results == [
        {
            "method": "POST",
            "bulkId": "qwerty",
            "location": f"{BASE}/Users/{alice.pk}",
            "version": alice.etag,
            "status": "201",
        },
        {
            "method": "POST",
            "bulkId": "ytrewq",
            "location": f"{BASE}/Groups/{group.pk}",
            "version": group.etag,
            "status": "201",
        },
    ]
    assert list(SCIMGroupMembership.objects.filter(group=group).values_list("user", flat=True)) == [
        alice.pk
    ]
    members = idp.get(f"/Groups/{group.pk}").json()["members"]
    assert [m["value"] for m in members] == [str(alice.pk)]


def test_rfc_3_7_2_the_group_may_come_before_the_user_it_references(idp, team):
    request = rfc_payload("bulk_3_7_2_user_and_group.json")
    request["Operations"].reverse()

    results = send(idp, request)

    assert [(r["bulkId"], r["status"]) for r in results] == [("ytrewq", "201"), ("qwerty", "201")]
    alice = user_named(team, "alice@example.com")
    group = SCIMGroup.objects.get(team=team, display_name="Tour Guides")
    assert results[1]["location"] == f"{BASE}/Users/{alice.pk}"
    assert SCIMGroupMembership.objects.filter(group=group, user=alice).exists()


def test_rfc_3_7_2_a_reference_in_the_enterprise_manager(idp, team):
    results = send(idp, rfc_payload("bulk_3_7_2_manager.json"))

    assert [r["status"] for r in results] == ["201", "201"]
    alice, bob = user_named(team, "alice@example.com"), user_named(team, "bob@example.com")
    assert bob.manager_id == alice.pk
    enterprise = idp.get(f"/Users/{bob.pk}").json()[ENTERPRISE]
    assert enterprise["manager"]["value"] == str(alice.pk)
    assert enterprise["employeeNumber"] == "11250"


def test_a_reference_in_the_path_of_a_later_operation(idp, team):
    results = send(
        idp,
        bulk_request(
            {
                "method": "PATCH",
                "path": "/Users/bulkId:ada",
                "data": patch_op({"op": "replace", "path": "active", "value": False}),
            },
            post_user("ada", "ada@acme.com"),
        ),
    )

    ada = user_named(team, "ada@acme.com")
    assert results[0] == {
        "method": "PATCH",
        "location": f"{BASE}/Users/{ada.pk}",
        "version": ada.etag,
        "status": "200",
    }
    assert ada.active is False
    assert Membership.objects.get(team=team, user=ada.user).is_active is False


def test_a_reference_to_a_failed_post_is_a_409_and_changes_nothing(idp, team):
    results = send(
        idp,
        bulk_request(
            post_user("bad", "not-an-email"),
            post_group("g", "Engineering", ["bulkId:bad"]),
        ),
    )

    assert_operation_error(results[0], 400, "invalidValue")
    error = assert_operation_error(results[1], 409)
    assert "'bad'" in error["detail"]
    assert "location" not in results[0] and "location" not in results[1]
    assert not SCIMGroup.objects.filter(team=team).exists()
    assert not SCIMUser.objects.filter(team=team).exists()


def test_a_reference_no_post_declares_is_a_400_for_that_operation(idp, team):
    results = send(
        idp,
        bulk_request(
            post_group("g", "Engineering", ["bulkId:nobody"]), post_user("u", "u@acme.com")
        ),
    )

    error = assert_operation_error(results[0], 400, "invalidValue")
    assert "'nobody'" in error["detail"]
    assert results[1]["status"] == "201"
    assert not SCIMGroup.objects.filter(team=team).exists()


def test_two_posts_with_one_bulk_id_refuse_the_request_whole(idp, team):
    response = idp.post(
        "/Bulk", bulk_request(post_user("same", "a@acme.com"), post_user("same", "b@acme.com"))
    )

    body = assert_scim_error(response, 400, "invalidValue")
    assert "'same'" in body["detail"]
    assert not SCIMUser.objects.filter(team=team).exists()


# --- RFC 7644 §3.7.1: circular references -----------------------------------------------------


def test_rfc_3_7_1_circular_group_references_are_409_and_create_nothing(idp, team):
    results = send(idp, rfc_payload("bulk_3_7_1_circular_groups.json"))

    assert [(r["method"], r["bulkId"]) for r in results] == [
        ("POST", "qwerty"),
        ("POST", "ytrewq"),
    ]
    for result in results:
        error = assert_operation_error(result, 409)
        assert "circular" in error["detail"]
        assert "location" not in result
    assert not SCIMGroup.objects.filter(team=team).exists()


def test_managers_of_each_other_are_409_and_the_rest_of_the_request_runs(idp, team):
    results = send(
        idp,
        bulk_request(
            post_user("a", "a@acme.com", **{ENTERPRISE: {"manager": {"value": "bulkId:b"}}}),
            post_user("b", "b@acme.com", **{ENTERPRISE: {"manager": {"value": "bulkId:a"}}}),
            post_group("g", "Reports of A", ["bulkId:a"]),  # waits on the cycle
            post_user("c", "c@acme.com"),
        ),
    )

    assert [r["status"] for r in results] == ["409", "409", "409", "201"]
    assert list(SCIMUser.objects.filter(team=team).values_list("user_name", flat=True)) == [
        "c@acme.com"
    ]
    assert not SCIMGroup.objects.filter(team=team).exists()


# --- RFC 7644 §3.7.3: results and errors ------------------------------------------------------


@pytest.fixture
def rfc_3_7_3_people(idp) -> dict[str, str]:
    """Bob, Dave (with a nickName) and Eve, as the §3.7.3 example assumes them."""
    bob = provisioned(idp, "robert@example.com")
    dave = provisioned(idp, "david@example.com", nickName="Davey")
    eve = provisioned(idp, "eve@example.com")
    return {
        "bob_id": bob["id"],
        "bob_version": bob["meta"]["version"],
        "dave_id": dave["id"],
        "dave_version": dave["meta"]["version"],
        "eve_id": eve["id"],
        "eve_version": eve["meta"]["version"],
    }


def test_rfc_3_7_3_post_put_patch_delete(idp, team, rfc_3_7_3_people):
    ids = rfc_3_7_3_people

    results = send(idp, rfc_payload("bulk_3_7_3_request.json", **ids))

    alice = user_named(team, "alice@example.com")
    bob = SCIMUser.objects.get(pk=ids["bob_id"])
    dave = SCIMUser.objects.get(pk=ids["dave_id"])
    assert results == [
        {
            "method": "POST",
            "bulkId": "qwerty",
            "location": f"{BASE}/Users/{alice.pk}",
            "version": alice.etag,
            "status": "201",
        },
        {
            "method": "PUT",
            "location": f"{BASE}/Users/{bob.pk}",
            "version": bob.etag,
            "status": "200",
        },
        {
            "method": "PATCH",
            "location": f"{BASE}/Users/{dave.pk}",
            "version": dave.etag,
            "status": "200",
        },
        {"method": "DELETE", "location": f"{BASE}/Users/{ids['eve_id']}", "status": "204"},
    ]
    assert bob.user_name == "bob@example.com"
    assert dave.user_name == "dave@example.com"
    assert "nickName" not in dave.attributes
    assert not SCIMUser.objects.filter(pk=ids["eve_id"]).exists()
    assert get_user_model().objects.filter(email="eve@example.com").exists()  # the account stays


def test_rfc_3_7_3_fail_on_errors_1_stops_after_the_first_error(idp, team, rfc_3_7_3_people):
    ids = rfc_3_7_3_people
    request = rfc_payload("bulk_3_7_3_request.json", **ids)
    request["Operations"][0]["data"] = ["userName", "Alice"]  # unparsable as a User

    results = send(idp, request)

    assert len(results) == 1
    assert results[0]["method"] == "POST" and results[0]["bulkId"] == "qwerty"
    assert_operation_error(results[0], 400, "invalidSyntax")
    assert "location" not in results[0]
    assert SCIMUser.objects.get(pk=ids["bob_id"]).user_name == "robert@example.com"
    assert SCIMUser.objects.get(pk=ids["dave_id"]).attributes["nickName"] == "Davey"
    assert SCIMUser.objects.filter(pk=ids["eve_id"]).exists()


def test_rfc_3_7_3_without_fail_on_errors_each_operation_fails_on_its_own(
    idp, team, rfc_3_7_3_people
):
    ids = rfc_3_7_3_people
    idp.patch(
        f"/Users/{ids['bob_id']}", patch_op({"op": "replace", "path": "title", "value": "Guide"})
    )
    idp.patch(
        f"/Users/{ids['dave_id']}", patch_op({"op": "replace", "path": "title", "value": "Guide"})
    )
    idp.delete(f"/Users/{ids['eve_id']}")
    request = rfc_payload("bulk_3_7_3_request.json", **ids)
    del request["failOnErrors"]
    request["Operations"][0]["data"] = ["userName", "Alice"]

    results = send(idp, request)

    assert [r["method"] for r in results] == ["POST", "PUT", "PATCH", "DELETE"]
    assert_operation_error(results[0], 400, "invalidSyntax")
    assert_operation_error(results[1], 412)
    assert_operation_error(results[2], 412)
    assert_operation_error(results[3], 404)
    assert results[1]["location"] == f"{BASE}/Users/{ids['bob_id']}"
    assert results[3]["location"] == f"{BASE}/Users/{ids['eve_id']}"
    assert SCIMUser.objects.get(pk=ids["bob_id"]).user_name == "robert@example.com"
    assert SCIMUser.objects.get(pk=ids["dave_id"]).user_name == "david@example.com"
    assert not SCIMUser.objects.filter(team=team, user_name="alice@example.com").exists()


def test_fail_on_errors_counts_errors_and_stops_at_the_limit(idp, team):
    results = send(
        idp,
        bulk_request(
            post_user("a", "a@acme.com"),
            post_user("b", "not-an-email"),
            post_user("c", "c@acme.com"),
            post_user("d", "a@acme.com"),  # taken by the first: 409
            post_user("e", "e@acme.com"),
            failOnErrors=2,
        ),
    )

    assert [r["status"] for r in results] == ["201", "400", "201", "409"]
    assert_operation_error(results[3], 409, "uniqueness")
    assert sorted(SCIMUser.objects.filter(team=team).values_list("user_name", flat=True)) == [
        "a@acme.com",
        "c@acme.com",
    ]


def test_a_failed_operation_changes_nothing_and_undoes_none_of_the_others(idp, team):
    ada = provisioned(idp, "ada@acme.com", title="Engineer")

    results = send(
        idp,
        bulk_request(
            post_user("b", "bea@acme.com"),
            {
                "method": "PATCH",
                "path": f"/Users/{ada['id']}",
                # The first operation is valid, the second is not: neither applies.
                "data": patch_op(
                    {"op": "replace", "path": "title", "value": "Manager"},
                    {"op": "replace", "path": "userName", "value": "bea@acme.com"},
                ),
            },
            post_user("c", "cy@acme.com"),
        ),
    )

    assert [r["status"] for r in results] == ["201", "409", "201"]
    record = SCIMUser.objects.get(pk=ada["id"])
    assert record.user_name == "ada@acme.com"
    assert record.attributes["title"] == "Engineer"
    assert record.etag == ada["meta"]["version"]
    assert SCIMUser.objects.filter(team=team).count() == 3


def test_a_database_outage_stops_the_request_after_the_operation_it_failed(idp, team, monkeypatch):
    real_create = writes.create
    calls = []

    def create(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("database is locked")
        return real_create(*args, **kwargs)

    monkeypatch.setattr(writes, "create", create)

    results = send(idp, bulk_request(*(post_user(f"u{i}", f"u{i}@acme.com") for i in range(4))))

    assert [r["status"] for r in results] == ["201", "503"]
    assert_operation_error(results[1], 503)
    assert len(calls) == 2
    assert list(SCIMUser.objects.filter(team=team).values_list("user_name", flat=True)) == [
        "u0@acme.com"
    ]


@override_settings(SCIM_PROVISIONING_MAX_PATCH_OPERATIONS=2)
def test_the_bounds_of_a_single_request_bound_each_operation(idp, team):
    ada = provisioned(idp, "ada@acme.com")
    three = [{"op": "replace", "path": "title", "value": f"T{i}"} for i in range(3)]

    results = send(
        idp,
        bulk_request(
            {"method": "PATCH", "path": f"/Users/{ada['id']}", "data": patch_op(*three)},
            {"method": "PATCH", "path": f"/Users/{ada['id']}", "data": patch_op(*three[:2])},
        ),
    )

    error = assert_operation_error(results[0], 400, "invalidValue")
    assert "at most 2" in error["detail"]
    assert results[1]["status"] == "200"
    assert SCIMUser.objects.get(pk=ada["id"]).attributes["title"] == "T1"


def test_version_is_if_match(idp, team):
    ada = provisioned(idp, "ada@acme.com")
    bea = provisioned(idp, "bea@acme.com")
    title = patch_op({"op": "replace", "path": "title", "value": "Lead"})

    results = send(
        idp,
        bulk_request(
            {"method": "PATCH", "path": f"/Users/{ada['id']}", "version": 'W/"7"', "data": title},
            {
                "method": "PATCH",
                "path": f"/Users/{bea['id']}",
                "version": bea["meta"]["version"],
                "data": title,
            },
        ),
    )

    assert_operation_error(results[0], 412)
    assert results[1]["status"] == "200"
    assert "title" not in SCIMUser.objects.get(pk=ada["id"]).attributes
    assert SCIMUser.objects.get(pk=bea["id"]).attributes["title"] == "Lead"


# --- a department in one request ------------------------------------------------------------

DEPARTMENTS = ("Engineering", "Sales", "Support", "Finance", "People")


def department_request(people: int = 200) -> dict[str, Any]:
    """What a client provisioning a department sends: its groups first, members by bulkId."""
    groups = [
        post_group(f"group-{k}", name, [f"bulkId:user-{i}" for i in range(people) if i % 5 == k])
        for k, name in enumerate(DEPARTMENTS)
    ]
    users = [
        post_user(
            f"user-{i}",
            f"person{i:03d}@acme.com",
            externalId=f"00u{i:06d}",
            **{ENTERPRISE: {"department": DEPARTMENTS[i % 5], "employeeNumber": str(i)}},
        )
        for i in range(people)
    ]
    return bulk_request(*groups, *users)


def test_a_department_of_200_people_and_5_groups_in_one_request(
    idp, team, django_capture_on_commit_callbacks
):
    received: list[signals.SCIMEvent] = []

    def on_provisioned(sender, event, **kwargs):
        received.append(event)

    signals.user_provisioned.connect(on_provisioned)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            results = send(idp, department_request(200))
    finally:
        signals.user_provisioned.disconnect(on_provisioned)

    assert len(results) == 205
    assert {r["status"] for r in results} == {"201"}
    assert SCIMUser.objects.filter(team=team).count() == 200
    assert Membership.objects.filter(team=team, is_active=True).count() == 200
    locations = {r["bulkId"]: r["location"] for r in results}
    for k, name in enumerate(DEPARTMENTS):
        group = SCIMGroup.objects.get(team=team, display_name=name)
        assert locations[f"group-{k}"] == f"{BASE}/Groups/{group.pk}"
        members = set(
            SCIMGroupMembership.objects.filter(group=group).values_list(
                "user__user_name", flat=True
            )
        )
        assert members == {f"person{i:03d}@acme.com" for i in range(200) if i % 5 == k}
    person = user_named(team, "person042@acme.com")
    assert locations["user-42"] == f"{BASE}/Users/{person.pk}"
    assert person.external_id == "00u000042"
    assert sorted(str(e.resource_id) for e in received) == sorted(
        str(pk) for pk in SCIMUser.objects.filter(team=team).values_list("pk", flat=True)
    )


def test_each_operation_runs_the_statements_of_its_single_request_and_no_more(
    idp, team, monkeypatch
):
    """A create's budget (tests/test_query_budgets.py): its first read checks a remembered
    token there; a bulk request's is looked up once, and its creates' first reads check
    nothing more. (The budget counts no groups read: a new record's answer needs none.)"""
    per_create = BUDGETS["create"]
    request = bulk_request(*(post_user(f"u{i}", f"u{i}@acme.com") for i in range(20)))
    idp.get("/ServiceProviderConfig")  # records the token's last use: not this request's cost
    handed: list[SCIMRequestLog] = []
    monkeypatch.setattr(writer, "submit", handed.append)  # as in a server: after the response

    with CaptureQueriesContext(connection) as queries:
        results = send(idp, request)

    assert {r["status"] for r in results} == {"201"}
    assert len(queries) <= 1 + 20 * per_create, len(queries)
    assert len(handed) == 1


# --- team scope ---------------------------------------------------------------------------


def test_another_teams_id_is_a_404_for_that_operation_only(idp, other_idp, team, other_team):
    theirs = provisioned(other_idp, "ada@globex.com", title="Globex")
    their_group = other_idp.post("/Groups", {"schemas": [GROUP], "displayName": "Globex"}).json()

    results = send(
        idp,
        bulk_request(
            post_user("mine", "ada@acme.com"),
            {
                "method": "PATCH",
                "path": f"/Users/{theirs['id']}",
                "data": patch_op({"op": "replace", "path": "title", "value": "Stolen"}),
            },
            {"method": "DELETE", "path": f"/Groups/{their_group['id']}"},
            {
                "method": "PUT",
                "path": f"/Users/{theirs['id']}",
                "data": {"schemas": [USER], "userName": "ada@globex.com", "active": False},
            },
            post_group("g", "Acme", ["bulkId:mine", theirs["id"]]),
        ),
    )

    assert [r["status"] for r in results] == ["201", "404", "404", "404", "201"]
    for result in results[1:4]:
        error = assert_operation_error(result, 404)
        assert "Globex" not in error["detail"]
    record = SCIMUser.objects.get(pk=theirs["id"])
    assert record.team == other_team
    assert record.attributes["title"] == "Globex"
    assert record.active is True
    assert SCIMGroup.objects.filter(pk=their_group["id"], team=other_team).exists()
    # A member value naming another team's user is ignored, as in a single POST.
    group = SCIMGroup.objects.get(team=team, display_name="Acme")
    assert list(SCIMGroupMembership.objects.filter(group=group).values_list("user", flat=True)) == [
        user_named(team, "ada@acme.com").pk
    ]


def test_an_id_another_scim_server_gave_works_in_an_operation_as_in_a_request(idp, team):
    """A site moved from django-scim2 keeps its IdP's ids (``legacy_id``), in bulk too."""
    record = SCIMUserFactory(team=team, legacy_id="42", user_name="jane@acme.com")

    results = send(
        idp,
        bulk_request(
            {
                "method": "PATCH",
                "path": "/Users/42",
                "data": patch_op({"op": "replace", "path": "title", "value": "Lead"}),
            }
        ),
    )

    assert results == [
        {
            "method": "PATCH",
            "location": f"{BASE}/Users/{record.pk}",
            "version": SCIMUser.objects.get(pk=record.pk).etag,
            "status": "200",
        }
    ]
    assert SCIMUser.objects.get(pk=record.pk).attributes["title"] == "Lead"


def test_a_refused_link_is_that_operations_409_and_is_shown_to_the_team(idp, team):
    """An account whose owner never proved the address is not linked, in bulk as alone."""
    squatter = UserFactory(email="victim@acme.com", password="attacker's password")

    results = send(
        idp, bulk_request(post_user("v", "victim@acme.com"), post_user("ok", "ok@acme.com"))
    )

    error = assert_operation_error(results[0], 409, "uniqueness")
    assert "victim@acme.com" in error["detail"]
    assert results[1]["status"] == "201"
    assert not SCIMUser.objects.filter(user=squatter).exists()
    assert not Membership.objects.filter(team=team, user=squatter).exists()
    refusal = SCIMLinkRefusal.objects.get()
    assert (refusal.team, refusal.email) == (team, "victim@acme.com")


def test_another_teams_user_name_is_free_in_this_team(idp, other_idp, team, monkeypatch):
    theirs = provisioned(other_idp, "ada@acme.com")
    prove_mailbox(monkeypatch, SCIMUser.objects.get(pk=theirs["id"]).user, "ada@acme.com")

    results = send(idp, bulk_request(post_user("a", "ada@acme.com")))

    assert results[0]["status"] == "201"
    assert SCIMUser.objects.filter(user_name="ada@acme.com").count() == 2


# --- what each operation may say --------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "status", "scim_type"),
    [
        ({"method": "GET", "path": "/Users"}, 400, "invalidValue"),
        ({"method": "POST", "data": {"userName": "a@acme.com"}}, 400, "invalidValue"),
        ({"method": "POST", "path": "/Devices", "data": {}}, 404, None),
        ({"method": "DELETE", "path": "/Users/1/2"}, 404, None),
        ({"method": "PUT", "path": "/Users", "data": {"userName": "a@acme.com"}}, 405, None),
        ({"method": "POST", "path": "/Users/abc", "data": {"userName": "a@acme.com"}}, 405, None),
        ({"method": "DELETE", "path": "/Users/not-a-uuid"}, 404, None),
        ({"method": "PATCH", "path": "/Users/x", "version": 3, "data": {}}, 400, "invalidValue"),
    ],
)
def test_a_malformed_operation_is_its_own_error(idp, team, operation, status, scim_type):
    results = send(idp, bulk_request(operation, post_user("ok", "ok@acme.com")))

    assert_operation_error(results[0], status, scim_type)
    assert results[1]["status"] == "201"
    assert list(SCIMUser.objects.filter(team=team).values_list("user_name", flat=True)) == [
        "ok@acme.com"
    ]


def test_paths_may_be_absolute_or_carry_the_base_path_and_methods_any_case(idp, team):
    ada = provisioned(idp, "ada@acme.com")

    results = send(
        idp,
        bulk_request(
            {**post_user("b", "bea@acme.com"), "path": f"{BASE}/users/"},
            {"method": "delete", "path": f"/scim/v2/Users/{ada['id']}"},
        ),
    )

    assert [(r["method"], r["status"]) for r in results] == [("POST", "201"), ("DELETE", "204")]
    assert list(SCIMUser.objects.filter(team=team).values_list("user_name", flat=True)) == [
        "bea@acme.com"
    ]


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        (["not", "an", "object"], "invalidSyntax"),
        ({"schemas": [BULK_REQUEST]}, "invalidSyntax"),
        ({"schemas": [BULK_REQUEST], "Operations": []}, "invalidValue"),
        ({"schemas": [BULK_REQUEST], "Operations": ["POST /Users"]}, "invalidSyntax"),
        (bulk_request(post_user("a", "a@acme.com"), failOnErrors=0), "invalidValue"),
        (bulk_request(post_user("a", "a@acme.com"), failOnErrors="1"), "invalidValue"),
        (bulk_request({**post_user(None, "a@acme.com"), "bulkId": 7}), "invalidValue"),
    ],
)
def test_a_malformed_bulk_request_is_refused_whole(idp, team, body, scim_type):
    response = idp.post("/Bulk", body)

    assert_scim_error(response, 400, scim_type)
    assert not SCIMUser.objects.filter(team=team).exists()


def test_only_post_is_allowed_on_bulk(idp):
    response = idp.get("/Bulk")

    assert_scim_error(response, 405)
    assert "POST" in response["Allow"]


# --- limits (RFC 7644 §3.7.4) -----------------------------------------------------------------


def test_the_service_provider_config_publishes_the_limits(idp):
    spc = idp.get("/ServiceProviderConfig").json()

    assert spc["bulk"] == {"supported": True, "maxOperations": 1000, "maxPayloadSize": 2097152}


@override_settings(SCIM_PROVISIONING_BULK_MAX_OPERATIONS=3)
def test_more_operations_than_max_operations_is_a_413_and_runs_none(idp, team):
    users = [post_user(f"u{i}", f"u{i}@acme.com") for i in range(4)]

    response = idp.post("/Bulk", bulk_request(*users))

    body = assert_scim_error(response, 413)
    assert "maxOperations is 3" in body["detail"]
    assert not SCIMUser.objects.filter(team=team).exists()
    assert send(idp, bulk_request(*users[:3]))[2]["status"] == "201"


@override_settings(SCIM_PROVISIONING_MAX_BODY_SIZE=4096)
def test_a_payload_over_max_payload_size_is_a_413_and_runs_none(idp, team):
    assert idp.get("/ServiceProviderConfig").json()["bulk"]["maxPayloadSize"] == 4096
    users = [post_user(f"u{i}", f"user{i}@acme.com") for i in range(40)]

    response = idp.post("/Bulk", bulk_request(*users))

    body = assert_scim_error(response, 413)
    assert "4096" in body["detail"]
    assert not SCIMUser.objects.filter(team=team).exists()


@override_settings(SCIM_PROVISIONING_BULK_MAX_OPERATIONS=0)
def test_bulk_can_be_turned_off(idp, team):
    assert idp.get("/ServiceProviderConfig").json()["bulk"]["supported"] is False

    response = idp.post("/Bulk", bulk_request(post_user("a", "a@acme.com")))

    assert_scim_error(response, 501)
    assert not SCIMUser.objects.filter(team=team).exists()


# --- the rate limit counts each operation -------------------------------------------------------


@pytest.fixture(params=["locmem", pytest.param("redis", marks=pytest.mark.redis)])
def rate_limited(request, limits):  # noqa: F811
    """5 requests per 1-second window, the clock frozen; counted in local memory or Redis."""
    limits.SCIM_PROVISIONING_RATE_LIMIT = 5
    if request.param == "redis":
        limits.CACHES = {
            **limits.CACHES,
            "throttle": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": request.getfixturevalue("redis_url"),
                "KEY_PREFIX": f"scim-test-{uuid.uuid4()}",
            },
        }
    return limits


def test_each_operation_spends_one_request_of_the_rate_limit(rate_limited, idp, team):
    first = idp.post(
        "/Bulk", bulk_request(*(post_user(f"a{i}", f"a{i}@acme.com") for i in range(3)))
    )
    second = idp.post(
        "/Bulk", bulk_request(*(post_user(f"b{i}", f"b{i}@acme.com") for i in range(3)))
    )

    assert first.status_code == 200
    body = assert_scim_error(second, 429)
    assert "throttled" in body["detail"].lower()
    assert int(second["Retry-After"]) >= 1
    assert SCIMUser.objects.filter(team=team).count() == 3
    # The refused bulk request spent nothing: two single requests still fit, the third not.
    assert [idp.get("/Users?count=1").status_code for _ in range(3)] == [200, 200, 429]


def test_the_rate_limit_burst_bounds_max_operations(rate_limited, idp, team):
    assert idp.get("/ServiceProviderConfig").json()["bulk"]["maxOperations"] == 5
    response = idp.post(
        "/Bulk", bulk_request(*(post_user(f"u{i}", f"u{i}@acme.com") for i in range(6)))
    )

    body = assert_scim_error(response, 413)
    assert "maxOperations is 5" in body["detail"]
    assert not SCIMUser.objects.filter(team=team).exists()


# --- the request log ------------------------------------------------------------------------


def test_one_log_row_for_the_bulk_request_and_no_password_in_any(idp, team):
    ada = provisioned(idp, "ada@acme.com")
    results = send(
        idp,
        bulk_request(
            post_user("b", "bea@acme.com", password="Bea-Secret-1"),
            {
                "method": "PUT",
                "path": f"/Users/{ada['id']}",
                "data": {"schemas": [USER], "userName": "ada@acme.com", "password": "Ada-Secret-2"},
            },
            {
                "method": "PATCH",
                "path": f"/Users/{ada['id']}",
                "data": patch_op(
                    {"op": "replace", "value": {"password": "Ada-Secret-3"}},
                    {"op": "replace", "path": "password", "value": "Ada-Secret-4"},
                ),
            },
        ),
    )
    assert [r["status"] for r in results] == ["201", "200", "200"]
    assert writer.flush()

    (row,) = SCIMRequestLog.objects.filter(path="/scim/v2/Bulk")
    assert (row.method, row.status, row.team_id) == ("POST", 200, team.pk)
    assert "bea@acme.com" in row.summary
    dumped = json.dumps(list(SCIMRequestLog.objects.values()), default=str)
    for secret in ("Bea-Secret-1", "Ada-Secret-2", "Ada-Secret-3", "Ada-Secret-4"):
        assert secret not in dumped
    bea = user_named(team, "bea@acme.com")
    assert not bea.user.has_usable_password()
    assert "password" not in bea.attributes


# --- the same writes as single requests -------------------------------------------------------


def test_operations_send_the_signals_of_their_single_requests(
    idp, team, django_capture_on_commit_callbacks
):
    ada = provisioned(idp, "ada@acme.com")
    received: list[tuple[str, signals.SCIMEvent]] = []
    watched = ("user_provisioned", "user_deactivated", "user_deprovisioned", "group_created")
    handlers = {}
    for name in watched:

        def handler(sender, event, _name=name, **kwargs):
            received.append((_name, event))

        handlers[name] = handler
        getattr(signals, name).connect(handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            send(
                idp,
                bulk_request(
                    post_user("b", "bea@acme.com"),
                    {
                        "method": "PATCH",
                        "path": "/Users/bulkId:b",
                        "data": patch_op({"op": "replace", "path": "active", "value": False}),
                    },
                    post_group("g", "Team", ["bulkId:b"]),
                    {"method": "DELETE", "path": f"/Users/{ada['id']}"},
                ),
            )
    finally:
        for name in watched:
            getattr(signals, name).disconnect(handlers[name])

    bea = user_named(team, "bea@acme.com")
    assert [(name, str(event.resource_id)) for name, event in received] == [
        ("user_provisioned", str(bea.pk)),
        ("user_deactivated", str(bea.pk)),
        ("group_created", str(SCIMGroup.objects.get(team=team).pk)),
        ("user_deprovisioned", ada["id"]),
    ]


@pytest.mark.django_db(transaction=True)
def test_each_operation_commits_before_the_next_even_with_atomic_requests(
    team, monkeypatch, settings
):
    """A host's ATOMIC_REQUESTS would hold every lock and signal until the last operation."""
    idp = IdPClient(issue_token(team).plaintext)
    events: list[str] = []
    real_create = writes.create

    def create(*args, **kwargs):
        events.append("create")
        return real_create(*args, **kwargs)

    def on_provisioned(sender, event, **kwargs):
        events.append("committed")

    monkeypatch.setattr(writes, "create", create)
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    signals.user_provisioned.connect(on_provisioned)
    try:
        results = send(
            idp, bulk_request(post_user("a", "a@acme.com"), post_user("b", "b@acme.com"))
        )
    finally:
        signals.user_provisioned.disconnect(on_provisioned)

    assert [r["status"] for r in results] == ["201", "201"]
    assert events == ["create", "committed", "create", "committed"]


# --- concurrent bulk requests over HTTP ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_bulk_requests_keep_every_write(live_server, team):
    token = issue_token(team).plaintext
    api = IdPClient(token)
    shared = api.post("/Groups", {"schemas": [GROUP], "displayName": "Everyone"}).json()
    calls = []
    for r in range(4):
        people = [post_user(f"p{i}", f"r{r}p{i}@acme.com") for i in range(10)]
        calls.append(
            Call(
                "POST",
                "/Bulk",
                bulk_request(
                    post_group(f"g{r}", f"Request {r}", [f"bulkId:p{i}" for i in range(10)]),
                    *people,
                    {
                        "method": "PATCH",
                        "path": f"/Groups/{shared['id']}",
                        "data": patch_op(
                            {
                                "op": "add",
                                "path": "members",
                                "value": [{"value": f"bulkId:p{i}"} for i in range(10)],
                            }
                        ),
                    },
                ),
            )
        )

    replies = race(live_server.url, token, calls)

    assert_no_server_errors(replies)
    for reply in replies:
        assert reply.status == 200, reply.describe()
        statuses = [op["status"] for op in reply.body["Operations"]]
        assert statuses == ["201"] * 11 + ["200"], reply.describe()
    assert SCIMUser.objects.filter(team=team).count() == 40
    assert SCIMGroupMembership.objects.filter(group_id=shared["id"]).count() == 40
    for r in range(4):
        group = SCIMGroup.objects.get(team=team, display_name=f"Request {r}")
        assert SCIMGroupMembership.objects.filter(group=group).count() == 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_bulk_requests_for_the_same_people_create_each_once(live_server, team):
    token = issue_token(team).plaintext
    people = [post_user(f"p{i}", f"person{i}@acme.com") for i in range(8)]
    calls = [Call("POST", "/Bulk", bulk_request(*people)) for _ in range(4)]

    replies = race(live_server.url, token, calls)

    assert_no_server_errors(replies)
    by_person: dict[int, list[str]] = {i: [] for i in range(8)}
    for reply in replies:
        assert reply.status == 200, reply.describe()
        for i, op in enumerate(reply.body["Operations"]):
            by_person[i].append(op["status"])
            if op["status"] == "409":
                assert op["response"]["scimType"] == "uniqueness"
    for statuses in by_person.values():
        assert sorted(statuses) == ["201", "409", "409", "409"], by_person
    assert SCIMUser.objects.filter(team=team).count() == 8
    assert get_user_model().objects.filter(email__startswith="person").count() == 8


# --- scim2-cli ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(sys.version_info < (3, 11), reason="scim2-cli needs Python 3.11 or newer")
@pytest.mark.ci_may_skip  # only for that reason: on 3.11+ a missing scim2-cli fails below
def test_scim2_cli_bulk_provisions_a_user_and_their_group(live_server, team):
    import scim2_cli  # noqa: F401 - the dev extra installs it on Python 3.11+

    command = Path(sys.executable).with_name("scim2")
    token = issue_token(team).plaintext
    request = rfc_payload("bulk_3_7_2_user_and_group.json")
    request["Operations"].reverse()  # the group first: its member is resolved all the same

    finished = subprocess.run(
        [str(command), "--url", f"{live_server.url}/scim/v2", "bulk", "--no-indent"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        # The token goes in the environment, as scim2-cli advises: not on the command line.
        env={**os.environ, "SCIM_CLI_HEADERS": f"Authorization: Bearer {token}"},
    )

    assert finished.returncode == 0, finished.stderr + finished.stdout
    answer = json.loads(finished.stdout)  # the BulkResponse, as scim2-models read it
    assert answer["schemas"] == [BULK_RESPONSE]
    assert [(op["bulkId"], op["status"]) for op in answer["Operations"]] == [
        ("ytrewq", "201"),
        ("qwerty", "201"),
    ]
    alice = user_named(team, "alice@example.com")
    group = SCIMGroup.objects.get(team=team, display_name="Tour Guides")
    assert answer["Operations"][1]["location"] == f"{live_server.url}/scim/v2/Users/{alice.pk}"
    assert SCIMGroupMembership.objects.filter(group=group, user=alice).exists()
