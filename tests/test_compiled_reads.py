"""The seam of compiled reads (:mod:`scim_provisioning.reads`): on or off, the same answers.

``SCIM_PROVISIONING_COMPILED_QUERIES`` off, every read is built by the ORM and
no compiler internal is touched: a Django release that changes one cannot
break a site that switched them off. On or off, the IdP sees the same bodies,
and what a read found beyond its records comes in a typed result, never as an
attribute on a record.
"""

from __future__ import annotations

import ast
import json
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

import scim_provisioning
from scim_provisioning import prepared, reads
from scim_provisioning.adapters import DefaultAdapter, get_adapter
from scim_provisioning.listing import _ordering
from scim_provisioning.models import SCIMTeamConfig, SCIMToken, SCIMUserEvent, SCIMUserValue
from scim_provisioning.resource_types import USERS

from .conftest import load_payload, patch_op

pytestmark = pytest.mark.django_db

SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


class CompilerTouched(Exception):
    """Raised by a compiler internal the compiled reads use, patched for the test."""


@pytest.fixture
def compiler_forbidden(monkeypatch):
    """Every compiler internal the compiled reads reach raises; every compiled shape forgotten."""

    def forbidden(*args, **kwargs):
        raise CompilerTouched

    reads._page_read.cache_clear()
    reads._by_id.cache_clear()
    for read in (reads._TOKEN_BY_DIGEST, reads._GROUPS_OF_USER, reads._MEMBERS_OF_GROUP):
        read.compiled._compiled.clear()
    for insert in (reads.USER_VALUES, reads.TIMELINE_ENTRIES, reads.USER_RECORD_INSERT):
        insert.compiled._compiled.clear()
    reads.USER_RECORD_SAVE.compiled._compiled.clear()
    monkeypatch.setattr(prepared, "get_related_populators", forbidden)
    monkeypatch.setattr(prepared.PreparedQuery, "_compile", forbidden)
    monkeypatch.setattr(prepared.PreparedQuery, "_fetch", forbidden)
    monkeypatch.setattr(prepared.PreparedInsert, "_compile", forbidden)
    monkeypatch.setattr(prepared.PreparedInsert, "run", forbidden)
    monkeypatch.setattr(prepared.PreparedSave, "_compile", forbidden)
    monkeypatch.setattr(prepared.PreparedSave, "run", forbidden)


def _conversation(idp, who: str = "ada") -> list:
    """What an IdP does in a day: create, look up, read, list, search, change, root query."""
    ada = idp.post("/Users", {"userName": f"{who}@acme.com", "externalId": f"ext-{who}"})
    assert ada.status_code == 201, ada.content
    pk = ada.json()["id"]
    group = idp.post("/Groups", {"displayName": "Engineering", "members": [{"value": pk}]})
    assert group.status_code == 201, group.content
    answers = [
        idp.get(f"/Users/{pk}"),
        idp.get(f"/Groups/{group.json()['id']}"),
        idp.get("/Users"),
        idp.get("/Users", {"filter": f'userName eq "{who.upper()}@acme.com"'}),
        idp.get("/Users", {"filter": f'externalId eq "ext-{who}"'}),
        idp.get("/Users", {"filter": 'userName eq "nobody@acme.com"'}),
        idp.get("/Users", {"filter": f'userName sw "{who}"'}),
        idp.post(
            "/Users/.search", {"schemas": [SEARCH], "filter": f'userName eq "{who}@acme.com"'}
        ),
        idp.post("/Groups/.search", {"schemas": [SEARCH]}),
        idp.post("/.search", {"schemas": [SEARCH]}),
        idp.patch(f"/Users/{pk}", patch_op({"op": "replace", "path": "title", "value": "Eng"})),
    ]
    assert [a.status_code for a in answers] == [200] * len(answers), [a.content for a in answers]
    return [ada, group, *answers]


def test_with_compiled_queries_off_no_compiler_internal_is_touched(idp, compiler_forbidden):
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=False):
        answers = _conversation(idp)

    read = answers[2].json()
    assert read["userName"] == "ada@acme.com"
    assert [g["display"] for g in read["groups"]] == ["Engineering"]
    assert answers[5].json()["totalResults"] == 1
    assert answers[-1].json()["title"] == "Eng"


def test_with_compiled_queries_on_the_forbidden_internals_are_reached(idp, compiler_forbidden):
    """The counterpart of the test above: its patches do stop a compiled read (a 500)."""
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=True):
        response = idp.get("/Users")

    assert response.status_code == 500


def _written(team) -> tuple[list, list]:
    """The team's timeline entries and values as rows, without keys and times."""
    entries = SCIMUserEvent.objects.filter(team=team).order_by("created", "action")
    values = SCIMUserValue.objects.filter(user__team=team).order_by("attribute", "value")
    return (
        [(e.action, e.user_name, e.changes, e.names, e.token_id) for e in entries],
        [(v.attribute, v.type, v.value, v.primary, v.number, v.moment) for v in values],
    )


@pytest.mark.parametrize("compiled", [True, False])
def test_compiled_or_not_a_create_inserts_the_same_rows_in_as_many_statements(idp, team, compiled):
    """The timeline entry and the values (three rows: one statement) through Insert, on or off."""
    body = load_payload("okta/create_user.json") | {
        "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
        "roles": [{"value": "Engineer"}],
    }
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=compiled):
        with CaptureQueriesContext(connection) as queries:
            response = idp.post("/Users", body)

    assert response.status_code == 201, response.content
    entries, values = _written(team)
    assert [entry[:2] for entry in entries] == [("user.created", "test.user@okta.local")]
    assert "test user" in entries[0][3].split("\n")
    assert [value[:3] for value in values] == [
        ("emails", "work", "test.user@okta.local"),
        ("phoneNumbers", "work", "+1 555 0100"),
        ("roles", "", "engineer"),
    ]
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    (entry_sql,) = [sql for sql in inserts if '"scim_provisioning_scimuserevent"' in sql]
    assert sum('"scim_provisioning_scimuservalue"' in sql for sql in inserts) == 1
    # Compiled, the entry's INSERT reads nothing back; bulk_create returns its key where it can.
    returning = not compiled and connection.features.can_return_rows_from_bulk_insert
    assert ("RETURNING" in entry_sql) is returning


def _bodies(answers, who: str = "ada") -> list:
    bodies = []
    for answer in answers:
        body = json.loads(answer.content.decode().replace(who, "ada"))
        body.pop("meta", None)
        for resource in body.get("Resources", []):
            resource.pop("meta", None)
        bodies.append(body)
    return bodies


def test_compiled_and_plain_reads_answer_alike(idp, other_idp):
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=True):
        compiled = _bodies(_conversation(idp))
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=False):
        plain = _bodies(_conversation(other_idp, "bea"), "bea")

    assert len(compiled) == len(plain)
    for ours, theirs in zip(compiled, plain, strict=True):
        assert _shape(ours) == _shape(theirs)


def _shape(body):
    """A body with each id and link replaced by a placeholder (two teams: other ids)."""
    if isinstance(body, dict):
        return {
            k: "<id>" if k in ("id", "value", "$ref", "location") else _shape(v)
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [_shape(v) for v in body]
    return body


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "plain"])
def test_a_page_says_what_it_found_in_its_result_not_on_its_records(idp, team, compiled):
    for name in ("ada@acme.com", "grace@acme.com"):
        assert idp.post("/Users", {"userName": name}).status_code == 201
    digest = SCIMToken.objects.get(team=team).digest
    order = _ordering(None, False)
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=compiled):
        page = reads.list_page(USERS, team.pk, slice(0, 1), digest, order, links=False)
        linked = reads.list_page(USERS, team.pk, slice(1, 2), digest, order)
        lookup = reads.list_page(
            USERS,
            team.pk,
            slice(0, 10),
            digest,
            order,
            lookup="user_name_ci",
            value="grace@acme.com",
        )
        found = reads.record_by_id(USERS, team.pk, lookup.records[0].pk, digest)

    assert (page.total, page.token_ok, page.groups, len(page.records)) == (2, True, None, 1)
    assert (linked.total, linked.token_ok, len(linked.records)) == (2, True, 1)
    assert linked.groups == {linked.records[0].pk: ()}
    assert (lookup.total, lookup.token_ok) == (1, True)
    assert lookup.groups == {lookup.records[0].pk: ()}
    assert (found.token_ok, found.groups) == (True, ())
    for record in [*page.records, *linked.records, *lookup.records, found.record]:
        assert not [name for name in vars(record) if name.startswith("_scim")]


def test_a_token_of_a_switched_off_team_is_known_but_refused_by_the_one_rule(idp, team):
    token = SCIMToken.objects.get(team=team)
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)

    checked = reads.token_by_digest(token.digest)
    unknown = reads.token_by_digest("0" * 64)

    assert (checked.token.pk, checked.live, checked.team_on) == (token.pk, True, False)
    assert unknown == reads.TokenCheck(None)
    assert idp.get("/Users").status_code == 403


def test_only_the_seam_imports_the_compiler_internals():
    """Everything that compiles SQL once lives behind :mod:`scim_provisioning.reads`."""
    package = Path(scim_provisioning.__file__).parent
    importers = []
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n == "prepared" or n.endswith(".prepared") for n in names):
                importers.append(path.relative_to(package).as_posix())
    assert sorted(set(importers)) == ["reads.py"]


def test_a_random_id_finds_nothing_either_way(idp):
    for compiled in (True, False):
        with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=compiled):
            response = idp.get(f"/Users/{uuid.uuid4()}")
        assert response.status_code == 404


def _deactivate_and_count(idp, pk) -> tuple[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = idp.patch(
            f"/Users/{pk}", patch_op({"op": "replace", "path": "active", "value": False})
        )
    return response.status_code, len(queries)


def test_the_membership_read_compiled_or_not_finds_the_same_row(idp, team):
    """Every deactivation reads the person's membership (compiled once, issue 27): on or
    off, the same statements, and the membership switched off."""
    from example_project.teams.models import Membership

    people = [idp.post("/Users", {"userName": f"{n}@acme.com"}).json()["id"] for n in "ab"]
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=True):
        compiled = _deactivate_and_count(idp, people[0])
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=False):
        plain = _deactivate_and_count(idp, people[1])

    assert compiled == plain
    assert compiled[0] == 200
    assert (
        list(
            Membership.objects.filter(team=team, is_active=True).values_list(
                "user__email", flat=True
            )
        )
        == []
    )


class _OnlyActiveRows(DefaultAdapter):
    """A host whose membership rows are only its active ones."""

    def team_memberships(self, team_id):
        return super().team_memberships(team_id).filter(is_active=True)


def test_an_adapter_choosing_its_rows_is_asked_not_the_compiled_read(idp, team):
    from example_project.teams.models import Membership

    pk = idp.post("/Users", {"userName": "ada@acme.com"}).json()["id"]
    assert (
        idp.patch(
            f"/Users/{pk}", patch_op({"op": "replace", "path": "active", "value": False})
        ).status_code
        == 200
    )
    membership = Membership.objects.get(team=team, user__email="ada@acme.com")
    path = f"{__name__}._OnlyActiveRows"

    with override_settings(SCIM_PROVISIONING_ADAPTER=path):
        found = get_adapter().membership_row(SCIMTeamConfig(team_id=team.pk), membership.user)
    default = get_adapter().membership_row(SCIMTeamConfig(team_id=team.pk), membership.user)

    assert found is None  # its rows: the inactive one is none of them
    assert default.pk == membership.pk
