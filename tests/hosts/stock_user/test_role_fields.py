"""Roles of any field type and the host's own rules, on hosts configured by settings alone.

Issue 22 met two sites: django-organizations (``OrganizationUser`` with a boolean
``is_admin``, no active flag, ``OrganizationUser.delete()`` refusing to delete the
owner with ``OwnershipRequired``) and a site whose ``Seat.role`` is a foreign key to
a ``Role`` model, with a ``save()``/``delete()`` guard for the owner and a
``post_save`` receiver. Both are modelled here (``OrgUser``/``OrgOwner`` and
``Seat``/``Role``/``SeatAudit`` in this host's models) and switched on with the
settings a site would write, nothing more.
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
from typing import Any

import pytest
from django.core import checks
from django.core.exceptions import ValidationError

from scim_provisioning import checks as scim_checks
from scim_provisioning.models import (
    SCIMLinkRefusal,
    SCIMRequestLog,
    SCIMTeamConfig,
    SCIMUser,
    SCIMUserEvent,
)
from scim_provisioning.request_log_writer import writer
from scim_provisioning.tokens import issue_token
from tests.conftest import IdPClient, assert_scim_error, patch_op
from tests.factories import UserFactory
from tests.hosts.stock_user.site.models import OrgOwner, OrgUser, Role, Seat, SeatAudit

pytestmark = pytest.mark.django_db
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
GUARD = "tests.hosts.stock_user.site.models.OwnerRequired"


def _user(address: str) -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": address,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": address, "type": "work", "primary": True}],
    }


def _created(idp: Any, address: str) -> dict[str, Any]:
    response = idp.post("/Users", _user(address))
    assert response.status_code == 201, response.content
    return response.json()


def _in_group(idp: Any, name: str, *user_ids: str) -> None:
    response = idp.post(
        "/Groups",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": name,
            "members": [{"value": user_id} for user_id in user_ids],
        },
    )
    assert response.status_code == 201, response.content


def _deactivate(idp: Any, user_id: str) -> Any:
    return idp.patch(
        f"/Users/{user_id}", patch_op({"op": "replace", "path": "active", "value": False})
    )


def _account(user_id: str) -> Any:
    return SCIMUser.objects.get(pk=user_id).user


def _map_groups(team: Any, mapping: dict[str, Any]) -> None:
    SCIMTeamConfig.objects.filter(team=team).update(group_roles=mapping)


def _assert_refused_by_the_host(response: Any, team: Any, email: str, words: str) -> None:
    body = assert_scim_error(response, 409)
    assert words in body["detail"]
    refusal = SCIMLinkRefusal.objects.get(team=team, email=email)
    assert (refusal.reason, words in refusal.detail) == ("host", True)
    assert SCIMUserEvent.objects.filter(team=team, action="user.refused").exists()


# -- a role that is a foreign key to a Role model ---------------------------------------


@pytest.fixture
def seat_host(settings):
    """The FK-role site of issue 22, by settings: roles are ``Role`` names."""
    settings.SCIM_PROVISIONING_MEMBERSHIP_MODEL = "stockhost.Seat"
    settings.SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = "is_active"
    settings.SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD = "role__name"
    settings.SCIM_PROVISIONING_MEMBERSHIP_DEFAULTS = {"role": "member"}
    settings.SCIM_PROVISIONING_MEMBERSHIP_GUARD_EXCEPTIONS = [GUARD]
    return {name: Role.objects.create(name=name) for name in ("owner", "admin", "member")}


@pytest.fixture
def seat_owner(team, seat_host, idp):
    """The workspace's owner, seated by the site, then linked by the IdP; and another admin."""
    owner = UserFactory(email="owner@acme.com")
    Seat.objects.create(organization=team, user=owner, role=seat_host["owner"])
    admin = UserFactory(email="admin@acme.com")
    Seat.objects.create(organization=team, user=admin, role=seat_host["admin"])
    return _created(idp, "owner@acme.com")


def test_seat_host_passes_its_checks(seat_host):
    assert [m.id for m in checks.run_checks() if m.level >= checks.ERROR] == []


def test_seat_host_create_seats_the_person_with_the_default_role_row(idp, team, seat_host):
    """Was a 500: Cannot assign "'member'": "Seat.role" must be a "Role" instance."""
    body = _created(idp, "ada@acme.com")

    seat = Seat.objects.get(organization=team, user=_account(body["id"]))
    assert (seat.role.name, seat.is_active) == ("member", True)
    assert list(SeatAudit.objects.values_list("seat_pk", "action")) == [(seat.pk, "created")]


def test_seat_host_group_mapped_to_admin_gives_the_admin_row(idp, team, seat_host):
    """Was a 500: the role engine assigned the string 'admin' to the foreign key."""
    _map_groups(team, {"Acme Admins": "admin"})
    body = _created(idp, "ada@acme.com")

    _in_group(idp, "Acme Admins", body["id"])

    seat = Seat.objects.get(organization=team, user=_account(body["id"]))
    assert seat.role.name == "admin"
    assert SeatAudit.objects.filter(seat_pk=seat.pk).count() == 2  # created, then the role saved
    entry = SCIMUserEvent.objects.get(team=team, action="user.role_granted")
    assert (entry.role, entry.changes) == ("admin", {"role": ["member", "admin"]})


def test_seat_host_deactivation_and_reactivation_run_the_receivers(idp, team, seat_host):
    """The default hooks used a queryset update(): 0 audit rows (issue 22)."""
    body = _created(idp, "ada@acme.com")
    seat = Seat.objects.get(organization=team, user=_account(body["id"]))

    assert _deactivate(idp, body["id"]).status_code == 200
    reactivated = idp.patch(
        f"/Users/{body['id']}", patch_op({"op": "replace", "path": "active", "value": True})
    )

    assert reactivated.status_code == 200, reactivated.content
    actions = SeatAudit.objects.filter(seat_pk=seat.pk).order_by("pk").values_list("action")
    assert [a for (a,) in actions] == ["created", "inactive", "active"]
    assert Seat.objects.get(pk=seat.pk).is_active is True


def test_seat_host_deactivating_the_owner_is_the_guards_409(idp, team, seat_owner):
    """The owner was deactivated through SCIM while the model's save() forbids it."""
    response = _deactivate(idp, seat_owner["id"])

    _assert_refused_by_the_host(response, team, "owner@acme.com", "keeps their seat")
    assert Seat.objects.get(organization=team, user__email="owner@acme.com").is_active is True
    assert SCIMUser.objects.get(pk=seat_owner["id"]).active is True


def test_seat_host_deleting_the_owner_is_the_guards_409(idp, team, seat_owner):
    response = idp.delete(f"/Users/{seat_owner['id']}")

    _assert_refused_by_the_host(response, team, "owner@acme.com", "cannot be removed")
    assert Seat.objects.filter(organization=team, user__email="owner@acme.com").exists()
    assert SCIMUser.objects.filter(pk=seat_owner["id"]).exists()


def test_seat_host_deleting_a_member_deletes_the_seat_through_the_model(idp, team, seat_host):
    body = _created(idp, "ada@acme.com")
    seat = Seat.objects.get(organization=team, user=_account(body["id"]))

    response = idp.delete(f"/Users/{body['id']}")

    assert response.status_code == 204, response.content
    assert not Seat.objects.filter(pk=seat.pk).exists()
    assert SeatAudit.objects.filter(seat_pk=seat.pk, action="deleted").count() == 1


def test_seat_host_a_role_by_the_related_key(idp, team, seat_host, settings):
    """``MEMBERSHIP_ROLE_FIELD = "role"`` on a foreign key: roles are the Role rows' keys."""
    settings.SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD = "role"
    settings.SCIM_PROVISIONING_MEMBERSHIP_DEFAULTS = {"role": seat_host["member"].pk}
    settings.SCIM_PROVISIONING_MANAGER_ROLES = (seat_host["owner"].pk, seat_host["admin"].pk)
    _map_groups(team, {"Acme Admins": seat_host["admin"].pk})
    body = _created(idp, "ada@acme.com")

    _in_group(idp, "Acme Admins", body["id"])

    assert Seat.objects.get(organization=team, user=_account(body["id"])).role.name == "admin"
    assert scim_checks.check_membership_roles() == []


def test_seat_host_role_names_on_the_key_are_a_check_error(seat_host, settings):
    """The FK site's first try: ``ROLE_FIELD = "role"`` with the default MANAGER_ROLES."""
    settings.SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD = "role"

    errors = scim_checks.check_membership_roles()

    assert {e.id for e in errors} == {"scim_provisioning.E007"}
    assert any("'owner'" in e.msg and "role__name" in (e.hint or "") for e in errors)


def test_seat_host_a_mapping_to_a_role_nobody_has_is_a_409_not_a_500(idp, team, seat_host):
    _map_groups(team, {"Acme Admins": "superuser"})
    body = _created(idp, "ada@acme.com")

    response = idp.post(
        "/Groups",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "Acme Admins",
            "members": [{"value": body["id"]}],
        },
    )

    body = assert_scim_error(response, 409)
    assert "'superuser'" in body["detail"]


# -- a boolean admin flag, the django-organizations shape -----------------------------------


@pytest.fixture
def org_host(settings):
    """django-organizations by settings: is_admin, no active flag, OwnershipRequired named."""
    settings.SCIM_PROVISIONING_MEMBERSHIP_MODEL = "stockhost.OrgUser"
    settings.SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = None
    settings.SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD = "is_admin"
    settings.SCIM_PROVISIONING_MANAGER_ROLES = (True,)
    settings.SCIM_PROVISIONING_MEMBERSHIP_DEFAULTS = {}
    settings.SCIM_PROVISIONING_MEMBERSHIP_GUARD_EXCEPTIONS = [GUARD]


@pytest.fixture
def org_owner(team, org_host, idp):
    """The organization's owner (an admin), linked by the IdP; and a second admin."""
    owner = UserFactory(email="owner@acme.com")
    OrgOwner.objects.create(
        organization=team,
        organization_user=OrgUser.objects.create(organization=team, user=owner, is_admin=True),
    )
    OrgUser.objects.create(
        organization=team, user=UserFactory(email="admin@acme.com"), is_admin=True
    )
    return _created(idp, "owner@acme.com")


def test_org_host_passes_its_checks(org_host):
    assert [m.id for m in checks.run_checks() if m.level >= checks.ERROR] == []


def test_org_host_group_mapped_to_admin_sets_is_admin(idp, team, org_host):
    """Was silently nothing: the mapping's role was read as a string."""
    _map_groups(team, {"Acme Admins": True})
    body = _created(idp, "ada@acme.com")

    _in_group(idp, "Acme Admins", body["id"])

    assert OrgUser.objects.get(organization=team, user=_account(body["id"])).is_admin is True


def test_org_host_leaving_the_admin_group_clears_is_admin(idp, team, org_host):
    """The field's default (False) is the role of a person no group grants one."""
    _map_groups(team, {"Acme Admins": True})
    OrgUser.objects.create(
        organization=team, user=UserFactory(email="boss@acme.com"), is_admin=True
    )
    body = _created(idp, "ada@acme.com")
    _in_group(idp, "Acme Admins", body["id"])
    assert OrgUser.objects.get(organization=team, user=_account(body["id"])).is_admin is True
    group = idp.get("/Groups").json()["Resources"][0]

    response = idp.patch(
        f"/Groups/{group['id']}",
        patch_op({"op": "remove", "path": f'members[value eq "{body["id"]}"]'}),
    )

    assert response.status_code in (200, 204), response.content
    assert OrgUser.objects.get(organization=team, user=_account(body["id"])).is_admin is False


def test_org_host_deactivating_the_owner_is_a_409_and_the_owner_stays(idp, team, org_owner):
    """Was a 200 whose queryset delete cascaded to OrgOwner: "Organization has no owner"."""
    response = _deactivate(idp, org_owner["id"])

    _assert_refused_by_the_host(response, team, "owner@acme.com", "transferring ownership")
    assert OrgOwner.objects.get(organization=team).organization_user.user.email == (
        "owner@acme.com"
    )
    assert OrgUser.objects.get(organization=team, user__email="owner@acme.com").is_admin is True


def test_org_host_deleting_the_owner_is_a_409_and_the_owner_stays(idp, team, org_owner):
    response = idp.delete(f"/Users/{org_owner['id']}")

    _assert_refused_by_the_host(response, team, "owner@acme.com", "transferring ownership")
    assert OrgOwner.objects.filter(organization=team).exists()
    assert SCIMUser.objects.filter(pk=org_owner["id"]).exists()


def test_org_host_a_non_owner_admin_can_still_be_deactivated(idp, team, org_owner):
    admin = _created(idp, "admin@acme.com")

    response = _deactivate(idp, admin["id"])

    assert response.status_code == 200, response.content
    assert not OrgUser.objects.filter(organization=team, user__email="admin@acme.com").exists()
    assert OrgOwner.objects.filter(organization=team).exists()


def test_org_host_string_roles_are_check_errors(org_host, settings):
    """The boolean site without MANAGER_ROLES: the defaults ('owner', 'admin') are no booleans."""
    del settings.SCIM_PROVISIONING_MANAGER_ROLES
    settings.SCIM_PROVISIONING_MEMBERSHIP_DEFAULTS = {"is_admin": "member"}

    errors = scim_checks.check_membership_roles()

    assert [e.id for e in errors] == ["scim_provisioning.E007"] * 3
    assert "'owner'" in errors[0].msg and "MANAGER_ROLES" in errors[0].msg
    assert "'member'" in errors[2].msg and "MEMBERSHIP_DEFAULTS" in errors[2].msg


def test_org_host_a_mapping_to_a_string_role_is_refused_where_staff_edit_it(team, org_host):
    config = SCIMTeamConfig.objects.get(team=team)
    config.group_roles = {"Acme Admins": "admin"}

    with pytest.raises(ValidationError) as refused:
        config.full_clean()

    assert "group_roles" in refused.value.message_dict


def test_org_host_a_stored_mapping_the_field_cannot_hold_is_a_database_check_error(team, org_host):
    _map_groups(team, {"Acme Admins": "admin"})

    errors = scim_checks.check_team_role_mappings(databases=["default"])

    assert [e.id for e in errors] == ["scim_provisioning.E008"]
    assert "Acme Admins" in errors[0].msg


def test_org_host_creating_the_owner_inactive_is_a_409_and_the_owner_stays(idp, team, org_host):
    """A POST with active false links the owner's account and would delete their row."""
    owner = UserFactory(email="owner@acme.com")
    OrgOwner.objects.create(
        organization=team,
        organization_user=OrgUser.objects.create(organization=team, user=owner, is_admin=True),
    )
    OrgUser.objects.create(
        organization=team, user=UserFactory(email="admin@acme.com"), is_admin=True
    )

    response = idp.post("/Users", {**_user("owner@acme.com"), "active": False})

    _assert_refused_by_the_host(response, team, "owner@acme.com", "transferring ownership")
    assert OrgOwner.objects.get(organization=team).organization_user.user == owner
    assert not SCIMUser.objects.filter(team=team).exists()


@pytest.mark.parametrize("role", ["adm\x00in", "adm\udc00in"])
def test_seat_host_a_role_with_hostile_bytes_is_refused_where_staff_edit_it(team, seat_host, role):
    config = SCIMTeamConfig.objects.get(team=team)
    config.user_roles = {"Admin": role}

    with pytest.raises(ValidationError) as refused:
        config.full_clean()

    assert "user_roles" in refused.value.message_dict


# -- under concurrency: the lock of the managers takes the seats, not the shared Role rows --


def _delete_at_once(server_url: str, token: str, paths: list[str]) -> list[int]:
    """DELETE ``paths`` at the same moment, a thread and a connection each; their statuses."""
    target = urllib.parse.urlsplit(server_url)
    barrier = threading.Barrier(len(paths))
    statuses: list[int] = [0] * len(paths)
    logged = SCIMRequestLog.objects.count()

    def run(index: int) -> None:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            connection.connect()
            barrier.wait(timeout=60)
            connection.request(
                "DELETE", f"/scim/v2{paths[index]}", headers={"Authorization": f"Bearer {token}"}
            )
            response = connection.getresponse()
            response.read()
            statuses[index] = response.status
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(paths))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    deadline = time.monotonic() + 10  # the server logs each request after answering it
    while SCIMRequestLog.objects.count() < logged + len(paths) and time.monotonic() < deadline:
        writer.flush(10)
        time.sleep(0.02)
    return sorted(statuses)


@pytest.mark.django_db(transaction=True)
def test_seat_host_two_admins_removed_at_once_one_stays(live_server, team, seat_host):
    """is_last_manager locks the admins' seats (FOR UPDATE OF the seats, with role__name)."""
    token = issue_token(team).plaintext
    idp = IdPClient(token)
    admins = []
    for address in ("one@acme.com", "two@acme.com"):
        Seat.objects.create(
            organization=team, user=UserFactory(email=address), role=seat_host["admin"]
        )
        admins.append(_created(idp, address)["id"])

    statuses = _delete_at_once(live_server.url, token, [f"/Users/{pk}" for pk in admins])

    assert statuses == [204, 409]
    assert Seat.objects.filter(organization=team, role__name="admin", is_active=True).count() == 1


def test_seat_host_fields_declared_for_bulk_updates_skip_the_saves(idp, team, seat_host, settings):
    """The host says its save() and receivers have nothing to do with the role: one UPDATE."""
    settings.SCIM_PROVISIONING_MEMBERSHIP_BULK_UPDATE_FIELDS = ("role",)
    _map_groups(team, {"Acme Admins": "admin"})
    body = _created(idp, "ada@acme.com")

    _in_group(idp, "Acme Admins", body["id"])

    seat = Seat.objects.get(organization=team, user=_account(body["id"]))
    assert seat.role.name == "admin"
    assert list(SeatAudit.objects.values_list("action", flat=True)) == ["created"]
