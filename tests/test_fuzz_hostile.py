"""Hostile documents at every endpoint (issue 21): no 5xx, nothing half-written, no log row lost.

Where :mod:`tests.test_properties` explores the grammar of filters, PATCH
documents and resource bodies, this test sends what an attacker holding a
team's token (or a team manager's session) would craft to break the server
rather than the grammar: text of every Unicode category including lone
surrogates and NUL, numbers past any column (``1e999``, 400 digits), dates
whose UTC instant leaves years 1-9999, JSON text nested 60,000 deep inside a
string value, odd URL paths and ids, and filters on dates. To every SCIM
endpoint (``/Users`` and ``/Groups``: POST, PUT, PATCH, GET with a filter,
``.search``; ``/Bulk``; the root ``/.search``) and to the team API.

For each request:

* the answer is never a 5xx (a SCIM endpoint answers a SCIM Error);
* a refused write changes nothing: every row a write can touch (SCIM records,
  the host's accounts and memberships, tokens, domains) is as it was;
* the request log keeps every row: another team's rows are all still there
  and the request's own row was stored (a row no database stores once failed
  its whole batch, other teams' rows included).

Deterministic and bounded, on both databases (the suite runs once on SQLite
and once on PostgreSQL): ``derandomize=True`` draws the same examples on
every run, and :data:`BUDGET` fixes how many: one run sends
:data:`REQUESTS_PER_RUN` requests (225; a bulk request counted once).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMRequestLog, SCIMTeamDomain, SCIMToken
from scim_provisioning.schemas import GROUP_SCHEMA, USER_SCHEMA

from . import test_properties as properties
from .team_helpers import logged_in, member_of
from .test_properties import ADA, BOB, ENGINEERING, SALES, UNKNOWN_ID

pytestmark = [
    pytest.mark.django_db,
    # A drawn example holding 60,000-deep JSON text has a repr of megabytes; hypothesis
    # warns before building it, and only a failure's report shows it.
    pytest.mark.filterwarnings("ignore:Generating overly large repr"),
]

# The scene (Ada, Bob, Engineering and Sales of team A) and the server's tracebacks:
# the fixtures of the grammar properties, shared.
scene = properties.scene
server_errors = properties.server_errors

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
EXTENSION = "urn:ietf:params:scim:schemas:extension:example:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"

#: Examples per property: 60 + 60 + 40 + 25 + 40 requests (a bulk request counted once).
BUDGET = {"writes": 60, "reads": 60, "paths": 40, "bulk": 25, "team_api": 40}
REQUESTS_PER_RUN = sum(BUDGET.values())


def budget(name: str) -> settings:
    """A fixed number of examples, drawn the same way on every run (CI on both databases)."""
    return settings(
        max_examples=BUDGET[name],
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# -- hostile values -----------------------------------------------------------------------

#: What no database stores, alone and inside text; and a surrogate *pair* (one character).
UNSTORABLE = ["\x00", "\udc00", "\ud800", "a\x00b", "x\udfffy", "\ud83d"]
PAIR = "\ud83d\ude00"  # json.dumps writes it as the escapes of 😀: a character like any other
HOSTILE_DATES = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "2026-03-01T09:30:00+99:00",
    "99999-01-01",
    "2026-03-01T09:30:00.9999999999Z",
    "2026-03-01",
    "T",
]


def _deep_json_text(depth: int) -> str:
    return '{"value":' + "[" * depth + "]" * depth + "}"


hostile_text = st.one_of(
    st.text(st.characters(codec=None, categories=["Cs", "Cc", "Zl", "Zp", "Cf"]), max_size=6),
    st.text(max_size=12),
    st.sampled_from([*UNSTORABLE, PAIR, "\ufeff", "\u202e", "", " " * 3]),
    st.builds(lambda a, b: a + b, st.text(max_size=5), st.sampled_from(UNSTORABLE)),
    st.integers(2040, 2100).map(lambda n: "s" * n),
)
hostile_numbers = st.one_of(
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([2**63, -(2**63) - 1, 10**20, 0.1, -0.0, 1e308, 5e-324]),
    st.floats(allow_nan=False, allow_infinity=False),
)
hostile_dates = st.one_of(
    st.sampled_from(HOSTILE_DATES),
    st.builds(
        lambda year, offset: f"{year:04d}-12-31T23:59:59{offset}",
        st.sampled_from([1, 2, 1970, 9998, 9999]),
        st.sampled_from(["Z", "+14:00", "-14:00", "+23:59", ""]),
    ),
)
deep_json_text = st.sampled_from([31, 33, 1_000, 60_000]).map(_deep_json_text)
hostile_scalars = st.one_of(
    hostile_text, hostile_text, hostile_numbers, hostile_dates, deep_json_text, st.none()
)
hostile_trees = st.recursive(
    hostile_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.one_of(hostile_text, st.sampled_from(["value", "type"])), children, max_size=3
        ),
    ),
    max_leaves=6,
)


@st.composite
def hostile_user(draw: Any) -> dict[str, Any]:
    """A user body right in shape, with hostile values in the places that reach columns."""
    body: dict[str, Any] = {"schemas": [USER, EXTENSION, ENTERPRISE]}
    body["userName"] = draw(st.one_of(hostile_text, st.just("fuzz@acme.com")))
    candidates = {
        "name": st.fixed_dictionaries({"givenName": hostile_scalars, "familyName": hostile_text}),
        "emails": st.lists(
            st.fixed_dictionaries({"value": hostile_scalars, "type": hostile_text}), max_size=2
        ),
        "roles": st.lists(st.fixed_dictionaries({"value": hostile_scalars}), max_size=2),
        "externalId": hostile_scalars,
        "title": hostile_scalars,
        "active": st.one_of(st.booleans(), hostile_scalars),
        EXTENSION: st.fixed_dictionaries(
            {}, optional={"costCode": hostile_scalars, "startDate": hostile_dates}
        ),
        ENTERPRISE: st.fixed_dictionaries(
            {}, optional={"employeeNumber": hostile_scalars, "manager": hostile_scalars}
        ),
        "bogus": hostile_trees,
    }
    for key in draw(st.lists(st.sampled_from(sorted(candidates)), max_size=4, unique=True)):
        body[key] = draw(candidates[key])
    if draw(st.integers(0, 9)) == 0:
        body[draw(st.sampled_from(UNSTORABLE))] = "a key no database stores"
    return body


hostile_group = st.fixed_dictionaries(
    {"schemas": st.just([GROUP]), "displayName": hostile_scalars},
    optional={"members": st.lists(st.fixed_dictionaries({"value": hostile_scalars}), max_size=2)},
)
hostile_patch = st.lists(
    st.fixed_dictionaries(
        {"op": st.sampled_from(["add", "replace", "remove", "Replace"])},
        optional={
            "path": st.one_of(
                st.sampled_from(
                    [
                        "title",
                        "name.givenName",
                        "userName",
                        "roles",
                        'emails[type eq "work"].value',
                        f"{EXTENSION}:costCode",
                        f"{EXTENSION}:startDate",
                        "displayName",
                        "members",
                    ]
                ),
                hostile_text,
            ),
            "value": hostile_trees,
        },
    ),
    min_size=1,
    max_size=3,
).map(lambda ops: {"schemas": [PATCH_OP], "Operations": ops})
date_filters = st.builds(
    lambda path, op, date: f'{path} {op} "{date}"',
    st.sampled_from(["meta.created", "meta.lastModified", f"{EXTENSION}:startDate"]),
    st.sampled_from(["gt", "ge", "lt", "eq", "ne"]),
    hostile_dates,
)
hostile_filters = st.one_of(
    date_filters,
    properties.filters,
    st.builds(lambda t: f"userName eq {json.dumps(t)}", hostile_text),
    st.builds(lambda t: f'title co "{t}"', hostile_text),
)

USERS = [f"/Users/{ADA}", f"/Users/{BOB}", f"/Users/{UNKNOWN_ID}"]
GROUPS = [f"/Groups/{ENGINEERING}", f"/Groups/{SALES}"]

writes = st.one_of(
    st.tuples(st.just("post"), st.just("/Users"), hostile_user()),
    st.tuples(st.just("put"), st.sampled_from(USERS), hostile_user()),
    st.tuples(st.just("patch"), st.sampled_from(USERS), hostile_patch),
    st.tuples(
        st.just("patch"),
        st.sampled_from(USERS),
        properties.patch_bodies(properties.USER_ATTRIBUTES),
    ),
    st.tuples(st.just("post"), st.just("/Groups"), hostile_group),
    st.tuples(st.just("put"), st.sampled_from(GROUPS), hostile_group),
    st.tuples(
        st.just("patch"),
        st.sampled_from(GROUPS),
        properties.patch_bodies(properties.GROUP_ATTRIBUTES),
    ),
    st.tuples(
        st.sampled_from(["post", "put"]),
        st.sampled_from(["/Users", *USERS]),
        properties.resource_bodies(USER_SCHEMA),
    ),
    st.tuples(
        st.sampled_from(["post", "put"]),
        st.sampled_from(GROUPS),
        properties.resource_bodies(GROUP_SCHEMA),
    ),
)
reads = st.one_of(
    st.tuples(
        st.just("get"),
        st.sampled_from(["/Users", "/Groups"]),
        hostile_filters.map(lambda f: {"filter": f}),
    ),
    st.tuples(
        st.just("post"),
        st.sampled_from(["/Users/.search", "/Groups/.search", "/.search"]),
        st.fixed_dictionaries(
            {"schemas": st.just([SEARCH])},
            optional={
                "filter": hostile_filters,
                "sortBy": st.one_of(hostile_text, st.just(f"{EXTENSION}:startDate")),
                "startIndex": hostile_numbers,
                "count": hostile_numbers,
                "attributes": st.lists(hostile_text, max_size=2),
            },
        ),
    ),
    st.tuples(
        st.just("get"),
        st.sampled_from(["/Users", "/Groups", *USERS[:1], *GROUPS[:1]]),
        st.dictionaries(
            st.one_of(
                st.sampled_from(["count", "startIndex", "attributes", "sortBy"]), hostile_text
            ),
            hostile_text,
            max_size=2,
        ),
    ),
)
odd_ids = st.one_of(
    st.sampled_from(
        [
            "%00",
            "a%00b",
            "%ED%B0%80",  # a surrogate's UTF-8 bytes: not UTF-8, Django keeps them escaped
            "%F0%9F%98%80",
            "%2e%2e",
            "..%2f..",
            "scim_" + "A" * 43,
            "0" * 600,
            "00000000-0000-4000-8000-00000000000%00",
            "%20",
            "%FF",
        ]
    ),
    st.text(alphabet="abc%0-_.~:;@", max_size=12),
)
paths = st.builds(
    lambda method, prefix, oddity, suffix: (method, f"{prefix}{oddity}{suffix}"),
    st.sampled_from(["get", "delete", "put", "patch"]),
    st.sampled_from(["/Users/", "/Groups/", "/", "/Schemas/", "/ResourceTypes/", "/Bulk/"]),
    odd_ids,
    st.sampled_from(["", "/", "/x", "?count=%00", "?filter=title%20eq%20%22%00%22"]),
)


@st.composite
def bulk_requests(draw: Any) -> dict[str, Any]:
    operations = []
    for index in range(draw(st.integers(1, 3))):
        method, path, data = draw(
            st.one_of(
                st.tuples(st.just("POST"), st.just("/Users"), hostile_user()),
                st.tuples(st.just("PATCH"), st.sampled_from(USERS), hostile_patch),
                st.tuples(st.just("POST"), st.just("/Groups"), hostile_group),
                st.tuples(st.just("DELETE"), st.sampled_from([*USERS, *GROUPS]), st.none()),
                st.tuples(st.just("PUT"), odd_ids.map(lambda i: f"/Users/{i}"), hostile_user()),
            )
        )
        operation = {"method": method, "path": path, "bulkId": f"op{index}"}
        if data is not None:
            operation["data"] = data
        operations.append(operation)
    return {"schemas": [BULK], "Operations": operations}


# -- the exchange and its checks ------------------------------------------------------------


def _other_teams_rows() -> list[int]:
    return sorted(
        SCIMRequestLog.objects.filter(path__startswith="/scim/v2/other/").values_list(
            "pk", flat=True
        )
    )


@pytest.fixture
def fuzz_scene(scene, other_team) -> dict[str, Any]:
    """Team A's scene, plus rows of team B's request log that no request may lose."""
    SCIMRequestLog.objects.bulk_create(
        SCIMRequestLog(
            team=other_team,
            method="GET",
            path=f"/scim/v2/other/{i}",
            status=200,
            duration_ms=1.0,
            created=timezone.now(),
        )
        for i in range(3)
    )
    return {**scene, "other_rows": _other_teams_rows()}


def _everything() -> dict[str, Any]:
    return {
        **properties.snapshot(),
        "tokens": list(SCIMToken.objects.order_by("pk").values()),
        "domains": list(SCIMTeamDomain.objects.order_by("pk").values()),
    }


def _with_query(path: str, parameters: dict[str, str] | None) -> str:
    """``path`` with ``parameters`` encoded as a client that sends any bytes would: a lone
    surrogate becomes the three bytes of its would-be UTF-8 form (not UTF-8 at all)."""
    if not parameters:
        return path
    return f"{path}?{urlencode(parameters, encoding='utf-8', errors='surrogatepass')}"


def _scim(scene: dict[str, Any], errors: Any, method: str, path: str, payload: Any) -> Any:
    """Send one SCIM request from team A's IdP and check the three properties."""
    idp, ids = scene["idp"], scene["ids"]
    path, payload = properties.resolve(ids, path), properties.resolve(ids, payload)
    errors.records.clear()
    with properties.rolled_back():
        before, logged = _everything(), SCIMRequestLog.objects.count()
        if method == "get":
            response = idp.get(_with_query(path, payload))
        elif method == "delete":
            response = idp.delete(path)
        else:
            body = json.dumps(payload) if not isinstance(payload, str) else payload
            response = getattr(idp, method)(path, body)
        after = _everything()
        assert SCIMRequestLog.objects.count() == logged + 1, (
            f"the request's log row was not stored: {method.upper()} {path!r} {errors.tracebacks()}"
        )
        assert _other_teams_rows() == scene["other_rows"], "another team's log rows were lost"
    request = f"{method.upper()} {path!r} {payload!r}"[:3000]
    properties.check_answer(response, request, errors)
    if method != "get" and response.status_code >= 400:
        changed = sorted(k for k in before if before[k] != after[k])
        assert not changed, f"refused write ({response.status_code}) changed {changed}: {request}"
    return response, before, after


@budget("writes")
@given(request=writes)
def test_hostile_writes_are_stored_whole_or_refused_without_a_trace(
    fuzz_scene, server_errors, request
):
    _scim(fuzz_scene, server_errors, *request)


@budget("reads")
@given(request=reads)
def test_hostile_filters_and_searches_are_answered_or_refused(fuzz_scene, server_errors, request):
    _scim(fuzz_scene, server_errors, *request)


@budget("paths")
@given(request=paths, body=hostile_user())
def test_hostile_paths_and_ids_are_answered_or_refused(fuzz_scene, server_errors, request, body):
    method, path = request
    _scim(fuzz_scene, server_errors, method, path, body if method in ("put", "patch") else None)


@budget("bulk")
@given(bulk=bulk_requests())
def test_hostile_bulk_operations_are_each_answered_without_a_server_error(
    fuzz_scene, server_errors, bulk
):
    response, before, after = _scim(fuzz_scene, server_errors, "post", "/Bulk", bulk)
    if response.status_code != 200:
        return
    statuses = [int(op["status"]) for op in response.json()["Operations"]]
    assert all(status < 500 for status in statuses), response.content
    if all(status >= 400 for status in statuses):
        changed = sorted(k for k in before if before[k] != after[k])
        assert not changed, f"every operation refused, yet {changed} changed: {bulk!r}"[:3000]


# -- the team API -------------------------------------------------------------------------

team_api_requests = st.one_of(
    st.tuples(
        st.just("post"),
        st.just("tokens/"),
        st.fixed_dictionaries({"expires_in": st.one_of(hostile_text, hostile_numbers)}),
    ),
    st.tuples(
        st.just("post"),
        st.just("tokens/rotate/"),
        st.fixed_dictionaries(
            {}, optional={"expires_in": hostile_text, "overlap_hours": hostile_numbers}
        ),
    ),
    st.tuples(
        st.just("post"), st.just("domains/"), st.fixed_dictionaries({"domain": hostile_scalars})
    ),
    st.tuples(
        st.just("post"),
        st.builds(lambda i: f"tokens/{i}/revoke/", odd_ids),
        st.none(),
    ),
    st.tuples(
        st.just("post"),
        st.builds(lambda i: f"domains/{i}/remove/", odd_ids),
        st.none(),
    ),
    st.tuples(
        st.just("get"),
        st.just("timeline/"),
        st.fixed_dictionaries({}, optional={"person": hostile_text, "action": hostile_text}),
    ),
    st.tuples(st.just("post"), st.just("tokens/"), hostile_trees.map(lambda t: {"expires_in": t})),
    st.tuples(st.just("post"), st.just("domains/"), deep_json_text),
)


@pytest.fixture
def manager_session(team) -> Any:
    return logged_in(member_of(team, Membership.Role.OWNER))


@budget("team_api")
@given(request=team_api_requests)
def test_hostile_team_api_requests_are_answered_or_refused_without_a_trace(
    manager_session, server_errors, request
):
    method, path, payload = request
    url = f"/api/teams/acme/scim/{path}"
    server_errors.records.clear()
    with properties.rolled_back():
        before = _everything()
        if method == "get":
            response = manager_session.get(_with_query(url, payload))
        elif isinstance(payload, str):
            response = manager_session.post(url, payload, content_type="application/json")
        else:
            body = json.dumps(payload) if payload is not None else ""
            response = manager_session.post(url, body, content_type="application/json")
        after = _everything()
    assert response.status_code < 500, (
        f"{response.status_code} for {method} {url} {payload!r}"[:3000]
        + f"\n{server_errors.tracebacks()}"
    )
    if response.status_code != 404:  # a URL no pattern matches: Django's own page
        assert response["Content-Type"] == "application/json", response.content[:300]
    if response.status_code >= 400:
        changed = sorted(k for k in before if before[k] != after[k])
        assert not changed, f"refused ({response.status_code}) yet {changed} changed: {payload!r}"
