"""Properties of every SCIM answer, over generated requests (hypothesis).

Whatever an IdP sends (a filter, a PATCH document, a resource body or list
parameters, valid, malformed or hostile):

* the answer is never a 5xx;
* a 4xx is always a SCIM Error: ``application/scim+json``, ``schemas`` the
  Error URN, ``status`` the status code as a string, a non-empty ``detail``;
* a rejected write (POST, PUT, PATCH answered 4xx) changes nothing: the
  rows of SCIMUser, SCIMUserValue, SCIMGroup, SCIMGroupMembership, the host's
  team memberships and accounts are the same before and after (the request
  log is expected to grow).

Requests are generated from the published schemas: attribute names (any
case, dotted, URN-prefixed, unknown), value filters, operators, values of the
right type and of the wrong one, plus raw noise, deep nesting and very long
input. The scene (a team, its token, two users, two groups) is built once
per test function; every example runs in a transaction that is rolled back,
so each starts from the same scene. The scene's ids appear in generated
requests as placeholders (``<ada>``), so that a fixed input can name them
(:data:`KNOWN_HOSTILE`, inputs that once gave a 5xx).

On a failure the message carries the traceback the server logged.
``SCIM_PROPERTY_SCALE=20`` multiplies the number of examples for a long hunt.
"""

from __future__ import annotations

import json
import logging
import os
import string
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMGroup, SCIMGroupMembership, SCIMUser, SCIMUserValue
from scim_provisioning.schemas import (
    ENTERPRISE_USER_SCHEMA,
    ENTERPRISE_USER_SCHEMA_URN,
    GROUP_SCHEMA,
    GROUP_SCHEMA_URN,
    USER_SCHEMA,
    USER_SCHEMA_URN,
    Attribute,
)

from .conftest import ERROR_SCHEMA, SCIM_JSON

pytestmark = pytest.mark.django_db

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
WRITES = ("post", "put", "patch", "delete")
#: The scene's ids, as placeholders that :func:`exchange` replaces with the real ones.
ADA, BOB, ENGINEERING, SALES = "<ada>", "<bob>", "<engineering>", "<sales>"
IDS = [ADA, BOB, ENGINEERING, SALES]
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
SCALE = float(os.environ.get("SCIM_PROPERTY_SCALE", "1"))


def examples(n: int) -> settings:
    return settings(
        max_examples=max(1, int(n * SCALE)),
        deadline=None,
        database=None,  # no .hypothesis/ directory in the work tree
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# -- the scene and the checks --------------------------------------------------------------


class _Captured(logging.Handler):
    """Keeps the tracebacks the server logs, to show them with a 5xx."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def tracebacks(self) -> str:
        formatter = logging.Formatter()
        return "\n".join(formatter.formatException(r.exc_info) for r in self.records if r.exc_info)


@pytest.fixture
def server_errors() -> Iterator[_Captured]:
    handler = _Captured()
    loggers = [logging.getLogger("scim_provisioning"), logging.getLogger("django.request")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


@pytest.fixture
def scene(idp, provision, settings) -> dict[str, Any]:
    """Ada and Bob (Bob reports to Ada); Engineering (both) and Sales (empty).

    No rate limit: one token sends every example (thousands with a large
    ``SCIM_PROPERTY_SCALE``), and a 429 would hide what the request does.
    """
    settings.SCIM_PROVISIONING_RATE_LIMIT = 0
    ada = provision(
        "ada@acme.com",
        externalId="E-1",
        title="Engineer",
        displayName="Ada Lovelace",
        phoneNumbers=[{"value": "+44 7700 900001", "type": "mobile"}],
        **{ENTERPRISE_USER_SCHEMA_URN: {"department": "R&D", "employeeNumber": "1"}},
    )
    bob = provision(
        "bob@acme.com",
        externalId="E-2",
        **{ENTERPRISE_USER_SCHEMA_URN: {"manager": {"value": ada["id"]}}},
    )
    ids = {ADA: ada["id"], BOB: bob["id"]}
    for placeholder, name, members in (
        (ENGINEERING, "Engineering", [ada, bob]),
        (SALES, "Sales", []),
    ):
        body = {
            "schemas": [GROUP_SCHEMA_URN],
            "displayName": name,
            "members": [{"value": m["id"]} for m in members],
        }
        response = idp.post("/Groups", body)
        assert response.status_code == 201, response.content
        ids[placeholder] = response.json()["id"]
    return {"idp": idp, "ids": ids}


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row a write may change, in a stable order."""
    return {
        "users": list(SCIMUser.objects.order_by("pk").values()),
        "values": list(SCIMUserValue.objects.order_by("pk").values()),
        "groups": list(SCIMGroup.objects.order_by("pk").values()),
        "group_memberships": list(SCIMGroupMembership.objects.order_by("pk").values()),
        "team_memberships": list(Membership.objects.order_by("pk").values()),
        "accounts": list(get_user_model().objects.order_by("pk").values()),
    }


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run the block in a transaction that is always rolled back: the scene stays as it was."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def resolve(ids: dict[str, str], value: Any) -> Any:
    """``value`` with the scene's placeholders replaced by its ids."""
    if isinstance(value, str):
        for placeholder, real in ids.items():
            value = value.replace(placeholder, real)
        return value
    if isinstance(value, dict):
        return {resolve(ids, k): resolve(ids, v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(ids, v) for v in value]
    return value


def exchange(
    scene: dict[str, Any],
    errors: _Captured,
    method: str,
    path: str,
    body: Any = None,
    params: dict[str, str] | None = None,
) -> Any:
    """Send one request from the scene's IdP, check the properties; returns the response.

    A ``str`` body is sent as it is (it may not be JSON); anything else as JSON.
    """
    idp, ids = scene["idp"], scene["ids"]
    path, body, params = resolve(ids, path), resolve(ids, body), resolve(ids, params)
    errors.records.clear()
    with rolled_back():
        before = snapshot() if method in WRITES else None
        if method == "get":
            response = idp.get(path, params)
        elif method == "delete":
            response = idp.delete(path)
        else:
            data = body if isinstance(body, str) else json.dumps(body)
            response = getattr(idp, method)(path, data)
        after = snapshot() if before is not None else None
    request = f"{method.upper()} {path} params={params!r} body={body!r}"[:3000]
    check_answer(response, request, errors)
    if before is not None and response.status_code >= 400:
        changed = sorted(k for k in before if before[k] != after[k])
        assert not changed, f"rejected write ({response.status_code}) changed {changed}: {request}"
    return response


def check_answer(response: Any, request: str, errors: _Captured) -> None:
    status = response.status_code
    content = response.content.decode(errors="replace")
    assert status != 429, f"throttled, so untested: {request}"
    assert status < 500, (
        f"{status} for {request}\nbody: {content[:500]}\nserver traceback:\n{errors.tracebacks()}"
    )
    if status in (204, 304):
        return
    media_type = response["Content-Type"].split(";")[0].strip().lower()
    assert media_type == SCIM_JSON, f"{status} with {media_type} for {request}: {content[:500]}"
    body = json.loads(response.content)
    if status >= 400:
        assert isinstance(body, dict), f"{status} body is not an object: {content[:500]}"
        assert body.get("schemas") == [ERROR_SCHEMA], f"not a SCIM Error: {content[:500]}"
        assert body.get("status") == str(status), f"status {status} ≠ {body.get('status')!r}"
        detail = body.get("detail")
        assert isinstance(detail, str) and detail.strip(), f"no detail: {content[:500]}"
        assert body.get("scimType") is None or isinstance(body["scimType"], str), content[:500]


# -- strategies: names from the published schemas ------------------------------------------

ASCII = "".join(chr(c) for c in range(128))
SPECIALS = "\"\\()[] .:,$-_!*@{}'\t\n"
BOGUS = ["bogus", "foo", "display", "$ref", "givenName", "value", "type", "primary"]


def cased(text: str) -> Any:
    return st.sampled_from([text, text.lower(), text.upper(), text.swapcase()])


def _paths(schema: Any, urn_prefix: bool) -> list[str]:
    names = []
    for attribute in schema.attributes:
        names.append(attribute.name)
        names += [f"{attribute.name}.{sub.name}" for sub in attribute.sub_attributes]
    return names + ([f"{schema.id}:{n}" for n in names] if urn_prefix else [])


ALL_PATHS = sorted(
    set(
        _paths(USER_SCHEMA, True)
        + _paths(ENTERPRISE_USER_SCHEMA, True)
        + _paths(ENTERPRISE_USER_SCHEMA, False)
        + _paths(GROUP_SCHEMA, True)
        + [
            "id",
            "externalId",
            "meta",
            "meta.created",
            "meta.lastModified",
            "meta.version",
            "schemas",
            "email",
            ENTERPRISE_USER_SCHEMA_URN,
            USER_SCHEMA_URN,
            GROUP_SCHEMA_URN,
            "urn:example:unknown:1.0:Thing:attr",
            "urn:",
        ]
    )
)
MULTI_VALUED = ["emails", "phoneNumbers", "groups", "members", "email", "name", "manager"]
names = st.from_regex(r"[A-Za-z$][\w$-]{0,12}", fullmatch=True)
any_path = st.one_of(
    st.sampled_from(ALL_PATHS).flatmap(cased),
    names,
    st.builds(lambda a, b: f"{a}.{b}", names, names),
)


# -- strategies: filters -------------------------------------------------------------------


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


OPERATORS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "EQ", "Co", "xx", "="]
comparison_values = st.one_of(
    st.text(alphabet=ASCII, max_size=20).map(_quote),
    st.text(max_size=10).map(_quote),
    st.text(alphabet=ASCII, max_size=12).map(lambda t: f'"{t}"'),  # not escaped: may be broken
    st.sampled_from(["true", "false", "null", "TRUE", "Null", '"true"', "1", "-0.5e3", '""']),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.datetimes().map(lambda d: _quote(d.isoformat())),
    st.sampled_from(
        [
            '"2011-05-13T04:42:34Z"',
            '"2011-05-13T04:42:34+25:00"',
            '"9999-12-31T23:59:59Z"',
            '"0000-01-01T00:00:00Z"',
            '"2011-13-45T99:99:99Z"',
            '"99999-01-01T00:00:00Z"',
            '"\x00"',
            '"a\x00b"',
        ]
    ),
    st.uuids().map(lambda u: _quote(str(u))),
    st.sampled_from(IDS).map(_quote),
    st.text(alphabet=SPECIALS + "abc", max_size=8),  # no quotes at all
)


def _comparison(path: str, operator: str, value: str) -> str:
    return f"{path} {operator}" if operator.lower() == "pr" else f"{path} {operator} {value}"


comparisons = st.builds(_comparison, any_path, st.sampled_from(OPERATORS), comparison_values)
value_paths = st.builds(
    lambda attribute, inner, sub: f"{attribute}[{inner}]{sub}",
    st.sampled_from(MULTI_VALUED),
    st.builds(
        _comparison,
        st.one_of(st.sampled_from(BOGUS), any_path),
        st.sampled_from(OPERATORS),
        comparison_values,
    ),
    st.sampled_from(["", ".value", ".type", ".display", ".bogus"]),
)
value_path_comparisons = st.builds(
    _comparison, value_paths, st.sampled_from(OPERATORS), comparison_values
)
structured_filters = st.recursive(
    st.one_of(comparisons, value_paths, value_path_comparisons),
    lambda children: st.one_of(
        st.builds(
            lambda a, op, b: f"{a} {op} {b}",
            children,
            st.sampled_from(["and", "or", "AND", "Or", "nand"]),
            children,
        ),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"not ({c})"),
        children.map(lambda c: f"not {c}"),
        st.builds(lambda a, c: f"{a}[{c}]", st.sampled_from(MULTI_VALUED), children),
    ),
    max_leaves=10,
)


@st.composite
def mutated(draw: Any, texts: Any) -> str:
    """``texts`` with a few characters inserted or deleted, or the end cut off."""
    text = draw(texts)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "insert", "delete", "cut"]))
        if edit == "insert":
            text = text[:where] + draw(st.sampled_from(SPECIALS + "\x00")) + text[where:]
        elif edit == "delete":
            text = text[:where] + text[where + 1 :]
        else:
            text = text[:where]
    return text


deep_filters = st.builds(
    lambda n, wrap, leaf: wrap[0] * n + leaf + wrap[1] * n,
    st.integers(1, 2500),
    st.sampled_from([("(", ")"), ("not (", ")"), ("emails[", "]"), ("(", "")]),
    st.sampled_from(['userName eq "ada@acme.com"', "title pr", 'value eq "x"']),
)
long_filters = st.one_of(
    st.builds(
        lambda n, op: f" {op} ".join(f'userName eq "u{i}@acme.com"' for i in range(n)),
        st.integers(2, 400),
        st.sampled_from(["or", "and"]),
    ),
    st.builds(lambda n: 'title eq "' + "x" * n + '"', st.integers(200, 6000)),
    st.integers(4000, 9000).map(lambda n: "a" * n),
)
filters = st.one_of(
    structured_filters,
    structured_filters,
    mutated(structured_filters),
    st.text(alphabet=ASCII, max_size=80),
    st.text(alphabet=SPECIALS + "aeoqrtnp", max_size=40),
    deep_filters,
    long_filters,
)


# -- strategies: JSON values, by type and anyhow -------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.text(alphabet=ASCII, max_size=20),
    st.sampled_from(["True", "false", "1", "0", "", " ", "\x00", "x" * 300, *IDS]),
)
json_trees = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(any_path, st.sampled_from(BOGUS)), children, max_size=4),
    ),
    max_leaves=12,
)
emails_like = st.one_of(
    st.sampled_from(["ada@acme.com", "BOB@acme.com", "new@acme.com", "x@y", "@acme.com", "a@"]),
    st.just("a\x00b@acme.com"),
    st.emails().map(str),
    st.integers(250, 300).map(lambda n: "e" * n + "@acme.com"),
)
strings = st.one_of(
    st.text(max_size=20), st.text(alphabet=ASCII, max_size=20), emails_like, st.sampled_from(IDS)
)


def values_for(attribute: Attribute) -> Any:
    """Values of ``attribute``'s type, often right, sometimes wrong."""
    if attribute.multi_valued:
        single = values_for(Attribute(attribute.name, attribute.type, False, **_rest(attribute)))
        return st.one_of(st.lists(single, max_size=3), single, json_trees)
    if attribute.type == "complex":
        subs = {sub.name: values_for(sub) for sub in attribute.sub_attributes}
        subs["bogus"] = json_scalars
        complex_ = st.fixed_dictionaries({}, optional=subs).flatmap(_recase_keys)
        return st.one_of(complex_, complex_, strings, json_trees)
    if attribute.type == "boolean":
        return st.one_of(
            st.booleans(), st.sampled_from(["True", "false", "1", "yes"]), json_scalars
        )
    if attribute.name in ("value", "$ref"):
        return st.one_of(st.sampled_from(IDS), strings, json_scalars)
    return st.one_of(strings, strings, json_scalars)


def _rest(attribute: Attribute) -> dict[str, Any]:
    return {"sub_attributes": attribute.sub_attributes, "mutability": attribute.mutability}


def _recase_keys(value: dict[str, Any]) -> Any:
    if not value:
        return st.just(value)
    keys = st.tuples(*(cased(k) for k in value))
    return keys.map(lambda ks: dict(zip(ks, value.values(), strict=True)))


# -- strategies: PATCH ---------------------------------------------------------------------

USER_ATTRIBUTES = [("", a) for a in USER_SCHEMA.attributes] + [
    (ENTERPRISE_USER_SCHEMA_URN + ":", a) for a in ENTERPRISE_USER_SCHEMA.attributes
]
GROUP_ATTRIBUTES = [("", a) for a in GROUP_SCHEMA.attributes]
EXTERNAL_ID = Attribute("externalId")


COMPLEX_NAMES = {"name", "emails", "phoneNumbers", "manager", "members", "groups"}
simple_values = st.one_of(
    st.sampled_from(["work", "mobile", "ada@acme.com", "+44 7700 900001", "x", ""]).map(_quote),
    st.just('"\x00"'),
    st.sampled_from(IDS).map(_quote),
    st.sampled_from(["true", "false", "null", "1"]),
    st.text(alphabet=string.ascii_letters + string.digits + " @.", max_size=8).map(_quote),
)


@st.composite
def patch_operations(draw: Any, attributes: list[tuple[str, Attribute]]) -> dict[str, Any]:
    """One operation on an attribute of the schema, right in shape or wrong in one place."""
    complex_ = [(p, a) for p, a in attributes if a.name in COMPLEX_NAMES]
    prefix, attribute = draw(
        st.one_of(st.sampled_from(complex_), st.sampled_from([*attributes, ("", EXTERNAL_ID)]))
    )
    urn_prefix = draw(st.sampled_from([prefix, prefix, prefix, USER_SCHEMA_URN + ":", "urn:x:y:"]))
    if prefix:
        urn_prefix = draw(st.sampled_from([prefix, prefix, "", prefix.lower()]))
    path = urn_prefix + draw(cased(attribute.name))
    target = attribute
    sub_names = [s.name for s in attribute.sub_attributes] + ["bogus", "display", "givenName"]
    if attribute.type == "complex" or draw(st.integers(0, 9)) == 0:
        if draw(st.booleans()):
            comparison = st.builds(
                _comparison,
                st.sampled_from(sub_names).flatmap(cased),
                st.sampled_from(["eq", "eq", "eq", "ne", "co", "pr", "gt"]),
                simple_values,
            )
            inner = draw(
                st.one_of(
                    comparison,
                    comparison,
                    st.builds(lambda a, b: f"{a} and {b}", comparison, comparison),
                    st.builds(lambda a, b: f"{a} or {b}", comparison, comparison),
                    structured_filters,
                )
            )
            path += f"[{inner}]"
            target = Attribute(attribute.name, attribute.type, False, **_rest(attribute))
        if draw(st.booleans()):
            sub = draw(st.sampled_from(sub_names))
            path += f".{sub}"
            target = attribute.sub_attribute(sub) or Attribute(sub)
    op = draw(
        st.one_of(
            st.sampled_from(["add", "replace", "remove"]),
            st.sampled_from(["add", "replace", "remove"]).flatmap(cased),
            st.sampled_from(["delete", "move", "", None, 1]),
        )
    )
    operation: dict[str, Any] = {"op": op}
    if draw(st.integers(0, 9)) > 0:
        operation["path"] = draw(
            st.sampled_from([path] * 4 + [None]).flatmap(
                lambda p: st.just(p) if p is not None else mutated(st.just(path))
            )
        )
    if draw(st.integers(0, 9)) > 1:
        operation["value"] = draw(values_for(target))
    if "path" not in operation and draw(st.booleans()):
        key = path.split("[")[0]
        operation["value"] = {key: operation.get("value")}
    return operation


@st.composite
def seeding_operations(draw: Any, attributes: list[tuple[str, Attribute]]) -> dict[str, Any]:
    """An add or replace through a value filter of equalities (``emails[type eq "work"]``).

    When no item matches, the equalities describe the item to add (RFC 7644
    §3.5.2.1 as Entra reads it): sub-attribute names right, wrong and unknown.
    """
    prefix, attribute = draw(
        st.sampled_from([(p, a) for p, a in attributes if a.type == "complex"])
    )
    sub_names = [s.name for s in attribute.sub_attributes] + ["bogus", "display", "givenName"]
    equalities = draw(
        st.lists(
            st.builds(lambda n, v: f"{n} eq {v}", st.sampled_from(sub_names), simple_values),
            min_size=1,
            max_size=2,
        )
    )
    path = f"{prefix}{attribute.name}[{' and '.join(equalities)}]"
    target = Attribute(attribute.name, attribute.type, False, **_rest(attribute))
    if draw(st.booleans()):
        sub = draw(st.sampled_from(sub_names))
        path += f".{sub}"
        target = attribute.sub_attribute(sub) or Attribute(sub)
    return {
        "op": draw(st.sampled_from(["add", "replace", "Replace"])),
        "path": path,
        "value": draw(values_for(target)),
    }


def patch_bodies(attributes: list[tuple[str, Attribute]]) -> Any:
    operation = st.one_of(
        patch_operations(attributes), patch_operations(attributes), seeding_operations(attributes)
    )
    noise = st.fixed_dictionaries(
        {},
        optional={
            "op": json_scalars,
            "path": st.one_of(any_path, json_scalars),
            "value": json_trees,
        },
    )
    operations = st.lists(st.one_of(operation, operation, operation, noise, json_trees), max_size=4)
    return st.one_of(
        operations.map(lambda ops: {"schemas": [PATCH_OP], "Operations": ops}),
        operations.map(lambda ops: {"schemas": [PATCH_OP], "Operations": ops}),
        operations.map(lambda ops: {"operations": ops}),
        json_trees,
        st.sampled_from(['{"Operations": [', "[]", "null", "not json", ""]),
    )


# -- strategies: resource bodies -----------------------------------------------------------


@st.composite
def resource_bodies(draw: Any, schema: Any, extensions: tuple[Any, ...] = ()) -> Any:
    """A body from the schema's attributes, any case, values of the right type or not."""
    body: dict[str, Any] = {}
    if draw(st.integers(0, 4)) > 0:
        body["schemas"] = [schema.id, *(e.id for e in extensions)]
    required = "userName" if schema is USER_SCHEMA else "displayName"
    if draw(st.integers(0, 4)) > 0:
        body[required] = draw(
            st.one_of(
                emails_like,
                st.sampled_from(["Engineering", "SALES", "ada@acme.com", " ", "\x00"]),
                st.text(alphabet=ASCII, min_size=1, max_size=20),
                st.integers(250, 300).map(lambda n: "n" * n),
            )
        )
    attributes = [*schema.attributes, EXTERNAL_ID]
    for attribute in draw(st.lists(st.sampled_from(attributes), max_size=5, unique=True)):
        body[draw(cased(attribute.name))] = draw(values_for(attribute))
    for extension in extensions:
        if draw(st.booleans()):
            chosen = draw(st.lists(st.sampled_from(extension.attributes), max_size=3, unique=True))
            body[extension.id] = {a.name: draw(values_for(a)) for a in chosen}
    for key, value in draw(st.dictionaries(any_path, json_trees, max_size=2)).items():
        body[key] = value
    return body


# -- strategies: list parameters -----------------------------------------------------------

integers_as_text = st.one_of(
    st.integers(-5, 20).map(str),
    st.integers().map(str),
    st.integers(min_value=2**31, max_value=10**30).map(str),
    st.sampled_from(["", " ", "1.5", "1e3", "0x10", "-", "٣", " 7 ", "NaN", "None", "\x00"]),
    st.text(alphabet=ASCII, max_size=6),
)
attribute_lists = st.one_of(
    st.lists(any_path, max_size=5).map(",".join),
    st.text(alphabet=ASCII, max_size=30),
    st.sampled_from(["", ",", ",,,", "emails.value,emails.type", "name,name.givenName", "*"]),
    st.integers(100, 150).map(lambda n: ",".join(f"a{i}" for i in range(n))),
)
query_parameters = st.fixed_dictionaries(
    {},
    optional={
        "startIndex": integers_as_text,
        "count": integers_as_text,
        "attributes": attribute_lists,
        "excludedAttributes": attribute_lists,
        "sortBy": st.one_of(any_path, st.text(alphabet=ASCII, max_size=20)),
        "sortOrder": st.one_of(
            st.sampled_from(["ascending", "descending", "DESCENDING", " ascending ", "up"]),
            st.text(alphabet=ASCII, max_size=10),
        ),
        "filter": st.one_of(structured_filters, st.just("")),
    },
).flatmap(_recase_keys)
search_values = st.one_of(
    json_scalars,
    json_trees,
    integers_as_text,
    attribute_lists,
    st.lists(st.one_of(any_path, json_scalars), max_size=4),
)
search_bodies = st.one_of(
    st.fixed_dictionaries(
        {"schemas": st.just([SEARCH_REQUEST])},
        optional={
            name: search_values
            for name in (
                "startIndex",
                "count",
                "attributes",
                "excludedAttributes",
                "sortBy",
                "sortOrder",
                "filter",
            )
        },
    ),
    json_trees,
)


# -- requests: (method, path, body, query parameters) -------------------------------------

LISTS = [("get", "/Users"), ("get", "/Groups"), ("get", "/users/")]
SEARCHES = [("post", "/.search"), ("post", "/Users/.search"), ("post", "/Groups/.search")]
USER_TARGETS = [f"/Users/{ADA}", f"/Users/{BOB}", f"/Users/{UNKNOWN_ID}"]
GROUP_TARGETS = [f"/Groups/{ENGINEERING}", f"/Groups/{SALES}", f"/Groups/{UNKNOWN_ID}"]
Request = tuple[str, str, Any, "dict[str, Any] | None"]


def _filtered(where: tuple[str, str], text: str) -> Request:
    method, path = where
    if method == "post":
        return method, path, {"schemas": [SEARCH_REQUEST], "filter": text}, None
    return method, path, None, {"filter": text}


def _listed(where: tuple[str, str], parameters: Any) -> Request:
    method, path = where
    return (
        (method, path, parameters, None) if method == "post" else (method, path, None, parameters)
    )


junk_bodies = st.one_of(json_trees, st.sampled_from(["{", "[1,", "null", '"\\u0000"', "[]"]))
filter_requests = st.builds(_filtered, st.sampled_from(LISTS + SEARCHES), filters)
patch_requests = st.one_of(
    st.builds(
        lambda path, body: ("patch", path, body, None),
        st.sampled_from(USER_TARGETS),
        patch_bodies(USER_ATTRIBUTES),
    ),
    st.builds(
        lambda path, body: ("patch", path, body, None),
        st.sampled_from(GROUP_TARGETS),
        patch_bodies(GROUP_ATTRIBUTES),
    ),
)
body_requests = st.one_of(
    st.builds(
        lambda where, body: (*where, body, None),
        st.sampled_from([("post", "/Users"), *(("put", t) for t in USER_TARGETS)]),
        st.one_of(resource_bodies(USER_SCHEMA, (ENTERPRISE_USER_SCHEMA,)), junk_bodies),
    ),
    st.builds(
        lambda where, body: (*where, body, None),
        st.sampled_from([("post", "/Groups"), *(("put", t) for t in GROUP_TARGETS)]),
        st.one_of(resource_bodies(GROUP_SCHEMA), junk_bodies),
    ),
)
list_requests = st.one_of(
    st.builds(_listed, st.sampled_from(LISTS), query_parameters),
    st.builds(
        _listed,
        st.sampled_from([("get", t) for t in USER_TARGETS[:2] + GROUP_TARGETS[:2]]),
        query_parameters,
    ),
    st.builds(_listed, st.sampled_from(SEARCHES), search_bodies),
)


def send(scene: dict[str, Any], errors: _Captured, request: Request) -> Any:
    method, path, body, params = request
    return exchange(scene, errors, method, path, body, params)


# -- the properties ------------------------------------------------------------------------


@examples(200)
@given(request=filter_requests)
def test_any_filter_is_answered_with_results_or_a_scim_error(scene, server_errors, request):
    send(scene, server_errors, request)


@examples(300)
@given(request=patch_requests)
def test_any_patch_is_applied_whole_or_rejected_without_a_trace(scene, server_errors, request):
    send(scene, server_errors, request)


@examples(250)
@given(request=body_requests)
def test_any_resource_body_is_stored_or_rejected_without_a_trace(scene, server_errors, request):
    send(scene, server_errors, request)


@examples(200)
@given(request=list_requests)
def test_any_list_parameters_are_answered_with_a_page_or_a_scim_error(
    scene, server_errors, request
):
    response = send(scene, server_errors, request)
    if response.status_code == 200 and "Resources" in response.json():
        page = response.json()
        assert page["itemsPerPage"] == len(page["Resources"]) <= page["totalResults"], page


#: Inputs that gave a 5xx once, each kept as a plain test so that it runs every
#: time whatever hypothesis draws. Several fail on PostgreSQL only, which
#: refuses NUL characters (in text and in jsonb) and values longer than a column.
KNOWN_HOSTILE: dict[str, Request] = {
    "filter-nul-in-json-attribute": ("get", "/Users", None, {"filter": 'title eq "\x00"'}),
    "filter-nul-in-column": ("get", "/Groups", None, {"filter": 'displayName eq "\x00"'}),
    "patch-seed-without-writable-sub": (
        "patch",
        f"/Users/{ADA}",
        {"Operations": [{"op": "add", "path": 'emails[display eq "x"].value', "value": "a@x.y"}]},
        None,
    ),
    "patch-seed-on-single-complex": (
        "patch",
        f"/Users/{ADA}",
        {"Operations": [{"op": "add", "path": 'manager[displayName eq "x"]', "value": ""}]},
        None,
    ),
    "patch-nul-in-json-attribute": (
        "patch",
        f"/Users/{ADA}",
        {"Operations": [{"op": "replace", "path": "title", "value": "\x00"}]},
        None,
    ),
    "post-group-name-too-long": ("post", "/Groups", {"displayName": "g" * 256}, None),
    "put-group-name-nul": ("put", f"/Groups/{SALES}", {"displayName": "\x00"}, None),
    "post-user-email-too-long": ("post", "/Users", {"userName": "u" * 250 + "@acme.com"}, None),
    "post-user-external-id-too-long": (
        "post",
        "/Users",
        {"userName": "z@acme.com", "externalId": "x" * 256},
        None,
    ),
    "post-user-name-nul": ("post", "/Users", {"userName": "a\x00b@acme.com"}, None),
    "post-user-nul-in-json-attribute": (
        "post",
        "/Users",
        {"userName": "z@acme.com", "title": "\x00"},
        None,
    ),
    "search-sort-order-not-a-string": ("post", "/.search", {"sortOrder": True}, None),
    "exclude-attribute-and-its-sub-attribute": (
        "get",
        f"/Users/{ADA}",
        None,
        {"excludedAttributes": "name,name.givenName"},
    ),
}


@pytest.mark.parametrize("request_", KNOWN_HOSTILE.values(), ids=KNOWN_HOSTILE.keys())
def test_known_hostile_input_is_answered_without_a_server_error(scene, server_errors, request_):
    send(scene, server_errors, request_)
