"""What this host's shape asks of the default adapter, configured by settings alone.

Stock ``auth.User``: the username is unique, the email is not, and an account may
hold an address as its username that is not its email. Memberships without an
active flag: the row is the seat.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core import checks

from scim_provisioning.models import SCIMUser
from tests.conftest import assert_scim_error, patch_op
from tests.factories import UserFactory
from tests.host import give_seat, seat
from tests.hosts.stock_user.site.models import OrgMembership

pytestmark = pytest.mark.django_db
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def _user(address: str, **extra):
    return {
        "schemas": [USER_SCHEMA],
        "userName": address,
        "emails": [{"value": address, "type": "work", "primary": True}],
        **extra,
    }


def test_the_host_passes_its_checks():
    assert [m.id for m in checks.run_checks() if m.level >= checks.ERROR] == []


def test_create_takes_the_address_as_username(idp):
    response = idp.post("/Users", _user("ada@acme.com"))

    assert response.status_code == 201, response.content
    account = SCIMUser.objects.get(pk=response.json()["id"]).user
    assert (account.username, account.email) == ("ada@acme.com", "ada@acme.com")


def test_an_address_taken_as_a_username_gets_a_free_variant(idp, team):
    """Was a 500 IntegrityError, which the IdP retried forever (issue 10)."""
    squatter = UserFactory(username="ada@acme.com", email="someone.else@example.com")

    response = idp.post("/Users", _user("ada@acme.com"))

    assert response.status_code == 201, response.content
    account = SCIMUser.objects.get(pk=response.json()["id"]).user
    assert account != squatter
    assert (account.username, account.email) == ("ada@acme.com-2", "ada@acme.com")
    assert seat(team, account) is True
    assert User.objects.get(pk=squatter.pk).username == "ada@acme.com"


def test_numbered_variants_are_skipped_when_taken(idp):
    UserFactory(username="ada@acme.com", email="one@example.com")
    UserFactory(username="ada@acme.com-2", email="two@example.com")

    response = idp.post("/Users", _user("ada@acme.com"))

    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get().user.username == "ada@acme.com-3"


def test_a_long_address_is_cut_to_the_username_length(idp):
    address = f"{'a' * 140}@acme.com"  # 149 characters: a suffix would pass 150
    UserFactory(username=address, email="long@example.com")

    response = idp.post("/Users", _user(address))

    assert response.status_code == 201, response.content
    username = SCIMUser.objects.get().user.username
    assert len(username) <= User._meta.get_field("username").max_length
    assert username.endswith("-2") and username != address


@pytest.mark.parametrize("address", ["ada@acme.com", f"{'a' * 140}@acme.com"])
def test_with_every_numbered_variant_taken_a_random_one_is_given(idp, monkeypatch, address):
    """Six hex digits after the address, cut to the username's length like the numbered ones."""
    UserFactory(username=address[:150], email="one@example.com")
    monkeypatch.setattr("scim_provisioning.adapters._NUMBERED_USERNAMES", 0)

    response = idp.post("/Users", _user(address))

    assert response.status_code == 201, response.content
    account = SCIMUser.objects.get().user
    assert account.email == address
    assert re.fullmatch(r"-[0-9a-f]{6}", account.username[-7:]), account.username
    assert account.username[:-7] == address[: 150 - 7]


def test_no_free_username_is_a_409_that_changes_nothing(idp, team, monkeypatch):
    UserFactory(username="ada@acme.com", email="one@example.com")
    monkeypatch.setattr("scim_provisioning.adapters._NUMBERED_USERNAMES", 0)
    monkeypatch.setattr("scim_provisioning.adapters._RANDOM_USERNAMES", 0)

    assert_scim_error(idp.post("/Users", _user("ada@acme.com")), 409, "uniqueness")
    assert not SCIMUser.objects.exists()
    assert User.objects.count() == 1
    assert not OrgMembership.objects.exists()


def test_a_rename_onto_an_address_taken_as_a_username(idp, team):
    """The login follows a managed account's rename inside a verified domain (issue 8)."""
    from scim_provisioning.models import SCIMTeamDomain

    SCIMTeamDomain.objects.create(team=team, domain="acme.com", verified_at="2026-01-01T00:00Z")
    created = idp.post("/Users", _user("ada@acme.com")).json()
    UserFactory(username="ada.king@acme.com", email="other@example.com")

    response = idp.patch(
        f"/Users/{created['id']}",
        patch_op(
            {"op": "replace", "path": "userName", "value": "ada.king@acme.com"},
            {"op": "replace", "path": 'emails[type eq "work"].value', "value": "ada.king@acme.com"},
        ),
    )

    assert response.status_code == 200, response.content
    account = SCIMUser.objects.get(pk=created["id"]).user
    assert (account.username, account.email) == ("ada.king@acme.com-2", "ada.king@acme.com")


def test_deactivation_deletes_the_row_and_reactivation_recreates_it(idp, team):
    created = idp.post("/Users", _user("ada@acme.com")).json()
    account = SCIMUser.objects.get(pk=created["id"]).user
    path = f"/Users/{created['id']}"

    response = idp.patch(path, patch_op({"op": "replace", "path": "active", "value": False}))
    assert response.status_code == 200, response.content
    assert not OrgMembership.objects.filter(organization=team, user=account).exists()
    assert SCIMUser.objects.get(pk=created["id"]).active is False

    response = idp.patch(path, patch_op({"op": "replace", "path": "active", "value": True}))
    assert response.status_code == 200, response.content
    membership = OrgMembership.objects.get(organization=team, user=account)
    assert membership.role == "member"  # MEMBERSHIP_DEFAULTS


def test_the_last_manager_is_kept_without_an_active_field(idp, team):
    owner = UserFactory(email="owner@acme.com")
    owner.set_unusable_password()
    owner.save()
    give_seat(team, owner, role="owner")
    linked = idp.post("/Users", _user("owner@acme.com")).json()

    response = idp.patch(
        f"/Users/{linked['id']}", patch_op({"op": "replace", "path": "active", "value": False})
    )

    assert_scim_error(response, 409)
    assert OrgMembership.objects.get(organization=team, user=owner).role == "owner"
    assert SCIMUser.objects.get(pk=linked["id"]).active is True


def test_a_membership_that_existed_keeps_its_role_when_linked(idp, team):
    admin = UserFactory(email="admin@acme.com")
    give_seat(team, admin, role="admin")

    response = idp.post("/Users", _user("admin@acme.com"))

    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get().membership_existed is True
    assert OrgMembership.objects.get(organization=team, user=admin).role == "admin"


def test_who_may_manage_the_team_reads_rows_without_an_active_field(team):
    from scim_provisioning.adapters import get_adapter

    owner, member, gone = (UserFactory(email=f"{n}@acme.com") for n in ("o", "m", "g"))
    give_seat(team, owner, role="owner")
    give_seat(team, member)
    adapter = get_adapter()

    assert adapter.can_manage_scim(team, owner) is True
    assert adapter.can_manage_scim(team, member) is False
    assert adapter.is_team_member(team, member) is True
    assert adapter.is_team_member(team, gone) is False


def test_text_no_database_stores_is_refused_before_any_row_is_built(idp):
    """Issue 21 on this shape: a lone surrogate in the userName (the username column here)
    and a NUL in an id are a 400, and each request's log row is still stored."""
    from scim_provisioning.models import SCIMRequestLog

    created = idp.post("/Users", _user("ada\udc00@acme.com"))
    looked_up = idp.get("/Users/%00")

    assert_scim_error(created, 400, "invalidValue")
    assert_scim_error(looked_up, 400, "invalidSyntax")
    assert not User.objects.exists() and not SCIMUser.objects.exists()
    assert SCIMRequestLog.objects.filter(status=400).count() == 2


@pytest.mark.django_db(transaction=True)
def test_check_connection_on_this_host_leaves_no_token_in_its_lists(team, live_server, settings):
    """The doctor's round trip on a stock-User host; its throwaway token is its own."""
    from scim_provisioning.connection_check import check_connection
    from scim_provisioning.models import SCIMGroup, SCIMToken

    settings.SCIM_PROVISIONING_BASE_URL = f"{live_server.url}/scim/v2"

    report = check_connection(team, created_by=None, with_token=True)

    assert report.ok, [r.line for r in report.results]
    assert report.summary == "No check failed: 7 passed, 1 warned."
    token = SCIMToken.objects.get(team=team)
    assert token.is_doctor and token.revoked_at is not None
    assert not SCIMToken.objects.for_idp().filter(team=team).exists()
    assert not SCIMGroup.objects.filter(team=team).exists()


def test_a_renamed_persons_failed_write_is_found_by_a_former_name(idp, team):
    """Issue 24 on the stock auth.User: the names history and failed writes need no host model."""
    from scim_provisioning.models import SCIMUserEvent, TimelineAction
    from scim_provisioning.people import people_page
    from scim_provisioning.timeline import team_timeline

    jane = idp.post("/Users", _user("jane@acme.com", name={"givenName": "Jane"})).json()
    renamed = idp.patch(
        f"/Users/{jane['id']}",
        patch_op({"op": "replace", "path": "userName", "value": "jane.smith@acme.com"}),
    )
    assert renamed.status_code == 200, renamed.content
    refused = idp.patch(
        f"/Users/{jane['id']}",
        patch_op({"op": "replace", "path": "emails", "value": [{"value": "not mail"}]}),
    )
    assert refused.status_code == 400

    found = list(team_timeline(team, person="JANE@acme"))
    people = people_page(team, q="smith")

    assert [e.action for e in found][0] == TimelineAction.WRITE_FAILED
    assert found[0].outcome["detail"] == refused.json()["detail"]
    assert SCIMUserEvent.objects.filter(action=TimelineAction.WRITE_FAILED).count() == 1
    (person,) = people.people
    assert person.login == "jane@acme.com"  # the account's username did not follow
