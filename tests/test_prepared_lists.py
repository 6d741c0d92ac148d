"""Lookups by one exact value run SQL compiled once per shape: still the team's, still exact.

The first team to send ``userName eq "…"`` compiles the shape; every later
request of any team reuses it with its own team, value and token. These
tests send the same shapes from two teams' IdPs, one after the other, and
check each sees only its own records and exactly the value it asked for.
"""

from __future__ import annotations

import pytest

from scim_provisioning.models import SCIMGroup, SCIMUser

from .host import prove_mailbox

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totalResults"] == len(body["Resources"])
    return sorted(r["userName"] for r in body["Resources"])


def test_the_same_lookup_from_two_teams_finds_each_teams_own_person(
    idp, other_idp, provision, monkeypatch
):
    ours = provision("ada@acme.com", externalId="ext-1")
    prove_mailbox(monkeypatch, SCIMUser.objects.get(pk=ours["id"]).user, "ada@acme.com")
    theirs = provision("ada@acme.com", client=other_idp, externalId="ext-1")

    for client, expected in ((idp, ours), (other_idp, theirs), (idp, ours)):
        for text in ('userName eq "ada@acme.com"', 'externalId eq "ext-1"'):
            body = client.get("/Users", {"filter": text}).json()
            assert [r["id"] for r in body["Resources"]] == [expected["id"]]

    assert SCIMUser.objects.filter(user_name="ada@acme.com").count() == 2


def test_a_lookup_compiled_by_one_team_finds_nothing_of_it_for_another(idp, other_idp, provision):
    provision("grace@acme.com", externalId="ext-g")

    assert _names(idp.get("/Users", {"filter": 'userName eq "grace@acme.com"'})) == [
        "grace@acme.com"
    ]
    assert _names(other_idp.get("/Users", {"filter": 'userName eq "grace@acme.com"'})) == []
    assert _names(other_idp.get("/Users", {"filter": 'externalId eq "ext-g"'})) == []


def test_a_lookup_matches_its_value_exactly_whatever_the_value_holds(idp, provision):
    """LIKE wildcards and quotes are plain characters of the value, on every later request too."""
    for name in ("a_b@acme.com", "axb@acme.com", "a%b@acme.com", "o'brien@acme.com"):
        provision(name)

    assert _names(idp.get("/Users", {"filter": 'userName eq "a_b@acme.com"'})) == ["a_b@acme.com"]
    assert _names(idp.get("/Users", {"filter": 'userName eq "a%b@acme.com"'})) == ["a%b@acme.com"]
    assert _names(idp.get("/Users", {"filter": 'userName eq "O\'BRIEN@acme.com"'})) == [
        "o'brien@acme.com"
    ]
    assert _names(idp.get("/Users", {"filter": 'userName eq "a_%"'})) == []


def test_user_name_lookups_ignore_case_and_external_ids_do_not(idp, provision):
    provision("Ada.Lovelace@acme.com", externalId="AbC")

    assert _names(idp.get("/Users", {"filter": 'userName eq "ada.lovelace@ACME.com"'})) == [
        "Ada.Lovelace@acme.com"
    ]
    assert _names(idp.get("/Users", {"filter": 'externalId eq "AbC"'})) == ["Ada.Lovelace@acme.com"]
    assert _names(idp.get("/Users", {"filter": 'externalId eq "abc"'})) == []


def test_a_group_lookup_by_display_name_is_the_teams_own(idp, other_idp):
    ours = idp.post("/Groups", {"displayName": "Engineering"}).json()
    theirs = other_idp.post("/Groups", {"displayName": "Engineering"}).json()

    for client, expected in ((idp, ours), (other_idp, theirs)):
        body = client.get("/Groups", {"filter": 'displayName eq "engineering"'}).json()
        assert [g["id"] for g in body["Resources"]] == [expected["id"]]
    assert SCIMGroup.objects.filter(display_name="Engineering").count() == 2


def test_pages_of_one_shape_count_each_teams_records(idp, other_idp, provision):
    for i in range(3):
        provision(f"p{i}@acme.com")
    provision("q@acme.com", client=other_idp)

    ours = idp.get("/Users", {"startIndex": "2", "count": "1"}).json()
    theirs = other_idp.get("/Users", {"startIndex": "2", "count": "1"}).json()

    assert (ours["totalResults"], ours["itemsPerPage"]) == (3, 1)
    assert ours["Resources"][0]["userName"] == "p1@acme.com"
    assert (theirs["totalResults"], theirs["itemsPerPage"]) == (1, 0)
