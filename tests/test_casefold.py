"""One case-insensitive lookup (issue 26): names match whatever their case, one rule for all.

Of two keys equal but for case, the last wins, as the last of two equal keys
does in JSON itself; before, PATCH took the first ``Operations`` and ``/Bulk``
and ``.search`` the last.
"""

from __future__ import annotations

import pytest

from scim_provisioning.casefold import (
    find_insensitive,
    fold_keys,
    get_insensitive,
    has_insensitive,
    key_insensitive,
)
from scim_provisioning.models import SCIMUser

from .conftest import patch_op

SCHEMAS = ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]


def test_a_name_is_found_whatever_its_case():
    body = {"Operations": [1], "schemas": []}

    assert get_insensitive(body, "operations") == [1]
    assert get_insensitive(body, "OPERATIONS") == [1]
    assert key_insensitive(body, "oPeRaTiOnS") == "Operations"
    assert has_insensitive(body, "SCHEMAS")
    assert fold_keys(body) == {"operations": [1], "schemas": []}


def test_an_absent_name_is_the_default():
    assert get_insensitive({"a": 1}, "b") is None
    assert get_insensitive({"a": 1}, "b", 0) == 0
    assert key_insensitive({}, "a") is None
    assert not has_insensitive({"ab": 1}, "a")


def test_of_keys_equal_but_for_case_the_last_wins_everywhere():
    body = {"value": "first", "VALUE": "last"}

    assert get_insensitive(body, "Value") == "last"
    assert key_insensitive(body, "Value") == "VALUE"
    assert fold_keys(body) == {"value": "last"}


@pytest.mark.parametrize(
    ("keys", "name"),
    [
        ({"ss": 1}, "ß"),  # str.casefold would call these equal; SCIM names are ASCII
        ({"strasse": 1}, "STRAßE"),
        ({"value\x00": 1}, "value"),
        ({1: "x", None: "y"}, "1"),  # keys that are not text are never a name
    ],
)
def test_only_what_lower_case_makes_equal_is_equal(keys, name):
    assert get_insensitive(keys, name) is None


def test_a_found_item_is_the_first_whose_name_matches():
    items = [("userName", 1), ("emails", 2)]

    assert find_insensitive(items, "USERNAME", key=lambda item: item[0]) == ("userName", 1)
    assert find_insensitive(items, "phone", key=lambda item: item[0]) is None


@pytest.mark.django_db
def test_a_patch_with_two_operations_lists_applies_the_last_like_bulk(idp, provision):
    ada = provision("ada@acme.com")
    body = {
        "schemas": SCHEMAS,
        "Operations": [{"op": "replace", "path": "displayName", "value": "First"}],
        "operations": [{"op": "replace", "path": "displayName", "value": "Last"}],
    }

    response = idp.patch(f"/Users/{ada['id']}", body)

    assert response.status_code == 200, response.content
    assert response.json()["displayName"] == "Last"
    assert SCIMUser.objects.get(pk=ada["id"]).attributes["displayName"] == "Last"


@pytest.mark.django_db
def test_a_patch_names_its_fields_in_any_case(idp, provision):
    ada = provision("ada@acme.com")

    response = idp.patch(
        f"/Users/{ada['id']}",
        {"SCHEMAS": SCHEMAS, "OPERATIONS": [{"OP": "Replace", "PATH": "title", "VALUE": "CTO"}]},
    )

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "CTO"


@pytest.mark.django_db
def test_a_query_parameter_is_read_whatever_its_case(idp, provision):
    provision("ada@acme.com")
    provision("bob@acme.com")

    response = idp.get('/Users?FILTER=userName eq "bob@acme.com"&COUNT=5')

    assert response.status_code == 200, response.content
    assert [r["userName"] for r in response.json()["Resources"]] == ["bob@acme.com"]


@pytest.mark.django_db
def test_a_value_path_filter_reads_the_item_whatever_its_case(idp, provision):
    ada = provision("ada@acme.com")
    emails = [{"value": "ada@acme.com", "type": "work", "primary": True}]
    assert (
        idp.patch(
            f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "emails", "value": emails})
        ).status_code
        == 200
    )

    response = idp.patch(
        f"/Users/{ada['id']}",
        patch_op({"op": "replace", "path": 'emails[TYPE eq "work"].Value', "value": "a@acme.com"}),
    )

    assert response.status_code == 200, response.content
    assert [e["value"] for e in response.json()["emails"]] == ["a@acme.com"]
