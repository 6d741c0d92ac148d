"""DELETE /Users/{id}: the seat and the SCIM record go, the account stays."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMUser

from .conftest import assert_scim_error, load_payload
from .host import prove_mailbox

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def okta_user(idp):
    return idp.post("/Users", load_payload("okta/create_user.json")).json()


def test_delete_removes_the_seat_and_the_record_but_not_the_account(idp, team, okta_user):
    response = idp.delete(f"/Users/{okta_user['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert not SCIMUser.objects.filter(pk=okta_user["id"]).exists()
    account = User.objects.get(email="test.user@okta.local")
    assert not Membership.objects.filter(team=team, user=account).exists()


def test_a_deleted_user_is_gone_from_the_api(idp, okta_user):
    idp.delete(f"/Users/{okta_user['id']}")

    assert idp.get(f"/Users/{okta_user['id']}").status_code == 404
    assert idp.delete(f"/Users/{okta_user['id']}").status_code == 404
    assert idp.get("/Users").json()["totalResults"] == 0


def test_reprovisioning_after_delete_links_the_same_account(idp, team, okta_user):
    account = User.objects.get(email="test.user@okta.local")
    idp.delete(f"/Users/{okta_user['id']}")

    again = idp.post("/Users", load_payload("okta/create_user.json"))

    assert again.status_code == 201
    assert again.json()["id"] != okta_user["id"]
    assert SCIMUser.objects.get(pk=again.json()["id"]).user_id == account.pk
    assert Membership.objects.get(team=team, user=account).is_active is True


def test_deleting_a_manager_clears_the_reports_link(idp, provision):
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    boss = provision("boss@acme.com")
    ada = provision("ada@acme.com", **{enterprise: {"manager": boss["id"]}})

    idp.delete(f"/Users/{boss['id']}")

    assert enterprise not in idp.get(f"/Users/{ada['id']}").json()


def test_delete_with_a_stale_if_match_is_412(idp, team, okta_user):
    response = idp.delete(f"/Users/{okta_user['id']}", HTTP_IF_MATCH='W/"99"')

    assert_scim_error(response, 412)
    assert SCIMUser.objects.filter(pk=okta_user["id"]).exists()
    account = User.objects.get(email="test.user@okta.local")
    assert Membership.objects.get(team=team, user=account).is_active is True


@pytest.mark.parametrize("if_match", ["current", "strong form", "*", "a list holding the current"])
def test_delete_with_a_matching_if_match_deletes(idp, team, okta_user, if_match):
    # RFC 7644 §3.14: a DELETE may carry If-Match; RFC 7232 §3.1: "*" or any listed
    # tag equal to the current one lets it through (a weak tag compares weakly).
    version = okta_user["meta"]["version"]
    header = {
        "current": version,
        "strong form": version.removeprefix("W/"),
        "*": "*",
        "a list holding the current": f'W/"98", {version}',
    }[if_match]

    response = idp.delete(f"/Users/{okta_user['id']}", HTTP_IF_MATCH=header)

    assert response.status_code == 204, response.content
    assert response.content == b""
    assert not SCIMUser.objects.filter(pk=okta_user["id"]).exists()
    account = User.objects.get(email="test.user@okta.local")
    assert not Membership.objects.filter(team=team, user=account).exists()


def test_an_adapter_may_delete_the_account(idp, okta_user, settings):
    settings.SCIM_PROVISIONING_ADAPTER = "tests.adapters.DeletingAdapter"

    assert idp.delete(f"/Users/{okta_user['id']}").status_code == 204

    assert not User.objects.filter(email="test.user@okta.local").exists()


def test_the_delete_hook_sees_the_account_the_team_and_the_record(
    idp, other_idp, team, other_team, provision, settings, monkeypatch
):
    settings.SCIM_PROVISIONING_ADAPTER = "tests.adapters.OneTeamAccountsAdapter"
    ada = provision("ada@acme.com")
    bob = provision("bob@acme.com")
    prove_mailbox(monkeypatch, SCIMUser.objects.get(pk=bob["id"]).user, "bob@acme.com")
    shared = provision("bob@acme.com", client=other_idp)  # links to the same account

    assert idp.delete(f"/Users/{ada['id']}").status_code == 204
    assert idp.delete(f"/Users/{bob['id']}").status_code == 204

    assert not User.objects.filter(email="ada@acme.com").exists()
    bob_account = User.objects.get(email="bob@acme.com")  # another team holds it
    assert not Membership.objects.filter(team=team, user=bob_account).exists()
    assert Membership.objects.get(team=other_team, user=bob_account).is_active is True
    assert SCIMUser.objects.get(pk=shared["id"]).user_id == bob_account.pk
