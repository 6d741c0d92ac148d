"""Identity safety (DESIGN promise 6, issue 8): each test is a hostile tenant's attempt.

A team's IdP controls that team's seats; it gains control over an account
only with proof. The example site runs with its default settings: no
verified domains unless a test sets them.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from example_project.teams.models import Membership
from scim_provisioning.adapters import DefaultAdapter
from scim_provisioning.models import SCIMToken, SCIMUser
from scim_provisioning.tokens import issue_token

from .conftest import IdPClient, assert_scim_error
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
    """A host whose internal team may provision its staff."""

    def may_provision(self, config, user):
        return True


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


def test_the_adapter_may_let_a_team_provision_staff(team, idp, settings):
    settings.SCIM_PROVISIONING_ADAPTER = f"{__name__}.StaffWelcomeAdapter"
    staff = UserFactory(email="support@acme.example", is_staff=True, password=None)

    response = idp.post("/Users", _user("support@acme.example"))

    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get().user == staff
    assert Membership.objects.get(team=team, user=staff).is_active
