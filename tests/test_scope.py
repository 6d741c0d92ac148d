"""The team scope (issue 26): one small value that keeps a query inside one team.

Two teams' IdPs provision people of the same names; whatever is read through
team A's :class:`TeamScope` is team A's and nothing of team B's, and a scope can
never be taken for (or saved as) a team's configuration.
"""

from __future__ import annotations

import dataclasses

import pytest

from example_project.teams.models import Membership
from scim_provisioning import timeline
from scim_provisioning.models import (
    SCIMHeldChange,
    SCIMTeamConfig,
    SCIMUser,
    SCIMUserEvent,
    SCIMUserValue,
)
from scim_provisioning.provisioning import held
from scim_provisioning.scope import TeamScope

from .conftest import patch_op

pytestmark = pytest.mark.django_db

DEACTIVATE = patch_op({"op": "replace", "value": {"active": False}})


@pytest.fixture
def both_teams(idp, other_idp, provision):
    """Ada and Bob at Acme (team A's IdP), and at Globex (team B's)."""
    for name in ("ada", "bob"):
        provision(f"{name}@acme.com")
        provision(f"{name}@globex.com", client=other_idp)


def test_a_scoped_queryset_never_returns_another_teams_rows(team, other_team, both_teams):
    scope = TeamScope.of(team)

    records = scope.filter(SCIMUser.objects.all())
    entries = scope.filter(SCIMUserEvent.objects.all())

    assert {r.user_name for r in records} == {"ada@acme.com", "bob@acme.com"}
    assert {r.team_id for r in records} == {team.pk}
    assert entries.exists()
    assert set(entries.values_list("team_id", flat=True)) == {team.pk}
    assert SCIMUser.objects.count() == 4  # the other team's two are there, and not seen


def test_a_scope_through_a_relation_keeps_to_the_team(team, other_team, both_teams):
    scope = TeamScope.of(other_team)

    values = SCIMUserValue.objects.filter(scope.q("user__"))

    assert sorted(values.values_list("value", flat=True)) == ["ada@globex.com", "bob@globex.com"]
    assert set(values.values_list("user__team_id", flat=True)) == {other_team.pk}
    assert SCIMUserValue.objects.count() == 4


def test_the_public_readers_take_a_team_its_key_or_its_scope_alike(team, both_teams):
    by_team = list(timeline.team_timeline(team, person="ada@acme.com"))

    assert by_team
    assert list(timeline.team_timeline(team.pk, person="ada@acme.com")) == by_team
    assert list(timeline.team_timeline(TeamScope.of(team), person="ada@acme.com")) == by_team
    assert {e.team_id for e in by_team} == {team.pk}


def test_a_scope_is_built_from_a_team_a_key_or_a_configuration_and_compares_by_key(team):
    config = SCIMTeamConfig.objects.get(team=team)
    scope = TeamScope.of(team)

    assert scope == TeamScope(team.pk) == TeamScope.of(team.pk) == config.scope
    assert TeamScope.of(scope) is scope
    assert {scope: "a"}[config.scope] == "a"  # hashable: a key for per-team dictionaries


def test_a_scope_cannot_be_saved_or_changed_or_read_as_policy(team):
    scope = TeamScope.of(team)

    assert not hasattr(scope, "save")
    assert not hasattr(scope, "__dict__")  # slots: no attribute can be added by accident
    for policy in ("enabled", "verified_domains", "group_roles", "guard_percent", "team"):
        assert not hasattr(scope, policy)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scope.team_id = 0  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):  # TypeError: slots and frozen, 3.12
        scope.enabled = True  # type: ignore[attr-defined]


def test_a_scope_is_no_team_to_the_orm(team, both_teams):
    # A scope passed where a team belongs is refused, never compared as something else.
    with pytest.raises((TypeError, ValueError)):
        list(SCIMUser.objects.filter(team=TeamScope.of(team)))


@pytest.mark.parametrize("key", [None])
def test_a_scope_needs_the_key_of_a_saved_team(key):
    with pytest.raises(ValueError):
        TeamScope(key)


def test_a_scope_is_made_of_a_key_not_of_a_team_or_another_scope(team):
    with pytest.raises(TypeError):
        TeamScope(team)
    with pytest.raises(TypeError):
        TeamScope(TeamScope.of(team))


def _hold_one(idp, provision) -> SCIMHeldChange:
    """Team A's IdP deactivates 6 of 7 people: the guard (5 within the hour) holds the 6th."""
    people = [provision(f"person{i}@acme.com")["id"] for i in range(7)]
    for pk in people[:6]:
        assert idp.patch(f"/Users/{pk}", DEACTIVATE).status_code == 200
    return SCIMHeldChange.objects.get(resolved_at=None)


@pytest.mark.parametrize("decide", [held.release, held.discard])
def test_another_teams_decision_leaves_a_held_change_alone(
    idp, provision, owner, team, other_team, decide
):
    change = _hold_one(idp, provision)
    other_config = SCIMTeamConfig.objects.get(team=other_team)
    account = SCIMUser.objects.get(pk=change.scim_user_id).user_id

    decisions = decide(other_config, [change], by_name="globex-admin")

    assert [d.refused for d in decisions] in ([], [""])
    change.refresh_from_db()
    assert (change.resolved_at, change.outcome) == (None, "")
    assert Membership.objects.get(team=team, user_id=account).is_active is True
    assert SCIMTeamConfig.objects.get(team=team).guard_held == 1
    assert SCIMTeamConfig.objects.get(team=other_team).guard_held == 0
    assert not SCIMUserEvent.objects.filter(team=other_team).exists()
