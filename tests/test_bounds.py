"""Every input has a bound; passing it is a SCIM error that changes nothing.

An IdP (or anyone holding a team's token) can send a body that is legal JSON
but costs the server without limit: tens of thousands of emails stored on one
user and served on every list page, a merge that compares every item with
every other, nesting that overflows a recursive parser. Each bound below is
a 400 with a message saying what the limit is, checked before the work, and
the database is left as it was.
"""

from __future__ import annotations

import json
import time

import pytest

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMGroup, SCIMGroupMembership, SCIMUser, SCIMUserValue
from scim_provisioning.patch import PatchDocument
from scim_provisioning.schemas import ENTERPRISE_USER_SCHEMA, USER_SCHEMA

from .conftest import assert_scim_error, patch_op

pytestmark = pytest.mark.django_db

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def _emails(count: int, start: int = 0) -> list[dict]:
    return [{"value": f"ada{i}@acme.com", "type": "other"} for i in range(start, start + count)]


def _user(user_name: str = "ada@acme.com", **extra) -> dict:
    return {"schemas": [USER], "userName": user_name, **extra}


def test_a_user_with_the_most_emails_allowed_is_created(idp, settings):
    settings.SCIM_PROVISIONING_MAX_ITEMS_PER_ATTRIBUTE = 20

    response = idp.post("/Users", _user(emails=_emails(20)))

    assert response.status_code == 201
    assert len(response.json()["emails"]) == 20
    assert SCIMUserValue.objects.filter(attribute="emails").count() == 20


def test_a_user_with_too_many_emails_is_refused_and_nothing_is_stored(idp, settings):
    settings.SCIM_PROVISIONING_MAX_ITEMS_PER_ATTRIBUTE = 20

    response = idp.post("/Users", _user(emails=_emails(21)))

    body = assert_scim_error(response, 400, "invalidValue")
    assert "'emails' has 21 values; at most 20 are accepted" in body["detail"]
    assert not SCIMUser.objects.exists()
    assert not Membership.objects.exists()


def test_sixty_thousand_emails_are_refused_by_default(idp):
    """The reported abuse: 60,000 emails were accepted and stored (201)."""
    emails = [{"value": f"{i}@a.io"} for i in range(60_000)]  # 1.3 MB: under the body limit

    response = idp.post("/Users", _user(emails=emails))

    assert_scim_error(response, 400, "invalidValue")
    assert not SCIMUser.objects.exists()


def test_a_patch_that_adds_past_the_limit_is_refused_and_changes_nothing(idp, provision, settings):
    settings.SCIM_PROVISIONING_MAX_ITEMS_PER_ATTRIBUTE = 20
    user = provision(emails=_emails(15))

    response = idp.patch(
        f"/Users/{user['id']}", patch_op({"op": "add", "path": "emails", "value": _emails(6, 15)})
    )

    assert_scim_error(response, 400, "invalidValue")
    record = SCIMUser.objects.get()
    assert len(record.attributes["emails"]) == 15
    assert record.version == 1


def test_a_patch_that_adds_emails_already_there_stays_within_the_limit(idp, provision, settings):
    settings.SCIM_PROVISIONING_MAX_ITEMS_PER_ATTRIBUTE = 20
    user = provision(emails=_emails(20))

    response = idp.patch(
        f"/Users/{user['id']}", patch_op({"op": "add", "path": "emails", "value": _emails(20)})
    )

    assert response.status_code == 200
    assert len(response.json()["emails"]) == 20


def test_a_value_filter_that_adds_an_item_past_the_limit_is_refused(idp, provision, settings):
    settings.SCIM_PROVISIONING_MAX_ITEMS_PER_ATTRIBUTE = 2
    user = provision(emails=_emails(2))
    operation = {"op": "add", "path": 'emails[type eq "work"].value', "value": "w@acme.com"}

    response = idp.patch(f"/Users/{user['id']}", patch_op(operation))

    assert_scim_error(response, 400, "invalidValue")
    assert len(SCIMUser.objects.get().attributes["emails"]) == 2


def test_merging_multi_valued_attributes_is_linear(settings):
    """PATCH add merged with a scan of the list per item: 60,000 items held a worker 42 s."""
    settings.SCIM_PROVISIONING_MAX_ITEMS_PER_ATTRIBUTE = 100_000
    engine = PatchDocument(USER_SCHEMA, (ENTERPRISE_USER_SCHEMA,))
    document = {"userName": "ada@acme.com", "emails": _emails(20_000)}
    body = patch_op({"op": "add", "path": "emails", "value": _emails(20_000, 10_000)})

    started = time.perf_counter()
    result = engine.apply(document, body)
    elapsed = time.perf_counter() - started

    assert len(result["emails"]) == 30_000
    assert elapsed < 3, f"merging 20,000 into 20,000 items took {elapsed:.1f} s"


def test_a_patch_with_too_many_operations_is_refused(idp, provision, settings):
    settings.SCIM_PROVISIONING_MAX_PATCH_OPERATIONS = 10
    user = provision()
    operations = [{"op": "replace", "path": "title", "value": f"T{i}"} for i in range(11)]

    response = idp.patch(f"/Users/{user['id']}", patch_op(*operations))

    body = assert_scim_error(response, 400, "invalidValue")
    assert "11 operations; at most 10" in body["detail"]
    assert "title" not in SCIMUser.objects.get().attributes


def test_a_string_longer_than_the_limit_is_refused(idp, settings):
    settings.SCIM_PROVISIONING_MAX_STRING_LENGTH = 50

    response = idp.post("/Users", _user(title="x" * 51))

    body = assert_scim_error(response, 400, "invalidValue")
    assert "'title' is longer than 50 characters" in body["detail"]
    assert not SCIMUser.objects.exists()


@pytest.mark.parametrize("opening,closing", [("[", "]"), ('{"a":', "}")], ids=["array", "object"])
def test_a_deeply_nested_body_is_a_400_not_a_500(idp, opening, closing):
    """50,000 levels overflowed the JSON parser's recursion: a 500."""
    raw = '{"schemas":["' + USER + '"],"userName":"ada@acme.com","x":'
    raw += opening * 50_000 + "1" + closing * 50_000 + "}"

    response = idp.post("/Users", raw)

    body = assert_scim_error(response, 400, "invalidSyntax")
    assert "deeper than 32 levels" in body["detail"]
    assert not SCIMUser.objects.exists()


def test_nesting_is_counted_outside_strings_only(idp):
    """Brackets inside string values are text, whatever their number."""
    response = idp.post("/Users", _user(title="[" * 40 + "{" * 40))

    assert response.status_code == 201
    assert response.json()["title"] == "[" * 40 + "{" * 40


def test_nesting_one_past_the_limit_is_refused(idp, settings):
    settings.SCIM_PROVISIONING_MAX_JSON_DEPTH = 5
    nested = {"a": {"b": {"c": {"d": 1}}}}  # the body's object, then 4 levels: 5

    assert idp.post("/Users", _user(x=nested)).status_code == 201
    response = idp.post("/Users", _user("bob@acme.com", x={"a": nested}))

    assert_scim_error(response, 400, "invalidSyntax")
    assert SCIMUser.objects.count() == 1


def test_a_patch_path_filter_of_many_clauses_is_a_400_not_a_500(idp, provision):
    """A value-filter path of hundreds of 'or' clauses overflowed the recursive matcher."""
    user = provision()
    clauses = " or ".join(["a pr"] * 500)  # within the 4,096 characters of a filter
    operation = {"op": "remove", "path": f"emails[{clauses}]"}

    response = idp.patch(f"/Users/{user['id']}", patch_op(operation))

    body = assert_scim_error(response, 400, "invalidFilter")
    assert "nested deeper than" in body["detail"]
    assert SCIMUser.objects.get().version == 1


def test_a_patch_path_longer_than_the_filter_limit_is_refused(idp, provision, settings):
    settings.SCIM_PROVISIONING_MAX_FILTER_LENGTH = 100
    user = provision()

    response = idp.patch(
        f"/Users/{user['id']}",
        patch_op({"op": "remove", "path": 'emails[value eq "' + "x" * 100 + '"]'}),
    )

    assert_scim_error(response, 400, "invalidPath")


# -- group members: large, but bounded per request ---------------------------------------


@pytest.fixture
def group(idp) -> dict:
    response = idp.post("/Groups", {"displayName": "Everyone"})
    assert response.status_code == 201
    return response.json()


def _member_values(count: int, start: int = 0) -> list[dict]:
    return [{"value": f"00000000-0000-4000-8000-{i:012d}"} for i in range(start, start + count)]


def test_a_group_patch_naming_too_many_members_in_one_operation_is_refused(
    idp, group, provision, settings
):
    settings.SCIM_PROVISIONING_MAX_MEMBERS_PER_REQUEST = 50
    ada = provision()
    operation = {
        "op": "add",
        "path": "members",
        "value": [{"value": ada["id"]}, *_member_values(50)],
    }

    response = idp.patch(f"/Groups/{group['id']}", patch_op(operation))

    body = assert_scim_error(response, 400, "invalidValue")
    assert "at most 50" in body["detail"]
    assert not SCIMGroupMembership.objects.exists()
    assert SCIMGroup.objects.get().version == 1


def test_a_group_patch_naming_too_many_members_across_operations_is_refused(
    idp, group, provision, settings
):
    settings.SCIM_PROVISIONING_MAX_MEMBERS_PER_REQUEST = 50
    ada = provision()
    operations = [
        {"op": "add", "path": "members", "value": [{"value": ada["id"]}]},
        *({"op": "add", "path": "members", "value": _member_values(10, 10 * i)} for i in range(5)),
    ]

    response = idp.patch(f"/Groups/{group['id']}", patch_op(*operations))

    body = assert_scim_error(response, 400, "invalidValue")
    assert "names 51 group members; at most 50" in body["detail"]
    assert not SCIMGroupMembership.objects.exists()


def test_a_group_patch_naming_exactly_the_bound_is_accepted(idp, group, provision, settings):
    settings.SCIM_PROVISIONING_MAX_MEMBERS_PER_REQUEST = 50
    ada = provision()
    operation = {
        "op": "add",
        "path": "members",
        "value": [{"value": ada["id"]}, *_member_values(49)],
    }

    response = idp.patch(f"/Groups/{group['id']}", patch_op(operation))

    assert response.status_code == 200, response.content
    assert list(SCIMGroupMembership.objects.values_list("user_id", flat=True)) == [
        SCIMUser.objects.get().pk
    ]


def test_members_removed_count_toward_the_bound_with_those_added(idp, group, provision, settings):
    settings.SCIM_PROVISIONING_MAX_MEMBERS_PER_REQUEST = 50
    ada = provision()
    operations = [
        {"op": "add", "path": "members", "value": [{"value": ada["id"]}, *_member_values(25)]},
        {"op": "remove", "path": "members", "value": _member_values(25, 100)},
    ]

    response = idp.patch(f"/Groups/{group['id']}", patch_op(*operations))

    body = assert_scim_error(response, 400, "invalidValue")
    assert "names 51 group members; at most 50" in body["detail"]
    assert not SCIMGroupMembership.objects.exists()


def test_a_group_created_with_too_many_members_is_refused(idp, settings):
    settings.SCIM_PROVISIONING_MAX_MEMBERS_PER_REQUEST = 50

    response = idp.post("/Groups", {"displayName": "Big", "members": _member_values(51)})

    assert_scim_error(response, 400, "invalidValue")
    assert not SCIMGroup.objects.exists()


def test_ten_thousand_members_fit_in_one_request_by_default(idp, group, provision):
    """The default bound lets Entra- and Okta-sized batches through."""
    ada = provision()
    members = [{"value": ada["id"]}, *_member_values(9_999)]

    response = idp.patch(
        f"/Groups/{group['id']}",
        patch_op({"op": "add", "path": "members", "value": members}),
        QUERY_STRING="excludedAttributes=members",
    )

    assert response.status_code == 200, response.content
    assert list(SCIMGroupMembership.objects.values_list("user_id", flat=True)) == [
        SCIMUser.objects.get().pk
    ]


def test_the_bounds_are_published_where_scim_can_publish_them(idp, settings):
    settings.SCIM_PROVISIONING_MAX_PAGE_SIZE = 500

    config = idp.get("/ServiceProviderConfig").json()

    assert config["filter"] == {"supported": True, "maxResults": 500}
    assert json.dumps(config)  # the rest are documented in docs/settings.md's table
