"""Queries compiled once and run again with new values give what the ORM gives."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection, connections, models
from django.db.models import Q
from django.db.models.signals import post_init
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scim_provisioning import prepared, reads
from scim_provisioning.models import (
    SCIMGroupMembership,
    SCIMTeamConfig,
    SCIMToken,
    SCIMUser,
    SCIMUserValue,
)
from scim_provisioning.prepared import PreparedQuery
from scim_provisioning.reads import record_by_id
from scim_provisioning.resource_types import GROUPS, USERS
from scim_provisioning.tokens import digest, issue_token, verify_digest

from .conftest import patch_op

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(team, provision):
    return [provision(f"p{i}@acme.com", title=f"T{i}") for i in range(3)]


def _fields(record) -> dict:
    return {f.attname: getattr(record, f.attname) for f in SCIMUser._meta.concrete_fields}


def test_a_prepared_read_returns_the_records_the_orm_returns(team, people):
    config = SCIMTeamConfig.objects.get(team=team)
    for person in people * 2:  # the second round reuses the compiled SQL
        pk = uuid.UUID(person["id"])
        prepared = record_by_id(USERS, config.team_id, pk, None).record
        assert _fields(prepared) == _fields(SCIMUser.objects.get(pk=pk))
        assert isinstance(prepared.attributes, dict)


def test_a_prepared_read_is_scoped_to_the_team(team, other_team, people):
    theirs = SCIMTeamConfig.objects.get(team=other_team)

    assert record_by_id(USERS, theirs.team_id, uuid.UUID(people[0]["id"]), None).record is None


def test_a_prepared_read_carries_the_tokens_validity(team, people):
    config = SCIMTeamConfig.objects.get(team=team)
    token = issue_token(team).token
    pk = uuid.UUID(people[0]["id"])

    checked = record_by_id(USERS, config.team_id, pk, token.digest)
    forged = record_by_id(USERS, config.team_id, pk, "0" * 64)

    assert (checked.token_ok, forged.token_ok) == (True, False)
    assert checked.record.pk == forged.record.pk == pk
    # What the query found is in the result, not on the record.
    assert not [name for name in vars(checked.record) if name.startswith("_scim")]


def test_prepared_link_rows_match_the_orm(idp, team, people):
    group = idp.post(
        "/Groups", {"displayName": "G", "members": [{"value": p["id"]} for p in people]}
    )
    group_id = group.json()["id"]
    config = SCIMTeamConfig.objects.get(team=team)
    record = record_by_id(GROUPS, config.team_id, uuid.UUID(group_id), None).record

    (body,) = GROUPS.represent([record], "https://x/scim/v2", GROUPS.selection(None, None))
    (again,) = GROUPS.represent([record], "https://x/scim/v2", GROUPS.selection(None, None))

    assert sorted(m["value"] for m in body["members"]) == sorted(p["id"] for p in people)
    assert again == body


def _user_names(records) -> list[str]:
    return sorted(r.user_name for r in records)


def test_a_value_equal_to_a_constant_of_the_query_never_takes_its_place(team, people):
    """The first call's value equals the query's own constant; later calls keep the constant."""
    field = SCIMUser._meta.get_field("user_name")
    query = PreparedQuery(
        SCIMUser,
        lambda name: SCIMUser.objects.filter(Q(user_name=name) | Q(user_name="p1@acme.com")),
        {"name": field},
    )

    assert _user_names(query.all(name="p1@acme.com")) == ["p1@acme.com"]
    assert _user_names(query.all(name="p0@acme.com")) == ["p0@acme.com", "p1@acme.com"]
    assert len(query._compiled) == 1


def _named_a_but_not_b() -> PreparedQuery:
    """A query with two parameters of one field: the people named ``a`` but not ``b``."""
    field = SCIMUser._meta.get_field("user_name")
    return PreparedQuery(
        SCIMUser,
        lambda a, b: SCIMUser.objects.filter(user_name=a).exclude(user_name=b),
        {"a": field, "b": field},
    )


def test_two_parameters_equal_at_the_first_call_are_told_apart(team, people):
    query = _named_a_but_not_b()

    assert query.all(a="p0@acme.com", b="p0@acme.com") == []
    assert _user_names(query.all(a="p0@acme.com", b="x")) == ["p0@acme.com"]
    assert _user_names(query.all(a="p1@acme.com", b="p0@acme.com")) == ["p1@acme.com"]


def test_a_lookup_that_rewrites_its_value_is_never_cached(team, people, provision):
    """A LIKE pattern escapes ``_``: compiled SQL reused with a raw value would match too much."""
    provision("p_x@acme.com")
    provision("pyx@acme.com")
    field = SCIMUser._meta.get_field("user_name")
    query = PreparedQuery(
        SCIMUser, lambda part: SCIMUser.objects.filter(user_name__icontains=part), {"part": field}
    )

    assert _user_names(query.all(part="P_X")) == ["p_x@acme.com"]
    assert _user_names(query.all(part="p_x")) == ["p_x@acme.com"]
    assert query._compiled_for("default") is None


def test_memberships_by_prepared_rows(idp, people):
    group = idp.post("/Groups", {"displayName": "G", "members": [{"value": people[0]["id"]}]})

    assert SCIMGroupMembership.objects.filter(group_id=group.json()["id"]).count() == 1


def test_a_users_groups_read_with_the_user_are_the_ones_every_read_shows(idp, team, people):
    """GET by id and a lookup read groups in the user's own query; a page reads them apart."""
    names = ["Zeta", "alpha", "Émile", 'Quote "q"', "beta"]
    for name in names:
        idp.post("/Groups", {"displayName": name, "members": [{"value": people[0]["id"]}]})
    idp.post("/Groups", {"displayName": "Others", "members": [{"value": people[1]["id"]}]})
    user_id, user_name = people[0]["id"], people[0]["userName"]

    by_id = idp.get(f"/Users/{user_id}").json()["groups"]
    (looked_up,) = idp.get("/Users", {"filter": f'userName eq "{user_name}"'}).json()["Resources"]
    (paged,) = [u for u in idp.get("/Users").json()["Resources"] if u["id"] == user_id]

    assert [g["display"] for g in by_id] == ['Quote "q"', "Zeta", "alpha", "beta", "Émile"]
    assert by_id == looked_up["groups"] == paged["groups"]
    assert {g["value"] for g in by_id} == {
        str(m.group_id) for m in SCIMGroupMembership.objects.filter(user_id=user_id)
    }


def test_a_user_in_no_group_reads_the_same_whichever_way(idp, people):
    user_id, user_name = people[2]["id"], people[2]["userName"]

    by_id = idp.get(f"/Users/{user_id}").json()
    (looked_up,) = idp.get("/Users", {"filter": f'userName eq "{user_name}"'}).json()["Resources"]
    (paged,) = [u for u in idp.get("/Users").json()["Resources"] if u["id"] == user_id]

    assert by_id.get("groups", []) == []
    assert by_id == looked_up == paged


def test_related_models_selected_with_a_prepared_read_come_loaded(team, people, idp):
    """As select_related gives them: loaded with the row, or None where the link is empty."""
    boss, report = people[0], people[1]
    idp.patch(
        f"/Users/{report['id']}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {
                    "op": "add",
                    "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                    "value": {"value": boss["id"]},
                }
            ],
        },
    )
    query = PreparedQuery(
        SCIMUser,
        lambda pk: SCIMUser.objects.select_related("manager", "user").filter(pk=pk),
        {"pk": SCIMUser._meta.pk},
    )

    for _ in range(2):  # compiled, then reused
        (with_manager,) = query.all(pk=uuid.UUID(report["id"]))
        (without,) = query.all(pk=uuid.UUID(boss["id"]))
        with CaptureQueriesContext(connection) as queries:
            assert with_manager.manager.user_name == boss["userName"]
            assert with_manager.user.email == report["userName"]
            assert without.manager is None
        assert len(queries) == 0
        # Of the database they were read from, as the ORM's own (a router's hint).
        assert (with_manager.manager._state.db, with_manager.user._state.db) == ("default",) * 2
    assert query._compiled_for("default") is not None


def test_a_token_looked_up_by_digest_brings_its_team_and_settings(team):
    issued = issue_token(team)

    token = verify_digest(digest(issued.plaintext))

    with CaptureQueriesContext(connection) as queries:
        assert token.team.pk == team.pk
        assert token.team.scim_config.enabled
    assert len(queries) == 0
    assert verify_digest(digest(issued.plaintext) + "0") is None


def test_a_query_is_built_once_then_run_from_its_sql_whatever_its_parameters(
    team, other_team, people
):
    """Each kind of parameter has a stand-in: a foreign key (of its target's type), a
    UUID, text, an integer, two dates and times. The query is built once, to compile
    it; every call after runs its SQL, with the answers the ORM gives."""
    built = []

    def build(team_id, pk, name, version, before, after):
        built.append(team_id)
        return SCIMUser.objects.filter(
            Q(pk=pk) | Q(user_name=name),
            team_id=team_id,
            version__gte=version,
            created__lt=before,
            last_modified__gt=after,
        )

    fields = {
        "team_id": SCIMUser._meta.get_field("team"),
        "pk": SCIMUser._meta.pk,
        "name": SCIMUser._meta.get_field("user_name"),
        "version": SCIMUser._meta.get_field("version"),
        "before": SCIMUser._meta.get_field("created"),
        "after": SCIMUser._meta.get_field("last_modified"),
    }
    query = PreparedQuery(SCIMUser, build, fields)
    later, earlier = timezone.now() + timedelta(minutes=1), timezone.now() - timedelta(days=1)
    p0, p1 = uuid.UUID(people[0]["id"]), people[1]["userName"]
    values = {"team_id": team.pk, "pk": p0, "name": p1, "version": 1}
    values.update(before=later, after=earlier)

    assert _user_names(query.all(**values)) == ["p0@acme.com", "p1@acme.com"]
    assert query.all(**{**values, "team_id": other_team.pk}) == []
    assert _user_names(query.all(**{**values, "pk": uuid.uuid4()})) == ["p1@acme.com"]
    assert _user_names(query.all(**{**values, "name": "nobody"})) == ["p0@acme.com"]
    assert query.all(**{**values, "version": 2}) == []
    assert query.all(**{**values, "before": earlier}) == []
    assert query.all(**{**values, "after": later}) == []
    assert len(built) == 1
    # Of the database they were read from, as the ORM's own.
    assert {record._state.db for record in query.all(**values)} == {"default"}


def test_two_parameters_given_one_stand_in_leave_the_query_uncached(team, people, monkeypatch):
    """Stand-ins are random, so two of one type may, rarely, come out equal: the SQL
    then cannot say which position is whose, and the query must not be cached."""
    monkeypatch.setattr(prepared, "_stand_in", lambda field: "scim_stand_in_same")
    query = _named_a_but_not_b()

    assert _user_names(query.all(a="p0@acme.com", b="x")) == ["p0@acme.com"]
    assert _user_names(query.all(a="p1@acme.com", b="p0@acme.com")) == ["p1@acme.com"]
    assert query._compiled_for("default") is None


def test_a_date_and_time_parameter_is_compiled_on_a_site_without_time_zones(team, settings):
    issue_token(team)
    settings.USE_TZ = False
    query = PreparedQuery(
        SCIMToken,
        lambda now: SCIMToken.objects.filter(created_at__lt=now),
        {"now": SCIMToken._meta.get_field("created_at")},
    )
    later = datetime.now() + timedelta(days=1)

    assert [t.team_id for t in query.all(now=later)] == [team.pk]
    assert query.all(now=datetime(2000, 1, 1)) == []
    assert query._compiled_for("default") is not None


def test_a_query_of_some_fields_loads_the_others_when_read(team, people):
    query = PreparedQuery(
        SCIMUser,
        lambda name: SCIMUser.objects.only("user_name").filter(user_name=name),
        {"name": SCIMUser._meta.get_field("user_name")},
    )

    for _ in range(2):  # compiled, then reused
        (record,) = query.all(name="p2@acme.com")
        assert record.get_deferred_fields() == (
            SCIMUser.objects.only("user_name").get(user_name="p2@acme.com").get_deferred_fields()
        )
        assert record.email == "p2@acme.com"
    assert query._compiled_for("default") is not None


def test_rows_of_a_values_query_are_built_once_and_converted_as_the_orm_converts_them(team, people):
    built = []

    def build(team_id):
        built.append(team_id)
        return SCIMUser.objects.filter(team_id=team_id).values_list("pk", "created")

    query = PreparedQuery(SCIMUser, build, {"team_id": SCIMUser._meta.get_field("team")})
    expected = sorted(SCIMUser.objects.filter(team=team).values_list("pk", "created"))

    assert sorted(query.rows(team_id=team.pk)) == expected
    assert sorted(query.rows(team_id=team.pk)) == expected
    assert len(built) == 1
    assert all(isinstance(pk, uuid.UUID) for pk, _ in expected)


def test_rows_of_a_query_that_cannot_be_compiled_come_from_the_orm(team, people):
    query = PreparedQuery(
        SCIMUser,
        lambda part: SCIMUser.objects.filter(user_name__icontains=part).values_list("user_name"),
        {"part": SCIMUser._meta.get_field("user_name")},
    )

    assert query.rows(part="P1@") == [("p1@acme.com",)]
    assert query._compiled_for("default") is None


def _levels(*columns: str) -> PreparedQuery:
    """The columns of a user's ``level`` rows, by user."""
    return PreparedQuery(
        SCIMUserValue,
        lambda user_id: SCIMUserValue.objects.filter(
            user_id=user_id, attribute="level"
        ).values_list(*columns),
        {"user_id": SCIMUserValue._meta.get_field("user")},
    )


def test_rows_of_text_and_decimal_columns_are_what_the_orm_gives(team, people):
    """Text needs no converter on SQLite; a decimal's converter reads its expression."""
    record = SCIMUser.objects.get(pk=people[0]["id"])
    SCIMUserValue.objects.create(user=record, attribute="level", number=Decimal("10.5"))
    numbers, text_only = _levels("attribute", "number"), _levels("attribute", "type")

    for _ in range(2):  # compiled, then reused
        assert numbers.rows(user_id=record.pk) == [("level", Decimal("10.5"))]
        assert text_only.rows(user_id=record.pk) == [("level", "")]
    assert numbers._compiled_for("default") is not None
    assert text_only._compiled_for("default") is not None


def test_the_guards_count_is_compiled_once_and_counts_as_the_orm_does(team, people):
    """Issue 27: the deprovisioning guard's UPDATE runs from SQL compiled once, every
    parameter found in it; it opens a window with the team's size, then counts up to
    the minimum and refuses the next (the ORM's own run of the same shape agrees)."""
    from scim_provisioning import guard

    assert guard._COUNT.compiled._compile(connection.alias) is not None
    now = timezone.now()
    values = {"team_id": team.pk, "now": now, "since": now - timedelta(hours=1)}

    def count(run, **more):
        return run(**values, minimum=2, percent=1, already_inactive=1, **more)

    def orm(**arguments):
        rows, changes = guard._count(**arguments)
        return rows.update(**changes)

    assert [count(guard._COUNT.run) for _ in range(2)] == [1, 1]
    assert count(guard._COUNT.run) == 0
    assert count(orm) == 0
    config = SCIMTeamConfig.objects.get(team=team)
    assert (config.guard_count, config.guard_base) == (2, len(people) + 1)
    assert config.guard_window_start == now


@pytest.mark.parametrize("checked", [True, False], ids=["token-checked", "token-checked-before"])
def test_a_creates_first_read_is_compiled_and_answers_for_its_team_alone(team, other_team, checked):
    """Domains proven by the team (not another's, not unproven), whether the address has
    a refusal of this team, and (a token to check) the token's verdict and the team's
    config: compiled once, the same answers as the ORM's."""
    from scim_provisioning.models import SCIMLinkRefusal, SCIMTeamDomain
    from scim_provisioning.tokens import revoke_tokens

    now = timezone.now()
    SCIMTeamDomain.objects.create(team=team, domain="acme.com", verified_at=now)
    SCIMTeamDomain.objects.create(team=team, domain="acme.org", verified_at=now)
    SCIMTeamDomain.objects.create(team=team, domain="pending.com")
    SCIMTeamDomain.objects.create(team=other_team, domain="globex.com", verified_at=now)
    SCIMLinkRefusal.objects.create(team=other_team, email="ada@acme.com", reason="seat")
    SCIMLinkRefusal.objects.create(team=team, email="bob@acme.com", reason="seat")
    ours = issue_token(team).token.digest if checked else None

    def answers(team_id, email, digest):
        read = reads.before_create(team_id, email, digest)
        config = read.config.team_id if read.config is not None else None
        return (read.found, read.proven_domains, read.refused, read.token_ok, config)

    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=True):
        compiled = [
            answers(team.pk, "ada@acme.com", ours),
            answers(team.pk, "bob@acme.com", ours),
            answers(other_team.pk, "ada@acme.com", ours),
        ]
    assert reads._before_create_read(checked).compiled._compiled_for("default") is not None
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=False):
        plain = [
            answers(team.pk, "ada@acme.com", ours),
            answers(team.pk, "bob@acme.com", ours),
            answers(other_team.pk, "ada@acme.com", ours),
        ]

    domains = frozenset({"acme.com", "acme.org"})
    token = (True, team.pk) if checked else (None, None)
    assert compiled == plain
    assert compiled[0] == (True, domains, False, *token)
    assert compiled[1] == (True, domains, True, *token)  # the team's refusal of bob
    assert compiled[2][:3] == (True, frozenset({"globex.com"}), True)
    if checked:
        revoke_tokens(team)
        assert reads.before_create(team.pk, "ada@acme.com", ours).token_ok is False
    assert reads.before_create(10**9, "ada@acme.com", ours) == reads.BeforeCreate(found=False)


def test_the_account_lookup_every_create_runs_is_compiled_and_ignores_case(team):
    from scim_provisioning.adapters import _account_by_email, get_adapter

    from .factories import UserFactory

    ada = UserFactory(email="Ada@Acme.com")
    UserFactory(email="ada@acme.com.example")
    adapter = get_adapter()
    config = SCIMTeamConfig.objects.get(team=team)

    assert adapter.find_account(config, "ADA@acme.COM") == ada
    assert adapter.find_account(config, "bob@acme.com") is None
    assert _account_by_email(adapter.user_model, adapter.email_field).compiled._compiled_for(
        "default"
    )


def test_clearing_a_refusal_is_compiled_once_and_clears_the_teams_alone(team, other_team):
    """Issue 27: every reactivation clears the address's refusals by one DELETE compiled
    once; another team's refusal of the same address stays, and so does another address."""
    from scim_provisioning.models import SCIMLinkRefusal
    from scim_provisioning.provisioning import refusals

    SCIMLinkRefusal.objects.create(team=other_team, email="ada@acme.com", reason="seat")
    SCIMLinkRefusal.objects.create(team=team, email="ada@acme.com", reason="seat")
    SCIMLinkRefusal.objects.create(team=team, email="bob@acme.com", reason="seat")
    config = SCIMTeamConfig.objects.get(team=team)

    with CaptureQueriesContext(connection) as queries:
        refusals.clear_refusals(config.scope, "ada@acme.com")

    assert refusals._CLEAR_REFUSALS.compiled._compile(connection.alias) is not None
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["DELETE"]
    left = SCIMLinkRefusal.objects.order_by("email", "team_id").values_list("team_id", "email")
    assert list(left) == [(other_team.pk, "ada@acme.com"), (team.pk, "bob@acme.com")]


@override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=True)  # CI also runs the suite with it off
def test_a_compiled_delete_leaves_a_model_with_a_receiver_to_the_orm(team):
    """A delete receiver connected to the model (a host's audit, a test's) still hears it."""
    from django.db.models.signals import post_delete

    from scim_provisioning.models import SCIMLinkRefusal
    from scim_provisioning.provisioning import refusals

    SCIMLinkRefusal.objects.create(team=team, email="ada@acme.com", reason="seat")
    scope = SCIMTeamConfig.objects.get(team=team).scope
    refusals.clear_refusals(scope, "nobody@acme.com")  # compiled, with no receiver yet
    assert refusals._CLEAR_REFUSALS.compiled._compiled
    heard = []

    def hear(sender, instance, **kwargs):
        heard.append(instance.email)

    post_delete.connect(hear, sender=SCIMLinkRefusal, dispatch_uid="test-refusal-heard")
    try:
        refusals.clear_refusals(scope, "ada@acme.com")
    finally:
        post_delete.disconnect(sender=SCIMLinkRefusal, dispatch_uid="test-refusal-heard")

    assert heard == ["ada@acme.com"]
    assert not SCIMLinkRefusal.objects.exists()


def test_what_points_at_a_scim_user_is_what_its_compiled_delete_deletes():
    """A DELETE of a user deletes its values and group memberships and clears its reports'
    manager itself (compiled, no collector): a new relation to SCIMUser must join them."""
    from django.db import models

    from scim_provisioning.provisioning import users

    pointing = {
        rel.get_accessor_name(): rel.on_delete
        for rel in SCIMUser._meta.related_objects
        if not rel.many_to_many  # SCIMGroup.members: through group_memberships
    }

    assert pointing == {
        "values": models.CASCADE,
        "group_memberships": models.CASCADE,
        "reports": models.SET_NULL,
    }
    assert set(users._GOES_WITH_A_USER) == set(pointing)


@pytest.mark.parametrize("heard_by_a_receiver", [False, True], ids=["compiled", "receiver"])
def test_a_deleted_user_leaves_what_the_orm_would_leave(idp, team, heard_by_a_receiver):
    """Its values, group memberships and reports' manager go with it, compiled or (with a
    delete receiver of SCIMUser connected) through ``record.delete()``."""
    from django.db.models.signals import post_delete

    boss = idp.post("/Users", {"userName": "boss@acme.com", "title": "Boss"}).json()["id"]
    report = idp.post(
        "/Users",
        {
            "userName": "ada@acme.com",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "manager": {"value": boss}
            },
        },
    ).json()["id"]
    idp.post("/Groups", {"displayName": "Eng", "members": [{"value": boss}, {"value": report}]})
    heard = []

    def hear(sender, instance, **kwargs):
        heard.append(str(instance.pk))

    if heard_by_a_receiver:
        post_delete.connect(hear, sender=SCIMUser, dispatch_uid="test-user-heard")
    try:
        response = idp.delete(f"/Users/{boss}")
    finally:
        post_delete.disconnect(sender=SCIMUser, dispatch_uid="test-user-heard")

    assert response.status_code == 204
    assert heard == ([boss] if heard_by_a_receiver else [])
    assert not SCIMUser.objects.filter(pk=boss).exists()
    assert not SCIMUserValue.objects.filter(user_id=boss).exists()
    assert list(SCIMGroupMembership.objects.values_list("user_id", flat=True)) == [
        uuid.UUID(report)
    ]
    assert SCIMUser.objects.get(pk=report).manager_id is None
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    assert "manager" not in idp.get(f"/Users/{report}").json().get(enterprise, {})


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "plain"])
def test_whether_another_team_holds_an_account_is_read_alike_either_way(team, other_team, compiled):
    """Issue 27: a PUT that changes a name asks whether the account is this team's alone;
    compiled once or built by the ORM, another team's membership (active or not) or
    SCIM record holds it, this team's own do not."""
    from django.contrib.auth import get_user_model
    from django.test import override_settings

    from example_project.teams.models import Membership
    from scim_provisioning.adapters import _held_elsewhere, get_adapter

    accounts = get_user_model()
    mine, joined, recorded = (
        accounts.objects.create(email=f"{who}@acme.com") for who in ("mine", "joined", "rec")
    )
    Membership.objects.create(team=team, user=mine)
    Membership.objects.create(team=other_team, user=joined, is_active=False)
    SCIMUser.objects.create(team=other_team, user=recorded, user_name="rec@acme.com")
    config = SCIMTeamConfig.objects.get(team=team)

    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=compiled):
        held = [get_adapter().held_by_other_team(config, a) for a in (mine, joined, recorded)]

    assert held == [False, True, True]
    read = _held_elsewhere(accounts, Membership, "user", "team")
    assert read.compiled._compiled_for(connection.alias)[0]  # its SQL: not left to the ORM


def _page_of_people(team) -> list[SCIMUser]:
    query = PreparedQuery(
        SCIMUser,
        lambda team_id: SCIMUser.objects.filter(team_id=team_id).order_by("user_name"),
        {"team_id": SCIMUser._meta.get_field("team")},
    )
    query.all(team_id=team.pk)  # compiled, then reused
    return query.all(team_id=team.pk)


def test_instances_of_a_prepared_read_are_the_ones_the_orm_makes(team, people):
    """Built without ``Model.__init__`` (nothing listens): the same attributes, state and saves."""
    built = _page_of_people(team)
    orm = list(SCIMUser.objects.filter(team_id=team.pk).order_by("user_name"))

    assert [vars(r).keys() - {"_state"} for r in built] == [
        vars(r).keys() - {"_state"} for r in orm
    ]
    assert [_fields(r) for r in built] == [_fields(r) for r in orm]
    assert {(r._state.adding, r._state.db) for r in built} == {(False, "default")}
    assert built[0].team == team and built[0].user.email == "p0@acme.com"

    built[0].user_name = "renamed@acme.com"
    built[0].save(update_fields=["user_name"])  # an UPDATE of the row, not a second row
    assert SCIMUser.objects.filter(team_id=team.pk).count() == 3
    assert SCIMUser.objects.get(pk=built[0].pk).user_name == "renamed@acme.com"


def test_a_receiver_of_post_init_sees_every_instance_of_a_prepared_read(team, people):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=SCIMUser)
    try:
        built = _page_of_people(team)
    finally:
        post_init.disconnect(receiver, sender=SCIMUser)

    assert seen[-3:] == [r.pk for r in built]


@override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=True)  # CI also runs the suite with it off
@pytest.mark.parametrize("heard_by_a_receiver", [False, True], ids=["compiled", "receiver"])
def test_a_created_users_record_is_inserted_as_save_inserts_it(idp, team, heard_by_a_receiver):
    """Issue 27: a create's record INSERT is compiled once (no Django INSERT compiler per
    create), with every column ``save()`` writes; a ``post_save`` receiver of SCIMUser
    (a host's, a test's) sends it back to ``save()``, and hears it."""
    from django.db.models.signals import post_save
    from django.db.models.sql.compiler import SQLInsertCompiler

    from scim_provisioning import reads

    reads.USER_RECORD_INSERT.compiled._compiled.clear()
    compiled_inserts = []
    compile_insert = SQLInsertCompiler.as_sql

    def as_sql(compiler, *args, **kwargs):
        compiled_inserts.append(compiler.query.model)
        return compile_insert(compiler, *args, **kwargs)

    heard = []

    def hear(sender, instance, created, **kwargs):
        heard.append((str(instance.pk), created))

    body = {
        "userName": "Ada@acme.com",
        "externalId": "ext-ada",
        "name": {"givenName": "Ada"},
        "emails": [{"value": "ada@acme.com", "primary": True}],
    }
    try:
        idp.post("/Users", {"userName": "first@acme.com"})  # the first create compiles it
        if heard_by_a_receiver:
            post_save.connect(hear, sender=SCIMUser, dispatch_uid="test-user-saved")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(SQLInsertCompiler, "as_sql", as_sql)
            response = idp.post("/Users", body)
    finally:
        post_save.disconnect(sender=SCIMUser, dispatch_uid="test-user-saved")

    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert heard == ([(pk, True)] if heard_by_a_receiver else [])
    assert (SCIMUser in compiled_inserts) is heard_by_a_receiver
    record = SCIMUser.objects.get(pk=pk)
    assert (record.user_name, record.external_id, record.email) == (
        "Ada@acme.com",
        "ext-ada",
        "ada@acme.com",
    )
    assert record.attributes["name"] == {"givenName": "Ada"}
    assert (record.team_id, record.active, record.created_account, record.version) == (
        team.pk,
        True,
        True,
        1,
    )
    assert response.json()["meta"]["created"] == idp.get(f"/Users/{pk}").json()["meta"]["created"]


@override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=True)
def test_a_compiled_record_insert_refused_by_the_usernames_constraint_is_a_409(idp, team):
    """The userName's unique constraint decides, compiled as through ``save()``: a 409, and
    the write's transaction (the account it made included) rolls back."""
    from django.contrib.auth import get_user_model

    User = get_user_model()  # noqa: N806
    assert idp.post("/Users", {"userName": "ada@acme.com"}).status_code == 201
    accounts = User.objects.count()

    response = idp.post("/Users", {"userName": "ADA@acme.com", "emails": [{"value": "b@acme.com"}]})

    assert response.status_code == 409, response.content
    assert response.json()["scimType"] == "uniqueness"
    assert User.objects.count() == accounts
    assert SCIMUser.objects.filter(team=team).count() == 1


@pytest.mark.parametrize("heard_by_a_receiver", [False, True], ids=["compiled", "receiver"])
def test_a_patch_saves_the_record_as_save_would_compiled_or_not(idp, team, heard_by_a_receiver):
    """Issue 27: a PUT's and a PATCH's record UPDATE is save()'s, compiled once (every
    field set from the record, NULLs included); a save receiver of SCIMUser connected, or
    compiled queries off, leave it to ``save()``. The rows come out the same."""
    from django.db.models.signals import post_save

    from scim_provisioning import reads

    ids = [
        idp.post("/Users", {"userName": f"{who}@acme.com", "externalId": who}).json()["id"]
        for who in ("ada", "bob", "cy")
    ]
    change = patch_op(
        {"op": "replace", "path": "name.givenName", "value": "G"},
        {"op": "remove", "path": "externalId"},
        {"op": "replace", "path": "active", "value": False},
    )
    reads.USER_RECORD_SAVE.compiled._compiled.clear()
    heard = []

    def hear(sender, instance, **kwargs):
        heard.append(str(instance.pk))

    if heard_by_a_receiver:
        post_save.connect(hear, sender=SCIMUser, dispatch_uid="test-user-saved")
    try:
        with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=True):
            compiled = idp.patch(f"/Users/{ids[0]}", change)
        with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=False):
            plain = idp.patch(f"/Users/{ids[1]}", change)
    finally:
        post_save.disconnect(sender=SCIMUser, dispatch_uid="test-user-saved")

    assert (compiled.status_code, plain.status_code) == (200, 200)
    assert heard == (ids[:2] if heard_by_a_receiver else [])
    assert bool(reads.USER_RECORD_SAVE.compiled._compiled) is not heard_by_a_receiver
    rows = {str(r.pk): _fields(r) for r in SCIMUser.objects.filter(pk__in=ids)}
    for pk in ids[:2]:
        assert (rows[pk]["external_id"], rows[pk]["active"], rows[pk]["version"]) == (
            None,
            False,
            2,
        )
        assert rows[pk]["attributes"]["name"] == {"givenName": "G"}
    differ = {"id", "created", "last_modified", "user_id", "user_name", "email", "attributes"}
    assert {k: v for k, v in rows[ids[0]].items() if k not in differ} == {
        k: v for k, v in rows[ids[1]].items() if k not in differ
    }
    assert (rows[ids[2]]["version"], rows[ids[2]]["external_id"]) == (1, "cy")  # by key alone
    assert idp.get(f"/Users/{ids[0]}").json()["name"] == {"givenName": "G"}


def test_a_compiled_read_sends_the_statement_the_orm_sends(team, people):
    """Issue 27: on SQLite a compiled statement names its parameters (Django's SQLite
    cursor rewrites ``%s`` with a regular expression on every execution, named ones
    with ``%``); the statement the database runs is the ORM's all the same."""
    config = SCIMTeamConfig.objects.get(team=team)
    token = issue_token(team).token
    pk = uuid.UUID(people[0]["id"])
    sent = {}
    for compiled in (True, False):
        with (
            override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=compiled),
            CaptureQueriesContext(connection) as queries,
        ):
            found = record_by_id(USERS, config.team_id, pk, token.digest)
        assert found.record.pk == pk and found.token_ok
        (sent[compiled],) = [q["sql"] for q in queries.captured_queries]

    # The same text, values in place, save the time the token rule compares with.
    moment = r"'\d{4}-\d\d-\d\d[ T][\d:.+-]+'"
    assert re.sub(moment, "?", sent[True]) == re.sub(moment, "?", sent[False])
    read = reads._by_id(USERS, True, False).compiled
    sql = read._compiled_for(connection.alias)[0]
    assert ("%(p0)s" in sql) is (connection.vendor == "sqlite")


def test_a_statement_whose_named_form_reads_otherwise_stays_positional():
    """A placeholder count that does not match, or a ``%`` that ``%``-formatting reads
    otherwise than Django's SQLite cursor, leaves the statement as the ORM compiled it."""
    named = prepared._for_cursor("SELECT 1 WHERE a = %s AND b LIKE 'x%%'", 1, "default")
    too_few = prepared._for_cursor("SELECT 1 WHERE a = %s", 2, "default")
    odd = prepared._for_cursor("SELECT '%d' WHERE a = %s", 1, "default")

    if connection.vendor == "sqlite":
        assert named == ("SELECT 1 WHERE a = %(p0)s AND b LIKE 'x%%'", ("p0",))
    else:
        assert named == ("SELECT 1 WHERE a = %s AND b LIKE 'x%%'", None)
    assert too_few == ("SELECT 1 WHERE a = %s", None)
    assert odd == ("SELECT '%d' WHERE a = %s", None)


def _driver_cursors(read) -> list:
    """The driver's cursor each statement of ``read()`` ran on (as an execute wrapper sees it)."""
    seen: list = []

    def wrapper(execute, sql, params, many, context):
        seen.append(context["cursor"].cursor)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        read()
    return seen


@override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=True)  # CI also runs it off
def test_compiled_statements_of_a_connection_run_on_one_kept_driver_cursor(team, people):
    # A new driver cursor per statement made psycopg build each column's loader anew
    # (issue 27: ~25 µs of a GET by id's statement).
    config = SCIMTeamConfig.objects.get(team=team)
    pk = uuid.UUID(people[0]["id"])

    first, second = (
        _driver_cursors(lambda: record_by_id(USERS, config.team_id, pk, None)) for _ in range(2)
    )

    assert len(first) == len(second) == 1
    assert first[0] is second[0]
    assert record_by_id(USERS, config.team_id, pk, None).record.pk == pk


@override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=True)  # CI also runs it off
def test_a_new_connection_gets_a_new_kept_cursor(team, people):
    config = SCIMTeamConfig.objects.get(team=team)
    pk = uuid.UUID(people[0]["id"])
    read = lambda: record_by_id(USERS, config.team_id, pk, None)  # noqa: E731
    before = _driver_cursors(read)[0]

    connections["default"].__dict__[prepared._KEPT].driver_connection = object()  # reconnected

    after = _driver_cursors(read)[0]
    assert after is not before
    assert read().record.pk == pk


@override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=True)  # CI also runs it off
def test_a_compiled_read_run_by_an_execute_wrapper_does_not_take_the_statements_rows(team, people):
    # The wrapper reads on the kept cursor while the statement it wraps has it: it
    # takes a cursor of its own, and each gets its own rows.
    config = SCIMTeamConfig.objects.get(team=team)
    mine, other = (uuid.UUID(person["id"]) for person in people[:2])
    inner: list = []

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not inner:
            inner.append(None)  # the inner read's own statement comes through here too
            inner[0] = record_by_id(USERS, config.team_id, other, None).record.pk
        return result

    with connection.execute_wrapper(wrapper):
        outer = record_by_id(USERS, config.team_id, mine, None).record.pk

    assert (outer, inner) == (mine, [other])


class _Upper(models.CharField):
    """A text field with a conversion of its own (the kind a host or a library writes)."""

    def get_prep_value(self, value):
        return super().get_prep_value(value).upper()


def test_a_compiled_write_passes_django_s_own_text_and_booleans_and_converts_the_rest():
    """Text and booleans that Django's own conversions give back unchanged are not
    converted (three calls per value for nothing); any other value, or a field with a
    conversion of its own, is converted as save() converts it."""
    text, flag, upper = models.CharField(max_length=9), models.BooleanField(), _Upper()
    for field, name in ((text, "text"), (flag, "flag"), (upper, "upper")):
        field.attname = name
    assert prepared._unchanged_types(text) == (str, type(None))
    assert prepared._unchanged_types(flag) == (bool, type(None))
    assert prepared._unchanged_types(upper) == ()
    assert prepared._unchanged_types(SCIMUser._meta.get_field("attributes")) == ()

    row = SimpleNamespace(text="abc", flag=True, upper="abc")
    fields = tuple((f, prepared._unchanged_types(f)) for f in (text, flag, upper))
    values: list = []
    assert prepared._db_values(fields, row, True, connection, values)
    assert values == ["abc", True, "ABC"]
    row.text = 5  # not a str: converted as the ORM converts it
    values = []
    assert prepared._db_values(fields, row, True, connection, values)
    assert values == ["5", True, "ABC"]
