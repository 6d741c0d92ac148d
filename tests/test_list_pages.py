"""Pages of a list, walked as an IdP's import walks them: every record once, the team's, in order.

A page past the first is read on PostgreSQL by its ids first, then its records
by id (a deferred join, ``reads._deferred``); a page reads its people's groups in
its own query. Either way, walking ``startIndex`` from 1 to the end must give
each of the team's records exactly once, in SCIM's order (``created``, then
``id``; or ``sortBy``), with the team's total and each person's groups, and
nothing of another team, whose records are interleaved with the team's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from scim_provisioning import reads
from scim_provisioning.models import SCIMUser

pytestmark = pytest.mark.django_db

#: Creation times out of the order of creation, two of them equal (then the id decides).
_MINUTES = [5, 1, 4, 1, 7, 0, 3]


@pytest.fixture
def people(idp, other_idp, provision):
    """Team A's seven people and team B's seven, created alternately, with scrambled times."""
    start = datetime(2026, 1, 1, tzinfo=dt_timezone.utc)
    ours, theirs = [], []
    for i, minutes in enumerate(_MINUTES):
        for client, kept, name in ((idp, ours, "p"), (other_idp, theirs, "q")):
            body = provision(f"{name}{i}@acme.com", client=client)
            moment = start + timedelta(minutes=minutes, seconds=len(kept) % 2)
            SCIMUser.objects.filter(pk=body["id"]).update(created=moment)
            kept.append(SCIMUser.objects.get(pk=body["id"]))
    return ours, theirs


@pytest.fixture
def deferred_from_the_second_row(monkeypatch):
    """Pages past the first read by their ids first on PostgreSQL even without groups."""
    monkeypatch.setattr(reads, "DEFERRED_FROM", 1)
    reads._page_read.cache_clear()  # shapes compiled under the default
    yield
    reads._page_read.cache_clear()


def _walk(client, size: int, **params: str) -> tuple[list[dict], set[int]]:
    resources, totals = [], set()
    start = 1
    while True:
        response = client.get("/Users", {"startIndex": str(start), "count": str(size), **params})
        assert response.status_code == 200, response.content
        body = response.json()
        totals.add(body["totalResults"])
        if not body["Resources"]:
            return resources, totals
        assert body["startIndex"] == start
        resources += body["Resources"]
        start += size


@pytest.mark.usefixtures("deferred_from_the_second_row")
@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "plain"])
@pytest.mark.parametrize("size", [1, 2, 3, 100])
@pytest.mark.parametrize("groups", [True, False], ids=["with-groups", "without-groups"])
def test_walking_the_pages_gives_each_of_the_teams_people_once_in_order(
    idp, other_idp, people, compiled, size, groups
):
    ours, theirs = people
    engineers = [ours[1], ours[4], ours[6]]
    group = idp.post(
        "/Groups",
        {"displayName": "Engineering", "members": [{"value": str(p.pk)} for p in engineers]},
    ).json()
    other_idp.post("/Groups", {"displayName": "Theirs", "members": [{"value": str(theirs[1].pk)}]})
    params = {} if groups else {"excludedAttributes": "groups"}

    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=compiled):
        walked, totals = _walk(idp, size, **params)

    expected = sorted(ours, key=lambda p: (p.created, p.pk))
    assert [r["id"] for r in walked] == [str(p.pk) for p in expected]
    assert totals == {7}
    for resource in walked:
        member = resource["id"] in {str(p.pk) for p in engineers}
        if not groups:
            assert "groups" not in resource
        elif member:
            assert [g["value"] for g in resource["groups"]] == [group["id"]]
        else:
            assert resource.get("groups", []) == []


@pytest.mark.usefixtures("deferred_from_the_second_row")
def test_a_sorted_walk_keeps_its_order_across_pages(idp, people):
    ours, _ = people

    walked, totals = _walk(idp, 2, sortBy="userName", sortOrder="descending")

    assert [r["userName"] for r in walked] == sorted((p.user_name for p in ours), reverse=True)
    assert totals == {7}


def test_a_page_past_the_first_is_one_read_and_by_ids_first_on_postgresql(idp, people):
    idp.get("/Users?count=1")  # the token known and its last use recorded, outside the count

    with CaptureQueriesContext(connection) as queries:
        response = idp.get("/Users", {"startIndex": "4", "count": "2"})

    assert response.status_code == 200
    assert [r["userName"] for r in response.json()["Resources"]] == ["p6@acme.com", "p2@acme.com"]
    # The request log's row aside (tests/test_query_budgets.py counts every statement):
    # one statement reads the people, and their groups with them.
    statements = [q["sql"] for q in queries.captured_queries if "scimrequestlog" not in q["sql"]]
    reading = [s for s in statements if not s.upper().startswith(("SAVEPOINT", "RELEASE"))]
    assert len(reading) == 1, reading
    statement = reading[0]
    assert "scim_provisioning_scimgroupmembership" in statement
    by_ids_first = " IN (SELECT " in statement.upper()
    assert by_ids_first == (connection.vendor == "postgresql"), statement


def test_a_page_past_the_end_counts_the_teams_people_only(idp, other_idp, people):
    response = idp.get("/Users", {"startIndex": "8", "count": "2"})

    assert response.status_code == 200
    assert response.json()["totalResults"] == 7
    assert response.json()["Resources"] == []
