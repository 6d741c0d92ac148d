"""One meaning per filter: a value filter selects in memory what it selects in SQL (hypothesis).

A filter is read two ways. ``GET /Users?filter=emails[type eq "work"]`` is translated to
SQL over the rows the server keeps (:func:`scim_provisioning.filters.filter_to_q` on
:class:`~scim_provisioning.models.SCIMUserValue`); a PATCH's ``emails[type eq "work"]``
is matched in memory against the items of the document
(:func:`scim_provisioning.value_filters.matches`). Here generated users are stored as
the server stores them (values coerced as the schema reads them, then the record's
rows written by ``write_values`` and the extension's ``write_rows``), and generated
filters are evaluated both ways; the same users must match, or both ways must refuse
the filter with the same 400 ``invalidFilter``.

What both ways can evaluate, and so what is compared:

* ``emails``, ``phoneNumbers`` and ``roles`` (the multi-valued complex attributes a
  PATCH may filter), on ``value``, ``type`` and ``primary``. ``roles.display`` has no
  column, so SQL refuses it; it is left out. ``groups`` is read-only (no PATCH
  filters it) and a group's ``members[...]`` is matched by id only
  (:func:`~scim_provisioning.provisioning.members.selected_members`); the single
  ``manager`` compares its value as a UUID in SQL: none of them is generated.
* The host's own multi-valued attributes of every type (integer, decimal, dateTime,
  caseExact and case-insensitive strings), as ``urn:…:level[value gt 9]``: in memory
  each value is an item ``{"value": 10}`` of an attribute whose ``value`` is typed as
  the extension declares. These carry the numbers, moments and caseExact strings that
  no core complex attribute has.

Values and compValues mix case variants, numeric text, moments with offsets,
non-ASCII letters and LIKE's wildcards (``%``, ``_``). A compValue is never ``""``
(an absent ``type`` is kept as ``""`` and an IdP has no reason to ask for it) and
strings stay short (the rows keep 255 characters of a value, 32 of a type).

Run against the matcher as it was (lower-cased text for every comparison), this
test failed: ``urn:…:level[value co "0"]`` (SQL refuses ``co`` on a number, the
matcher compared text), ``urn:…:level[value gt -1]`` matching a level of -2 (``"-2" >
"-1"`` as text), and, with refusals set aside, ``phoneNumbers[type le -2.74]`` matching
a phone number whose type is ``""``. It also found SQL disagreeing with itself: on
SQLite, ``urn:…:badge[value co "Z"]`` (caseExact) matched ``"İ z"``, as Django's
``contains`` is a LIKE there, which ignores ASCII case; PostgreSQL did not.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scim_provisioning.exceptions import InvalidFilter
from scim_provisioning.extension_values import write_rows
from scim_provisioning.filters import FilterField, MultiValued, filter_to_q, kind_of, parse_filter
from scim_provisioning.models import SCIMTeamConfig, SCIMUser
from scim_provisioning.resource_types import GroupType, UserType
from scim_provisioning.resources.users import record_document
from scim_provisioning.resources.values import coerce
from scim_provisioning.schemas import USER_SCHEMA, Attribute, user_extension
from scim_provisioning.value_filters import matches

from .conftest import assert_scim_error, patch_op
from .factories import SCIMUserFactory

pytestmark = pytest.mark.django_db

URN = "urn:ietf:params:scim:schemas:extension:meaning:2.0:User"
EXTENSION = {
    "urn": URN,
    "attributes": [
        {"name": "level", "type": "integer", "multiValued": True},
        {"name": "ratio", "type": "decimal", "multiValued": True},
        {"name": "since", "type": "dateTime", "multiValued": True},
        {"name": "badge", "type": "string", "multiValued": True, "caseExact": True},
        {"name": "tag", "type": "string", "multiValued": True},
    ],
}
CORE = ("emails", "phoneNumbers", "roles")
CORE_SUBS = ("value", "type", "primary")
OPERATORS = ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le")

# -- generated values -----------------------------------------------------------------

_LETTERS = 'aAbBZz019%_-. éÉßİıK\\"'
texts = st.text(alphabet=_LETTERS, min_size=1, max_size=3)
numbers = st.integers(min_value=-12, max_value=12)
ratios = st.decimals(min_value=-5, max_value=5, places=2, allow_nan=False)
_BASE = datetime(2024, 1, 1, tzinfo=timezone.utc)
moments = st.builds(
    lambda hours, offset: (
        (_BASE + timedelta(hours=hours)).astimezone(timezone(timedelta(hours=offset))).isoformat()
    ),
    st.integers(min_value=-30, max_value=30),
    st.integers(min_value=-3, max_value=3),
)
days = st.integers(min_value=-2, max_value=2).map(
    lambda n: (_BASE + timedelta(days=n)).date().isoformat()
)
types = st.sampled_from(["work", "Work", "HOME", "mobile", "", None])


@st.composite
def items(draw: Any, attribute: str) -> dict[str, Any]:
    item: dict[str, Any] = {"value": draw(texts)}
    kind = draw(types)
    if kind is not None:
        item["type"] = kind
    primary = draw(st.sampled_from([True, False, None]))
    if primary is not None:
        item["primary"] = primary
    return item


_EXTENSION_VALUES = {
    "level": numbers,
    "ratio": ratios.map(float),
    "since": moments,
    "badge": texts,
    "tag": texts,
}
people = st.lists(
    st.fixed_dictionaries(
        {
            **{name: st.lists(items(name), max_size=2) for name in CORE},
            **{name: st.lists(values, max_size=2) for name, values in _EXTENSION_VALUES.items()},
        }
    ),
    min_size=2,
    max_size=3,
)

# -- generated filters ------------------------------------------------------------------


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


any_value = st.one_of(
    texts.map(_quoted),
    numbers.map(str),
    numbers.map(lambda n: _quoted(str(n))),
    ratios.map(str),
    moments.map(_quoted),
    days.map(_quoted),
    st.sampled_from(["true", "false", '"work"', '"WORK"', '"home"']),
)
#: CompValues of each sub-attribute's own type, mostly: the others are refused both ways.
fitting = {
    "value": st.one_of(
        texts.map(_quoted), numbers.map(str), numbers.map(lambda n: _quoted(str(n)))
    ),
    "type": st.sampled_from(['"work"', '"WORK"', '"home"', '"Mobile"', '"wo"', '"K"']),
    "primary": st.sampled_from(["true", "false", '"TRUE"']),
    "level": st.one_of(numbers.map(str), numbers.map(lambda n: _quoted(str(n)))),
    "ratio": st.one_of(ratios.map(str), numbers.map(str)),
    "since": st.one_of(moments.map(_quoted), days.map(_quoted)),
    "badge": texts.map(_quoted),
    "tag": texts.map(_quoted),
}
_ORDERED = ("eq", "ne", "gt", "ge", "lt", "le", "pr", "gt", "lt", "co")
_TEXTUAL = (*OPERATORS, "pr", "co", "sw", "ew", "eq")
_OPERATORS_OF = {
    "value": _TEXTUAL,
    "type": _TEXTUAL,
    "badge": _TEXTUAL,
    "tag": _TEXTUAL,
    "primary": ("eq", "ne", "pr", "eq", "ne", "gt"),
    "level": _ORDERED,
    "ratio": _ORDERED,
    "since": _ORDERED,
}


def variants(seen: list[str]) -> st.SearchStrategy[str]:
    """The stored strings in other cases and in parts: what caseExact and LIKE tell apart."""
    return st.sampled_from(seen).flatmap(
        lambda v: st.sampled_from(
            [v.swapcase(), v.upper(), v.lower(), v, v[:2].swapcase(), v[-2:].swapcase()]
        )
    )


@st.composite
def comparisons(draw: Any, name: str, subs: tuple[str, ...], seen: dict[str, list[str]]) -> str:
    sub = draw(st.sampled_from(subs))
    kind = sub if name in CORE else name
    # Mostly the operators the type takes: one refused comparison refuses the whole filter.
    operator = draw(st.sampled_from(_OPERATORS_OF.get(kind, (*OPERATORS, "pr"))))
    if operator == "pr":
        return f"{sub} pr"
    own = fitting[kind]
    if kind in ("value", "type", "badge", "tag") and seen.get(name):
        stored = variants(seen[name]).filter(bool).map(_quoted)
        return f"{sub} {operator} {draw(st.one_of(own, stored, stored, any_value))}"
    return f"{sub} {operator} {draw(st.one_of(own, own, own, any_value))}"


def inner_filters(
    name: str, subs: tuple[str, ...], seen: dict[str, list[str]]
) -> st.SearchStrategy[str]:
    return st.recursive(
        comparisons(name, subs, seen),
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            inner.map(lambda f: f"not ({f})"),
        ),
        max_leaves=3,
    )


@st.composite
def value_paths(draw: Any, seen: dict[str, list[str]]) -> tuple[str, str, str]:
    """``(attribute, inner filter, the whole filter)``, maybe negated as a whole."""
    name = draw(st.sampled_from([*CORE, *_EXTENSION_VALUES]))
    subs, path = (CORE_SUBS, name) if name in CORE else (("value",), f"{URN}:{name}")
    inner = draw(inner_filters(name, subs, seen))
    whole = f"{path}[{inner}]"
    return name, inner, f"not ({whole})" if draw(st.booleans()) else whole


# -- the two evaluations ----------------------------------------------------------------


@pytest.fixture
def scene(settings, team, other_team):
    """Team A, and a user of team B whose values any generated filter might match."""
    settings.SCIM_PROVISIONING_USER_EXTENSION = EXTENSION
    outsider = {
        **{name: [{"value": v, "type": "work", "primary": True} for v in "aAZ%_"] for name in CORE},
        "level": [-12, 0, 12],
        "ratio": [-5.0, 0.0, 5.0],
        "since": ["2023-12-30T00:00:00Z", "2024-01-03T00:00:00Z"],
        "badge": ["a", "A", "Z"],
        "tag": ["a", "Z", "%"],
    }
    _store(SCIMTeamConfig.objects.get(team=other_team), outsider, 99)
    return SCIMTeamConfig.objects.get(team=team)


def _store(config: SCIMTeamConfig, person: dict[str, Any], n: int) -> Any:
    """One user kept as the server keeps one: coerced values, rows for filters."""
    custom = user_extension()
    assert custom is not None
    attributes: dict[str, Any] = {"emails": [{"value": f"p{n}@acme.com"}]}
    for name in CORE:
        attributes[name] = coerce(USER_SCHEMA.attribute(name), person[name]) or []
    attributes[URN] = {
        a.name: coerce(a, person[a.name]) for a in custom.schema.attributes if person[a.name]
    }
    record = SCIMUserFactory(team=config.team, attributes=attributes)
    write_rows(custom, record, replace=False)
    return record


def _attribute(name: str) -> Attribute:
    """The complex attribute whose items the matcher reads: an extension value is ``value``."""
    core = USER_SCHEMA.attribute(name)
    if core is not None:
        return core
    custom = user_extension()
    assert custom is not None
    declared = custom.schema.attribute(name)
    assert declared is not None
    value = replace(declared, name="value", multi_valued=False)
    return Attribute(name, type="complex", multi_valued=True, sub_attributes=(value,))


def _items(record: Any, name: str) -> list[dict[str, Any]]:
    """The items a PATCH reads: the document's own, or each extension value as ``{"value": v}``."""
    document = record_document(record)
    if name in CORE:
        return list(document.get(name) or [])
    return [{"value": v} for v in (document.get(URN) or {}).get(name) or []]


def _in_memory(records: list[Any], name: str, inner: str, whole: str) -> set[Any] | str:
    attribute = _attribute(name)
    try:
        tree = parse_filter(inner)
        matches(tree, {}, attribute)  # refused for its form, whatever the items
        found = {r.pk for r in records if any(matches(tree, i, attribute) for i in _items(r, name))}
    except InvalidFilter:
        return "invalidFilter"
    if whole.startswith("not "):
        return {r.pk for r in records} - found
    return found


def _in_sql(config: SCIMTeamConfig, whole: str) -> set[Any] | str:
    users = UserType()
    try:
        query = filter_to_q(whole, users.filters, users.schema_urns)
    except InvalidFilter:
        return "invalidFilter"
    return set(users.queryset(config.scope).filter(query).values_list("pk", flat=True))


@settings(
    derandomize=True,
    max_examples=int(os.environ.get("SCIM_MEANING_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(population=people, data=st.data())
def test_a_value_filter_selects_in_memory_what_it_selects_in_sql(scene, population, data):
    with transaction.atomic():
        records = [_store(scene, person, n) for n, person in enumerate(population)]
        seen = _strings(population)
        filters = data.draw(st.lists(value_paths(seen), min_size=10, max_size=20), label="filters")
        for name, inner, whole in filters:
            assert _in_memory(records, name, inner, whole) == _in_sql(scene, whole), (
                whole,
                [_items(r, name) for r in records],
            )
        transaction.set_rollback(True)


def _strings(population: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each attribute's stored strings, for compValues that differ from them by case only."""
    found: dict[str, set[str]] = {name: set() for name in (*CORE, "badge", "tag")}
    for person in population:
        for name in CORE:
            for item in person[name]:
                found[name] |= {t for t in (item.get("value"), item.get("type")) if t}
        found["badge"] |= set(person["badge"])
        found["tag"] |= set(person["tag"])
    return {name: sorted(texts) for name, texts in found.items()}


# -- the defects the matcher had, one by one ---------------------------------------------
# No complex attribute the server publishes has a number, a dateTime or a caseExact
# sub-attribute, so these use one declared here, typed as a host could type one.

BADGE = Attribute(
    "badges",
    type="complex",
    multi_valued=True,
    sub_attributes=(
        Attribute("level", type="integer"),
        Attribute("since", type="dateTime"),
        Attribute("code", case_exact=True),
        Attribute("label"),
    ),
)


def _matches(text: str, item: dict[str, Any]) -> bool:
    return matches(parse_filter(text), item, BADGE)


def test_numbers_order_as_numbers_not_as_text():
    # As text, "10" < "9"; the SQL translation compares the numbers.
    assert _matches("level gt 9", {"level": 10})
    assert not _matches('level lt "9"', {"level": 10})


def test_date_times_compare_as_moments_whatever_their_offsets():
    # 00:30 UTC on the 1st is after 01:00+02:00 (23:00 UTC on the 31st); as text it sorts before.
    assert _matches('since gt "2024-01-01T01:00:00+02:00"', {"since": "2024-01-01T00:30:00Z"})
    assert _matches('since eq "2024-01-01T02:00:00+02:00"', {"since": "2024-01-01T00:00:00Z"})


def test_a_case_exact_sub_attribute_compares_its_case():
    assert not _matches('code eq "ab"', {"code": "AB"})
    assert not _matches('code sw "a"', {"code": "AB"})
    assert _matches('code eq "AB"', {"code": "AB"})


def test_a_sub_attribute_that_is_not_case_exact_ignores_case():
    assert _matches('label eq "ab"', {"label": "AB"})


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ('level co "1"', "The operator 'co' cannot be used on 'level'."),
        ('level gt "ten"', "'ten' is not a number for 'level'."),
        (
            'since lt "soon"',
            "'soon' is not a date and time (ISO 8601) in years 1 to 9999 UTC for 'since'.",
        ),
    ],
)
def test_a_comparison_the_type_does_not_take_is_invalid_filter_as_in_sql(text, detail):
    with pytest.raises(InvalidFilter) as raised:
        _matches(text, {"level": 1, "since": "2024-01-01T00:00:00Z"})

    assert (raised.value.status_code, raised.value.scim_type) == (400, "invalidFilter")
    assert str(raised.value.detail) == detail


# -- the same defects where an IdP meets them -----------------------------------------------


def _two_emails(provision) -> dict[str, Any]:
    return provision(
        "ada@acme.com",
        emails=[
            {"value": "ada@acme.com", "type": "work", "primary": True},
            {"value": "ada@home.example", "type": "home"},
        ],
    )


def test_patch_primary_eq_false_selects_an_email_without_primary(idp, provision):
    # RFC 7643 §2.4: no primary means false; GET ?filter= has always read it so.
    user = _two_emails(provision)
    body = patch_op({"op": "replace", "path": "emails[primary eq false].type", "value": "other"})

    response = idp.patch(f"/Users/{user['id']}", body)

    assert response.status_code == 200, response.content
    expected = [
        {"value": "ada@acme.com", "type": "work", "primary": True},
        {"value": "ada@home.example", "type": "other"},
    ]
    assert response.json()["emails"] == expected
    assert SCIMUser.objects.get(pk=user["id"]).attributes["emails"] == expected
    listed = idp.get("/Users", {"filter": 'emails[primary eq false and type eq "other"]'})
    assert [r["id"] for r in listed.json()["Resources"]] == [user["id"]]


def test_patch_ordering_a_boolean_is_invalid_filter_as_in_get(idp, provision):
    user = _two_emails(provision)
    body = patch_op({"op": "replace", "path": "emails[primary gt false].type", "value": "other"})

    response = idp.patch(f"/Users/{user['id']}", body)

    assert_scim_error(response, 400, "invalidFilter")
    assert SCIMUser.objects.get(pk=user["id"]).attributes["emails"][0]["type"] == "work"
    listed = idp.get("/Users", {"filter": "emails[primary gt false]"})
    assert_scim_error(listed, 400, "invalidFilter")


@pytest.mark.parametrize("text", ["emails[type pr]", 'emails[type lt "a"]'])
def test_get_an_email_without_type_has_no_type_to_find(idp, provision, text):
    # Its row keeps type "": that is no value for pr, nor one to order (as in a PATCH).
    provision("ada@acme.com", emails=[{"value": "ada@acme.com"}])
    typed = provision("bob@acme.com", emails=[{"value": "bob@acme.com", "type": "Work"}])

    response = idp.get("/Users", {"filter": text})

    assert response.status_code == 200, response.content
    found = [r["id"] for r in response.json()["Resources"]]
    assert found == ([typed["id"]] if text.endswith("pr]") else [])


@pytest.mark.parametrize("text", ['externalId sw "ab"', 'externalId ew "yz"', 'externalId co "ab"'])
def test_get_a_case_exact_attribute_keeps_its_case_on_every_database(idp, provision, text):
    # SQLite's LIKE ignored ASCII case: "ABC" was found by sw "ab" there, not on PostgreSQL.
    provision("ada@acme.com", externalId="ABC-XYZ")
    exact = provision("bob@acme.com", externalId="abc-xyz")

    response = idp.get("/Users", {"filter": text})

    assert response.status_code == 200, response.content
    assert [r["id"] for r in response.json()["Resources"]] == [exact["id"]]


# -- one description: where SQL looks a path up, it compares it as the schema types it -------


def _schema_attribute(resource: Any, key: tuple[Any, str, str | None]) -> Attribute | None:
    urn, name, sub = key
    schemas = [resource.schema, *resource.extensions]
    schema = next((s for s in schemas if (s.id.lower() if urn else None) == urn), None)
    found = schema.attribute(name) if schema is not None else None
    if found is not None and sub is not None:
        return found.sub_attribute(sub)
    return found


def _fields(resource: Any) -> list[tuple[str, FilterField, Attribute | None]]:
    """Every field a filter path reaches, with the attribute the published schema has there."""
    found = []
    for key, where in resource.filters.items():
        if isinstance(where, MultiValued):
            for sub, field in where.fields.items():
                attribute = _schema_attribute(resource, key)
                if attribute is not None and attribute.type == "complex":
                    attribute = attribute.sub_attribute(sub)
                found.append((f"{key[1]}.{sub}", field, attribute))
        else:
            attribute = _schema_attribute(resource, key)
            if attribute is not None and attribute.type == "complex":
                attribute = attribute.sub_attribute("value")  # manager eq "<id>": its value
            found.append((".".join(k for k in key[1:] if k), where, attribute))
    return found


@pytest.mark.parametrize("resource", [UserType(), GroupType()], ids=["User", "Group"])
def test_every_filter_field_compares_as_the_schema_types_its_attribute(scene, resource):
    # Ids are published as strings and compared as UUIDs (a non-UUID matches nothing);
    # the host's booleans are kept as the text "true"/"false". Nothing else may differ.
    checked = 0
    for path, field, attribute in _fields(resource):
        if attribute is None:
            continue  # id, externalId, meta: the common attributes, not in a schema's list
        checked += 1
        if field.kind == "uuid" and attribute.type == "string":
            continue
        if attribute.type == "boolean" and field.lookup == "value":
            assert field.kind == "string", path
            continue
        assert field.kind == kind_of(attribute), path
        assert field.case_exact == (field.kind == "string" and attribute.case_exact), path
    assert checked > (20 if resource.name == "User" else 2)
