"""Every request runs a fixed, small number of queries, whatever the team's size.

The budgets include authentication. A worker remembers which team a token
belongs to (``token_cache``), so a read checks the token's validity (not
revoked, not expired, the team's SCIM on) inside its own first query; so does
a write of a record by id (PUT, PATCH, DELETE) inside its locked read, which
brings the team's SCIM config with the record, and a user's create inside its
first read (the team's config, verified domains and the address's refusals);
a group's create checks it with one query (token, team and SCIM config joined)
before it writes. Each test's first request makes the token known. The request log costs the
request no statement: its row is handed to the request-log writer, which
saves rows in batches on its own connection (here each request is checked to
hand over exactly one row). ``last_used_at`` is written at most once a minute,
so the budgets are measured after a first request has recorded it, and one
test measures the request that writes it.
"""

from __future__ import annotations

import math
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from example_project.teams.models import Membership
from scim_provisioning.adapters import DefaultAdapter
from scim_provisioning.models import (
    SCIMGroup,
    SCIMGroupMembership,
    SCIMLinkRefusal,
    SCIMLinkRefusalReason,
    SCIMUser,
    SCIMUserEvent,
    SCIMUserValue,
)
from scim_provisioning.request_log_writer import writer

from .conftest import load_payload, patch_op

pytestmark = pytest.mark.django_db
User = get_user_model()

#: Statements per request. Writes count the SAVEPOINT/RELEASE pairs of the
#: request's transaction (a savepoint here, inside the test's transaction) and,
#: on a create, of the savepoints that turn a lost uniqueness race into a 409
#: (PUT and PATCH need none: their transaction turns it into one, writes.py).
BUDGETS = {
    # Reads check the (remembered) token inside their first query.
    "get": 1,  # the user, with the token's validity and its groups
    "list": 1,  # the page, with its total, the token's validity and its people's groups
    #             (a deep page on PostgreSQL: by its ids first, in the same statement)
    "lookup": 1,  # a filter of one exact comparison: the page, with its total, the token's
    #               validity and the groups of the people found
    "lookup_empty": 2,  # the same finding nobody (an IdP's question before a create): the
    #                     page, then the token's check, which no row carried; its total is 0
    "filter": 1,  # any other filter: the page, with its total, the token's validity and
    #               its people's groups
    "filter_empty": 2,  # the same finding nobody: the page, then the token's check
    "create": 11,  # the team's row with the token's validity, its SCIM config, the
    #                domains it proved and whether the address has a refusal (issue 27:
    #                the refusals' DELETE only when there is one), account lookup,
    #                account insert, its allauth EmailAddress insert (on an allauth site),
    #                record insert (its userName's unique constraint decides: no read
    #                before, no savepoint: a conflict ends the write in a 409), values
    #                insert, the seat (the example site's conditional UPDATE of its team:
    #                a new account holds none, so no membership is read), membership
    #                insert (no lookup either, the example site's create_membership),
    #                timeline (with the person's names, issue 24: found by any name they
    #                had); no groups read (a new record has none); 2 savepoint statements
    #                (the request's: a concurrent request creating the same account first
    #                makes the write run again, as a link, writes.create)
    "put": 7,  # locked user (with the token's validity and the team's config, issue 27,
    #            and its groups, for the answer), record update, other memberships? (may
    #            the account follow?), account update, timeline (with the names it gave);
    #            2 sp (the request's)
    "patch": 8,  # a deactivation: locked user (with the token's validity and the team's
    #             config, its groups and its membership row, one subquery per column: the
    #             issue-21 rule "had the site switched it off first?", then the row its
    #             save() changes, so that the site's rules and receivers run: issue 22),
    #             record update, the deprovisioning guard's
    #              count (one conditional UPDATE of the team's config row: issue 25),
    #              membership update, the seat counted off (the example site's UPDATE of
    #              its team, from Membership.save()), timeline; 2 sp. The team's managers
    #              are locked (is the last one leaving?) only when the person is one.
    "reactivate": 7,  # locked user with the token's validity, the team's config, its
    #                   membership row and whether the person's address has a refusal to
    #                   clear (issue 27: its DELETE spent only then), record update, the
    #                   seat taken (the example site's conditional UPDATE of its team),
    #                   membership update, timeline; 2 sp
    "delete": 9,  # locked user with the token's validity, the team's config, the
    #              membership row (is the person an active manager? then the row deleted
    #              through the model) and whether they are in a group or manage anyone
    #              (issue 27: those two statements spent only then), the guard's count
    #              (one UPDATE), membership delete (the example site counts the seat off
    #              on post_delete), seat count, timeline, values, record; 2 savepoint
    #              statements
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


#: Log rows the requests of the running test handed to the request-log writer.
HANDED: list = []


@pytest.fixture(autouse=True)
def _log_rows_handed_over(monkeypatch):
    """Log rows go to a list, as they go to the writer's buffer in a server."""
    HANDED.clear()
    monkeypatch.setattr(writer, "submit", HANDED.append)


def _count(callable_) -> tuple[int, object]:
    handed = len(HANDED)
    with CaptureQueriesContext(connection) as queries:
        response = callable_()
    assert len(HANDED) == handed + 1, "each request hands exactly one row to the log writer"
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
    ("filter_text", "budget"),
    [
        ('userName eq "BULK000007@acme.com"', "lookup"),
        ('externalId eq "ext-7"', "lookup"),
        ('emails[type eq "work"].value eq "bulk000007@acme.com"', "filter"),
    ],
)
def test_filtered_get(idp, population, filter_text, budget):
    queries, response = _count(lambda: idp.get("/Users", {"filter": filter_text}))

    assert response.json()["totalResults"] == 1
    assert queries <= BUDGETS[budget]


def test_a_search_costs_what_the_same_get_costs(idp, population):
    """``POST /Users/.search`` takes the GET list's path: the token checked in the page's query."""
    lookup = 'userName eq "BULK000007@acme.com"'
    get, listed = _count(lambda: idp.get("/Users", {"filter": lookup}))
    post, searched = _count(lambda: idp.post("/Users/.search", {"filter": lookup}))

    assert (listed.status_code, searched.status_code) == (200, 200)
    assert searched.json() == listed.json()
    assert post == get <= BUDGETS["lookup"]


#: Each read, as an IdP sends it, and its budget (with compiled queries on and off).
READS = {
    "get": lambda idp, people: idp.get(f"/Users/{people[-1].id}"),
    "list": lambda idp, people: idp.get("/Users?startIndex=1&count=100"),
    "lookup": lambda idp, people: idp.get("/Users", {"filter": 'externalId eq "ext-7"'}),
    "lookup_empty": lambda idp, people: idp.get("/Users", {"filter": 'userName eq "no@acme.com"'}),
    "filter_empty": lambda idp, people: idp.get(
        "/Users", {"filter": "title pr or active eq false"}
    ),
}


@pytest.mark.parametrize("read", READS)
def test_compiled_or_not_a_read_runs_the_same_statements(idp, population, read):
    """With SCIM_PROVISIONING_COMPILED_QUERIES off, the ORM builds the same SQL every time."""
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=True):
        compiled, first = _count(lambda: READS[read](idp, population))
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=False):
        plain, second = _count(lambda: READS[read](idp, population))

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert plain == compiled <= BUDGETS[read]


def test_create(idp, population):
    queries, response = _count(lambda: idp.post("/Users", load_payload("okta/create_user.json")))

    assert response.status_code == 201
    assert queries <= BUDGETS["create"]


def test_create_clearing_a_refusal_adds_its_delete(idp, population, team):
    """A person refused before (a seat, a link) costs the refusal's DELETE, and only then."""
    SCIMLinkRefusal.objects.create(
        team=team, email="test.user@okta.local", reason=SCIMLinkRefusalReason.SEAT
    )

    queries, response = _count(lambda: idp.post("/Users", load_payload("okta/create_user.json")))

    assert response.status_code == 201
    assert not SCIMLinkRefusal.objects.exists()
    assert queries <= BUDGETS["create"] + 1


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


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "plain"])
def test_a_reactivation_clears_a_refusal_at_one_statement_only_when_there_is_one(
    idp, population, team, compiled
):
    """Issue 27: the locked read says whether the address is refused; a reactivation
    spends the refusal's DELETE only then, compiled queries on or off."""
    deactivate = patch_op({"op": "replace", "path": "active", "value": False})
    reactivate = patch_op({"op": "replace", "path": "active", "value": True})
    plain, refused = population[-1], population[-2]
    for person in (plain, refused):
        assert idp.patch(f"/Users/{person.id}", deactivate).status_code == 200
    SCIMLinkRefusal.objects.create(
        team=team, email=refused.email, reason=SCIMLinkRefusalReason.SEAT
    )
    SCIMLinkRefusal.objects.create(team=team, email="else@acme.com", reason="seat")
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=compiled):
        without, first = _count(lambda: idp.patch(f"/Users/{plain.id}", reactivate))
        clearing, second = _count(lambda: idp.patch(f"/Users/{refused.id}", reactivate))

    assert (first.json()["active"], second.json()["active"]) == (True, True)
    assert without <= BUDGETS["reactivate"]
    assert clearing == without + 1
    assert list(SCIMLinkRefusal.objects.values_list("email", flat=True)) == ["else@acme.com"]


def test_a_reactivation_moving_the_address_clears_the_new_addresss_refusal(idp, population, team):
    """The locked read asked about the address the record had: a write that moves it
    while reactivating clears the new one's refusal all the same."""
    person = population[-1]
    idp.patch(f"/Users/{person.id}", patch_op({"op": "replace", "path": "active", "value": False}))
    SCIMLinkRefusal.objects.create(team=team, email="moved@acme.com", reason="seat")

    response = idp.patch(
        f"/Users/{person.id}",
        patch_op(
            {"op": "replace", "path": "emails", "value": [{"value": "moved@acme.com"}]},
            {"op": "replace", "path": "active", "value": True},
        ),
    )

    assert response.status_code == 200, response.content
    assert SCIMUser.objects.get(pk=person.pk).email == "moved@acme.com"
    assert not SCIMLinkRefusal.objects.exists()


def test_the_deprovisioning_guard_adds_one_statement_to_a_deactivation(idp, population):
    """Issue 25: below the threshold, the guard's count is one conditional UPDATE."""
    deactivate = patch_op({"op": "replace", "path": "active", "value": False})
    with override_settings(SCIM_PROVISIONING_DEPROVISION_GUARD=None):
        without, first = _count(lambda: idp.patch(f"/Users/{population[-1].id}", deactivate))
    with_guard, second = _count(lambda: idp.patch(f"/Users/{population[-2].id}", deactivate))

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["active"] is False
    assert with_guard == without + 1


def test_only_a_manager_leaving_locks_the_team_managers(idp, team, population):
    """Issue 27: "is the last manager leaving?" costs a statement only when a manager leaves."""
    deactivate = patch_op({"op": "replace", "path": "active", "value": False})
    Membership.objects.filter(
        team=team, user_id__in=[population[-2].user_id, population[-3].user_id]
    ).update(role=Membership.Role.ADMIN)

    member, first = _count(lambda: idp.patch(f"/Users/{population[-1].id}", deactivate))
    manager, second = _count(lambda: idp.patch(f"/Users/{population[-2].id}", deactivate))

    assert (first.status_code, second.status_code) == (200, 200)
    assert not Membership.objects.get(team=team, user_id=population[-2].user_id).is_active
    assert manager == member + 1


class _MembershipReadApart(DefaultAdapter):
    """A host that has the membership read by a query of its own (the hook's opt-out)."""

    def membership_with_record(self):
        return None


@pytest.mark.parametrize("write", ["patch", "delete"])
def test_the_membership_row_comes_with_the_locked_record(idp, team, population, write):
    """Issue 27: a deactivation's and a removal's membership read costs no statement of
    its own; a host that opts out pays one, and both end the same way."""
    deactivate = patch_op({"op": "replace", "path": "active", "value": False})
    calls = {
        "patch": lambda pk: idp.patch(f"/Users/{pk}", deactivate),
        "delete": lambda pk: idp.delete(f"/Users/{pk}"),
    }
    joined, first = _count(lambda: calls[write](population[-1].id))
    with override_settings(SCIM_PROVISIONING_ADAPTER=f"{__name__}._MembershipReadApart"):
        apart, second = _count(lambda: calls[write](population[-2].id))

    assert first.status_code == second.status_code == (200 if write == "patch" else 204)
    rows = Membership.objects.filter(
        team=team, user_id__in=[population[-1].user_id, population[-2].user_id]
    )
    if write == "patch":
        assert [m.is_active for m in rows] == [False, False]
    else:
        assert not rows.exists()
    assert apart == joined + 1


def test_delete(idp, population):
    target = population[-1]

    queries, response = _count(lambda: idp.delete(f"/Users/{target.id}"))

    assert response.status_code == 204
    assert queries <= BUDGETS["delete"]


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "plain"])
def test_a_delete_spends_the_group_and_manager_statements_only_when_they_point(
    idp, population, compiled
):
    """Issue 27: the locked read says whether the person is in a group and manages
    anyone; each costs its statement only then, compiled queries on or off."""
    boss, report, loner = population[0], population[1], population[-1]  # _populate: 1 -> 0
    _group(boss.team, [boss])
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=compiled):
        alone, first = _count(lambda: idp.delete(f"/Users/{loner.id}"))
        pointed_at, second = _count(lambda: idp.delete(f"/Users/{boss.id}"))

    assert (first.status_code, second.status_code) == (204, 204)
    assert alone <= BUDGETS["delete"]
    assert pointed_at == alone + 2
    assert not SCIMGroupMembership.objects.exists()
    assert SCIMUser.objects.get(pk=report.pk).manager_id is None
    assert not SCIMUser.objects.filter(pk__in=[boss.pk, loner.pk]).exists()


def test_last_used_at_costs_one_write_a_minute(idp, team):
    first, _ = _count(lambda: idp.get("/Users?count=0"))
    second, _ = _count(lambda: idp.get("/Users?count=0"))

    assert first == second + 1


# -- groups ------------------------------------------------------------------------------

#: Statements per group request, whatever the number of members. Writes count
#: the savepoint statements as above (the request's, and save_unique's), and
#: one "timeline" INSERT of an entry per member who joined or left: one statement
#: on PostgreSQL; on SQLite under Django 5.2 one per 76 entries (its 999 query
#: parameters over the entry's 13 columns; :func:`_insert_batches`).
GROUP_BUDGETS = {
    "get": 2,  # the group (and the token's validity), its members
    "get_without_members": 1,  # the group (and the token's validity): no membership query
    "list": 2,  # the page (with its total and the token's validity), the page's members
    "create": 12,  # token, name free?, group insert, members lookup, members already in?,
    #                members insert, timeline, members; 4 savepoint statements
    "patch_remove": 10,  # locked group (with the token's validity and the team's config),
    #                      group update, leaving members read,
    #                      members delete, timeline, members; 4 savepoint statements
    "put": 12,  # locked group (with the token's validity and the team's config), group
    #             update, old members read, members delete,
    #             members lookup, members insert, timeline, members; 4 savepoint statements
}


def patch_add_1000_budget() -> int:
    """PATCH adding 1,000 members: locked group (with the token's validity and the team's
    config), group update, members lookup, members already in?, members insert, timeline
    insert, members; 4 savepoint statements.

    Each insert is one statement per bulk_create batch: one on PostgreSQL; on SQLite
    the backend's query parameter limit over the columns, 999 on Django 5.2 (333
    memberships a batch: 4 INSERTs; 76 timeline entries: 14), SQLite's own limit on
    Django 6.0 (250,000 here: 1 INSERT each).
    """
    return 9 + _insert_batches(SCIMGroupMembership, 1000) + _insert_batches(SCIMUserEvent, 1000)


def _insert_batches(model, rows: int) -> int:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    return math.ceil(rows / connection.ops.bulk_batch_size(fields, range(rows)))


MEMBERSHIP_TABLE = SCIMGroupMembership._meta.db_table


def _group(team, members, name: str = "Everyone") -> SCIMGroup:
    group = SCIMGroup.objects.create(team=team, display_name=name)
    SCIMGroupMembership.objects.bulk_create(
        [SCIMGroupMembership(group=group, user=member) for member in members]
    )
    return group


def _member_values(records) -> list[dict]:
    return [{"value": str(record.id)} for record in records]


@pytest.fixture
def crowd(team, idp):
    """2,000 provisioned people of team A; the token's last use is already recorded."""
    records = _populate(team, 2000)
    idp.get("/Groups?count=0")
    return records


def test_get_group_without_members_runs_no_membership_query(idp, team, crowd):
    group = _group(team, crowd)

    with CaptureQueriesContext(connection) as queries:
        response = idp.get(f"/Groups/{group.id}", {"excludedAttributes": "members"})

    assert response.status_code == 200
    assert "members" not in response.json()
    assert [q["sql"] for q in queries if MEMBERSHIP_TABLE in q["sql"]] == []
    assert len(queries) <= GROUP_BUDGETS["get_without_members"]


def test_get_group_with_2000_members(idp, team, crowd):
    group = _group(team, crowd)

    queries, response = _count(lambda: idp.get(f"/Groups/{group.id}"))

    assert response.status_code == 200
    assert len(response.json()["members"]) == 2000
    assert queries <= GROUP_BUDGETS["get"]


@pytest.mark.parametrize("size", [10, 300], ids=["10-groups", "300-groups"])
def test_group_list_page(idp, team, crowd, size):
    for i in range(size):
        _group(team, crowd[i : i + 5], name=f"Group {i:04d}")

    queries, response = _count(lambda: idp.get("/Groups?startIndex=1&count=100"))

    assert response.status_code == 200
    assert response.json()["itemsPerPage"] == min(100, size)
    assert queries <= GROUP_BUDGETS["list"]


def test_create_group_with_100_members(idp, crowd):
    body = {"displayName": "Hundred", "members": _member_values(crowd[:100])}

    queries, response = _count(lambda: idp.post("/Groups", body))

    assert response.status_code == 201
    assert SCIMGroupMembership.objects.filter(group_id=response.json()["id"]).count() == 100
    assert queries <= GROUP_BUDGETS["create"] - 1 + _insert_batches(SCIMUserEvent, 100)


def test_patch_adding_1000_members(idp, team, crowd):
    group = _group(team, crowd[:10])
    operation = {"op": "add", "path": "members", "value": _member_values(crowd[10:1010])}

    queries, response = _count(lambda: idp.patch(f"/Groups/{group.id}", patch_op(operation)))

    assert response.status_code == 200
    assert group.memberships.count() == 1010
    assert queries == patch_add_1000_budget()


def test_patch_adding_1000_members_to_a_group_mapped_to_a_role(idp, team, crowd):
    """The role rule writes one UPDATE per role, however many people change (issue 22).

    The example site's ``Membership.save()`` counts seats only, and it says so
    (``MEMBERSHIP_BULK_UPDATE_FIELDS = ("role",)``): the rows need no ``save()``
    each. On top of the plain add: the people, their mapped groups, the
    managers (locked), the roles held, one UPDATE, and one timeline INSERT of
    the 1,000 roles granted (per backend batch).
    """
    from scim_provisioning.models import SCIMTeamConfig

    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Everyone": "admin"})
    group = _group(team, crowd[:10])
    operation = {"op": "add", "path": "members", "value": _member_values(crowd[10:1010])}

    queries, response = _count(lambda: idp.patch(f"/Groups/{group.id}", patch_op(operation)))

    assert response.status_code == 200
    assert Membership.objects.filter(team=team, role="admin").count() == 1000
    role_rule = 1 + 4 + _insert_batches(SCIMUserEvent, 1000)  # users locked; rule; timeline
    assert queries <= patch_add_1000_budget() + role_rule


def test_patch_removing_1000_members(idp, team, crowd):
    group = _group(team, crowd[:1010])
    operation = {"op": "remove", "path": "members", "value": _member_values(crowd[10:1010])}

    queries, response = _count(lambda: idp.patch(f"/Groups/{group.id}", patch_op(operation)))

    assert response.status_code == 200
    assert group.memberships.count() == 10
    assert queries <= GROUP_BUDGETS["patch_remove"] - 1 + _insert_batches(SCIMUserEvent, 1000)


def test_put_replacing_members(idp, team, crowd):
    group = _group(team, crowd[:1000])
    body = {"displayName": "Everyone", "members": _member_values(crowd[1000:1300])}

    queries, response = _count(lambda: idp.put(f"/Groups/{group.id}", body))

    assert response.status_code == 200
    assert set(group.memberships.values_list("user_id", flat=True)) == {
        r.id for r in crowd[1000:1300]
    }
    assert queries <= GROUP_BUDGETS["put"] - 1 + _insert_batches(SCIMUserEvent, 1300)


# -- the site's own User extension (SCIM_PROVISIONING_USER_EXTENSION) ----------------------

SITE = "urn:ietf:params:scim:schemas:extension:example:2.0:User"


@pytest.fixture
def with_site_values(idp, population):
    """Ten people of the population with values of the site's own attributes, as the rows hold them.

    Written by the IdP's own PATCH, so the rows are what the write path makes. Ten, not
    half the population: a budget counts statements, which the number of rows with
    values does not change, and 500 PATCHes per test made this the suite's slowest setup.
    """
    for i, record in enumerate(population[::2][:10]):
        values = {"costCode": f"CC-{i:04d}", "startDate": f"2026-01-{1 + i % 28:02d}T00:00:00Z"}
        idp.patch(f"/Users/{record.id}", patch_op({"op": "add", "path": SITE, "value": values}))
    return population


@pytest.mark.parametrize(
    "params",
    [
        {"filter": f'{SITE}:costCode eq "cc-0003"'},
        {"filter": f'{SITE}:startDate ge "2026-01-03T00:00:00Z"'},
        {"sortBy": f"{SITE}:startDate", "count": "100"},
    ],
    ids=["filter-text", "filter-date", "sort"],
)
def test_reads_on_the_site_extension(idp, with_site_values, params):
    queries, response = _count(lambda: idp.get("/Users", params))

    assert response.status_code == 200
    assert response.json()["totalResults"] >= 1
    assert queries <= BUDGETS["filter"]


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "not-declared"])
def test_create_and_get_cost_the_same_whether_the_site_declares_attributes(
    idp, population, settings, declared
):
    if not declared:
        settings.SCIM_PROVISIONING_USER_EXTENSION = None

    created, response = _count(lambda: idp.post("/Users", load_payload("okta/create_user.json")))
    read, _ = _count(lambda: idp.get(f"/Users/{response.json()['id']}"))

    assert response.status_code == 201
    assert created <= BUDGETS["create"]
    assert read <= BUDGETS["get"]


def test_create_with_site_values_adds_their_rows_and_the_account_fields(idp, population):
    body = {**load_payload("custom_extension/okta_create_user.json")}

    queries, response = _count(lambda: idp.post("/Users", body))

    assert response.status_code == 201
    # The rows' INSERT and the account's UPDATE of its two fields.
    assert queries <= BUDGETS["create"] + 2


def test_patch_leaving_site_values_as_they_were_costs_nothing_more(idp, with_site_values):
    target = with_site_values[0]
    same = patch_op({"op": "replace", "path": f"{SITE}:costCode", "value": "CC-0000"})

    queries, response = _count(lambda: idp.patch(f"/Users/{target.id}", same))

    assert response.status_code == 200
    assert queries <= BUDGETS["patch"]


def test_a_lookup_that_finds_nobody(idp, population):
    """How an IdP asks before it creates someone: nobody found, and nothing counted."""
    queries, response = _count(lambda: idp.get("/Users", {"filter": 'userName eq "new@acme.com"'}))

    assert response.json()["totalResults"] == 0
    assert queries <= BUDGETS["lookup_empty"]
