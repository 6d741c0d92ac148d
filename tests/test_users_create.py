"""POST /Users: what each IdP sends on assignment, and what the site then holds."""

from __future__ import annotations

import uuid

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from example_project.teams.models import Membership
from scim_provisioning.adapters import DefaultAdapter
from scim_provisioning.models import SCIMLinkRefusal, SCIMTeamConfig, SCIMUser

from .adapters import TeamRecordingAdapter
from .conftest import assert_scim_error, load_payload
from .factories import SCIMTeamConfigFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_okta_create_returns_the_full_user_with_location(idp, team):
    response = idp.post("/Users", load_payload("okta/create_user.json"))

    assert response.status_code == 201
    body = response.json()
    assert response["Content-Type"] == "application/scim+json"
    assert response["Location"] == f"http://testserver/scim/v2/Users/{body['id']}"
    assert response["ETag"] == body["meta"]["version"]
    assert body["userName"] == "test.user@okta.local"
    assert body["externalId"] == "00ujl29u0le5T6Aj10h7"
    assert body["name"] == {"givenName": "Test", "familyName": "User"}
    assert body["active"] is True
    assert body["groups"] == []
    assert body["meta"]["resourceType"] == "User"
    assert body["meta"]["location"] == response["Location"]
    assert "password" not in body
    record = SCIMUser.objects.get(pk=body["id"])
    assert record.team == team
    assert record.email == "test.user@okta.local"


def test_create_makes_an_account_without_password_and_an_active_seat(idp, team):
    body = idp.post("/Users", load_payload("okta/create_user.json")).json()

    record = SCIMUser.objects.select_related("user").get(pk=body["id"])
    account = record.user
    assert account.email == "test.user@okta.local"
    assert account.first_name == "Test" and account.last_name == "User"
    assert not account.has_usable_password()
    assert record.created_account is True
    membership = Membership.objects.get(team=team, user=account)
    assert membership.is_active is True
    assert membership.role == Membership.Role.MEMBER


def test_password_is_never_stored_or_echoed(idp):
    body = idp.post("/Users", load_payload("okta/create_user.json")).json()

    record = SCIMUser.objects.select_related("user").get(pk=body["id"])
    assert "1mz050nq" not in str(record.attributes)
    assert "password" not in record.attributes
    assert not record.user.check_password("1mz050nq")
    assert "1mz050nq" not in idp.get(f"/Users/{body['id']}").content.decode()


def test_create_links_an_existing_account_with_the_same_email(idp, team):
    existing = UserFactory(email="test.user@okta.local", first_name="Own", last_name="Name")

    body = idp.post("/Users", load_payload("okta/create_user.json")).json()

    record = SCIMUser.objects.get(pk=body["id"])
    assert record.user_id == existing.pk
    assert record.created_account is False
    assert User.objects.filter(email__iexact="test.user@okta.local").count() == 1
    existing.refresh_from_db()
    assert (existing.first_name, existing.last_name) == ("Own", "Name")
    assert Membership.objects.get(team=team, user=existing).is_active is True


def test_linking_is_case_insensitive_on_email(idp):
    existing = UserFactory(email="test.user@okta.local")
    payload = load_payload("okta/create_user.json")
    payload["emails"][0]["value"] = "Test.User@OKTA.local"

    body = idp.post("/Users", payload).json()

    assert SCIMUser.objects.get(pk=body["id"]).user_id == existing.pk


def test_linking_keeps_an_existing_membership_role(idp, team):
    owner = UserFactory(email="test.user@okta.local")
    Membership.objects.create(team=team, user=owner, role=Membership.Role.OWNER)

    assert idp.post("/Users", load_payload("okta/create_user.json")).status_code == 201

    assert Membership.objects.get(team=team, user=owner).role == Membership.Role.OWNER


def test_a_user_without_any_email_address_is_refused_saying_what_to_send(idp):
    response = idp.post("/Users", {"userName": "ada"})

    body = assert_scim_error(response, 400, "invalidValue")
    assert body["detail"] == (
        "An email address is required: send 'emails' or a 'userName' that is an email address."
    )
    assert not SCIMUser.objects.exists()
    assert not User.objects.exists()


def test_an_address_that_is_not_an_email_is_named_in_the_refusal(idp):
    response = idp.post(
        "/Users", {"userName": "ada", "emails": [{"value": "ada@", "primary": True}]}
    )

    body = assert_scim_error(response, 400, "invalidValue")
    assert body["detail"] == "'ada@' is not an email address."
    assert not SCIMUser.objects.exists()


def test_duplicate_username_is_a_409_whatever_the_case(idp):
    assert idp.post("/Users", load_payload("okta/create_user.json")).status_code == 201
    payload = load_payload("okta/create_user.json")
    payload["userName"] = "TEST.USER@OKTA.LOCAL"

    response = idp.post("/Users", payload)

    body = assert_scim_error(response, 409, "uniqueness")
    assert body["detail"] == (
        "A user with userName 'TEST.USER@OKTA.LOCAL' already exists in this team."
    )
    assert SCIMUser.objects.count() == 1


def test_same_account_under_another_username_in_one_team_is_a_409(idp):
    assert idp.post("/Users", load_payload("okta/create_user.json")).status_code == 201
    payload = load_payload("okta/create_user.json")
    payload["userName"] = "another-login"

    response = idp.post("/Users", payload)

    assert assert_scim_error(response, 409, "uniqueness")["detail"] == (
        "'test.user@okta.local' is already provisioned in this team under another userName."
    )
    assert SCIMUser.objects.count() == 1


def test_a_user_name_another_person_holds_is_a_409_that_leaves_no_account_behind(
    idp, provision, team
):
    """The userName's unique constraint decides (no read before the insert): the
    account the create made for the new address rolls back with it."""
    provision("ada@acme.com")
    seats_before = type(team).objects.get(pk=team.pk).seats_used

    response = idp.post(
        "/Users",
        {"userName": "ADA@ACME.COM", "emails": [{"value": "bob@acme.com", "primary": True}]},
    )

    body = assert_scim_error(response, 409, "uniqueness")
    assert body["detail"] == "A user with userName 'ADA@ACME.COM' already exists in this team."
    assert list(SCIMUser.objects.values_list("user_name", flat=True)) == ["ada@acme.com"]
    assert not User.objects.filter(email="bob@acme.com").exists()
    assert not EmailAddress.objects.filter(email="bob@acme.com").exists()
    assert Membership.objects.filter(team=team).count() == 1
    assert type(team).objects.get(pk=team.pk).seats_used == seats_before
    assert not SCIMLinkRefusal.objects.exists()


def test_a_user_name_taken_is_said_before_the_link_rules_refuse_an_existing_account(
    idp, provision, team
):
    """A taken userName is a plain 409, never a refusal the team's managers are shown
    about someone else's account (an unverified one here)."""
    provision("ada@acme.com")
    UserFactory(email="bob@acme.com")

    response = idp.post(
        "/Users",
        {"userName": "ada@acme.com", "emails": [{"value": "bob@acme.com", "primary": True}]},
    )

    body = assert_scim_error(response, 409, "uniqueness")
    assert body["detail"] == "A user with userName 'ada@acme.com' already exists in this team."
    assert SCIMUser.objects.count() == 1
    assert not Membership.objects.filter(user__email="bob@acme.com").exists()
    assert not SCIMLinkRefusal.objects.exists()


def test_same_person_in_two_teams_is_two_records(idp, other_idp, team, other_team):
    """Once the person proved the mailbox: an account acme's SCIM created proves nothing to
    globex by itself (issue 21)."""
    first = idp.post("/Users", load_payload("okta/create_user.json"))
    # SCIM gave the account an unverified address (issue 22); the person proves it.
    EmailAddress.objects.filter(email="test.user@okta.local").update(verified=True)
    second = other_idp.post("/Users", load_payload("okta/create_user.json"))

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    account = User.objects.get(email="test.user@okta.local")
    assert set(Membership.objects.filter(user=account).values_list("team", flat=True)) == {
        team.pk,
        other_team.pk,
    }


def test_onelogin_core_schema_without_emails_uses_the_username(idp):
    response = idp.post("/Users", load_payload("onelogin/create_user_core_v1.json"))

    assert response.status_code == 201
    record = SCIMUser.objects.select_related("user").get(pk=response.json()["id"])
    assert record.user.email == "grace@acme.com"
    assert record.active is True
    assert response.json()["name"]["formatted"] == "Grace Hopper"


def test_onelogin_emails_object_and_string_active(idp):
    response = idp.post("/Users", load_payload("onelogin/create_user_emails_object.json"))

    assert response.status_code == 201
    body = response.json()
    assert body["emails"] == [{"value": "grace@acme.com", "primary": True, "type": "work"}]
    assert body["active"] is True
    assert SCIMUser.objects.select_related("user").get(pk=body["id"]).user.email == "grace@acme.com"


def test_entra_create_with_meta_roles_and_nulls(idp):
    response = idp.post("/Users", load_payload("entra/create_user.json"))

    assert response.status_code == 201
    body = response.json()
    assert "title" not in body and "phoneNumbers" not in body and "roles" not in body
    enterprise = body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
    assert enterprise == {"employeeNumber": "701984"}
    assert "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" in body["schemas"]
    record = SCIMUser.objects.select_related("user").get(pk=body["id"])
    assert record.user.email == "test_user_11bb11bb@contoso.com"


@pytest.mark.parametrize("active", ["0", "false", "False"])
def test_onelogin_template_strings_for_inactive(idp, team, active):
    payload = {**load_payload("okta/create_user.json"), "active": active}

    assert idp.post("/Users", payload).json()["active"] is False


def test_created_inactive_user_gets_an_inactive_seat(idp, team):
    payload = {**load_payload("okta/create_user.json"), "active": False}

    body = idp.post("/Users", payload).json()

    assert body["active"] is False
    assert Membership.objects.get(team=team, user__email="test.user@okta.local").is_active is False


@pytest.mark.parametrize(
    "change",
    [
        {"userName": None},
        {"userName": ""},
        {"userName": {"nested": "object"}},
        {"active": "maybe"},
        {"name": "not an object"},
        {"emails": [{"value": ["a", "b"]}]},
    ],
)
def test_invalid_values_are_400_invalid_value_and_create_nothing(idp, change):
    payload = {**load_payload("okta/create_user.json"), **change}

    response = idp.post("/Users", payload)

    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidValue"
    assert response.json()["detail"]
    assert not SCIMUser.objects.exists()
    assert not User.objects.filter(email="test.user@okta.local").exists()


def test_a_user_without_any_email_is_refused(idp):
    response = idp.post("/Users", {"userName": "jdoe", "name": {"givenName": "J"}})

    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidValue"
    assert "email" in response.json()["detail"]
    assert not SCIMUser.objects.exists()


def test_a_body_that_is_not_an_object_is_refused(idp):
    response = idp.post("/Users", [{"userName": "x@acme.com"}])

    assert response.status_code == 400
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert not SCIMUser.objects.exists()


def test_unknown_attributes_are_ignored(idp):
    payload = {
        **load_payload("okta/create_user.json"),
        "favouriteColour": "blue",
        "urn:example:custom:1.0:User": {"shoeSize": 44},
    }

    response = idp.post("/Users", payload)

    assert response.status_code == 201
    assert "favouriteColour" not in response.json()
    assert "favouriteColour" not in SCIMUser.objects.get().attributes


def test_attribute_names_are_case_insensitive(idp):
    response = idp.post(
        "/Users",
        {"USERNAME": "ada@acme.com", "Name": {"GivenName": "Ada"}, "ACTIVE": "TRUE"},
    )

    assert response.status_code == 201
    assert response.json()["userName"] == "ada@acme.com"
    assert response.json()["name"] == {"givenName": "Ada"}


class TestVerifiedDomains:
    @pytest.fixture
    def team(self, db):
        return SCIMTeamConfigFactory(
            team=TeamFactory(slug="acme", name="Acme"), verified_domains=["acme.com"]
        ).team

    def test_an_email_outside_the_domains_is_refused_with_a_clear_message(self, idp, team):
        # Listed in order, whatever order the staff entered them in.
        SCIMTeamConfig.objects.filter(team=team).update(verified_domains=["acme.org", "acme.com"])

        response = idp.post("/Users", load_payload("okta/create_user.json"))

        body = assert_scim_error(response, 400, "invalidValue")
        assert body["detail"] == (
            "'test.user@okta.local' is outside this team's verified email domains "
            "(acme.com, acme.org). Verify the domain on the team's SCIM page, "
            "or ask the site's support to add it."
        )
        assert not SCIMUser.objects.exists()
        assert not User.objects.filter(email="test.user@okta.local").exists()

    def test_linking_an_existing_account_outside_the_domains_is_refused(self, idp, team):
        outsider = UserFactory(email="test.user@okta.local")

        response = idp.post("/Users", load_payload("okta/create_user.json"))

        body = assert_scim_error(response, 400, "invalidValue")
        assert "verified email domains" in body["detail"]
        assert not Membership.objects.filter(team=team, user=outsider).exists()
        assert not SCIMUser.objects.exists()
        assert User.objects.get(pk=outsider.pk).email == "test.user@okta.local"

    def test_an_email_inside_the_domains_is_provisioned(self, idp, team):
        response = idp.post("/Users", load_payload("onelogin/create_user_core_v1.json"))

        assert response.status_code == 201
        body = response.json()
        record = SCIMUser.objects.select_related("user").get(pk=body["id"])
        assert record.team_id == team.pk
        assert record.user_name == body["userName"]
        assert record.user.email.endswith("@acme.com")
        assert Membership.objects.get(team=team, user=record.user).is_active is True

    def test_the_domain_check_is_case_insensitive(self, idp, team):
        response = idp.post("/Users", {"userName": "Grace@ACME.com"})

        assert response.status_code == 201
        assert response.json()["userName"] == "Grace@ACME.com"
        record = SCIMUser.objects.select_related("user").get(pk=response.json()["id"])
        assert record.user.email == "grace@acme.com"
        assert Membership.objects.get(team=team, user=record.user).is_active is True


def test_the_account_hooks_of_a_create_are_given_the_team(idp, team, settings):
    # DESIGN: every hook receives the team first; the default adapter ignores it,
    # so only a host's own hooks show it missing.
    settings.SCIM_PROVISIONING_ADAPTER = "tests.adapters.TeamRecordingAdapter"
    TeamRecordingAdapter.calls = []
    extension = "urn:ietf:params:scim:schemas:extension:example:2.0:User"

    response = idp.post("/Users", {"userName": "ada@acme.com", extension: {"costCode": "CC-1"}})

    assert response.status_code == 201, response.content
    account = User.objects.get(email="ada@acme.com")
    assert account.cost_code == "CC-1"
    assert TeamRecordingAdapter.calls == [
        ("find_account", team.pk, "ada@acme.com"),
        ("create_account", team.pk, "ada@acme.com"),
        ("claim_seat", team.pk, account.pk, "ada@acme.com"),
        ("set_custom_attributes", team.pk, {"costCode": "CC-1", "startDate": None}),
    ]


def test_two_teams_creating_one_new_person_at_once_share_one_account(
    idp, other_idp, team, other_team, monkeypatch
):
    # Team B's IdP creates the account between team A's lookup and its insert:
    # team A's insert then hits the unique email and treats B's account as any
    # existing one (no 500, no second account): one B's SCIM created proves
    # nothing to A (issue 21), so A's link is refused until the person proves it.
    theirs = other_idp.post("/Users", {"userName": "ada@acme.com"}).json()
    looked_up = []
    find_account = DefaultAdapter.find_account

    def before_team_b_committed(self, config, email):
        looked_up.append((config.team_id, email))
        return None if len(looked_up) == 1 else find_account(self, config, email)

    monkeypatch.setattr(DefaultAdapter, "find_account", before_team_b_committed)

    response = idp.post("/Users", {"userName": "ada@acme.com", "name": {"givenName": "Ada"}})

    assert_scim_error(response, 409, "uniqueness")
    assert looked_up == [(team.pk, "ada@acme.com"), (team.pk, "ada@acme.com")]
    account = User.objects.get(email="ada@acme.com")
    assert SCIMUser.objects.get().pk == uuid.UUID(theirs["id"])
    assert SCIMUser.objects.get().user_id == account.pk
    assert not Membership.objects.filter(team=team, user=account).exists()
    assert Membership.objects.get(team=other_team, user=account).is_active is True
    assert SCIMLinkRefusal.objects.get(team=team).email == "ada@acme.com"


def test_a_create_that_loses_the_account_race_twice_is_a_409_that_changes_nothing(
    idp, other_idp, monkeypatch
):
    # The write runs again once after losing the account insert's race (issue 27: no
    # savepoint per create); an account that stays unfindable is the constraint's 409.
    other_idp.post("/Users", {"userName": "ada@acme.com"})
    looked_up = []

    def never_found(self, config, email):
        looked_up.append(email)

    monkeypatch.setattr(DefaultAdapter, "find_account", never_found)

    response = idp.post("/Users", {"userName": "ada@acme.com", "name": {"givenName": "Ada"}})

    assert_scim_error(response, 409, "uniqueness")
    assert looked_up == ["ada@acme.com", "ada@acme.com"]
    assert User.objects.filter(email__iexact="ada@acme.com").count() == 1
    assert SCIMUser.objects.count() == 1


def test_names_longer_than_the_accounts_fields_are_cut_to_them(idp):
    """The record keeps what the IdP sent; the account's 150-character name fields get what fits."""
    given, family = "G" * 200, "F" * 180

    response = idp.post(
        "/Users",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada@acme.com",
            "name": {"givenName": given, "familyName": family},
            "emails": [{"value": "ada@acme.com", "primary": True}],
        },
    )

    assert response.status_code == 201, response.content
    assert response.json()["name"] == {"givenName": given, "familyName": family}
    account = SCIMUser.objects.get(pk=response.json()["id"]).user
    assert (account.first_name, account.last_name) == (given[:150], family[:150])


def test_a_family_name_without_a_given_name_reaches_the_account(idp):
    """Entra sends no givenName for a person who has none in the directory."""
    response = idp.post(
        "/Users",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada@acme.com",
            "name": {"familyName": "Lovelace"},
            "emails": [{"value": "ada@acme.com", "primary": True}],
        },
    )

    assert response.status_code == 201, response.content
    assert response.json()["name"] == {"familyName": "Lovelace"}
    account = SCIMUser.objects.get(pk=response.json()["id"]).user
    assert (account.first_name, account.last_name) == ("", "Lovelace")


def test_a_lone_surrogate_in_a_string_is_a_400_not_a_500(idp):
    """JSON's ``\\ud800`` decodes to a string UTF-8 cannot hold: no database stores it and no
    response can echo it (a 500 before, issue 22's hostile-bytes pass)."""
    body = (
        '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], '
        '"userName": "ada@acme.com", "displayName": "Ada \\ud800"}'
    )
    response = idp.post("/Users", body)

    detail = assert_scim_error(response, 400, "invalidValue")["detail"]
    assert "displayName" in detail and "lone surrogate" in detail
    assert not SCIMUser.objects.exists()


def test_a_created_accounts_unusable_password_is_random_and_cheap(idp, monkeypatch):
    """Issue 27: ``"!"`` and 40 random characters, as Django's ``set_unusable_password``
    makes (no usable password, no two alike), without its 40 ``secrets.choice`` calls."""
    from django.contrib.auth import hashers

    def forbidden(*args, **kwargs):
        raise AssertionError("get_random_string: 40 secrets.choice calls per create")

    monkeypatch.setattr(hashers, "get_random_string", forbidden)

    ids = [idp.post("/Users", {"userName": f"{who}@acme.com"}).json()["id"] for who in "ab"]

    passwords = [SCIMUser.objects.select_related("user").get(pk=pk).user.password for pk in ids]
    assert all(p.startswith("!") and len(p) == 41 for p in passwords)
    assert passwords[0] != passwords[1]
    accounts = User.objects.filter(scim_records__id__in=ids)
    assert not any(account.has_usable_password() for account in accounts)


def test_a_user_models_own_unusable_password_is_kept(idp, monkeypatch):
    """A host whose user model says what an unusable password is keeps its rule."""
    monkeypatch.setattr(User, "set_unusable_password", lambda user: setattr(user, "password", "!x"))

    pk = idp.post("/Users", {"userName": "ada@acme.com"}).json()["id"]

    assert SCIMUser.objects.select_related("user").get(pk=pk).user.password == "!x"
