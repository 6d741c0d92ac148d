"""Roles from the IdP: the values of a user's ``roles`` mapped onto the membership role.

Entra sends the app roles assigned to a person (``SingleAppRoleAssignment``
onto ``roles[primary eq "True"].value``, or ``AppRoleAssignmentsComplex``);
Okta sends ``roles`` built from app-profile attributes. The team's
``SCIMTeamConfig.user_roles`` names the team role each value grants; with
``group_roles`` it is one rule (``provisioning/roles.py``, ``apply_team_roles``): the
first listed role granted wins, values nobody maps grant nothing, a role
nobody maps is never touched, and the team keeps a manager.

Each conversation replays the IdP's step files (``tests/payloads/<idp>/``) and
checks the status, the body and the database: the record's ``roles``, the
indexed values and the host membership's role (read through ``tests/host.py``,
so the stock-User host runs these too).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from scim_provisioning.models import SCIMTeamConfig, SCIMUser, SCIMUserValue

from .adapters import TeamRecordingAdapter
from .conftest import assert_scim_error, patch_op
from .conversations import Conversation
from .host import give_seat, role, set_role

pytestmark = pytest.mark.django_db

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTRA_ROLE = "WindowsAzureActiveDirectoryRole"
MAPPING = {"Admin": "admin", "User": "member", "Member": "member"}


def _map_roles(team: Any, **mappings: Any) -> None:
    SCIMTeamConfig.objects.filter(team=team).update(**mappings)


def _site_account(email: str) -> Any:
    """An account the site created itself (a password, no SCIM)."""
    model = get_user_model()
    fields = {model.USERNAME_FIELD: email, model.get_email_field_name(): email}
    account = model(**fields)
    account.set_password("correct horse")
    account.save()
    return account


@pytest.fixture
def site_owner(team):
    """The team's owner, outside SCIM: roles may take the admin role from others."""
    account = _site_account("owner@acme.example")
    give_seat(team, account, role="owner")
    return account


@pytest.fixture
def mapped(team, site_owner):
    _map_roles(team, user_roles=MAPPING)


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json()


def _account(user_id: str) -> Any:
    return SCIMUser.objects.get(pk=user_id).user_id


def _indexed(user_id: str) -> list[str]:
    rows = SCIMUserValue.objects.filter(user_id=user_id, attribute="roles")
    return sorted(rows.values_list("value", flat=True))


def _values(body: dict[str, Any]) -> list[str]:
    return [r["value"] for r in body.get("roles", [])]


# -- Entra ------------------------------------------------------------------------------


@pytest.fixture
def entra(idp, mapped) -> Conversation:
    return Conversation(idp, "entra")


def _entra_admin(entra: Conversation, team: Any) -> str:
    body = _ok(entra.send("post_user_app_role"), 201)
    entra.remember(user_id=body["id"])
    assert role(team, _account(body["id"])) == "admin"
    return body["id"]


def test_entra_create_with_an_app_role_grants_its_team_role(entra, team):
    response = entra.send("post_user_app_role")

    body = _ok(response, 201)
    assert body["roles"] == [{"primary": True, "type": ENTRA_ROLE, "value": "Admin"}]
    assert role(team, _account(body["id"])) == "admin"
    assert _indexed(body["id"]) == ["admin"]


def test_entra_replace_of_the_primary_role_value_changes_the_role(entra, team):
    user_id = _entra_admin(entra, team)

    body = _ok(entra.send("patch_replace_primary_role_value"))

    assert body["roles"] == [{"primary": True, "type": ENTRA_ROLE, "value": "User"}]
    assert role(team, _account(user_id)) == "member"
    assert SCIMUser.objects.get(pk=user_id).attributes["roles"] == body["roles"]


def test_entra_role_sent_as_json_text_is_read_as_the_role(entra, team):
    user_id = _entra_admin(entra, team)
    _ok(entra.send("patch_replace_primary_role_value"))  # now User: member

    body = _ok(entra.send("patch_add_app_role_json_text"))

    assert body["roles"] == [
        {"primary": True, "type": ENTRA_ROLE, "value": "User"},
        {"value": "Admin"},
    ]
    assert role(team, _account(user_id)) == "admin"
    assert _indexed(user_id) == ["admin", "user"]


def test_entra_several_app_roles_the_first_listed_wins(entra, team):
    body = _ok(entra.send("post_user_app_roles_complex"), 201)

    assert body["roles"] == [
        {"primary": False, "type": ENTRA_ROLE, "value": "Admin"},
        {"primary": False, "type": ENTRA_ROLE, "value": "User"},
    ]
    assert role(team, _account(body["id"])) == "admin"


def test_entra_assertive_replace_drops_the_unassigned_role(entra, team):
    body = _ok(entra.send("post_user_app_roles_complex"), 201)
    entra.remember(user_id=body["id"])
    assert role(team, _account(body["id"])) == "admin"

    body = _ok(entra.send("patch_replace_roles_assertive"))

    assert body["roles"] == [
        {"primary": False, "type": ENTRA_ROLE, "display": "User", "value": "User"}
    ]
    assert role(team, _account(body["id"])) == "member"
    assert _indexed(body["id"]) == ["user"]


def test_entra_removing_every_role_returns_to_the_default_role(entra, team):
    user_id = _entra_admin(entra, team)

    body = _ok(entra.send("patch_remove_roles"))

    assert "roles" not in body
    assert role(team, _account(user_id)) == "member"
    assert _indexed(user_id) == []


# -- Okta -------------------------------------------------------------------------------


@pytest.fixture
def okta(idp, mapped) -> Conversation:
    return Conversation(idp, "okta_aiw")


def _okta_admin(okta: Conversation, team: Any) -> str:
    body = _ok(okta.send("post_user_roles"), 201)
    okta.remember(user_id=body["id"])
    assert role(team, _account(body["id"])) == "admin"
    return body["id"]


def test_okta_create_with_a_primary_and_an_additional_role(okta, team):
    body = _ok(okta.send("post_user_roles"), 201)

    assert body["roles"] == [
        {"type": "Primary", "value": "Admin"},
        {"type": "additional", "value": "Member"},
    ]
    assert role(team, _account(body["id"])) == "admin"
    assert _indexed(body["id"]) == ["admin", "member"]


def test_okta_profile_push_with_another_role_changes_it(okta, team):
    user_id = _okta_admin(okta, team)

    body = _ok(okta.send("put_profile_roles_changed"))

    assert body["roles"] == [{"type": "Primary", "value": "Member"}]
    assert role(team, _account(user_id)) == "member"


def test_okta_roles_as_bare_strings(okta, team):
    user_id = _okta_admin(okta, team)
    _ok(okta.send("put_profile_roles_changed"))

    body = _ok(okta.send("put_profile_roles_strings"))

    assert body["roles"] == [{"value": "Admin"}]
    assert role(team, _account(user_id)) == "admin"


def test_okta_profile_push_without_roles_returns_to_the_default_role(okta, team):
    user_id = _okta_admin(okta, team)

    body = _ok(okta.send("put_profile_roles_empty"))

    assert "roles" not in body
    assert role(team, _account(user_id)) == "member"
    assert _indexed(user_id) == []


# -- what the rule leaves alone ---------------------------------------------------------


def _user(email: str, *roles: str) -> dict[str, Any]:
    return {
        "schemas": [USER],
        "userName": email,
        "emails": [{"value": email, "type": "work", "primary": True}],
        "roles": [{"value": value} for value in roles],
        "active": True,
    }


def test_a_custom_roles_hook_is_told_of_roles_the_team_does_not_map(idp, team, settings):
    # The default hook maps nothing without user_roles; a host's own hook may map them
    # itself, so it hears of every change of roles (DefaultAdapter.user_roles_changed).
    settings.SCIM_PROVISIONING_ADAPTER = "tests.adapters.TeamRecordingAdapter"
    TeamRecordingAdapter.calls = []

    body = _ok(idp.post("/Users", _user("ada@acme.example", "Admin")), 201)

    assert _values(body) == ["Admin"]
    told = [call for call in TeamRecordingAdapter.calls if call[0] == "user_roles_changed"]
    assert told == [("user_roles_changed", team.pk, [body["id"]])]


def test_an_update_that_leaves_the_roles_leaves_the_role_the_site_gave(idp, team, mapped):
    # The mapping is applied when roles change (or a seat is recreated), not on every
    # write: a role the site's owner gave meanwhile stays until the IdP's roles change.
    body = _ok(idp.post("/Users", _user("ada@acme.example", "User")), 201)
    account = _account(body["id"])
    assert role(team, account) == "member"
    set_role(team, account, "admin")

    _ok(
        idp.patch(
            f"/Users/{body['id']}",
            patch_op({"op": "replace", "path": "displayName", "value": "Ada"}),
        )
    )

    assert role(team, account) == "admin"
    assert _values(idp.get(f"/Users/{body['id']}").json()) == ["User"]


def test_role_values_nobody_maps_grant_nothing(idp, team, mapped):
    body = _ok(idp.post("/Users", _user("ada@acme.example", "Auditor")), 201)

    assert _values(body) == ["Auditor"]
    assert role(team, _account(body["id"])) == "member"


def test_without_a_mapping_roles_are_kept_and_change_no_role(idp, team, site_owner):
    body = _ok(idp.post("/Users", _user("ada@acme.example", "Admin")), 201)

    assert _values(body) == ["Admin"]
    assert role(team, _account(body["id"])) == "member"


def test_a_role_nobody_maps_is_never_touched(idp, team, mapped):
    """The site made a SCIM-provisioned person an owner: roles never demote them."""
    body = _ok(idp.post("/Users", _user("ada@acme.example", "Admin")), 201)
    _set_role(team, _account(body["id"]), "owner")

    _ok(
        idp.patch(
            f"/Users/{body['id']}",
            patch_op({"op": "replace", "path": "roles", "value": [{"value": "User"}]}),
        )
    )

    assert role(team, _account(body["id"])) == "owner"


def _set_role(team: Any, account: Any, value: str) -> None:
    from django.apps import apps

    from scim_provisioning.conf import app_settings

    model = apps.get_model(app_settings.MEMBERSHIP_MODEL)
    model._default_manager.filter(
        **{
            f"{app_settings.MEMBERSHIP_TEAM_FIELD}_id": team.pk,
            f"{app_settings.MEMBERSHIP_USER_FIELD}_id": account,
        }
    ).update(**{app_settings.MEMBERSHIP_ROLE_FIELD: value})


def test_a_membership_from_before_scim_keeps_its_role_whatever_roles_say(idp, team, mapped):
    member = _site_account("bob@acme.example")
    give_seat(team, member, role="member")

    body = _ok(idp.post("/Users", _user("bob@acme.example", "Admin")), 201)

    assert _values(body) == ["Admin"]
    assert role(team, member) == "member"


def test_roles_cannot_demote_the_last_manager(idp, team):
    """The only manager got the role from ``roles``; dropping it would leave nobody."""
    _map_roles(team, user_roles=MAPPING)
    ada = _ok(idp.post("/Users", _user("ada@acme.example", "Admin")), 201)
    assert role(team, _account(ada["id"])) == "admin"

    response = idp.patch(
        f"/Users/{ada['id']}",
        patch_op({"op": "replace", "path": "roles", "value": [{"value": "User"}]}),
    )

    detail = assert_scim_error(response, 409)["detail"]
    assert "last" in detail and "manage" in detail
    assert role(team, _account(ada["id"])) == "admin"
    # The refused write changed nothing: the record still says Admin.
    assert _values(_ok(idp.get(f"/Users/{ada['id']}"))) == ["Admin"]
    assert _indexed(ada["id"]) == ["admin"]


def test_roles_may_demote_a_manager_while_another_remains(idp, team, mapped):
    ada = _ok(idp.post("/Users", _user("ada@acme.example", "Admin")), 201)
    assert role(team, _account(ada["id"])) == "admin"

    _ok(idp.patch(f"/Users/{ada['id']}", patch_op({"op": "remove", "path": "roles"})))

    assert role(team, _account(ada["id"])) == "member"


def test_another_teams_roles_never_reach_this_team(idp, other_idp, team, other_team, mapped):
    """Team B maps "Admin" too; its IdP assigning it to a shared person changes only team B."""
    _map_roles(other_team, user_roles={"Admin": "admin"})
    give_seat(other_team, _site_account("owner@globex.example"), role="owner")
    ada = _ok(idp.post("/Users", _user("ada@shared.example", "User")), 201)
    account = _account(ada["id"])

    theirs = _ok(other_idp.post("/Users", _user("ada@shared.example", "Admin")), 201)
    refused = other_idp.patch(
        f"/Users/{ada['id']}",
        patch_op({"op": "replace", "path": "roles", "value": [{"value": "Admin"}]}),
    )

    assert _account(theirs["id"]) == account  # one person, two teams
    assert role(other_team, account) == "admin"
    assert refused.status_code == 404
    assert role(team, account) == "member"
    assert _values(_ok(idp.get(f"/Users/{ada['id']}"))) == ["User"]


def test_another_teams_role_values_grant_nothing_when_this_team_maps_its_own(
    idp, other_idp, team, other_team, mapped
):
    """Team B's IdP gave the shared person "Admin" first; team A maps "Admin" too."""
    theirs = _ok(other_idp.post("/Users", _user("ada@shared.example", "Admin")), 201)

    ours = _ok(idp.post("/Users", _user("ada@shared.example", "User")), 201)

    assert _account(ours["id"]) == _account(theirs["id"])  # one person, two teams
    assert role(team, _account(ours["id"])) == "member"
    assert _values(ours) == ["User"]


def test_only_the_roles_attribute_grants_a_role(idp, team, mapped, settings):
    """Another attribute holding a mapped value (a site's own costCode) grants nothing."""
    urn = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
    # Declared here (no field on the account): this module runs on the stock_user host too.
    settings.SCIM_PROVISIONING_USER_EXTENSION = {"urn": urn, "attributes": [{"name": "costCode"}]}

    ada = _ok(
        idp.post("/Users", {**_user("ada@acme.example", "User"), urn: {"costCode": "Admin"}}), 201
    )

    assert ada[urn] == {"costCode": "Admin"}
    assert role(team, _account(ada["id"])) == "member"


# -- roles and groups: one rule ---------------------------------------------------------


def test_groups_listed_first_outrank_role_values(idp, team, site_owner):
    _map_roles(team, group_roles={"Acme Admins": "admin"}, user_roles={"User": "member"})
    ada = _ok(idp.post("/Users", _user("ada@acme.example", "User")), 201)

    _ok(idp.post("/Groups", {"displayName": "Acme Admins", "members": [{"value": ada["id"]}]}), 201)

    assert role(team, _account(ada["id"])) == "admin"


def test_leaving_the_group_keeps_the_role_the_roles_grant(idp, team, site_owner):
    _map_roles(team, group_roles={"Acme Admins": "admin"}, user_roles={"Admin": "admin"})
    ada = _ok(idp.post("/Users", _user("ada@acme.example", "Admin")), 201)
    group = _ok(
        idp.post("/Groups", {"displayName": "Acme Admins", "members": [{"value": ada["id"]}]}),
        201,
    )

    idp.patch(
        f"/Groups/{group['id']}",
        patch_op({"op": "remove", "path": f'members[value eq "{ada["id"]}"]'}),
    )

    assert role(team, _account(ada["id"])) == "admin"


def test_dropping_the_role_keeps_the_role_the_group_grants(idp, team, site_owner):
    _map_roles(team, group_roles={"Acme Admins": "admin"}, user_roles={"Admin": "admin"})
    ada = _ok(idp.post("/Users", _user("ada@acme.example", "Admin")), 201)
    _ok(idp.post("/Groups", {"displayName": "Acme Admins", "members": [{"value": ada["id"]}]}), 201)

    _ok(idp.patch(f"/Users/{ada['id']}", patch_op({"op": "remove", "path": "roles"})))

    assert role(team, _account(ada["id"])) == "admin"


# -- the attribute ----------------------------------------------------------------------


def test_roles_are_published_in_the_user_schema(idp):
    schema = _ok(idp.get(f"/Schemas/{USER}"))

    roles = next(a for a in schema["attributes"] if a["name"] == "roles")
    assert (roles["type"], roles["multiValued"], roles["mutability"]) == (
        "complex",
        True,
        "readWrite",
    )
    assert [s["name"] for s in roles["subAttributes"]] == ["value", "display", "type", "primary"]


@pytest.mark.parametrize(
    "expression",
    ['roles[value eq "admin"]', 'roles eq "Admin"', 'roles.value sw "Adm"', "roles pr"],
)
def test_users_are_filtered_by_role(idp, team, expression):
    ada = _ok(idp.post("/Users", _user("ada@acme.example", "Admin")), 201)
    _ok(idp.post("/Users", _user("bob@acme.example")), 201)

    listed = _ok(idp.get("/Users", {"filter": expression}))

    assert [r["id"] for r in listed["Resources"]] == [ada["id"]]


def test_roles_are_projected_like_any_attribute(idp, team):
    ada = _ok(idp.post("/Users", _user("ada@acme.example", "Admin")), 201)

    body = _ok(idp.get(f"/Users/{ada['id']}", {"attributes": "roles"}))

    assert set(body) == {"schemas", "id", "roles"}
    assert body["roles"] == [{"value": "Admin"}]


def test_a_reactivated_person_gets_the_role_their_roles_grant(idp, team, mapped):
    """On a host without an active flag, reactivation recreates the seat with the default role."""
    ada = _ok(idp.post("/Users", _user("ada@acme.example", "Admin")), 201)
    deactivate = {"op": "replace", "path": "active", "value": False}
    _ok(idp.patch(f"/Users/{ada['id']}", patch_op(deactivate)))

    _ok(idp.patch(f"/Users/{ada['id']}", patch_op({**deactivate, "value": True})))

    assert role(team, _account(ada["id"])) == "admin"
