"""On an allauth site, an account SCIM creates gets its allauth ``EmailAddress`` (issue 22).

Without one, allauth knows no address for the person: no password reset by
email, no "manage addresses" page, and its login by email finds nobody on a
site keyed by ``EmailAddress``. The address is the account's primary one and
**unverified**: a SCIM-created address proves nothing by itself (DESIGN
promise 6 — the team's IdP asserted it, the person never opened the mailbox),
so it must never become the proof that lets another team's IdP link the
account. The person proves it through allauth itself (a confirmation or a
password reset by email).
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps as django_apps

from scim_provisioning.models import SCIMUser

from .conftest import assert_scim_error
from .factories import UserFactory

pytestmark = pytest.mark.django_db
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def _user(address: str) -> dict:
    return {
        "schemas": [USER_SCHEMA],
        "userName": address,
        "emails": [{"value": address, "type": "work", "primary": True}],
    }


def _addresses(account) -> list[tuple[str, bool, bool]]:
    rows = EmailAddress.objects.filter(user=account).order_by("email")
    return [(row.email, row.primary, row.verified) for row in rows]


def test_a_created_account_gets_its_primary_unverified_address(idp):
    response = idp.post("/Users", _user("Ada@Acme.example"))

    assert response.status_code == 201, response.content
    account = SCIMUser.objects.get().user
    assert _addresses(account) == [("ada@acme.example", True, False)]


def test_an_rfc_6531_address_is_recorded_in_its_one_spelling(idp):
    assert idp.post("/Users", _user("jürgen@Bücher.example")).status_code == 201

    account = SCIMUser.objects.get().user
    assert _addresses(account) == [("jürgen@xn--bcher-kva.example", True, False)]


def test_a_linked_account_keeps_the_addresses_its_owner_has(idp):
    owner = UserFactory(email="ada@acme.example", password=None)
    EmailAddress.objects.create(user=owner, email="ada@acme.example", primary=True, verified=True)

    assert idp.post("/Users", _user("ada@acme.example")).status_code == 201

    assert _addresses(owner) == [("ada@acme.example", True, True)]


def test_the_scim_address_is_no_proof_once_the_person_has_a_password(idp, other_idp):
    """Another team's IdP is refused: the unverified address SCIM recorded proves nothing."""
    assert idp.post("/Users", _user("ada@acme.example")).status_code == 201
    account = SCIMUser.objects.get().user
    account.set_password("chosen by ada")
    account.save()

    assert_scim_error(other_idp.post("/Users", _user("ada@acme.example")), 409, "uniqueness")


def test_a_rename_inside_a_verified_domain_makes_the_new_address_primary(idp, team):
    config = team.scim_config
    config.verified_domains = ["acme.example"]
    config.save()
    created = idp.post("/Users", _user("ada@acme.example")).json()

    response = idp.put(f"/Users/{created['id']}", _user("ada.lovelace@acme.example"))

    assert response.status_code == 200, response.content
    account = SCIMUser.objects.get().user
    assert account.email == "ada.lovelace@acme.example"
    assert _addresses(account) == [
        ("ada.lovelace@acme.example", True, False),
        ("ada@acme.example", False, False),
    ]


def test_without_allauth_an_account_is_created_all_the_same(idp, settings):
    settings.INSTALLED_APPS = [
        app for app in settings.INSTALLED_APPS if not app.startswith("allauth")
    ]
    assert not django_apps.is_installed("allauth.account")

    assert idp.post("/Users", _user("ada@acme.example")).status_code == 201
    assert not EmailAddress.objects.exists()
