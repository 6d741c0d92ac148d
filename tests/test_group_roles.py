"""Groups mapped onto the host: members of a group named in the team's SCIM settings
(``SCIMTeamConfig.group_roles``) get that team role, through the default adapter."""

from __future__ import annotations

import pytest

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMTeamConfig, SCIMUser, SCIMUserEvent, TimelineAction

from .conftest import patch_op
from .example_factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def admin_group(team):
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Acme Admins": "admin"})
    # The team's owner, outside SCIM: groups may then take the admin role away
    # (never from the team's last manager: tests/test_identity_safety.py).
    MembershipFactory(team=team, role=Membership.Role.OWNER)


def _role(team, resource):
    record = SCIMUser.objects.get(pk=resource["id"])
    return Membership.objects.get(team=team, user=record.user_id).role


def _group(idp, name, *members):
    body = {"displayName": name, "members": [{"value": m["id"]} for m in members]}
    response = idp.post("/Groups", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_members_of_the_named_group_become_admins(idp, team, provision):
    ada, bob = provision("ada@acme.com"), provision("bob@acme.com")

    _group(idp, "acme admins", ada)  # names match case-insensitively

    assert _role(team, ada) == "admin"
    assert _role(team, bob) == "member"


def test_a_group_change_reaches_only_the_members_it_changes(idp, team, provision):
    """Bob's role, given by the site, is his until his own groups or roles change."""
    ada, bob = provision("ada@acme.com"), provision("bob@acme.com")
    Membership.objects.filter(team=team, user=SCIMUser.objects.get(pk=bob["id"]).user).update(
        role="admin"
    )

    _group(idp, "Acme Admins", ada)

    assert _role(team, ada) == "admin"
    assert _role(team, bob) == "admin"


def test_leaving_the_group_returns_to_member(idp, team, provision):
    ada = provision("ada@acme.com")
    group = _group(idp, "Acme Admins", ada)

    idp.patch(
        f"/Groups/{group['id']}",
        patch_op({"op": "remove", "path": f'members[value eq "{ada["id"]}"]'}),
    )

    assert _role(team, ada) == "member"


def test_renaming_the_group_away_revokes_and_back_grants(idp, team, provision):
    ada = provision("ada@acme.com")
    group = _group(idp, "Acme Admins", ada)

    idp.patch(
        f"/Groups/{group['id']}",
        patch_op({"op": "replace", "path": "displayName", "value": "Former Admins"}),
    )
    assert _role(team, ada) == "member"

    idp.patch(
        f"/Groups/{group['id']}",
        patch_op({"op": "replace", "path": "displayName", "value": "Acme Admins"}),
    )
    assert _role(team, ada) == "admin"


def test_deleting_the_group_revokes_the_role(idp, team, provision):
    ada = provision("ada@acme.com")
    group = _group(idp, "Acme Admins", ada)

    idp.delete(f"/Groups/{group['id']}")

    assert _role(team, ada) == "member"


def test_other_groups_grant_nothing(idp, team, provision):
    ada = provision("ada@acme.com")

    _group(idp, "Engineering", ada)

    assert _role(team, ada) == "member"


def test_an_owner_is_never_demoted(idp, team, provision):
    owner = provision("owner@acme.com")
    Membership.objects.filter(team=team, user__email="owner@acme.com").update(role="owner")
    group = _group(idp, "Acme Admins", owner)

    idp.patch(f"/Groups/{group['id']}", patch_op({"op": "remove", "path": "members"}))

    assert _role(team, owner) == "owner"
    # Nor does the person's timeline say otherwise: no role was granted or taken.
    granted = SCIMUserEvent.objects.filter(action=TimelineAction.ROLE_GRANTED)
    assert not granted.exists()


def test_roles_never_reach_another_team(idp, team, other_team, provision):
    ada = provision("ada@acme.com")
    other_seat = MembershipFactory(
        team=other_team, user=SCIMUser.objects.get(pk=ada["id"]).user, role="member"
    )

    _group(idp, "Acme Admins", ada)

    other_seat.refresh_from_db()
    assert other_seat.role == "member"


def test_without_a_mapping_groups_change_no_role(idp, team, provision):
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={})
    ada = provision("ada@acme.com")

    _group(idp, "Acme Admins", ada)

    assert _role(team, ada) == "member"


def test_adding_a_deactivated_user_to_the_group_keeps_them_deactivated(idp, team, provision):
    ada = provision("ada@acme.com", active=False)

    _group(idp, "Acme Admins", ada)

    record = SCIMUser.objects.get(pk=ada["id"])
    assert record.active is False
    assert Membership.objects.get(team=team, user=record.user_id).is_active is False


def test_the_first_listed_group_role_wins_on_every_database(idp, team, provision):
    """A person in two mapped groups gets the role listed first, whatever the names' lengths.

    PostgreSQL's ``jsonb`` stores an object's keys shortest first: "Everyone"
    came before "Acme Administrators" there, and the person became a member.
    """
    SCIMTeamConfig.objects.filter(team=team).update(
        group_roles={"Acme Administrators": "admin", "Everyone": "member"}
    )
    ada = provision("ada@acme.com")

    _group(idp, "Everyone", ada)
    _group(idp, "Acme Administrators", ada)

    assert list(SCIMTeamConfig.objects.get(team=team).group_roles) == [
        "Acme Administrators",
        "Everyone",
    ]
    assert _role(team, ada) == "admin"
