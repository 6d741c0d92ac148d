"""Takeover and proof, second round (issue 21, items 1 and 2): each test is a hostile tenant.

The login rule: SCIM moves an account's login email only for an account this
team alone manages, to an address inside the team's verified domains, and only
from a login the team gave it inside a domain it had verified at that moment,
or when nobody ever used the account. Verifying a domain later hands over
nothing.

The proof rule: an account another team holds or another team's SCIM created
proves nothing by having no password; only an *active* membership of this team
stands in for the proof; SCIM never turns a site-deactivated manager back on.
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from example_project.teams.models import Membership
from scim_provisioning import domains
from scim_provisioning.models import SCIMLinkRefusal, SCIMUser

from .conftest import assert_scim_error, patch_op
from .example_factories import MembershipFactory
from .factories import UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def _user(email: str, **extra) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "emails": [{"value": email, "type": "work", "primary": True}],
        "active": True,
        **extra,
    }


def _new_email(email: str) -> dict:
    """Okta's rename: userName and the work email replaced together."""
    return patch_op(
        {"op": "replace", "path": "userName", "value": email},
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": email},
    )


@pytest.fixture
def prove(monkeypatch):
    """Prove a domain for a team the self-serve way: a TXT record found by the DNS check."""
    published: dict[str, list[str]] = {}
    monkeypatch.setattr(domains, "resolve_txt", lambda name: published.get(name, []))

    def _prove(team, domain: str) -> None:
        claim = domains.add_domain(team, domain)
        published[claim.txt_name] = [claim.txt_value]
        assert domains.check_domain(claim).verified

    return _prove


def _adopt(account, password: str = "the person's own") -> None:
    """The real person takes the account over: a password reset through the mailbox, a login."""
    account.set_password(password)
    account.last_login = timezone.now()
    account.save()


def _created(idp, email: str):
    response = idp.post("/Users", _user(email))
    assert response.status_code == 201, response.content
    return response.json(), SCIMUser.objects.get(pk=response.json()["id"]).user


def _login(account) -> str:
    account.refresh_from_db()
    return account.email


# --- the login rule ------------------------------------------------------------------


def test_a_domain_verified_later_does_not_move_an_adopted_login(other_idp, other_team, prove):
    """Issue 21.1: B pre-creates the CFO's account, the CFO adopts it, B proves a domain."""
    cfo, account = _created(other_idp, "cfo@initech.example")
    _adopt(account)
    prove(other_team, "b-owned.example")

    response = other_idp.patch(f"/Users/{cfo['id']}", _new_email("grab@b-owned.example"))

    assert response.status_code == 200, response.content
    assert response.json()["userName"] == "grab@b-owned.example"  # the record follows the IdP
    assert _login(account) == "cfo@initech.example"  # the login stays
    assert account.check_password("the person's own")


def test_a_login_created_before_its_domain_was_proven_stays(other_idp, other_team, prove):
    """Verification is not retroactive, even for an address inside the domain proven later."""
    pat, account = _created(other_idp, "pat@b-owned.example")
    _adopt(account)
    prove(other_team, "b-owned.example")

    response = other_idp.patch(f"/Users/{pat['id']}", _new_email("grab@b-owned.example"))

    assert response.status_code == 200, response.content
    assert _login(account) == "pat@b-owned.example"


def test_removing_and_re_adding_a_domain_hands_over_nothing(other_idp, other_team, prove):
    """B drops its domain to create outside it, then proves it again: the login stays."""
    prove(other_team, "b-owned.example")
    domains.remove_domain(other_team, "b-owned.example")
    cfo, account = _created(other_idp, "cfo@initech.example")
    _adopt(account)
    prove(other_team, "b-owned.example")

    response = other_idp.patch(f"/Users/{cfo['id']}", _new_email("grab@b-owned.example"))

    assert response.status_code == 200, response.content
    assert _login(account) == "cfo@initech.example"


def test_a_login_another_teams_idp_held_does_not_move_after_that_team_lets_go(
    team, idp, other_idp, other_team, prove
):
    """Issue 21.1's variant: initech's IdP links the account B made, uses it, then DELETEs it."""
    cfo, account = _created(other_idp, "cfo@initech.example")
    _adopt(account)
    # SCIM gave the account an unverified address (issue 22); the person proves it.
    EmailAddress.objects.filter(user=account, email="cfo@initech.example").update(verified=True)
    linked = idp.post("/Users", _user("cfo@initech.example"))
    assert linked.status_code == 201, linked.content
    assert idp.delete(f"/Users/{linked.json()['id']}").status_code == 204
    prove(other_team, "b-owned.example")

    response = other_idp.patch(f"/Users/{cfo['id']}", _new_email("grab@b-owned.example"))

    assert response.status_code == 200, response.content
    assert _login(account) == "cfo@initech.example"


def test_a_login_the_person_moved_out_of_the_domain_stays(other_idp, other_team, prove):
    """The team gave the login inside its domain; the person took it to their own address."""
    prove(other_team, "b-owned.example")
    pat, account = _created(other_idp, "pat@b-owned.example")
    _adopt(account)
    account.email = "pat@personal.example"
    account.save()

    response = other_idp.patch(f"/Users/{pat['id']}", _new_email("pat.l@b-owned.example"))

    assert response.status_code == 200, response.content
    assert _login(account) == "pat@personal.example"


def test_a_login_given_inside_a_verified_domain_moves_inside_it(other_idp, other_team, prove):
    """The company's own addresses: created while the domain was proven, used, renamed."""
    prove(other_team, "b-owned.example")
    pat, account = _created(other_idp, "pat@b-owned.example")
    _adopt(account)

    first = other_idp.patch(f"/Users/{pat['id']}", _new_email("pat.l@b-owned.example"))
    prove(other_team, "b-group.example")
    second = other_idp.patch(f"/Users/{pat['id']}", _new_email("pat.l@b-group.example"))

    assert (first.status_code, second.status_code) == (200, 200)
    assert _login(account) == "pat.l@b-group.example"
    assert SCIMUser.objects.get(pk=pat["id"]).login_domain == "b-group.example"


def test_a_login_whose_domain_was_withdrawn_stays(other_idp, other_team, prove):
    prove(other_team, "b-owned.example")
    prove(other_team, "b-group.example")
    pat, account = _created(other_idp, "pat@b-owned.example")
    _adopt(account)
    domains.remove_domain(other_team, "b-owned.example")

    response = other_idp.patch(f"/Users/{pat['id']}", _new_email("pat@b-group.example"))

    assert response.status_code == 200, response.content
    assert _login(account) == "pat@b-owned.example"


def test_an_account_nobody_used_moves_into_a_domain_proven_later(other_idp, other_team, prove):
    """Nobody signed in, nobody set a password, no other team holds it: nobody is locked out."""
    pat, account = _created(other_idp, "pat@gmail.example")
    prove(other_team, "b-owned.example")

    response = other_idp.patch(f"/Users/{pat['id']}", _new_email("pat@b-owned.example"))

    assert response.status_code == 200, response.content
    assert _login(account) == "pat@b-owned.example"
    assert SCIMUser.objects.get(pk=pat["id"]).login_domain == "b-owned.example"


def test_an_account_someone_signed_in_to_is_used(other_idp, other_team, prove):
    """A login without a password (a magic link, social sign-in) is a use too."""
    pat, account = _created(other_idp, "pat@gmail.example")
    account.last_login = timezone.now()
    account.save()
    prove(other_team, "b-owned.example")

    other_idp.patch(f"/Users/{pat['id']}", _new_email("pat@b-owned.example"))

    assert _login(account) == "pat@gmail.example"


def test_the_new_login_still_needs_a_verified_domain_for_an_unused_account(other_idp):
    """Issue 8's rename to claim, on an account nobody used: no domain, no move."""
    pat, account = _created(other_idp, "pat@b-owned.example")

    other_idp.patch(f"/Users/{pat['id']}", _new_email("ceo@initech.example"))

    assert _login(account) == "pat@b-owned.example"


# --- the proof rule ------------------------------------------------------------------


def _refused(response, team, email: str, reason: str) -> None:
    assert_scim_error(response, 409, "uniqueness")
    refusal = SCIMLinkRefusal.objects.get(team=team, email=email)
    assert refusal.reason == reason


def test_another_teams_passwordless_owner_is_not_linked(team, other_team, other_idp):
    """The seeded demo: acme's owner has no password; globex's IdP asks for them."""
    owner = MembershipFactory(
        team=team, user=UserFactory(email="owner@acme.example", password=None), role="owner"
    ).user

    response = other_idp.post("/Users", _user("owner@acme.example"))

    _refused(response, other_team, "owner@acme.example", "unverified")
    assert not Membership.objects.filter(team=other_team, user=owner).exists()
    assert not SCIMUser.objects.exists()


def test_an_account_another_teams_scim_created_is_not_linked(team, idp, other_team, other_idp):
    """B's SCIM made the account (no password yet): that proves nothing to initech's IdP."""
    _, account = _created(other_idp, "cfo@initech.example")

    response = idp.post("/Users", _user("cfo@initech.example"))

    _refused(response, team, "cfo@initech.example", "unverified")
    assert not Membership.objects.filter(team=team, user=account).exists()
    assert SCIMUser.objects.filter(user=account).count() == 1


def test_trusting_the_hosts_sign_up_does_not_cover_scim_created_accounts(
    team, idp, other_idp, settings
):
    """TRUST_HOST_EMAILS vouches for sign-ups; another team's SCIM signed nobody up."""
    settings.SCIM_PROVISIONING_TRUST_HOST_EMAILS = True
    _, account = _created(other_idp, "cfo@initech.example")

    response = idp.post("/Users", _user("cfo@initech.example"))

    _refused(response, team, "cfo@initech.example", "unverified")
    assert not Membership.objects.filter(team=team, user=account).exists()


def test_a_verified_address_still_links_an_account_another_team_created(team, idp, other_idp):
    """The person proved the mailbox on the site: that is proof, whoever created the account."""
    _, account = _created(other_idp, "cfo@initech.example")
    _adopt(account)
    # SCIM gave the account an unverified address (issue 22); the person proves it.
    EmailAddress.objects.filter(user=account, email="cfo@initech.example").update(verified=True)

    response = idp.post("/Users", _user("cfo@initech.example"))

    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get(pk=response.json()["id"]).user == account


def test_a_passwordless_account_of_nobody_is_still_linked(team, idp):
    account = UserFactory(email="ada@acme.example", password=None)

    response = idp.post("/Users", _user("ada@acme.example"))

    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get().user == account


def test_an_inactive_membership_is_no_proof(team, idp):
    """Issue 21.2: the site deactivated them; an unproven address is not linked, nor re-seated."""
    squatter = MembershipFactory(
        team=team,
        user=UserFactory(email="pat@acme.example", password="a password"),
        is_active=False,
    ).user

    response = idp.post("/Users", _user("pat@acme.example"))

    _refused(response, team, "pat@acme.example", "unverified")
    assert Membership.objects.get(team=team, user=squatter).is_active is False
    assert not SCIMUser.objects.exists()


def test_a_site_deactivated_owner_is_not_brought_back(team, idp, owner):
    """Issue 21.2: even with the mailbox proven, SCIM does not turn a manager role back on."""
    former = MembershipFactory(
        team=team,
        user=UserFactory(email="former@acme.example", password="a password"),
        role="owner",
        is_active=False,
    ).user
    EmailAddress.objects.create(user=former, email="former@acme.example", verified=True)

    response = idp.post("/Users", _user("former@acme.example"))

    assert_scim_error(response, 409, "uniqueness")
    assert "deactivated" in response.json()["detail"]
    membership = Membership.objects.get(team=team, user=former)
    assert (membership.is_active, membership.role) == (False, "owner")
    assert not SCIMUser.objects.exists()
    assert SCIMLinkRefusal.objects.get(team=team).reason == "deactivated"


def test_a_refused_deactivated_manager_is_shown_to_the_teams_managers(team, idp, owner_client):
    MembershipFactory(
        team=team,
        user=UserFactory(email="former@acme.example", password=None),
        role="admin",
        is_active=False,
    )

    idp.post("/Users", _user("former@acme.example"))

    status = owner_client.get("/api/teams/acme/scim/").json()
    assert [(r["email"], r["reason"]) for r in status["refused_links"]] == [
        ("former@acme.example", "deactivated")
    ]
    assert "former@acme.example" in owner_client.get("/teams/acme/scim/").content.decode()


def test_a_proven_inactive_member_is_linked_and_seated_with_their_role(team, idp):
    pat = MembershipFactory(
        team=team, user=UserFactory(email="pat@acme.example", password=None), is_active=False
    ).user

    response = idp.post("/Users", _user("pat@acme.example"))

    assert response.status_code == 201, response.content
    membership = Membership.objects.get(team=team, user=pat)
    assert (membership.is_active, membership.role) == (True, "member")
    assert SCIMUser.objects.get().membership_existed is True


def test_an_active_member_is_linked_without_proof(team, idp):
    pat = MembershipFactory(
        team=team, user=UserFactory(email="pat@acme.example", password="a password")
    ).user

    response = idp.post("/Users", _user("pat@acme.example"))

    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get().user == pat


def test_a_team_whose_idp_created_the_account_may_link_it_again(other_idp):
    """B's own account, DELETEd and re-created by B's IdP: no other team holds it."""
    pat, account = _created(other_idp, "pat@b-owned.example")
    assert other_idp.delete(f"/Users/{pat['id']}").status_code == 204

    again = other_idp.post("/Users", _user("pat@b-owned.example"))

    assert again.status_code == 201, again.content
    assert SCIMUser.objects.get().user == account


def _active(idp, record_id: str, value: bool):
    return idp.patch(
        f"/Users/{record_id}", patch_op({"op": "replace", "path": "active", "value": value})
    )


def test_a_deactivation_cycle_does_not_bring_back_a_site_deactivated_owner(team, idp, owner):
    """The site switched a linked owner off; the IdP's false-then-true must not switch them on."""
    former = MembershipFactory(
        team=team, user=UserFactory(email="former@acme.example", password=None), role="owner"
    ).user
    linked = idp.post("/Users", _user("former@acme.example")).json()
    Membership.objects.filter(team=team, user=former).update(is_active=False)  # the site
    assert _active(idp, linked["id"], False).status_code == 200

    response = _active(idp, linked["id"], True)

    assert_scim_error(response, 409)
    assert "deactivated" in response.json()["detail"]
    membership = Membership.objects.get(team=team, user=former)
    assert (membership.is_active, membership.role) == (False, "owner")
    assert SCIMUser.objects.get(pk=linked["id"]).active is False
    assert SCIMLinkRefusal.objects.get(team=team).reason == "deactivated"


def test_an_owner_the_idp_deactivated_comes_back_as_owner(team, idp, owner):
    """DESIGN promise 4: what SCIM switched off, SCIM switches back on, role and all."""
    former = MembershipFactory(
        team=team, user=UserFactory(email="lead@acme.example", password=None), role="owner"
    ).user
    linked = idp.post("/Users", _user("lead@acme.example")).json()
    assert _active(idp, linked["id"], False).status_code == 200

    response = _active(idp, linked["id"], True)

    assert response.status_code == 200, response.content
    membership = Membership.objects.get(team=team, user=former)
    assert (membership.is_active, membership.role) == (True, "owner")


def test_a_member_the_site_deactivated_comes_back_through_the_idp(team, idp):
    """Seats are the IdP's: only a manager role is kept off."""
    pat = MembershipFactory(team=team, user=UserFactory(email="pat@acme.example")).user
    linked = idp.post("/Users", _user("pat@acme.example")).json()
    Membership.objects.filter(team=team, user=pat).update(is_active=False)  # the site
    assert _active(idp, linked["id"], False).status_code == 200

    response = _active(idp, linked["id"], True)

    assert response.status_code == 200, response.content
    assert Membership.objects.get(team=team, user=pat).is_active is True


def test_the_migration_gives_existing_records_the_domain_verified_when_they_were_created(db):
    """Migration 0014: records from before it move logins only from domains verified in time."""
    from datetime import timedelta
    from importlib import import_module

    from django.apps import apps

    from scim_provisioning.models import SCIMTeamConfig, SCIMTeamDomain

    from .factories import SCIMUserFactory, TeamFactory

    migration = import_module("scim_provisioning.migrations.0017_login_domain")
    team = SCIMTeamConfig.objects.create(
        team=TeamFactory(slug="b"), enabled=True, verified_domains=["Staff.example."]
    ).team
    now = timezone.now()
    SCIMTeamDomain.objects.create(
        team=team, domain="early.example", txt_value="x", verified_at=now - timedelta(days=9)
    )
    SCIMTeamDomain.objects.create(team=team, domain="late.example", txt_value="y", verified_at=now)
    made = {
        address: SCIMUserFactory(
            team=team, user=UserFactory(email=address), created_account=created
        )
        for address, created in [
            ("a@staff.example", True),
            ("b@early.example", True),
            ("c@late.example", True),
            ("d@elsewhere.example", True),
            ("e@early.example", False),
        ]
    }
    SCIMUser.objects.update(created=now - timedelta(days=1), login_domain="")

    migration.backfill_login_domains(apps, None)

    domains = {a: SCIMUser.objects.get(pk=r.pk).login_domain for a, r in made.items()}
    assert domains == {
        "a@staff.example": "staff.example",
        "b@early.example": "early.example",
        "c@late.example": "",
        "d@elsewhere.example": "",
        "e@early.example": "",
    }


# --- under concurrency -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_teams_linking_one_passwordless_account_at_once_link_it_once(live_server):
    """No usable password is proof only while no other team holds the account: several teams'
    IdPs asking for it at the same moment take turns on the account's row, so the first links
    and the others see it held (409), never all of them on the strength of nobody holding it."""
    from scim_provisioning.tokens import issue_token

    from .factories import SCIMTeamConfigFactory, TeamFactory
    from .test_concurrency import Call, assert_no_server_errors, race

    account = UserFactory(email="pat@initech.example", password=None)
    tokens = [
        issue_token(SCIMTeamConfigFactory(team=TeamFactory(slug=f"team-{n}")).team).plaintext
        for n in range(6)
    ]
    calls = [
        Call("POST", "/Users", _user("pat@initech.example"), {"Authorization": f"Bearer {t}"})
        for t in tokens
    ]

    replies = race(live_server.url, tokens[0], calls)

    assert_no_server_errors(replies)
    assert sorted(r.status for r in replies) == [201] + [409] * 5, [r.describe() for r in replies]
    assert SCIMUser.objects.filter(user=account).count() == 1
    assert Membership.objects.filter(user=account).count() == 1
    assert SCIMLinkRefusal.objects.filter(email="pat@initech.example").count() == 5
