"""Identity safety (DESIGN promise 6, issue 8): each test is a hostile tenant's attempt.

A team's IdP controls that team's seats; it gains control over an account
only with proof. The example site runs with its default settings: no
verified domains unless a test sets them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from example_project.teams.models import Membership
from scim_provisioning.adapters import DefaultAdapter
from scim_provisioning.models import SCIMLinkRefusal, SCIMTeamConfig, SCIMToken, SCIMUser
from scim_provisioning.tokens import issue_token

from .conftest import IdPClient, assert_scim_error, patch_op
from .example_factories import MembershipFactory
from .factories import SCIMTeamConfigFactory, TeamFactory, UserFactory
from .team_helpers import scim_works

pytestmark = pytest.mark.django_db
User = get_user_model()


def _user(email: str) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "emails": [{"value": email, "type": "work", "primary": True}],
        "active": True,
    }


# --- the token admin: revocation is final -------------------------------------------


@pytest.fixture
def superuser_client():
    admin = User.objects.create_superuser(email="admin@example.com", password="x" * 12)
    client = Client()
    client.force_login(admin)
    return client


def test_a_revoked_token_cannot_be_brought_back_in_the_admin(team, superuser_client):
    plaintext = issue_token(team).plaintext
    token = SCIMToken.objects.get()
    token.revoked_at = timezone.now()
    token.save()
    url = reverse("admin:scim_provisioning_scimtoken_change", args=[token.pk])

    response = superuser_client.post(url, {"expires_at_0": "", "revoked_at_0": ""})

    assert response.status_code in (200, 302)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not scim_works(plaintext)


def test_a_token_expiry_cannot_be_extended_in_the_admin(team, superuser_client):
    ends = timezone.now() + timezone.timedelta(days=1)
    issued = issue_token(team, expires_at=ends)
    url = reverse("admin:scim_provisioning_scimtoken_change", args=[issued.token.pk])

    superuser_client.post(url, {"expires_at_0": "2099-01-01", "expires_at_1": "00:00:00"})

    issued.token.refresh_from_db()
    assert issued.token.expires_at == ends


# --- email syntax --------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["a@acme.example@globex.example", "a b@acme.example", "ada@", "@acme.example"]
)
def test_an_address_that_is_not_an_email_is_refused(idp, email):
    response = idp.post("/Users", _user(email))

    body = assert_scim_error(response, 400, "invalidValue")
    assert "not an email address" in body["detail"]
    assert not SCIMUser.objects.exists()
    assert not User.objects.exists()


def test_the_domain_is_what_follows_the_only_at_sign(db):
    acme = SCIMTeamConfigFactory(team=TeamFactory(slug="acme"), verified_domains=["acme.example"])
    token = issue_token(acme.team).plaintext
    response = IdPClient(token).post("/Users", _user("a@globex.example@acme.example"))

    assert_scim_error(response, 400, "invalidValue")
    assert not User.objects.exists()
    assert not acme.allows_email("a@globex.example@acme.example")
    assert acme.allows_email("a@ACME.example")


# --- staff and superusers are never provisioned --------------------------------------


class StaffWelcomeAdapter(DefaultAdapter):
    """A host whose internal team (acme, here) may provision its staff."""

    def may_provision(self, config, user):
        return config.team.slug == "acme" or super().may_provision(config, user)


def test_the_superuser_cannot_be_claimed_by_a_team(other_team, other_idp, superuser_client):
    admin = User.objects.get(email="admin@example.com")

    response = other_idp.post("/Users", _user("admin@example.com"))

    body = assert_scim_error(response, 409, "uniqueness")
    assert "staff" in body["detail"]
    assert not SCIMUser.objects.exists()
    assert not Membership.objects.filter(user=admin).exists()


def test_a_staff_account_cannot_be_claimed(team, idp):
    staff = UserFactory(email="support@acme.example", is_staff=True)

    response = idp.post("/Users", _user("Support@acme.example"))

    assert_scim_error(response, 409, "uniqueness")
    assert not Membership.objects.filter(user=staff).exists()
    assert not SCIMUser.objects.exists()


def test_an_adapter_that_welcomes_staff_does_so_for_its_own_team_only(team, other_idp, settings):
    settings.SCIM_PROVISIONING_ADAPTER = f"{__name__}.StaffWelcomeAdapter"
    staff = UserFactory(email="support@acme.example", is_staff=True, password=None)

    response = other_idp.post("/Users", _user("support@acme.example"))

    assert_scim_error(response, 409, "uniqueness")
    assert not Membership.objects.filter(user=staff).exists()
    assert not SCIMUser.objects.exists()


def test_a_superuser_who_is_not_staff_cannot_be_claimed(team, idp):
    root = UserFactory(email="root@acme.example", is_superuser=True, is_staff=False, password=None)

    response = idp.post("/Users", _user("root@acme.example"))

    assert assert_scim_error(response, 409, "uniqueness")["detail"] == (
        "'root@acme.example' belongs to a staff account of this site, which an IdP cannot "
        "provision. Unassign it in the IdP, or ask the site's support."
    )
    assert not Membership.objects.filter(user=root).exists()
    assert not SCIMUser.objects.exists()


def test_a_user_model_without_staff_flags_may_be_provisioned(team):
    """A host whose accounts have no is_staff or is_superuser: no account is the site's staff."""
    account = object()

    assert DefaultAdapter().may_provision(team.scim_config, account) is True


def test_the_adapter_may_let_a_team_provision_staff(team, idp, settings):
    settings.SCIM_PROVISIONING_ADAPTER = f"{__name__}.StaffWelcomeAdapter"
    staff = UserFactory(email="support@acme.example", is_staff=True, password=None)

    response = idp.post("/Users", _user("support@acme.example"))

    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get().user == staff
    assert Membership.objects.get(team=team, user=staff).is_active


# --- a team always keeps a manager ---------------------------------------------------


@pytest.fixture
def acme_owner(team):
    """The owner who set SCIM up, before the IdP knew of them; they sign in with a password."""
    return MembershipFactory(
        team=team,
        user=UserFactory(email="owner@acme.example", password="correct horse"),
        role=Membership.Role.OWNER,
    ).user


LAST_MANAGER = (
    "This user is the last active member who can manage this team's SCIM (its tokens and "
    "settings): deactivating or removing them would leave nobody to do so. Give another "
    "member that role on the site first."
)


def _linked_owner(idp, team, acme_owner) -> dict:
    response = idp.post("/Users", _user("owner@acme.example"))
    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get(pk=response.json()["id"]).user == acme_owner
    return response.json()


def _still_owner(team, acme_owner) -> None:
    membership = Membership.objects.get(team=team, user=acme_owner)
    assert (membership.is_active, membership.role) == (True, Membership.Role.OWNER)


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("patch", patch_op({"op": "replace", "path": "active", "value": False})),
        ("patch", patch_op({"op": "replace", "value": {"active": "False"}})),
        ("put", {**_user("owner@acme.example"), "active": False}),
        ("delete", None),
    ],
)
def test_the_last_manager_cannot_be_deactivated_or_removed(idp, team, acme_owner, method, body):
    owner = _linked_owner(idp, team, acme_owner)
    path = f"/Users/{owner['id']}"

    response = getattr(idp, method)(path) if body is None else getattr(idp, method)(path, body)

    detail = assert_scim_error(response, 409)["detail"]
    assert detail == LAST_MANAGER
    _still_owner(team, acme_owner)
    assert SCIMUser.objects.get(pk=owner["id"]).active is True


def test_the_last_manager_rule_does_not_lean_on_the_link_rules_hook(
    idp, team, acme_owner, settings
):
    """Issue 27: the rule reads the membership row itself (once per write), so a host
    whose ``team_membership`` says "none" still cannot lose its last manager."""
    owner = _linked_owner(idp, team, acme_owner)
    settings.SCIM_PROVISIONING_ADAPTER = "tests.adapters.MembershipBlindAdapter"

    response = idp.delete(f"/Users/{owner['id']}")

    assert assert_scim_error(response, 409)["detail"] == LAST_MANAGER
    _still_owner(team, acme_owner)
    assert SCIMUser.objects.filter(pk=owner["id"]).exists()


def test_the_last_manager_cannot_be_created_inactive(idp, team, acme_owner):
    response = idp.post("/Users", {**_user("owner@acme.example"), "active": False})

    assert_scim_error(response, 409)
    _still_owner(team, acme_owner)
    assert not SCIMUser.objects.exists()


def test_a_manager_can_be_deactivated_while_another_remains(idp, team, acme_owner):
    MembershipFactory(team=team, role=Membership.Role.ADMIN)
    owner = _linked_owner(idp, team, acme_owner)

    response = idp.patch(
        f"/Users/{owner['id']}", patch_op({"op": "replace", "path": "active", "value": False})
    )

    assert response.status_code == 200, response.content
    assert Membership.objects.get(team=team, user=acme_owner).is_active is False


def test_an_inactive_manager_does_not_count(idp, team, acme_owner):
    MembershipFactory(team=team, role=Membership.Role.ADMIN, is_active=False)
    owner = _linked_owner(idp, team, acme_owner)

    response = idp.delete(f"/Users/{owner['id']}")

    assert_scim_error(response, 409)
    _still_owner(team, acme_owner)


def test_the_last_manager_is_found_by_account_not_by_membership_row(idp, team):
    UserFactory.create_batch(3)  # account ids run ahead of membership ids
    owner = MembershipFactory(
        team=team, user=UserFactory(email="owner@acme.example"), role=Membership.Role.OWNER
    ).user
    linked = _linked_owner(idp, team, owner)

    assert_scim_error(idp.delete(f"/Users/{linked['id']}"), 409)

    _still_owner(team, owner)


def test_without_a_role_field_nobody_is_the_last_manager(idp, team, acme_owner, settings):
    settings.SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD = None
    owner = _linked_owner(idp, team, acme_owner)

    response = idp.patch(
        f"/Users/{owner['id']}", patch_op({"op": "replace", "path": "active", "value": False})
    )

    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    assert Membership.objects.get(team=team, user=acme_owner).is_active is False


def test_a_membership_from_before_scim_keeps_its_role_whatever_groups_say(idp, team):
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Acme Admins": "admin"})
    admin = MembershipFactory(
        team=team, user=UserFactory(email="lead@acme.example", password=None), role="admin"
    ).user
    ada = idp.post("/Users", _user("ada@acme.example")).json()
    lead = idp.post("/Users", _user("lead@acme.example")).json()

    group = idp.post(
        "/Groups", {"displayName": "Acme Admins", "members": [{"value": ada["id"]}]}
    ).json()
    idp.patch(
        f"/Groups/{group['id']}",
        patch_op({"op": "add", "path": "members", "value": [{"value": lead["id"]}]}),
    )
    idp.patch(
        f"/Groups/{group['id']}",
        patch_op({"op": "remove", "path": f'members[value eq "{lead["id"]}"]'}),
    )

    assert Membership.objects.get(team=team, user=admin).role == "admin"
    assert Membership.objects.get(team=team, user__email="ada@acme.example").role == "admin"
    assert SCIMUser.objects.get(pk=lead["id"]).membership_existed is True


# --- login email changes need a verified domain --------------------------------------


def test_rename_to_claim_leaves_the_login_without_a_verified_domain(idp, other_idp, other_team):
    """Reproduction 1: acme renames its insider to globex's CEO, then globex links to them."""
    insider = idp.post("/Users", _user("insider@acme.example")).json()
    account = SCIMUser.objects.get(pk=insider["id"]).user
    account.set_password("insider's own")  # through the site's normal reset flow
    account.save()

    renamed = idp.patch(
        f"/Users/{insider['id']}",
        patch_op(
            {"op": "replace", "path": "userName", "value": "ceo@globex.example"},
            {
                "op": "replace",
                "path": 'emails[type eq "work"].value',
                "value": "ceo@globex.example",
            },
        ),
    )
    claimed = other_idp.post("/Users", _user("ceo@globex.example"))

    assert renamed.status_code == 200
    assert renamed.json()["userName"] == "ceo@globex.example"  # the SCIM record follows
    account.refresh_from_db()
    assert account.email == "insider@acme.example"  # the login stays
    assert claimed.status_code == 201, claimed.content
    ceo = SCIMUser.objects.get(pk=claimed.json()["id"])
    assert ceo.user != account and ceo.created_account
    assert not Membership.objects.filter(team=other_team, user=account).exists()


def test_a_rename_inside_a_verified_domain_moves_the_login(team, idp):
    SCIMTeamConfig.objects.filter(team=team).update(verified_domains=["acme.example"])
    ada = idp.post("/Users", _user("ada@acme.example")).json()

    response = idp.patch(
        f"/Users/{ada['id']}",
        patch_op(
            {"op": "replace", "path": 'emails[type eq "work"].value', "value": "ada.l@acme.example"}
        ),
    )

    assert response.status_code == 200
    assert SCIMUser.objects.get(pk=ada["id"]).user.email == "ada.l@acme.example"


def test_a_login_moved_is_saved_with_the_records_one_update(team, idp):
    """Issue 27: the rename's record UPDATE carries the login's new domain too: the
    row is written once, and a later move starts from the domain recorded."""
    SCIMTeamConfig.objects.filter(team=team).update(verified_domains=["acme.example"])
    ada = idp.post("/Users", _user("ada@acme.example")).json()
    table = SCIMUser._meta.db_table

    with CaptureQueriesContext(connection) as queries:
        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op(
                {
                    "op": "replace",
                    "path": 'emails[type eq "work"].value',
                    "value": "ada.l@acme.example",
                }
            ),
        )

    assert response.status_code == 200
    record = SCIMUser.objects.get(pk=ada["id"])
    assert (record.user.email, record.login_domain) == ("ada.l@acme.example", "acme.example")
    updates = [q["sql"] for q in queries if q["sql"].startswith(f'UPDATE "{table}"')]
    assert len(updates) == 1


# --- linking needs proof of the mailbox ----------------------------------------------


@pytest.fixture
def squatter():
    """Reproduction 5: someone signed up as victim@acme.example without proving the mailbox."""
    return UserFactory(email="victim@acme.example", password="attacker's password")


def _untouched(account, team) -> None:
    account.refresh_from_db()
    assert account.email == "victim@acme.example"
    assert account.check_password("attacker's password")
    assert not Membership.objects.filter(team=team, user=account).exists()
    assert not SCIMUser.objects.filter(user=account).exists()


def test_an_unproven_account_is_not_linked(team, idp, squatter):
    response = idp.post("/Users", _user("victim@acme.example"))

    detail = assert_scim_error(response, 409, "uniqueness")["detail"]
    assert detail == (
        "An account with 'victim@acme.example' already exists on this site and its owner has "
        "not verified that address, so this team's IdP cannot link to it. Ask the person to "
        "verify the address on the site (or to join the team there), then retry."
    )
    _untouched(squatter, team)
    refusal = SCIMLinkRefusal.objects.get()
    assert (refusal.team, refusal.email, refusal.reason) == (
        team,
        "victim@acme.example",
        "unverified",
    )


def test_a_retried_refusal_is_one_row_counting_attempts(team, idp, squatter):
    for _ in range(3):
        assert idp.post("/Users", _user("victim@acme.example")).status_code == 409

    assert SCIMLinkRefusal.objects.get().attempts == 3


def test_each_team_counts_its_own_refusals_of_an_address(team, idp, other_idp, squatter):
    for _ in range(2):
        assert idp.post("/Users", _user("victim@acme.example")).status_code == 409
    assert other_idp.post("/Users", _user("victim@acme.example")).status_code == 409

    counts = dict(SCIMLinkRefusal.objects.values_list("team__slug", "attempts"))
    assert counts == {"acme": 2, "globex": 1}


def test_each_refused_address_has_its_own_row(team, idp, squatter):
    UserFactory(email="other@acme.example", password="another password")

    assert idp.post("/Users", _user("victim@acme.example")).status_code == 409
    assert idp.post("/Users", _user("other@acme.example")).status_code == 409

    rows = SCIMLinkRefusal.objects.filter(team=team).values_list("email", "attempts")
    assert sorted(rows) == [("other@acme.example", 1), ("victim@acme.example", 1)]


def test_a_retried_refusal_says_why_it_was_refused_this_time(team, idp, squatter):
    assert idp.post("/Users", _user("victim@acme.example")).status_code == 409
    SCIMLinkRefusal.objects.update(last_attempt=timezone.now() - timedelta(days=1))
    squatter.is_staff = True
    squatter.save()

    assert idp.post("/Users", _user("victim@acme.example")).status_code == 409

    refusal = SCIMLinkRefusal.objects.get()
    assert (refusal.reason, refusal.attempts) == ("staff", 2)
    assert refusal.last_attempt > timezone.now() - timedelta(minutes=1)


def test_a_link_clears_only_that_teams_refusal_of_that_address(team, idp, other_idp, squatter):
    UserFactory(email="other@acme.example", password="another password")
    assert idp.post("/Users", _user("victim@acme.example")).status_code == 409
    assert idp.post("/Users", _user("other@acme.example")).status_code == 409
    assert other_idp.post("/Users", _user("victim@acme.example")).status_code == 409
    EmailAddress.objects.create(user=squatter, email="victim@acme.example", verified=True)

    assert idp.post("/Users", _user("victim@acme.example")).status_code == 201

    left = SCIMLinkRefusal.objects.values_list("team__slug", "email")
    assert sorted(left) == [("acme", "other@acme.example"), ("globex", "victim@acme.example")]


def test_a_staff_refusal_is_recorded_too(team, idp):
    UserFactory(email="support@acme.example", is_staff=True)

    idp.post("/Users", _user("support@acme.example"))

    assert SCIMLinkRefusal.objects.get().reason == "staff"


def test_an_account_without_a_usable_password_counts_as_proven(team, idp):
    account = UserFactory(email="ada@acme.example", password=None)

    response = idp.post("/Users", _user("ada@acme.example"))

    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get().user == account
    assert not SCIMLinkRefusal.objects.exists()


def test_a_member_of_this_team_is_always_linked(team, idp, acme_owner):
    _linked_owner(idp, team, acme_owner)

    assert not SCIMLinkRefusal.objects.exists()


def test_a_member_of_another_team_only_is_not_linked(team, idp, other_team, squatter):
    MembershipFactory(team=other_team, user=squatter)

    assert_scim_error(idp.post("/Users", _user("victim@acme.example")), 409, "uniqueness")
    assert not Membership.objects.filter(team=team, user=squatter).exists()


def test_an_allauth_verified_address_counts_as_proven(team, idp, squatter):
    EmailAddress.objects.create(user=squatter, email="Victim@acme.example", verified=True)

    response = idp.post("/Users", _user("victim@acme.example"))

    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get().user == squatter


def test_an_allauth_unverified_address_is_no_proof(team, idp, squatter):
    EmailAddress.objects.create(user=squatter, email="victim@acme.example", verified=False)

    assert_scim_error(idp.post("/Users", _user("victim@acme.example")), 409, "uniqueness")
    _untouched(squatter, team)


def test_a_verified_address_of_another_account_is_no_proof(team, idp, squatter):
    EmailAddress.objects.create(user=UserFactory(), email="victim@acme.example", verified=True)

    assert_scim_error(idp.post("/Users", _user("victim@acme.example")), 409, "uniqueness")


def test_a_verified_other_address_of_the_same_account_is_no_proof(team, idp, squatter):
    EmailAddress.objects.create(user=squatter, email="squatter@elsewhere.example", verified=True)

    assert_scim_error(idp.post("/Users", _user("victim@acme.example")), 409, "uniqueness")
    _untouched(squatter, team)


def test_without_allauth_a_password_account_is_not_linked(team, idp, squatter, settings):
    settings.INSTALLED_APPS = [
        app for app in settings.INSTALLED_APPS if not app.startswith("allauth")
    ]
    assert not django_apps.is_installed("allauth.account")

    assert_scim_error(idp.post("/Users", _user("victim@acme.example")), 409, "uniqueness")
    _untouched(squatter, team)


def test_without_allauth_an_account_without_password_is_linked(team, idp, settings):
    settings.INSTALLED_APPS = [
        app for app in settings.INSTALLED_APPS if not app.startswith("allauth")
    ]
    account = UserFactory(email="ada@acme.example", password=None)

    assert idp.post("/Users", _user("ada@acme.example")).status_code == 201
    assert SCIMUser.objects.get().user == account


def test_a_host_that_verifies_every_address_says_so(team, idp, squatter, settings):
    settings.SCIM_PROVISIONING_TRUST_HOST_EMAILS = True

    assert idp.post("/Users", _user("victim@acme.example")).status_code == 201
    assert SCIMUser.objects.get().user == squatter


class ProofByProfileAdapter(DefaultAdapter):
    """A host that records its own proof of the mailbox, for addresses of the team's domain."""

    def email_verified(self, config, user, email):
        return user.first_name == "Proven" and email.endswith(f"@{config.team.slug}.example")


def test_the_adapter_decides_what_proves_the_mailbox(team, idp, squatter, settings):
    settings.SCIM_PROVISIONING_ADAPTER = f"{__name__}.ProofByProfileAdapter"
    assert idp.post("/Users", _user("victim@acme.example")).status_code == 409
    squatter.first_name = "Proven"
    squatter.save()

    assert idp.post("/Users", _user("victim@acme.example")).status_code == 201
    assert not SCIMLinkRefusal.objects.exists()  # the link went through: no longer refused


def test_refused_links_are_shown_to_the_teams_managers(
    team, idp, squatter, owner_client, other_team, other_idp
):
    idp.post("/Users", _user("victim@acme.example"))
    other_squatter = UserFactory(email="x@globex.example", password="pw of globex's squatter")
    other_idp.post("/Users", _user(other_squatter.email))

    page = owner_client.get("/teams/acme/scim/").content.decode()
    status = owner_client.get("/api/teams/acme/scim/").json()

    assert "victim@acme.example" in page and "not proven the address" in page
    assert "x@globex.example" not in page
    assert [r["email"] for r in status["refused_links"]] == ["victim@acme.example"]
    assert status["refused_links"][0]["reason"] == "unverified"
    assert status["refused_links"][0]["attempts"] == 1


def test_refused_links_are_shown_on_the_admin_scim_page(team, idp, squatter, superuser_client):
    idp.post("/Users", _user("victim@acme.example"))

    page = superuser_client.get(
        reverse("admin:scim_provisioning_scimteamconfig_scim", args=[team.pk])
    ).content.decode()

    assert 'id="scim-refused-links"' in page
    assert "victim@acme.example" in page


def test_groups_cannot_demote_the_last_manager(team, idp):
    """The only manager got the role from a group; leaving it would leave nobody to manage SCIM."""
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Acme Admins": "admin"})
    ada = idp.post("/Users", _user("ada@acme.example")).json()
    group = idp.post(
        "/Groups", {"displayName": "Acme Admins", "members": [{"value": ada["id"]}]}
    ).json()
    account = SCIMUser.objects.get(pk=ada["id"]).user
    assert Membership.objects.get(team=team, user=account).role == "admin"

    response = idp.patch(
        f"/Groups/{group['id']}",
        patch_op({"op": "remove", "path": f'members[value eq "{ada["id"]}"]'}),
    )

    assert assert_scim_error(response, 409)["detail"] == (
        "This change would take the manager role from the last active member who can manage "
        "this team's SCIM (its tokens and settings). Give another member that role on the site "
        "first."
    )
    assert Membership.objects.get(team=team, user=account).role == "admin"
    assert idp.get(f"/Groups/{group['id']}").json()["members"][0]["value"] == ada["id"]


def test_groups_may_demote_an_admin_while_another_admin_of_theirs_remains(team, idp):
    """No owner outside SCIM: the admin who stays in the group is the manager who remains."""
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Acme Admins": "admin"})
    ada = idp.post("/Users", _user("ada@acme.example")).json()
    bob = idp.post("/Users", _user("bob@acme.example")).json()
    group = idp.post(
        "/Groups",
        {"displayName": "Acme Admins", "members": [{"value": ada["id"]}, {"value": bob["id"]}]},
    ).json()

    response = idp.patch(
        f"/Groups/{group['id']}",
        patch_op({"op": "remove", "path": f'members[value eq "{ada["id"]}"]'}),
    )

    assert response.status_code == 200, response.content
    assert [m["value"] for m in response.json()["members"]] == [bob["id"]]
    roles = dict(Membership.objects.filter(team=team).values_list("user__email", "role"))
    assert roles == {"ada@acme.example": "member", "bob@acme.example": "admin"}


def test_groups_may_demote_a_manager_while_another_remains(team, idp, acme_owner):
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Acme Admins": "admin"})
    ada = idp.post("/Users", _user("ada@acme.example")).json()
    group = idp.post(
        "/Groups", {"displayName": "Acme Admins", "members": [{"value": ada["id"]}]}
    ).json()

    response = idp.delete(f"/Groups/{group['id']}")

    assert response.status_code == 204
    assert Membership.objects.get(team=team, user__email="ada@acme.example").role == "member"


def test_a_superuser_who_is_a_team_member_is_still_not_provisioned(team, idp, superuser_client):
    admin = User.objects.get(email="admin@example.com")
    MembershipFactory(team=team, user=admin, role=Membership.Role.OWNER)

    response = idp.post("/Users", _user("admin@example.com"))

    assert_scim_error(response, 409, "uniqueness")
    assert not SCIMUser.objects.exists()
    assert Membership.objects.get(team=team, user=admin).is_active
