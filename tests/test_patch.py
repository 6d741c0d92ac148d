"""The PATCH engine alone (RFC 7644 §3.5.2): operations applied to a document.

The HTTP tests (test_users_update.py, test_groups.py) reach it through the
resource types, whose engines are built once per process; these build their
own, so what an engine is made of is tested too. Each test is one operation an
IdP sends and the document (or the SCIM error) the RFC makes of it.
"""

from __future__ import annotations

from typing import Any

import pytest

from scim_provisioning.exceptions import SCIMError
from scim_provisioning.patch import PatchDocument
from scim_provisioning.schemas import ENTERPRISE_USER_SCHEMA, USER_SCHEMA, Attribute, Schema

from .conftest import patch_op

ENTERPRISE = ENTERPRISE_USER_SCHEMA.id
BADGES = "urn:example:params:scim:schemas:extension:badges:2.0:User"
# An extension with a multi-valued attribute, as a site may declare one.
BADGES_SCHEMA = Schema(
    id=BADGES,
    name="Badges",
    description="Badges",
    attributes=(Attribute("badges", multi_valued=True, description="Badges held."),),
)


def _engine() -> PatchDocument:
    return PatchDocument(USER_SCHEMA, (ENTERPRISE_USER_SCHEMA, BADGES_SCHEMA))


def _apply(document: dict[str, Any], *operations: dict[str, Any]) -> dict[str, Any]:
    return _engine().apply(document, patch_op(*operations))


def _refusal(document: dict[str, Any], *operations: dict[str, Any]) -> SCIMError:
    return _body_refusal(patch_op(*operations), document)


def _body_refusal(body: Any, document: dict[str, Any] | None = None) -> SCIMError:
    """The SCIM error of applying ``body`` (a whole PATCH body) to ``document``."""
    with pytest.raises(SCIMError) as raised:
        _engine().apply({"userName": "ada"} if document is None else document, body)
    return raised.value


def test_an_extension_attribute_is_set_under_its_urn_however_the_urn_is_cased():
    path = f"{ENTERPRISE.upper()}:department"

    result = _apply({"userName": "ada"}, {"op": "replace", "path": path, "value": "R&D"})

    assert result == {"userName": "ada", ENTERPRISE: {"department": "R&D"}}


def test_an_extension_attribute_named_without_its_urn_is_found_in_its_extension():
    result = _apply({"userName": "ada"}, {"op": "add", "path": "department", "value": "R&D"})

    assert result == {"userName": "ada", ENTERPRISE: {"department": "R&D"}}


def test_a_remove_without_a_path_is_a_no_target_error_saying_why():
    error = _refusal({"userName": "ada"}, {"op": "remove"})

    assert (error.status_code, error.scim_type) == (400, "noTarget")
    assert str(error.detail) == "A 'remove' operation needs a 'path'."


def test_an_operation_without_a_path_needs_an_object_saying_why():
    error = _refusal({"userName": "ada"}, {"op": "replace", "value": "ada"})

    assert (error.status_code, error.scim_type) == (400, "invalidValue")
    assert str(error.detail) == "An operation without 'path' needs an object as its 'value'."


def test_removing_an_extension_the_user_does_not_have_changes_nothing():
    result = _apply({"userName": "ada"}, {"op": "remove", "path": ENTERPRISE})

    assert result == {"userName": "ada"}


def test_a_whole_extension_set_to_something_other_than_an_object_is_refused_saying_why():
    error = _refusal({"userName": "ada"}, {"op": "replace", "path": ENTERPRISE, "value": "R&D"})

    assert (error.status_code, error.scim_type) == (400, "invalidValue")
    assert str(error.detail) == f"The value for '{ENTERPRISE}' must be an object."


def test_an_id_sent_inside_a_whole_extension_is_no_change():
    value = {"id": "2819c223", "department": "R&D"}

    result = _apply({"userName": "ada"}, {"op": "replace", "path": ENTERPRISE, "value": value})

    assert result == {"userName": "ada", ENTERPRISE: {"department": "R&D"}}


def test_an_add_of_a_whole_extension_adds_to_its_multi_valued_attributes():
    document = {"userName": "ada", BADGES: {"badges": ["first-aid"]}}

    result = _apply(document, {"op": "add", "path": BADGES, "value": {"badges": ["fire-warden"]}})

    assert result[BADGES] == {"badges": ["first-aid", "fire-warden"]}


def test_removing_a_sub_attribute_of_values_the_user_does_not_have_changes_nothing():
    result = _apply({"userName": "ada"}, {"op": "remove", "path": "emails.type"})

    assert result == {"userName": "ada"}


def test_removing_a_sub_attribute_leaves_values_without_it_alone():
    emails = [{"value": "a@acme.com", "type": "work"}, {"value": "b@acme.com"}]

    result = _apply({"userName": "ada", "emails": emails}, {"op": "remove", "path": "emails.type"})

    assert result["emails"] == [{"value": "a@acme.com"}, {"value": "b@acme.com"}]


def test_a_sub_attribute_of_a_complex_attribute_the_user_does_not_have_creates_it():
    result = _apply(
        {"userName": "ada"}, {"op": "replace", "path": "name.givenName", "value": "Ada"}
    )

    assert result == {"userName": "ada", "name": {"givenName": "Ada"}}


def test_removing_a_sub_attribute_that_is_not_there_changes_nothing():
    document = {"userName": "ada", "name": {"givenName": "Ada"}}

    result = _apply(document, {"op": "remove", "path": "name.middleName"})

    assert result == document


def test_a_filtered_remove_on_a_manager_the_user_does_not_have_changes_nothing():
    path = f'{ENTERPRISE}:manager[value eq "26118915"]'

    result = _apply(
        {"userName": "ada", ENTERPRISE: {"department": "R&D"}}, {"op": "remove", "path": path}
    )

    assert result == {"userName": "ada", ENTERPRISE: {"department": "R&D"}}


def test_removing_a_sub_attribute_of_the_filtered_value_that_lacks_it_changes_nothing():
    document = {"userName": "ada", "roles": [{"value": "Admin", "type": "app"}]}

    result = _apply(document, {"op": "remove", "path": 'roles[value eq "Admin"].display'})

    assert result == document


def test_a_filter_that_matches_nothing_and_describes_no_value_is_a_no_target_error():
    document = {"userName": "ada", "emails": [{"value": "a@acme.com", "type": "work"}]}
    operation = {"op": "replace", "path": 'emails[value co "zzz"].type', "value": "home"}

    error = _refusal(document, operation)

    assert (error.status_code, error.scim_type) == (400, "noTarget")
    assert str(error.detail) == "No value of 'emails' matches the filter."


def test_a_filtered_value_the_user_lacks_is_added_beside_the_others():
    document = {"userName": "ada", "emails": [{"value": "a@home.org", "type": "home"}]}
    operation = {"op": "replace", "path": 'emails[type eq "work"].value', "value": "a@acme.com"}

    result = _apply(document, operation)

    assert result["emails"] == [
        {"value": "a@home.org", "type": "home"},
        {"type": "work", "value": "a@acme.com"},
    ]


def test_a_value_list_removes_values_without_a_value_sub_attribute_by_their_content():
    roles = [{"display": "Admin"}, {"display": "Viewer"}]

    result = _apply(
        {"userName": "ada", "roles": roles},
        {"op": "remove", "path": "roles", "value": [{"display": "Viewer"}]},
    )

    assert result["roles"] == [{"display": "Admin"}]


def test_a_path_qualified_by_the_core_schema_urn_names_the_core_attribute():
    path = f"{USER_SCHEMA.id}:name.givenName"

    result = _apply({"userName": "ada"}, {"op": "replace", "path": path, "value": "Ada"})

    assert result == {"userName": "ada", "name": {"givenName": "Ada"}}


def test_a_value_added_twice_in_one_operation_is_added_once():
    document = {"userName": "ada", "emails": [{"value": "a@acme.com", "type": "work"}]}
    home = {"value": "a@home.org", "type": "home"}

    result = _apply(document, {"op": "add", "path": "emails", "value": [home, home]})

    assert result["emails"] == [{"value": "a@acme.com", "type": "work"}, home]


def test_a_filter_whose_value_cannot_be_made_is_a_no_target_error():
    document = {"userName": "ada", "emails": [{"value": "a@acme.com", "type": "work"}]}
    operation = {"op": "replace", "path": 'emails[colour eq "red"].value', "value": "b@acme.com"}

    error = _refusal(document, operation)

    assert (error.status_code, error.scim_type) == (400, "noTarget")
    assert str(error.detail) == "No value of 'emails' matches the filter."


def test_a_filtered_value_replaced_by_an_empty_object_keeps_its_sub_attributes():
    document = {"userName": "ada", "emails": [{"value": "a@acme.com", "type": "work"}]}

    result = _apply(document, {"op": "replace", "path": 'emails[type eq "work"]', "value": {}})

    assert result == document


def test_a_complex_value_replaced_keeps_the_sub_attributes_not_given():
    document = {"userName": "ada", "name": {"givenName": "A", "familyName": "Lovelace"}}

    result = _apply(document, {"op": "replace", "path": "name", "value": {"givenName": "Ada"}})

    assert result["name"] == {"givenName": "Ada", "familyName": "Lovelace"}


def test_an_id_is_refused_as_set_by_the_server_saying_so():
    error = _refusal({"userName": "ada"}, {"op": "replace", "path": "id", "value": "x"})

    assert (error.status_code, error.scim_type) == (400, "mutability")
    assert str(error.detail) == "'id' is set by the server and cannot be changed."


def test_a_read_only_attribute_is_refused_saying_so():
    operation = {"op": "add", "path": "groups", "value": [{"value": "e9e30dba"}]}

    error = _refusal({"userName": "ada"}, operation)

    assert (error.status_code, error.scim_type) == (400, "mutability")
    assert str(error.detail) == "'groups' is read-only."


# An extension with an attribute of the same name as a core one.
TITLES = "urn:example:params:scim:schemas:extension:titles:2.0:User"
TITLES_SCHEMA = Schema(
    id=TITLES,
    name="Titles",
    description="Titles",
    attributes=(Attribute("title", description="A title held in the organisation."),),
)


def test_an_extension_attribute_named_with_its_urn_is_the_extensions_though_core_has_the_name():
    engine = PatchDocument(USER_SCHEMA, (TITLES_SCHEMA,))
    body = patch_op({"op": "replace", "path": f"{TITLES}:title", "value": "Warden"})

    result = engine.apply({"userName": "ada", "title": "Engineer"}, body)

    assert result == {"userName": "ada", "title": "Engineer", TITLES: {"title": "Warden"}}


def test_a_bare_name_is_the_core_attribute_though_an_extension_has_it_too():
    engine = PatchDocument(USER_SCHEMA, (TITLES_SCHEMA,))
    body = patch_op({"op": "replace", "path": "title", "value": "Warden"})

    result = engine.apply({"userName": "ada", "title": "Engineer"}, body)

    assert result == {"userName": "ada", "title": "Warden"}


def test_an_unsupported_attribute_is_ignored_and_logged_by_its_path(caplog):
    operation = {"op": "replace", "path": "favouriteColour", "value": "red"}

    result = _apply({"userName": "ada"}, operation)

    assert result == {"userName": "ada"}
    assert [r.getMessage() for r in caplog.records] == [
        "SCIM PATCH ignored an unsupported attribute path 'favouriteColour'"
    ]


def test_an_add_without_a_value_is_refused_saying_which():
    error = _refusal({"userName": "ada"}, {"op": "add", "path": "title"})

    assert (error.status_code, error.scim_type) == (400, "invalidValue")
    assert str(error.detail) == "The 'add' operation on 'title' needs a 'value'."


def test_removing_an_attribute_of_an_extension_the_user_does_not_have_adds_no_extension():
    result = _apply({"userName": "ada"}, {"op": "remove", "path": f"{ENTERPRISE}:department"})

    assert result == {"userName": "ada"}


def test_removing_the_last_value_removes_the_attribute():
    document = {"userName": "ada", "roles": [{"value": "Admin"}]}

    result = _apply(document, {"op": "remove", "path": "roles", "value": [{"value": "admin"}]})

    assert result == {"userName": "ada"}


def test_an_operation_that_is_not_an_object_is_refused_saying_so():
    error = _refusal({"userName": "ada"}, "replace")  # type: ignore[arg-type]

    assert (error.status_code, error.scim_type) == (400, "invalidSyntax")
    assert str(error.detail) == "Each operation must be a JSON object."


def test_an_unknown_op_is_refused_naming_it():
    error = _refusal({"userName": "ada"}, {"op": "merge", "path": "title", "value": "x"})

    assert (error.status_code, error.scim_type) == (400, "invalidSyntax")
    assert str(error.detail) == "'op' must be add, replace or remove, not 'merge'."


@pytest.mark.parametrize("path", ["  ", 7])
def test_a_blank_or_non_text_path_is_refused_saying_so(path):
    error = _refusal({"userName": "ada"}, {"op": "replace", "path": path, "value": "x"})

    assert (error.status_code, error.scim_type) == (400, "invalidPath")
    assert str(error.detail) == "'path' must be a non-empty string."


def test_a_filter_on_an_attribute_without_sub_attributes_is_refused_saying_so():
    error = _refusal({"userName": "ada"}, {"op": "replace", "path": 'title[value eq "x"]'})

    assert (error.status_code, error.scim_type) == (400, "invalidPath")
    assert str(error.detail) == "'title' has no sub-attributes to filter on."


def test_a_read_only_sub_attribute_is_refused_saying_so():
    path = f"{ENTERPRISE}:manager.displayName"

    error = _refusal({"userName": "ada"}, {"op": "replace", "path": path, "value": "Grace"})

    assert (error.status_code, error.scim_type) == (400, "mutability")
    assert str(error.detail) == "'manager.displayName' is read-only."


def test_a_path_as_long_as_the_bound_is_accepted(settings):
    settings.SCIM_PROVISIONING_MAX_FILTER_LENGTH = len("name.givenName")

    result = _apply({"userName": "ada"}, {"op": "add", "path": "name.givenName", "value": "Ada"})

    assert result["name"] == {"givenName": "Ada"}


def test_a_path_longer_than_the_bound_is_refused_saying_what_the_bound_is(settings):
    settings.SCIM_PROVISIONING_MAX_FILTER_LENGTH = len("name.givenName") - 1

    error = _refusal({"userName": "ada"}, {"op": "add", "path": "name.givenName", "value": "Ada"})

    assert (error.status_code, error.scim_type) == (400, "invalidPath")
    assert str(error.detail) == "'path' is longer than 13 characters."


# -- the body (RFC 7644 §3.5.2: a PatchOp message with an "Operations" array) -------------


@pytest.mark.parametrize("body", [[{"op": "replace", "path": "title", "value": "x"}], "x", None])
def test_a_body_that_is_not_an_object_is_refused_saying_so(body):
    error = _body_refusal(body)

    assert (error.status_code, error.scim_type) == (400, "invalidSyntax")
    assert str(error.detail) == "The PATCH body must be a JSON object."


@pytest.mark.parametrize(
    "body",
    [
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]},
        {"Operations": {"op": "replace", "path": "title", "value": "x"}},
    ],
    ids=["no Operations", "Operations not a list"],
)
def test_a_body_without_a_list_of_operations_is_refused_saying_so(body):
    error = _body_refusal(body)

    assert (error.status_code, error.scim_type) == (400, "invalidSyntax")
    assert str(error.detail) == "The PATCH body needs an 'Operations' list."


def test_the_operations_are_found_however_their_key_is_cased():
    body = {"operations": [{"op": "replace", "path": "title", "value": "Engineer"}]}

    result = _engine().apply({"userName": "ada"}, body)

    assert result == {"userName": "ada", "title": "Engineer"}


def _titles(count: int) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": "title", "value": f"T{i}"} for i in range(count)]


def test_as_many_operations_as_the_bound_are_applied(settings):
    settings.SCIM_PROVISIONING_MAX_PATCH_OPERATIONS = 3

    result = _apply({"userName": "ada"}, *_titles(3))

    assert result == {"userName": "ada", "title": "T2"}


def test_more_operations_than_the_bound_are_refused_saying_what_the_bound_is(settings):
    settings.SCIM_PROVISIONING_MAX_PATCH_OPERATIONS = 3
    document = {"userName": "ada"}

    error = _refusal(document, *_titles(4))

    assert (error.status_code, error.scim_type) == (400, "invalidValue")
    assert str(error.detail) == "The PATCH has 4 operations; at most 3 are accepted."
    assert document == {"userName": "ada"}
