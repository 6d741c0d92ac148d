"""Attribute paths (RFC 7644 §3.10) as PATCH, ``sortBy``, filters and ``attributes`` read them.

The paths are the forms IdPs send: Entra's URN-prefixed enterprise attributes,
Okta's ``emails[type eq "work"].value``, and malformed ones a client gets wrong.
"""

from __future__ import annotations

import pytest

from scim_provisioning.exceptions import InvalidPath
from scim_provisioning.paths import AttributePath, SchemaURNs, parse_path

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER_URNS = SchemaURNs(CORE, (ENTERPRISE,))


def test_a_plain_attribute_has_no_schema_and_no_sub_attribute():
    assert parse_path("userName", USER_URNS) == AttributePath(None, "userName")


def test_a_dotted_path_names_a_sub_attribute():
    assert parse_path("name.givenName", USER_URNS) == AttributePath(None, "name", "givenName")


def test_the_core_urn_prefix_means_no_schema():
    path = parse_path(f"{CORE}:name.familyName", USER_URNS)

    assert path == AttributePath(None, "name", "familyName")


def test_a_known_extension_urn_is_matched_in_any_case_and_given_back_as_spelled():
    path = parse_path(f"{ENTERPRISE.upper()}:department", USER_URNS)

    assert path == AttributePath(ENTERPRISE, "department")


def test_an_extension_urn_alone_names_the_whole_extension():
    assert parse_path(ENTERPRISE, USER_URNS) == AttributePath(ENTERPRISE, None)


def test_the_core_urn_alone_names_the_whole_core_schema():
    assert parse_path(CORE.lower(), USER_URNS) == AttributePath(None, None)


def test_the_longest_known_urn_wins_when_one_starts_another():
    urns = SchemaURNs("urn:example:Core", ("urn:example:Core:Extra",))

    assert parse_path("urn:example:Core:Extra:level", urns) == AttributePath(
        "urn:example:Core:Extra", "level"
    )


def test_an_unknown_urn_is_kept_as_written_with_its_attribute():
    path = parse_path("urn:example:custom:2.0:User:badge.number", USER_URNS)

    assert path == AttributePath("urn:example:custom:2.0:User", "badge", "number")


def test_an_unknown_urn_ends_before_a_value_filter_that_holds_a_colon():
    path = parse_path('urn:example:custom:links[value eq "a:b"]', USER_URNS, value_filter=True)

    assert path == AttributePath("urn:example:custom", "links", None, 'value eq "a:b"')


@pytest.mark.parametrize(
    "value_filter",
    [
        # RFC 7644 §3.10: the attribute inside a filter may be URN-qualified too.
        'urn:example:custom:links.type eq "work"',
        'value eq "a:[b]"',
    ],
)
def test_an_unknown_urn_ends_before_the_first_bracket_whatever_the_filter_holds(value_filter):
    path = parse_path(f"urn:example:custom:links[{value_filter}]", USER_URNS, value_filter=True)

    assert path == AttributePath("urn:example:custom", "links", None, value_filter)


def test_a_malformed_attribute_of_an_unknown_urn_is_returned_as_written():
    # Only its schema could say what is valid there; callers ignore unknown schemas.
    path = parse_path("urn:example:custom:a.b.c", USER_URNS)

    assert path == AttributePath("urn:example:custom", "a.b.c")


def test_surrounding_whitespace_is_ignored():
    assert parse_path("  displayName\n", USER_URNS) == AttributePath(None, "displayName")


def test_a_value_filter_is_kept_as_text_with_the_sub_attribute_after_it():
    path = parse_path('emails[type eq "work"].value', USER_URNS, value_filter=True)

    assert path == AttributePath(None, "emails", "value", 'type eq "work"')


def test_a_value_filter_may_span_lines():
    path = parse_path('emails[type eq "work"\nand primary eq true]', USER_URNS, value_filter=True)

    assert path.value_filter == 'type eq "work"\nand primary eq true'


def test_a_value_filter_where_none_is_admitted_is_an_invalid_path():
    with pytest.raises(InvalidPath):
        parse_path('emails[type eq "work"]', USER_URNS)


@pytest.mark.parametrize(
    "text",
    ["emails[type eq", "name..givenName", "name.", "1st", "user name", "name.given.x", ""],
)
def test_a_path_outside_the_grammar_is_an_invalid_path_naming_it(text):
    with pytest.raises(InvalidPath) as raised:
        parse_path(text, USER_URNS, value_filter=True)

    assert raised.value.status_code == 400
    assert raised.value.scim_type == "invalidPath"
    assert f"'{text}'" in str(raised.value.detail)


def test_a_known_urn_followed_by_nothing_is_an_invalid_path():
    with pytest.raises(InvalidPath):
        parse_path(f"{ENTERPRISE}:", USER_URNS)


def test_a_name_may_start_with_a_dollar():
    assert parse_path("members.$ref", USER_URNS) == AttributePath(None, "members", "$ref")


def test_a_name_may_hold_a_hyphen():
    assert parse_path("x-custom", USER_URNS) == AttributePath(None, "x-custom")


def test_the_key_folds_every_part_to_lower_case():
    path = parse_path(f"{ENTERPRISE}:Manager.Value", USER_URNS)

    assert path.key == (ENTERPRISE.lower(), "manager", "value")


def test_the_key_of_a_core_path_has_no_schema():
    assert parse_path("Name.GivenName", USER_URNS).key == (None, "name", "givenname")


def test_a_urn_alone_has_no_key():
    with pytest.raises(ValueError):
        _ = parse_path(ENTERPRISE, USER_URNS).key


def test_resolve_maps_the_core_urn_in_any_case_to_none():
    assert USER_URNS.resolve(CORE.upper()) is None


def test_resolve_gives_a_known_extension_its_own_spelling():
    assert USER_URNS.resolve(ENTERPRISE.lower()) == ENTERPRISE


def test_resolve_keeps_an_unknown_urn_as_written():
    assert USER_URNS.resolve("urn:Example:X") == "urn:Example:X"


@pytest.mark.parametrize(
    ("schema", "known"), [(None, True), (ENTERPRISE.lower(), True), ("urn:example:custom", False)]
)
def test_only_the_core_schema_and_known_extensions_are_known(schema, known):
    assert USER_URNS.is_known(schema) is known
