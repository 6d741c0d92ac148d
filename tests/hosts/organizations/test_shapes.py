"""What a django-organizations site asks of SCIM, configured by settings alone (issue 22).

django-organizations guards its owner: ``OrganizationUser.delete()`` raises
``OwnershipRequired`` for the owner's row, and ``OrganizationOwner`` points at
that row (deleting it cascades to the owner). SCIM goes through the model, so
the guard is the IdP's 409 with the host's message and the owner stays; the
boolean ``is_admin`` is the role field, ``True`` the manager role.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from organizations.models import Organization, OrganizationOwner, OrganizationUser

from scim_provisioning.models import SCIMTeamConfig, SCIMUser
from tests.conftest import assert_scim_error, patch_op
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def _user(address: str) -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": address,
        "emails": [{"value": address, "type": "work", "primary": True}],
    }


def _linked(idp: Any, account: Any) -> str:
    """The IdP provisions a person the organization already has: their SCIM id."""
    response = idp.post("/Users", _user(account.email))
    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get(pk=response.json()["id"]).user == account
    return response.json()["id"]


@pytest.fixture
def org(team) -> Organization:
    return Organization.objects.get(pk=team.pk)


@pytest.fixture
def owner(org):
    """The organization's owner: its first user, an admin (django-organizations' add_user)."""
    account = UserFactory(email="owner@acme.example")
    org.add_user(account, is_admin=True)
    assert org.is_owner(account)
    return account


@pytest.fixture
def admin(org, owner):
    """A second admin: the owner is not the last manager, so only the host's guard stops SCIM."""
    account = UserFactory(email="admin@acme.example")
    org.add_user(account, is_admin=True)
    return account


def _owner_intact(org: Organization, owner: Any) -> None:
    org = Organization.objects.get(pk=org.pk)
    assert org.owner.organization_user.user == owner  # "Organization has no owner" when lost
    assert OrganizationUser.objects.get(organization=org, user=owner).is_admin is True


def test_the_host_passes_its_checks():
    assert [m.id for m in checks.run_checks() if m.level >= checks.ERROR] == []


def test_deactivating_the_owner_is_a_409_and_the_owner_stays(idp, org, owner, admin):
    """Was a 200 whose queryset delete skipped OwnershipRequired and cascaded to the owner."""
    scim_id = _linked(idp, owner)

    response = idp.patch(
        f"/Users/{scim_id}", patch_op({"op": "replace", "value": {"active": False}})
    )

    body = assert_scim_error(response, 409)
    assert "owner" in body["detail"].lower()
    _owner_intact(org, owner)
    assert SCIMUser.objects.get(pk=scim_id).active is True


def test_deleting_the_owner_is_a_409_and_the_owner_stays(idp, org, owner, admin):
    scim_id = _linked(idp, owner)

    response = idp.delete(f"/Users/{scim_id}")

    body = assert_scim_error(response, 409)
    assert "owner" in body["detail"].lower()
    _owner_intact(org, owner)
    assert SCIMUser.objects.filter(pk=scim_id).exists()


def test_a_non_owner_admin_can_be_deactivated(idp, org, owner, admin):
    scim_id = _linked(idp, admin)

    response = idp.patch(
        f"/Users/{scim_id}", patch_op({"op": "replace", "value": {"active": False}})
    )

    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    assert not OrganizationUser.objects.filter(organization=org, user=admin).exists()
    _owner_intact(org, owner)


def test_a_non_owner_admin_can_be_deleted(idp, org, owner, admin):
    scim_id = _linked(idp, admin)

    assert idp.delete(f"/Users/{scim_id}").status_code == 204

    assert not OrganizationUser.objects.filter(organization=org, user=admin).exists()
    _owner_intact(org, owner)


def test_a_group_mapped_to_admin_sets_is_admin(idp, team, org, owner):
    """Was silently nothing: the mapping's role was validated as a string."""
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Org Admins": True})
    ada = idp.post("/Users", _user("ada@acme.example")).json()
    assert (
        OrganizationUser.objects.get(organization=org, user__email="ada@acme.example").is_admin
        is False
    )

    response = idp.post("/Groups", {"displayName": "Org Admins", "members": [{"value": ada["id"]}]})

    assert response.status_code == 201, response.content
    assert (
        OrganizationUser.objects.get(organization=org, user__email="ada@acme.example").is_admin
        is True
    )


def test_leaving_the_admin_group_clears_is_admin(idp, team, org, owner):
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Org Admins": True})
    ada = idp.post("/Users", _user("ada@acme.example")).json()
    group = idp.post("/Groups", {"displayName": "Org Admins", "members": [{"value": ada["id"]}]})

    response = idp.patch(
        f"/Groups/{group.json()['id']}",
        patch_op({"op": "remove", "path": f'members[value eq "{ada["id"]}"]'}),
    )

    assert response.status_code in (200, 204), response.content
    assert (
        OrganizationUser.objects.get(organization=org, user__email="ada@acme.example").is_admin
        is False
    )


def test_a_scim_created_admin_is_never_made_the_owner(idp, team, org):
    """django-organizations makes the first user of an organization its owner: SCIM's first
    person of an empty organization gets a plain OrganizationUser, the site picks an owner."""
    ada = idp.post("/Users", _user("ada@acme.example"))

    assert ada.status_code == 201, ada.content
    assert OrganizationUser.objects.filter(organization=org).count() == 1
    assert not OrganizationOwner.objects.filter(organization=org).exists()


def test_an_organization_without_an_owner_still_provisions(idp, org):
    assert idp.post("/Users", _user("ada@acme.example")).status_code == 201
    assert OrganizationUser.objects.filter(organization=org).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_owner_and_an_admin_deactivated_at_once(live_server, team, org, owner, admin):
    """Two server threads at once: the owner's guard holds whatever the order, the admin goes."""
    import threading

    from scim_provisioning.request_log_writer import writer
    from scim_provisioning.tokens import issue_token
    from tests.live_client import LiveIdPClient

    token = issue_token(team).plaintext
    client = LiveIdPClient(live_server.url, token)
    ids = [client.post("/Users", _user(a.email)).json()["id"] for a in (owner, admin)]
    barrier = threading.Barrier(len(ids))
    statuses: dict[str, int] = {}

    def deactivate(scim_id: str) -> None:
        barrier.wait(timeout=60)
        body = patch_op({"op": "replace", "path": "active", "value": False})
        statuses[scim_id] = (
            LiveIdPClient(live_server.url, token).patch(f"/Users/{scim_id}", body).status_code
        )

    threads = [threading.Thread(target=deactivate, args=(scim_id,)) for scim_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert statuses == {ids[0]: 409, ids[1]: 200}
    _owner_intact(org, owner)
    assert not OrganizationUser.objects.filter(organization=org, user=admin).exists()
    assert writer.flush()
