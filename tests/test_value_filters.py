"""Value filters read in memory: a PATCH's ``emails[...]`` and a group's ``members[...]``.

The filters are the forms IdPs put in PATCH paths (Okta's ``type eq "work"``,
Entra's ``members[value eq "<id>"]``), parsed as the server parses them.
"""

from __future__ import annotations

import pytest

from scim_provisioning.exceptions import InvalidFilter, InvalidPath
from scim_provisioning.filters import parse_filter
from scim_provisioning.provisioning.members import selected_members
from scim_provisioning.resources.groups import member_ids
from scim_provisioning.value_filters import equalities, equality_terms, matches

WORK = {"value": "ada@example.com", "type": "work", "primary": True}


def _matches(text: str, item: dict) -> bool:
    return matches(parse_filter(text), item)


# -- matches: one complex value against a filter -------------------------------------------


def test_eq_matches_whatever_the_case_of_name_and_value():
    assert _matches('TYPE eq "WORK"', WORK)


def test_eq_does_not_match_another_value():
    assert not _matches('type eq "home"', WORK)


def test_a_boolean_compares_as_its_text():
    assert _matches("primary eq true", WORK)


@pytest.mark.parametrize(
    "text", ['value co "@example"', 'value sw "ada"', 'value ew ".com"', 'value gt "a"']
)
def test_string_operators_compare_the_text(text):
    assert _matches(text, WORK)


def test_pr_matches_a_present_value():
    assert _matches("value pr", WORK)


def test_pr_does_not_match_an_empty_string():
    assert not _matches("display pr", {"display": ""})


def test_ne_matches_a_missing_attribute():
    assert _matches('display ne "x"', WORK)


def test_eq_does_not_match_a_missing_attribute():
    assert not _matches('display eq "x"', WORK)


@pytest.mark.parametrize(
    "text", ['display eq "none"', 'display co "n"', 'display sw "n"', 'display lt "z"']
)
def test_a_missing_attribute_has_no_value_to_compare(text):
    # RFC 7644 §3.4.2.2: each operator compares the attribute's value; an item without
    # the attribute has none, so nothing but ``ne`` matches it (not even the text "none").
    assert not _matches(text, WORK)


def test_not_inverts_the_match():
    assert _matches('not (type eq "home")', WORK)


def test_and_needs_both_sides():
    assert not _matches('type eq "work" and primary eq false', WORK)


def test_or_needs_one_side():
    assert _matches('type eq "home" or primary eq true', WORK)


def test_an_unsupported_comparison_is_refused_even_when_the_other_side_decides():
    # Both sides are read: a filter is refused for its form, never for the item at hand.
    with pytest.raises(InvalidPath):
        _matches('type eq "work" or emails[type eq "x"].value eq "y"', WORK)


def test_an_unsupported_comparison_says_so():
    with pytest.raises(InvalidPath) as raised:
        _matches('emails[type eq "x"].value eq "y"', WORK)

    assert (raised.value.status_code, raised.value.scim_type) == (400, "invalidPath")
    assert str(raised.value.detail) == "The value filter is not supported."


# -- equality_terms and equalities: the values a filter names ---------------------------


def test_an_and_of_equalities_is_one_term():
    tree = parse_filter('type eq "work" and primary eq true')

    assert equality_terms(tree) == [[("type", "work"), ("primary", "true")]]


def test_an_or_of_equalities_is_one_term_each():
    tree = parse_filter('value eq "a" or value eq "b"')

    assert equality_terms(tree) == [[("value", "a")], [("value", "b")]]


@pytest.mark.parametrize(
    "text",
    [
        'not (type eq "work")',
        'value co "a"',
        'type eq "work" and (value eq "a" or value eq "b")',
        "value pr",
        # One side of equalities is not enough, whichever side it is.
        'type eq "work" or value co "a"',
        'value co "a" and type eq "work"',
    ],
)
def test_a_filter_not_made_of_equalities_has_no_terms(text):
    assert equality_terms(parse_filter(text)) is None


def test_equalities_describe_the_one_value_an_and_names():
    tree = parse_filter('type eq "work" and primary eq true')

    assert equalities(tree) == {"type": "work", "primary": "true"}


def test_an_attribute_compared_twice_keeps_its_last_value():
    assert equalities(parse_filter('type eq "work" and type eq "home"')) == {"type": "home"}


def test_an_or_describes_no_one_value():
    assert equalities(parse_filter('type eq "work" or type eq "home"')) is None


# -- members: the ids a selector names ---------------------------------------------------


def test_a_member_selector_names_its_id():
    assert selected_members(parse_filter('value eq "A1"')) == {"A1"}


def test_a_member_selector_joined_by_or_names_each_id():
    assert selected_members(parse_filter('value eq "a" or VALUE eq "b"')) == {"a", "b"}


@pytest.mark.parametrize(
    "text",
    [
        'value eq "a" and value eq "b"',
        'value eq "a" and value eq "a"',
        'display eq "Ada"',
        'not (value eq "a")',
        'value co "a"',
        'value eq "a" or display eq "Ada"',
    ],
)
def test_a_member_selector_other_than_value_eq_joined_by_or_is_an_invalid_filter(text):
    with pytest.raises(InvalidFilter) as raised:
        selected_members(parse_filter(text))

    assert (raised.value.status_code, raised.value.scim_type) == (400, "invalidFilter")
    assert str(raised.value.detail) == (
        'Members are selected by id only, e.g. members[value eq "<id>"].'
    )


def test_member_ids_skip_values_without_an_id():
    members = [{"value": "a"}, {"value": ""}, {"display": "no id"}, {"value": None}, {"value": 7}]

    assert member_ids(members) == ["a", "7"]
