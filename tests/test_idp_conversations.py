"""Each IdP's conversation, replayed from step files (``tests/payloads/<idp>/``).

The step files are not captures of live traffic: none has been recorded yet.
Each is rebuilt from a published source, with values changed, and its
``source`` says which: the IdP's own documentation (title and section), a
trace an SP maintainer published (an issue thread, code written after real
traffic), a third-party setup guide, or ``constructed`` where no source shows
the body (the RFC 7644 form the IdP most likely sends; 14 of them, for
JumpCloud, OneLogin and Okta's ``email eq`` variant).

One class per IdP; its tests follow the IdP's own order: connection test,
create (after the existence-check filter), update, deactivate, reactivate,
delete (never, for Okta), then groups and members. Every test replays the
conversation from the start up to its step, so a failure names the first
step the server got wrong. Each step checks the status, the body and the
database: the SCIM record, the host's membership seat (read through
``tests/host.py``: the same tests run on ``tests/hosts/stock_user``), the
``SCIMGroupMembership`` rows, and that the host account is never deleted.
The step file's ``note`` names its section of the team's IdP traffic notes.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from scim_provisioning.models import SCIMGroup, SCIMGroupMembership, SCIMUser

from .conftest import SCIM_JSON, assert_scim_error
from .conversations import Conversation
from .host import assert_seat, has_row, seats

pytestmark = pytest.mark.django_db
User = get_user_model()
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


# -- what a step must answer -------------------------------------------------------------


def _scim_json(response: Any) -> None:
    assert response["Content-Type"].split(";")[0].strip().lower() == SCIM_JSON


def listed(response: Any) -> list[dict[str, Any]]:
    """A 200 ListResponse with integer counters; returns its resources."""
    assert response.status_code == 200, response.content
    _scim_json(response)
    body = response.json()
    assert body["schemas"] == [LIST_RESPONSE]
    for counter in ("totalResults", "startIndex", "itemsPerPage"):
        assert type(body[counter]) is int, (counter, body[counter])
    assert body["totalResults"] == len(body["Resources"])
    return body["Resources"]


def created(response: Any) -> dict[str, Any]:
    """A 201 with the whole resource (Okta fails on an empty body) and its Location."""
    assert response.status_code == 201, response.content
    _scim_json(response)
    body = response.json()
    assert body["id"]
    assert response["Location"].endswith(f"/{body['id']}")
    return body


def updated(convo: Conversation, response: Any, path: str) -> dict[str, Any]:
    """A PUT/PATCH answer: 200 with the resource, or 204 (then read it back)."""
    assert response.status_code in (200, 204), response.content
    if response.status_code == 204:
        response = convo.client.get(path)
        assert response.status_code == 200, response.content
    _scim_json(response)
    return response.json()


def deleted(response: Any) -> None:
    assert response.status_code == 204, response.content
    assert response.content == b""


# -- what the database must hold ---------------------------------------------------------


def seated(team: Any, user_id: str, *, active: bool) -> SCIMUser:
    """The team's SCIM record and its host seat, both ``active``; the account is there."""
    record = SCIMUser.objects.select_related("user").get(pk=user_id)
    assert record.team_id == team.pk
    assert record.active is active
    assert_seat(team, record.user_id, active=active)
    assert record.user.is_active  # deprovisioning never disables the account itself
    return record


def unseated(team: Any, user_id: str, account_id: Any) -> None:
    """No SCIM record and no seat any more; the host account is kept."""
    assert not SCIMUser.objects.filter(pk=user_id).exists()
    assert not has_row(team, account_id)
    assert User.objects.filter(pk=account_id).exists()


def group_members(group_id: str) -> set[str]:
    rows = SCIMGroupMembership.objects.filter(group_id=group_id).values_list("user_id", flat=True)
    return {str(user_id) for user_id in rows}


def members_of(body: dict[str, Any]) -> set[str]:
    return {member["value"] for member in body.get("members") or []}


def group_state(group_id: str, name: str, members: set[str], body: dict[str, Any]) -> None:
    """The group is ``name`` with ``members``, in the database and in the answer."""
    group = SCIMGroup.objects.get(pk=group_id)
    assert group.display_name == name
    assert group_members(group_id) == members
    assert body["id"] == group_id
    assert body["displayName"] == name
    if "members" in body:
        assert members_of(body) == members


def group_gone(team: Any, group_id: str, users: list[str]) -> None:
    """The group and its memberships went; its users kept their records and seats."""
    assert not SCIMGroup.objects.filter(pk=group_id).exists()
    assert not SCIMGroupMembership.objects.filter(group_id=group_id).exists()
    for user_id in users:
        seated(team, user_id, active=True)


def nothing_provisioned(team: Any) -> None:
    assert not SCIMUser.objects.filter(team=team).exists()
    assert not SCIMGroup.objects.filter(team=team).exists()
    assert seats(team) == 0


# -- Okta ---------------------------------------------------------------------------------


class _Okta:
    """What Okta's OIN and AIW apps share: the connection test, the create and the profile push.

    Okta never sends ``DELETE /Users``: unassigning is a deactivation, and a
    reassignment goes through the existence check again, which must find the
    inactive user (or Okta POSTs and gets a 409).
    """

    idp_name = ""

    @pytest.fixture
    def convo(self, idp):
        return Conversation(idp, self.idp_name)

    def connect(self, convo, team):
        assert listed(convo.send("test_connection")) == []
        assert listed(convo.send("test_connection_groups")) == []
        nothing_provisioned(team)

    def create(self, convo, team) -> dict[str, Any]:
        self.connect(convo, team)
        assert listed(convo.send("filter_username")) == []

        body = created(convo.send("post_user"))

        assert body["userName"] == "test.user@okta.local"
        assert body["active"] is True
        assert body["name"] == {"givenName": "Test", "familyName": "User"}
        assert body["externalId"] == "00ujl29u0le5T6Aj10h7"
        assert "password" not in body
        convo.remember(user_id=body["id"])
        record = seated(team, body["id"], active=True)
        assert record.email == "test.user@okta.local"
        assert record.external_id == "00ujl29u0le5T6Aj10h7"
        assert "password" not in record.attributes
        assert record.user.email == "test.user@okta.local"
        return body

    def update(self, convo, team) -> None:
        self.create(convo, team)
        read = convo.send("get_user")
        assert read.status_code == 200, read.content
        assert read.json()["id"] == convo.values["user_id"]

        body = updated(convo, convo.send("put_profile"), f"/Users/{convo.values['user_id']}")

        assert body["name"] == {
            "givenName": "Another",
            "middleName": "Excited",
            "familyName": "User",
        }
        assert body["emails"] == [
            {"primary": True, "value": "test.user@okta.local", "type": "work"}
        ]
        assert body["active"] is True
        assert body["externalId"] == "00ujl29u0le5T6Aj10h7"  # not in the PUT: kept
        record = seated(team, convo.values["user_id"], active=True)
        assert record.user.first_name == "Another"
        assert record.attributes["name"]["middleName"] == "Excited"

    def second_user(self, convo, team) -> str:
        body = created(convo.send("post_second_user"))
        assert body["userName"] == "sam.rivera@okta.local"
        seated(team, body["id"], active=True)
        convo.remember(member_id=body["id"])
        return body["id"]

    def test_connection_test_is_an_empty_list(self, convo, team):
        self.connect(convo, team)

    def test_create_after_the_existence_check(self, convo, team):
        self.create(convo, team)

    def test_a_re_post_of_the_user_name_is_409_uniqueness(self, convo, team):
        first = self.create(convo, team)

        assert_scim_error(convo.send("post_user"), 409, "uniqueness")

        assert list(SCIMUser.objects.filter(team=team).values_list("pk", flat=True)) == [
            SCIMUser.objects.get(pk=first["id"]).pk
        ]
        assert seats(team) == 1

    def test_an_uppercase_user_name_filter_finds_the_user(self, convo, team):
        body = self.create(convo, team)

        found = listed(convo.send("filter_uppercase_username"))

        assert [user["id"] for user in found] == [body["id"]]
        assert found[0]["userName"] == "test.user@okta.local"

    def test_profile_push_get_then_put(self, convo, team):
        self.update(convo, team)


class TestOktaOIN(_Okta):
    """Okta OIN catalog app: PUT for profiles, PATCH without ``path`` for the rest (2.1)."""

    idp_name = "okta_oin"

    def deactivate(self, convo, team) -> None:
        self.update(convo, team)
        user_id = convo.values["user_id"]

        body = updated(convo, convo.send("patch_deactivate_nopath"), f"/Users/{user_id}")

        assert body["active"] is False
        assert body["name"]["givenName"] == "Another"
        seated(team, user_id, active=False)

    def reactivate(self, convo, team) -> None:
        self.deactivate(convo, team)
        user_id = convo.values["user_id"]
        found = listed(convo.send("filter_username"))
        assert [(user["id"], user["active"]) for user in found] == [(user_id, False)]

        body = updated(convo, convo.send("patch_reactivate_nopath"), f"/Users/{user_id}")

        assert body["active"] is True
        seated(team, user_id, active=True)

    def test_deactivate_by_patch_without_path(self, convo, team):
        self.deactivate(convo, team)

    def test_no_delete_the_inactive_user_stays_readable(self, convo, team):
        self.deactivate(convo, team)

        read = convo.send("get_user")

        assert read.status_code == 200, read.content
        assert read.json()["active"] is False
        seated(team, convo.values["user_id"], active=False)

    def test_reassignment_finds_the_inactive_user_and_reactivates(self, convo, team):
        self.reactivate(convo, team)

    def test_push_groups(self, convo, team):
        self.create(convo, team)
        user_id, member_id = convo.values["user_id"], self.second_user(convo, team)

        group = created(convo.send("post_group_empty"))
        convo.remember(group_id=group["id"])
        group_state(group["id"], "Test SCIMv2", set(), group)
        path = f"/Groups/{group['id']}"

        body = updated(convo, convo.send("patch_group_replace_members"), path)
        group_state(group["id"], "Test SCIMv2", {user_id, member_id}, body)

        body = updated(convo, convo.send("patch_group_remove_filter_add_members"), path)
        group_state(group["id"], "Test SCIMv2", {user_id}, body)

        body = updated(convo, convo.send("patch_group_rename_with_id"), path)
        group_state(group["id"], "Test SCIMv2 Renamed", {user_id}, body)

        deleted(convo.send("delete_group"))
        group_gone(team, group["id"], [user_id, member_id])


class TestOktaAIW(_Okta):
    """Okta custom app built with the AIW (Tuple's setup): PUT for everything (2.1)."""

    idp_name = "okta_aiw"

    def deactivate(self, convo, team) -> None:
        self.update(convo, team)
        user_id = convo.values["user_id"]

        body = updated(convo, convo.send("put_deactivate"), f"/Users/{user_id}")

        assert body["active"] is False
        assert body["name"]["middleName"] == "Excited"
        seated(team, user_id, active=False)

    def reactivate(self, convo, team) -> None:
        self.deactivate(convo, team)
        user_id = convo.values["user_id"]
        found = listed(convo.send("filter_username"))
        assert [(user["id"], user["active"]) for user in found] == [(user_id, False)]
        found = listed(convo.send("filter_email_eq"))
        assert [(user["id"], user["active"]) for user in found] == [(user_id, False)]

        body = updated(convo, convo.send("put_reactivate"), f"/Users/{user_id}")

        assert body["active"] is True
        seated(team, user_id, active=True)

    def test_deactivate_by_full_put(self, convo, team):
        self.deactivate(convo, team)

    def test_no_delete_the_inactive_user_stays_readable(self, convo, team):
        self.deactivate(convo, team)

        read = convo.send("get_user")

        assert read.status_code == 200, read.content
        assert read.json()["active"] is False
        seated(team, convo.values["user_id"], active=False)

    def test_reassignment_finds_the_inactive_user_and_reactivates_by_put(self, convo, team):
        self.reactivate(convo, team)

    def test_push_groups_by_put(self, convo, team):
        self.create(convo, team)
        user_id, member_id = convo.values["user_id"], self.second_user(convo, team)

        group = created(convo.send("post_group_empty"))
        convo.remember(group_id=group["id"])
        group_state(group["id"], "Test SCIMv2", set(), group)
        path = f"/Groups/{group['id']}"

        body = updated(convo, convo.send("put_group_link"), path)
        group_state(group["id"], "Test SCIMv2", set(), body)

        body = updated(convo, convo.send("put_group_full_members"), path)
        group_state(group["id"], "Test SCIMv2", {user_id, member_id}, body)

        body = updated(convo, convo.send("put_group_remove_member"), path)
        group_state(group["id"], "Test SCIMv2", {user_id}, body)

        body = updated(convo, convo.send("put_group_rename"), path)
        group_state(group["id"], "Test SCIMv2 Renamed", {user_id}, body)

        deleted(convo.send("delete_group"))
        group_gone(team, group["id"], [user_id, member_id])


# -- Microsoft Entra ID -------------------------------------------------------------------


class TestEntra:
    """Microsoft Entra ID: PATCH only, string booleans, dotted keys, value-list member removal."""

    @pytest.fixture
    def convo(self, idp):
        return Conversation(idp, "entra")

    def connect(self, convo, team) -> None:
        assert listed(convo.send("test_connection_random_guid")) == []
        assert listed(convo.send("get_groups_excluded_members")) == []
        nothing_provisioned(team)

    def create(self, convo, team) -> dict[str, Any]:
        self.connect(convo, team)
        assert listed(convo.send("filter_username")) == []

        body = created(convo.send("post_user_with_meta_roles_nulls"))

        assert body["userName"] == "alex.wu@contoso.com"
        assert body["externalId"] == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
        assert body["active"] is True
        assert body[ENTERPRISE] == {"employeeNumber": "701984"}
        assert "title" not in body and "addresses" not in body
        convo.remember(user_id=body["id"])
        record = seated(team, body["id"], active=True)
        assert record.email == "alex.wu@contoso.com"
        assert record.user.email == "alex.wu@contoso.com"
        assert record.manager_id is None
        return body

    def create_manager(self, convo, team) -> str:
        assert listed(convo.send("filter_manager_username")) == []
        body = created(convo.send("post_manager_user"))
        assert body["userName"] == "morgan.lee@contoso.com"
        seated(team, body["id"], active=True)
        convo.remember(manager_id=body["id"], member_id=body["id"])
        return body["id"]

    def update(self, convo, team) -> None:
        self.create(convo, team)
        path = f"/Users/{convo.values['user_id']}"

        body = updated(convo, convo.send("patch_replace_capitalized_multi"), path)

        assert [e["value"] for e in body["emails"]] == ["alexander.wu@contoso.com"]
        assert body["name"]["familyName"] == "Wu-Chen"
        assert body["displayName"] == "Alex Wu-Chen"
        assert body["externalId"] == "alexw"
        assert body["nickName"] == "Alex"
        assert body[ENTERPRISE]["employeeNumber"] == "701985"
        assert body["userName"] == "alex.wu@contoso.com"
        record = seated(team, convo.values["user_id"], active=True)
        assert (record.email, record.external_id) == ("alexander.wu@contoso.com", "alexw")
        # This team's SCIM created the account and no other team has it: the names
        # follow; the login stays, as the team has no verified domain.
        assert (record.user.email, record.user.last_name) == ("alex.wu@contoso.com", "Wu-Chen")

        body = updated(convo, convo.send("patch_nopath_dotted_keys"), path)

        assert body["name"]["givenName"] == "Alexander"
        assert body["displayName"] == "Alexander Wu-Chen"
        assert body[ENTERPRISE]["employeeNumber"] == "701986"
        assert seated(team, convo.values["user_id"], active=True).user.first_name == "Alexander"

        body = updated(convo, convo.send("patch_add_nopath_dotted"), path)

        assert body["name"] == {"givenName": "Alex", "familyName": "Wu", "formatted": "Alex Wu"}
        assert (body["displayName"], body["title"]) == ("Alex Wu", "Staff Engineer")
        record = seated(team, convo.values["user_id"], active=True)
        assert (record.user.first_name, record.user.last_name) == ("Alex", "Wu")
        assert record.attributes["title"] == "Staff Engineer"

    def deactivate(self, convo, team) -> None:
        self.update(convo, team)
        user_id = convo.values["user_id"]

        body = updated(convo, convo.send("patch_active_string_False"), f"/Users/{user_id}")

        assert body["active"] is False
        seated(team, user_id, active=False)
        # "The user object should be returned whether or not the user is active."
        found = listed(convo.send("filter_username"))
        assert [(user["id"], user["active"]) for user in found] == [(user_id, False)]

    def reactivate(self, convo, team) -> None:
        self.deactivate(convo, team)
        user_id = convo.values["user_id"]

        body = updated(convo, convo.send("patch_active_string_True"), f"/Users/{user_id}")

        assert body["active"] is True
        seated(team, user_id, active=True)

    def test_connection_test_random_guid_unencoded_quotes(self, convo, team):
        self.connect(convo, team)

    def test_create_after_the_existence_check(self, convo, team):
        self.create(convo, team)

    def test_update_capitalized_ops_dotted_keys_and_add_without_path(self, convo, team):
        self.update(convo, team)

    def test_manager_set_as_a_bare_string_and_removed_by_value_filter(self, convo, team):
        self.create(convo, team)
        manager_id = self.create_manager(convo, team)
        path = f"/Users/{convo.values['user_id']}"

        body = updated(convo, convo.send("patch_manager_string_value"), path)

        assert body[ENTERPRISE]["manager"]["value"] == manager_id
        assert str(SCIMUser.objects.get(pk=convo.values["user_id"]).manager_id) == manager_id

        body = updated(convo, convo.send("patch_remove_manager_filter"), path)

        assert "manager" not in body.get(ENTERPRISE, {})
        assert body[ENTERPRISE]["employeeNumber"] == "701984"
        assert SCIMUser.objects.get(pk=convo.values["user_id"]).manager_id is None
        seated(team, manager_id, active=True)

    def test_deactivate_with_the_string_False(self, convo, team):
        self.deactivate(convo, team)

    def test_reactivate_with_the_string_True(self, convo, team):
        self.reactivate(convo, team)

    def test_delete_after_a_hard_delete(self, convo, team):
        self.reactivate(convo, team)
        user_id = convo.values["user_id"]
        account_id = SCIMUser.objects.get(pk=user_id).user_id

        deleted(convo.send("delete_user"))

        unseated(team, user_id, account_id)
        assert listed(convo.send("filter_username")) == []

    def test_groups_add_many_remove_value_list_redundant_add_rename_delete(self, convo, team):
        self.create(convo, team)
        user_id, member_id = convo.values["user_id"], self.create_manager(convo, team)
        assert listed(convo.send("filter_group_displayname")) == []

        group = created(convo.send("post_group_adscim_schema"))

        assert group["externalId"] == "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
        convo.remember(group_id=group["id"])
        group_state(group["id"], "Engineering", set(), group)
        assert listed(convo.send("filter_group_displayname"))[0]["id"] == group["id"]
        path = f"/Groups/{group['id']}"

        body = updated(convo, convo.send("patch_add_members_many"), path)
        group_state(group["id"], "Engineering", {user_id, member_id}, body)

        body = updated(convo, convo.send("patch_remove_members_value_list"), path)
        group_state(group["id"], "Engineering", {user_id}, body)

        body = updated(convo, convo.send("redundant_add_existing_member"), path)
        group_state(group["id"], "Engineering", {user_id}, body)
        assert SCIMGroupMembership.objects.filter(group_id=group["id"]).count() == 1

        body = updated(convo, convo.send("patch_displayName"), path)
        group_state(group["id"], "Engineering Platform", {user_id}, body)

        body = updated(convo, convo.send("patch_remove_members_filter"), path)
        group_state(group["id"], "Engineering Platform", set(), body)

        deleted(convo.send("delete_group"))
        group_gone(team, group["id"], [user_id, member_id])


# -- OneLogin -----------------------------------------------------------------------------


class TestOneLogin:
    """OneLogin "SCIM Provisioner with SAML (Core Schema)": rendered templates, SCIM 1.x URNs.

    Groups come from the server (``GET /Groups`` on "Refresh Entitlements") and
    OneLogin only changes their members: it neither renames nor deletes groups.
    """

    @pytest.fixture
    def convo(self, idp):
        return Conversation(idp, "onelogin")

    def connect(self, convo, team) -> None:
        assert listed(convo.send("enable_test_filter_absent")) == []
        nothing_provisioned(team)

    def create(self, convo, team) -> dict[str, Any]:
        self.connect(convo, team)
        assert listed(convo.send("filter_username")) == []

        body = created(convo.send("post_core_v1_urn_no_emails"))

        assert body["userName"] == "margaret.hamilton@acme.com"
        assert body["active"] is True
        assert body["name"]["formatted"] == "Margaret Hamilton"
        convo.remember(user_id=body["id"])
        record = seated(team, body["id"], active=True)
        assert record.email == "margaret.hamilton@acme.com"  # from userName: no emails sent
        assert record.user.email == "margaret.hamilton@acme.com"
        assert record.user.first_name == "Margaret"
        return body

    def update(self, convo, team) -> None:
        self.create(convo, team)
        user_id = convo.values["user_id"]
        assert [user["id"] for user in listed(convo.send("filter_username"))] == [user_id]

        body = updated(convo, convo.send("put_update_template"), f"/Users/{user_id}")

        assert body["name"]["givenName"] == "Maggie"
        assert body["active"] is True  # the template has no active: unchanged
        record = seated(team, user_id, active=True)
        assert record.user.first_name == "Maggie"
        assert record.email == "margaret.hamilton@acme.com"

    def deactivate(self, convo, team) -> None:
        self.update(convo, team)
        user_id = convo.values["user_id"]

        body = updated(convo, convo.send("put_suspend"), f"/Users/{user_id}")

        assert body["active"] is False
        seated(team, user_id, active=False)

    def reactivate(self, convo, team) -> None:
        self.deactivate(convo, team)
        user_id = convo.values["user_id"]

        body = updated(convo, convo.send("put_unsuspend"), f"/Users/{user_id}")

        assert body["active"] is True
        seated(team, user_id, active=True)

    def test_enable_test_is_an_empty_list(self, convo, team):
        self.connect(convo, team)

    def test_create_core_v1_template_without_emails(self, convo, team):
        self.create(convo, team)

    def test_update_by_put_of_the_template(self, convo, team):
        self.update(convo, team)

    def test_suspend(self, convo, team):
        self.deactivate(convo, team)

    def test_unsuspend(self, convo, team):
        self.reactivate(convo, team)

    def test_delete_then_reprovision_relinks_the_same_account(self, convo, team):
        self.reactivate(convo, team)
        user_id = convo.values["user_id"]
        account_id = SCIMUser.objects.get(pk=user_id).user_id

        deleted(convo.send("delete_user"))

        unseated(team, user_id, account_id)
        assert listed(convo.send("filter_username")) == []
        body = created(convo.send("post_core_v1_urn_no_emails"))
        assert body["id"] != user_id
        assert seated(team, body["id"], active=True).user_id == account_id

    def test_create_enterprise_template_emails_object_and_string_active(self, convo, team):
        self.connect(convo, team)

        body = created(convo.send("post_enterprise_emails_object"))

        assert body["userName"] == "katherine.j"
        assert body["active"] is True
        assert [e["value"] for e in body["emails"]] == ["katherine.johnson@acme.com"]
        record = seated(team, body["id"], active=True)
        assert record.email == "katherine.johnson@acme.com"
        assert record.user.email == "katherine.johnson@acme.com"

    def test_groups_refresh_entitlements_and_member_patches(self, convo, team):
        self.create(convo, team)
        user_id = convo.values["user_id"]
        second = created(convo.send("post_second_user"))
        member_id = second["id"]
        seated(team, member_id, active=True)
        convo.remember(member_id=member_id)

        group = created(convo.send("post_group"))
        convo.remember(group_id=group["id"])
        group_state(group["id"], "Engineering", set(), group)

        found = listed(convo.send("get_groups_refresh_entitlements"))
        assert [(g["id"], g["displayName"]) for g in found] == [(group["id"], "Engineering")]
        path = f"/Groups/{group['id']}"

        body = updated(convo, convo.send("patch_group_members"), path)
        group_state(group["id"], "Engineering", {user_id, member_id}, body)

        body = updated(convo, convo.send("patch_group_remove_member"), path)
        group_state(group["id"], "Engineering", {user_id}, body)
        seated(team, member_id, active=True)


# -- JumpCloud ----------------------------------------------------------------------------


class TestJumpCloud:
    """JumpCloud: a connection test that creates and deletes, one PATCH op per attribute."""

    @pytest.fixture
    def convo(self, idp):
        return Conversation(idp, "jumpcloud")

    def connect(self, convo, team) -> None:
        assert listed(convo.send("test_connection_lookup_user")) == []
        test_user = created(convo.send("test_connection_post_user"))
        assert test_user["userName"] == "jumpcloud.test@acme.com"
        account_id = seated(team, test_user["id"], active=True).user_id
        test_group = created(convo.send("test_connection_post_group"))
        assert SCIMGroup.objects.filter(pk=test_group["id"], team=team).exists()

        deleted(convo.send("test_connection_delete_group", group_id=test_group["id"]))
        deleted(convo.send("test_connection_delete_user", user_id=test_user["id"]))

        # Nothing is left behind: no record, no seat (so no billing), no group.
        unseated(team, test_user["id"], account_id)
        nothing_provisioned(team)

    def create(self, convo, team) -> dict[str, Any]:
        self.connect(convo, team)
        assert listed(convo.send("filter_username")) == []

        body = created(convo.send("post_user"))

        assert body["userName"] == "riley.chen@acme.com"
        assert body["active"] is True
        convo.remember(user_id=body["id"])
        record = seated(team, body["id"], active=True)
        assert record.email == "riley.chen@acme.com"
        return body

    def update(self, convo, team) -> None:
        self.create(convo, team)
        user_id = convo.values["user_id"]

        body = updated(convo, convo.send("patch_one_op_per_attr"), f"/Users/{user_id}")

        assert body["name"] == {"givenName": "Rylee", "familyName": "Chen-Ortiz"}
        assert (body["displayName"], body["title"]) == ("Rylee Chen-Ortiz", "Designer")
        record = seated(team, user_id, active=True)
        assert (record.user.first_name, record.user.last_name) == ("Rylee", "Chen-Ortiz")

    def deactivate(self, convo, team) -> None:
        self.update(convo, team)
        user_id = convo.values["user_id"]

        body = updated(convo, convo.send("patch_deactivate"), f"/Users/{user_id}")

        assert body["active"] is False
        seated(team, user_id, active=False)

    def reactivate(self, convo, team) -> None:
        self.deactivate(convo, team)
        user_id = convo.values["user_id"]
        found = listed(convo.send("filter_username"))
        assert [(user["id"], user["active"]) for user in found] == [(user_id, False)]

        body = updated(convo, convo.send("patch_reactivate"), f"/Users/{user_id}")

        assert body["active"] is True
        seated(team, user_id, active=True)

    def test_connection_test_leaves_nothing_behind(self, convo, team):
        self.connect(convo, team)

    def test_create_after_the_lookup(self, convo, team):
        self.create(convo, team)

    def test_update_one_op_per_attribute(self, convo, team):
        self.update(convo, team)

    def test_deprovision_sets_inactive(self, convo, team):
        self.deactivate(convo, team)

    def test_reactivate(self, convo, team):
        self.reactivate(convo, team)

    def test_delete(self, convo, team):
        self.reactivate(convo, team)
        user_id = convo.values["user_id"]
        account_id = SCIMUser.objects.get(pk=user_id).user_id

        deleted(convo.send("delete_user"))

        unseated(team, user_id, account_id)

    def test_groups_add_remove_value_list_rename_delete(self, convo, team):
        self.create(convo, team)
        user_id = convo.values["user_id"]
        second = created(convo.send("post_second_user"))
        member_id = second["id"]
        seated(team, member_id, active=True)
        convo.remember(member_id=member_id)
        assert listed(convo.send("filter_group_displayname")) == []

        group = created(convo.send("post_group"))
        convo.remember(group_id=group["id"])
        group_state(group["id"], "Design", {user_id}, group)
        path = f"/Groups/{group['id']}"

        body = updated(convo, convo.send("patch_add_members"), path)
        group_state(group["id"], "Design", {user_id, member_id}, body)

        body = updated(convo, convo.send("patch_remove_members_value_list"), path)
        group_state(group["id"], "Design", {user_id}, body)

        body = updated(convo, convo.send("patch_group_rename"), path)
        group_state(group["id"], "Product Design", {user_id}, body)

        deleted(convo.send("delete_group"))
        group_gone(team, group["id"], [user_id, member_id])
