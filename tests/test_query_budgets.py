"""Every request runs a fixed, small number of queries, whatever the team's size.

The budgets include authentication (one query: token, team and SCIM config
joined). ``last_used_at`` is written at most once a minute, so the budgets
are measured after a first request has recorded it, and one test measures
the request that writes it.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMUser, SCIMUserValue

from .conftest import load_payload, patch_op

pytestmark = pytest.mark.django_db
User = get_user_model()

#: Statements per request. Writes count the SAVEPOINT/RELEASE pairs of the
#: request's transaction (a savepoint here, inside the test's transaction) and
#: of the savepoint that turns a lost uniqueness race into a 409.
BUDGETS = {
    "get": 3,  # token, user, its groups
    "list": 4,  # token, count, page, the page's groups
    "filter": 4,  # token, count, page, the page's groups
    "create": 13,  # token, userName free?, account lookup, account insert, record insert,
    #                values insert, membership update + insert, groups; 4 savepoint statements
    "put": 10,  # token, locked user, record update, other memberships?, account update,
    #             groups; 4 savepoint statements
    "patch": 9,  # token, locked user, record update, membership update, groups; 4 sp
    "delete": 9,  # token, locked user, membership, values, group memberships, reports'
    #               manager, record; 2 savepoint statements
}


def _populate(team, size: int) -> list[SCIMUser]:
    """``size`` provisioned people, written in bulk; all but the first report to the first."""
    accounts = User.objects.bulk_create(
        [User(email=f"bulk{i:06d}@acme.com", password="!") for i in range(size)]
    )
    Membership.objects.bulk_create([Membership(team=team, user=a) for a in accounts])
    boss = None
    records = []
    for i, account in enumerate(accounts):
        records.append(
            SCIMUser(
                id=uuid.uuid4(),
                team=team,
                user=account,
                user_name=account.email,
                email=account.email,
                external_id=f"ext-{i}",
                attributes={
                    "name": {"givenName": "Bulk", "familyName": str(i)},
                    "emails": [{"value": account.email, "type": "work", "primary": True}],
                },
                created_account=True,
                manager=boss,
            )
        )
        boss = boss or records[0]
    records = SCIMUser.objects.bulk_create(records)
    SCIMUserValue.objects.bulk_create([row for r in records for row in r.value_rows()])
    return records


def _count(callable_) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = callable_()
    return len(queries), response


@pytest.fixture(params=[10, 1000], ids=["10-users", "1000-users"])
def population(request, team, idp):
    records = _populate(team, request.param)
    idp.get("/Users?count=1")  # records last_used_at, outside the measurements
    return records


def test_get_by_id(idp, population):
    target = population[-1]

    queries, response = _count(lambda: idp.get(f"/Users/{target.id}"))

    assert response.status_code == 200
    assert queries <= BUDGETS["get"]


def test_list_page_of_100(idp, population):
    queries, response = _count(lambda: idp.get("/Users?startIndex=1&count=100"))

    assert response.status_code == 200
    assert response.json()["itemsPerPage"] == min(100, len(population))
    assert queries <= BUDGETS["list"]


def test_deep_page(idp, population):
    start = max(1, len(population) - 5)

    queries, response = _count(lambda: idp.get(f"/Users?startIndex={start}&count=100"))

    assert response.status_code == 200
    assert queries <= BUDGETS["list"]


@pytest.mark.parametrize(
    "filter_text",
    [
        'userName eq "BULK000007@acme.com"',
        'externalId eq "ext-7"',
        'emails[type eq "work"].value eq "bulk000007@acme.com"',
    ],
)
def test_filtered_get(idp, population, filter_text):
    queries, response = _count(lambda: idp.get("/Users", {"filter": filter_text}))

    assert response.json()["totalResults"] == 1
    assert queries <= BUDGETS["filter"]


def test_create(idp, population):
    queries, response = _count(lambda: idp.post("/Users", load_payload("okta/create_user.json")))

    assert response.status_code == 201
    assert queries <= BUDGETS["create"]


def test_put(idp, population):
    target = population[-1]

    queries, response = _count(
        lambda: idp.put(f"/Users/{target.id}", {"name": {"givenName": "Changed"}})
    )

    assert response.status_code == 200
    assert queries <= BUDGETS["put"]


def test_patch_deactivate(idp, population):
    target = population[-1]

    queries, response = _count(
        lambda: idp.patch(
            f"/Users/{target.id}", patch_op({"op": "replace", "path": "active", "value": "False"})
        )
    )

    assert response.status_code == 200
    assert queries <= BUDGETS["patch"]


def test_delete(idp, population):
    target = population[-1]

    queries, response = _count(lambda: idp.delete(f"/Users/{target.id}"))

    assert response.status_code == 204
    assert queries <= BUDGETS["delete"]


def test_last_used_at_costs_one_write_a_minute(idp, team):
    first, _ = _count(lambda: idp.get("/Users?count=0"))
    second, _ = _count(lambda: idp.get("/Users?count=0"))

    assert first == second + 1
