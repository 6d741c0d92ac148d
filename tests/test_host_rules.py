"""The host's own rules hold (DESIGN promise 3, issue 22; issue 21's pre-SCIM rule).

Membership changes go through the host's model: its ``save()``/``delete()`` and
receivers run, and when it refuses (a guard exception named in
``MEMBERSHIP_GUARD_EXCEPTIONS``, a ``ValidationError``, a ``PermissionDenied``)
the IdP gets a 409 with the host's words, nothing changes, and the team's managers
see the refusal. The adapter's ``may_remove_membership`` refuses the same way.

Run on the example site and on ``tests/hosts/stock_user`` (no active flag: a
deactivation deletes the row); the database is read through ``tests/host.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models.signals import pre_delete, pre_save

from scim_provisioning.conf import app_settings
from scim_provisioning.models import (
    SCIMLinkRefusal,
    SCIMMemberBeforeSCIM,
    SCIMTeamConfig,
    SCIMUser,
    SCIMUserEvent,
)

from .conftest import assert_scim_error, patch_op
from .factories import UserFactory
from .host import assert_seat, give_seat, has_row, role

pytestmark = pytest.mark.django_db
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PROTECTED = "keeper@acme.com"


class KeeperGuard(Exception):  # noqa: N818 - a host's own guard, named as hosts name them
    """A host's guard: a plain exception its membership model raises to refuse a change."""


def _user(address: str) -> dict[str, Any]:
    return {
        "schemas": [USER],
        "userName": address,
        "emails": [{"value": address, "type": "work", "primary": True}],
    }


def _created(idp: Any, address: str) -> dict[str, Any]:
    response = idp.post("/Users", _user(address))
    assert response.status_code == 201, response.content
    return response.json()


def _deactivate(idp: Any, user_id: str) -> Any:
    return idp.patch(
        f"/Users/{user_id}", patch_op({"op": "replace", "path": "active", "value": False})
    )


def _membership_model() -> Any:
    return apps.get_model(app_settings.MEMBERSHIP_MODEL)


def _keeper(instance: Any) -> bool:
    user = getattr(instance, app_settings.MEMBERSHIP_USER_FIELD)
    return user.email == PROTECTED


@pytest.fixture
def guarded(settings):
    """The host's membership model refuses any change to the keeper's row, by its receivers."""
    settings.SCIM_PROVISIONING_MEMBERSHIP_GUARD_EXCEPTIONS = ["tests.test_host_rules.KeeperGuard"]
    model = _membership_model()

    def refuse_save(sender: Any, instance: Any, **kwargs: Any) -> None:
        if instance.pk and _keeper(instance):
            raise KeeperGuard("The keeper stays in the team: ask the site's owner.")

    def refuse_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
        if _keeper(instance):
            raise KeeperGuard("The keeper stays in the team: ask the site's owner.")

    pre_save.connect(refuse_save, sender=model, dispatch_uid="test-keeper-save")
    pre_delete.connect(refuse_delete, sender=model, dispatch_uid="test-keeper-delete")
    yield
    pre_save.disconnect(sender=model, dispatch_uid="test-keeper-save")
    pre_delete.disconnect(sender=model, dispatch_uid="test-keeper-delete")


@pytest.fixture
def keeper(idp, team):
    """A member the host protects, provisioned by the team's IdP."""
    body = _created(idp, PROTECTED)
    return body["id"], SCIMUser.objects.get(pk=body["id"]).user


def _assert_refused(response: Any, team: Any) -> None:
    body = assert_scim_error(response, 409)
    assert "The keeper stays in the team" in body["detail"]
    refusal = SCIMLinkRefusal.objects.get(team=team, email=PROTECTED)
    assert refusal.reason == "host"
    assert "The keeper stays in the team" in refusal.detail
    entry = SCIMUserEvent.objects.get(team=team, action="user.refused")
    assert "The keeper stays in the team" in entry.changes["refused"][1]


def test_the_host_models_guard_refuses_a_deactivation_with_a_409(idp, team, keeper, guarded):
    user_id, account = keeper

    response = _deactivate(idp, user_id)

    _assert_refused(response, team)
    assert_seat(team, account, active=True)
    assert SCIMUser.objects.get(pk=user_id).active is True


def test_the_host_models_guard_refuses_a_delete_with_a_409(idp, team, keeper, guarded):
    user_id, account = keeper

    response = idp.delete(f"/Users/{user_id}")

    _assert_refused(response, team)
    assert_seat(team, account, active=True)
    assert SCIMUser.objects.filter(pk=user_id).exists()


def test_the_host_models_guard_lets_others_go(idp, team, keeper, guarded):
    other = _created(idp, "ada@acme.com")

    response = idp.delete(f"/Users/{other['id']}")

    assert response.status_code == 204, response.content
    assert has_row(team, UserFactory(email="ada@acme.com")) is False
    assert_seat(team, keeper[1], active=True)


def test_a_validation_error_of_the_host_is_a_409_without_a_setting(idp, team, keeper):
    model = _membership_model()

    def refuse(sender: Any, instance: Any, **kwargs: Any) -> None:
        if _keeper(instance):
            raise ValidationError("The keeper stays in the team: ask the site's owner.")

    pre_delete.connect(refuse, sender=model, dispatch_uid="test-keeper-validation")
    try:
        response = idp.delete(f"/Users/{keeper[0]}")
    finally:
        pre_delete.disconnect(sender=model, dispatch_uid="test-keeper-validation")

    _assert_refused(response, team)


@pytest.fixture
def protecting_adapter(settings):
    settings.SCIM_PROVISIONING_ADAPTER = "tests.adapters.KeeperProtectingAdapter"


def test_the_adapter_may_refuse_a_deactivation(idp, team, keeper, protecting_adapter):
    user_id, account = keeper

    response = _deactivate(idp, user_id)

    _assert_refused(response, team)
    assert_seat(team, account, active=True)


def test_the_adapter_may_refuse_a_delete(idp, team, keeper, protecting_adapter):
    user_id, account = keeper

    response = idp.delete(f"/Users/{user_id}")

    _assert_refused(response, team)
    assert SCIMUser.objects.filter(pk=user_id).exists()


def test_a_refusal_the_host_lifts_lets_the_retry_through(
    idp, team, keeper, protecting_adapter, settings
):
    user_id, account = keeper
    _assert_refused(_deactivate(idp, user_id), team)
    settings.SCIM_PROVISIONING_ADAPTER = "scim_provisioning.adapters.DefaultAdapter"

    response = _deactivate(idp, user_id)

    assert response.status_code == 200, response.content
    assert_seat(team, account, active=False)


# -- the role rule is the app's, whatever the adapter overrides ---------------------------


def test_an_adapter_overriding_the_group_hook_keeps_the_role_mapping(idp, team, settings):
    """The role engine lived in DefaultAdapter.group_members_changed: overriding it lost it."""
    settings.SCIM_PROVISIONING_ADAPTER = "tests.adapters.GroupListeningAdapter"
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Acme Admins": "admin"})
    give_seat(team, UserFactory(email="boss@acme.com"), role="owner")
    ada = _created(idp, "ada@acme.com")

    response = idp.post(
        "/Groups",
        {"schemas": [GROUP], "displayName": "Acme Admins", "members": [{"value": ada["id"]}]},
    )

    assert response.status_code == 201, response.content
    assert role(team, SCIMUser.objects.get(pk=ada["id"]).user) == "admin"
    from .adapters import GroupListeningAdapter

    assert GroupListeningAdapter.heard == [ada["id"]]


# -- issue 21: "existed before SCIM" is the team's and the account's, not the record's ----


def test_a_pre_scim_member_deleted_and_created_again_keeps_out_of_the_group_role(idp, team):
    """A DELETE and a new POST laundered the pre-SCIM rule: the group then made them admin."""
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Acme Admins": "admin"})
    give_seat(team, UserFactory(email="boss@acme.com"), role="owner")
    old_hand = UserFactory(email="old.hand@acme.com", password=None)
    give_seat(team, old_hand, role="member")
    first = _created(idp, "old.hand@acme.com")
    assert SCIMUser.objects.get(pk=first["id"]).membership_existed is True
    assert idp.delete(f"/Users/{first['id']}").status_code == 204

    again = _created(idp, "old.hand@acme.com")
    response = idp.post(
        "/Groups",
        {"schemas": [GROUP], "displayName": "Acme Admins", "members": [{"value": again["id"]}]},
    )

    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get(pk=again["id"]).membership_existed is True
    assert role(team, old_hand) == "member"
    assert SCIMMemberBeforeSCIM.objects.filter(team=team, user=old_hand).count() == 1


def test_a_member_scim_created_is_no_pre_scim_member_after_a_delete(idp, team):
    """The fact is written only for an account that held a membership when first linked."""
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Acme Admins": "admin"})
    give_seat(team, UserFactory(email="boss@acme.com"), role="owner")
    first = _created(idp, "new.hire@acme.com")
    assert idp.delete(f"/Users/{first['id']}").status_code == 204

    again = _created(idp, "new.hire@acme.com")
    idp.post(
        "/Groups",
        {"schemas": [GROUP], "displayName": "Acme Admins", "members": [{"value": again["id"]}]},
    )

    assert role(team, SCIMUser.objects.get(pk=again["id"]).user) == "admin"
    assert not SCIMMemberBeforeSCIM.objects.filter(team=team).exists()


def test_the_pre_scim_fact_is_the_teams_own(idp, other_idp, team, other_team):
    """Another team's IdP linking the same account learns nothing from this team's fact."""
    SCIMTeamConfig.objects.filter(team=other_team).update(group_roles={"Globex Admins": "admin"})
    give_seat(other_team, UserFactory(email="boss@globex.com"), role="owner")
    old_hand = UserFactory(email="old.hand@acme.com", password=None)
    give_seat(team, old_hand, role="member")
    _created(idp, "old.hand@acme.com")

    theirs = _created(other_idp, "old.hand@acme.com")
    other_idp.post(
        "/Groups",
        {"schemas": [GROUP], "displayName": "Globex Admins", "members": [{"value": theirs["id"]}]},
    )

    assert SCIMUser.objects.get(pk=theirs["id"]).membership_existed is False
    assert role(other_team, old_hand) == "admin"


def test_another_teams_token_cannot_reach_the_guarded_member(
    idp, other_idp, team, other_team, keeper, guarded
):
    """Team B's IdP names team A's record: a 404, no refusal recorded for either team."""
    user_id, account = keeper

    response = other_idp.delete(f"/Users/{user_id}")

    assert_scim_error(response, 404)
    assert not SCIMLinkRefusal.objects.exists()
    assert_seat(team, account, active=True)


def test_a_reactivated_member_of_a_mapped_group_gets_the_groups_role_back(idp, team):
    """Without an active field the seat is recreated with the default role: the group's
    role must come back with it (it stayed 'member' on the stock_user host)."""
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Acme Admins": "admin"})
    give_seat(team, UserFactory(email="boss@acme.com"), role="owner")
    ada = _created(idp, "ada@acme.com")
    idp.post(
        "/Groups",
        {"schemas": [GROUP], "displayName": "Acme Admins", "members": [{"value": ada["id"]}]},
    )
    assert _deactivate(idp, ada["id"]).status_code == 200

    response = idp.patch(
        f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "active", "value": True})
    )

    assert response.status_code == 200, response.content
    assert role(team, SCIMUser.objects.get(pk=ada["id"]).user) == "admin"
