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
from django.test import override_settings

import scim_provisioning
from scim_provisioning import prepared, reads
from scim_provisioning.listing import _ordering
from scim_provisioning.models import SCIMTeamConfig, SCIMToken
from scim_provisioning.resource_types import USERS

from .conftest import patch_op

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
    monkeypatch.setattr(prepared, "get_related_populators", forbidden)
    monkeypatch.setattr(prepared.PreparedQuery, "_compile", forbidden)
    monkeypatch.setattr(prepared.PreparedQuery, "_fetch", forbidden)


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
