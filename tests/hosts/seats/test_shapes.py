"""What an allauth site with a foreign-key role asks of SCIM, by settings alone (issue 22).

The role is ``Seat.role``, a foreign key to ``Role``, named ``role__name`` in
the settings: SCIM assigns the ``Role`` row of that name. The site's rules are
in its model (the owner's seat is never deactivated, demoted or deleted) and
its receivers (an audit row per saved or deleted seat): SCIM changes seats
through ``save()``/``delete()``, so the guard is the IdP's 409 with the site's
message and every change is audited.
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import checks

from scim_provisioning.models import SCIMTeamConfig, SCIMUser
from tests.conftest import assert_scim_error, patch_op
from tests.factories import UserFactory
from tests.hosts.seats.site.models import AuditEntry, Role, Seat, Workspace

pytestmark = pytest.mark.django_db
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
DEACTIVATE = patch_op({"op": "replace", "path": "active", "value": False})
REACTIVATE = patch_op({"op": "replace", "path": "active", "value": True})


def _user(address: str) -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": address,
        "emails": [{"value": address, "type": "work", "primary": True}],
    }


def _seat(workspace: Any, address: str) -> Seat:
    return Seat.objects.select_related("role").get(workspace=workspace, user__email=address)


def _audit(workspace: Any, address: str) -> list[tuple[str, str, bool | None]]:
    rows = AuditEntry.objects.filter(workspace=workspace, user__email=address).order_by("pk")
    return [(row.action, row.role, row.is_active) for row in rows]


@pytest.fixture
def workspace(team) -> Workspace:
    return Workspace.objects.get(pk=team.pk)


@pytest.fixture
def owner(workspace):
    """The workspace's owner, with the owner's seat."""
    account = UserFactory(email="owner@acme.example")
    Seat.objects.create(workspace=workspace, user=account, role=Role.objects.get(name="owner"))
    workspace.owner = account
    workspace.save()
    return account


@pytest.fixture
def admin(workspace, owner):
    """A second manager: the owner is not the last one, so only the site's guard stops SCIM."""
    account = UserFactory(email="admin@acme.example")
    Seat.objects.create(workspace=workspace, user=account, role=Role.objects.get(name="admin"))
    return account


def test_the_host_passes_its_checks():
    """``role__name`` was E005 ("no such field") though the site works by it."""
    assert [m.id for m in checks.run_checks() if m.level >= checks.ERROR] == []


def test_a_create_gives_a_member_seat_audited(idp, workspace):
    """Was a 500: "Cannot assign 'member': Seat.role must be a Role instance"."""
    response = idp.post("/Users", _user("ada@acme.example"))

    assert response.status_code == 201, response.content
    seat = _seat(workspace, "ada@acme.example")
    assert (seat.role.name, seat.is_active) == ("member", True)
    assert _audit(workspace, "ada@acme.example") == [("created", "member", True)]


def test_a_created_account_has_its_allauth_address(idp):
    assert idp.post("/Users", _user("Ada@acme.example")).status_code == 201

    account = SCIMUser.objects.get().user
    address = EmailAddress.objects.get(user=account)
    assert (address.email, address.primary, address.verified) == ("ada@acme.example", True, False)


def test_deactivate_reactivate_and_delete_run_the_sites_receivers(idp, workspace):
    """Were 500s ("Field 'id' expected a number but got 'owner'"), then 0 audit rows."""
    scim_id = idp.post("/Users", _user("ada@acme.example")).json()["id"]

    assert idp.patch(f"/Users/{scim_id}", DEACTIVATE).status_code == 200
    assert _seat(workspace, "ada@acme.example").is_active is False
    assert idp.patch(f"/Users/{scim_id}", REACTIVATE).status_code == 200
    assert _seat(workspace, "ada@acme.example").is_active is True
    assert idp.delete(f"/Users/{scim_id}").status_code == 204

    assert not Seat.objects.filter(workspace=workspace, user__email="ada@acme.example").exists()
    assert _audit(workspace, "ada@acme.example") == [
        ("created", "member", True),
        ("changed", "member", False),
        ("changed", "member", True),
        ("deleted", "", None),
    ]


def test_a_group_mapped_to_admin_assigns_the_admin_role_row(idp, team, workspace):
    """Was a 500: the role engine assigned the string to the foreign key."""
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Workspace Admins": "admin"})
    ada = idp.post("/Users", _user("ada@acme.example")).json()

    response = idp.post(
        "/Groups", {"displayName": "Workspace Admins", "members": [{"value": ada["id"]}]}
    )

    assert response.status_code == 201, response.content
    assert _seat(workspace, "ada@acme.example").role == Role.objects.get(name="admin")
    assert _audit(workspace, "ada@acme.example")[-1] == ("changed", "admin", True)


def test_deactivating_the_owner_is_the_sites_409(idp, workspace, owner, admin):
    """The owner was deactivated through SCIM while Seat.save() forbids it."""
    scim_id = idp.post("/Users", _user("owner@acme.example")).json()["id"]
    audited = _audit(workspace, "owner@acme.example")

    body = assert_scim_error(idp.patch(f"/Users/{scim_id}", DEACTIVATE), 409)

    assert "transfer the ownership first" in body["detail"]
    assert _seat(workspace, "owner@acme.example").is_active is True
    assert SCIMUser.objects.get(pk=scim_id).active is True
    assert _audit(workspace, "owner@acme.example") == audited


def test_deleting_the_owner_is_the_sites_409(idp, workspace, owner, admin):
    scim_id = idp.post("/Users", _user("owner@acme.example")).json()["id"]

    body = assert_scim_error(idp.delete(f"/Users/{scim_id}"), 409)

    assert "transfer the ownership first" in body["detail"]
    assert _seat(workspace, "owner@acme.example").is_active is True
    assert SCIMUser.objects.filter(pk=scim_id).exists()


def test_a_non_owner_admin_can_be_deactivated(idp, workspace, owner, admin):
    scim_id = idp.post("/Users", _user("admin@acme.example")).json()["id"]

    assert idp.patch(f"/Users/{scim_id}", DEACTIVATE).status_code == 200

    assert _seat(workspace, "admin@acme.example").is_active is False
    assert _seat(workspace, "admin@acme.example").role.name == "admin"


def test_a_default_role_no_role_row_has_is_a_409_that_says_so(idp):
    Role.objects.filter(name="member").delete()

    body = assert_scim_error(idp.post("/Users", _user("ada@acme.example")), 409)

    assert "'member'" in body["detail"] and "no row" in body["detail"]
    assert not Seat.objects.exists() and not SCIMUser.objects.exists()


def test_a_group_mapped_to_a_role_no_row_has_is_a_409_and_changes_nothing(idp, team, workspace):
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Bosses": "superadmin"})
    ada = idp.post("/Users", _user("ada@acme.example")).json()

    response = idp.post("/Groups", {"displayName": "Bosses", "members": [{"value": ada["id"]}]})

    assert "'superadmin'" in assert_scim_error(response, 409)["detail"]
    assert _seat(workspace, "ada@acme.example").role.name == "member"
