"""Takeover and proof (issue 21) on a host whose membership row is the seat.

Here a team's IdP that deactivates a person leaves no membership row behind,
only its SCIM record: that record is what says another team holds the account.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from scim_provisioning.models import SCIMLinkRefusal, SCIMTeamConfig, SCIMUser
from tests.conftest import assert_scim_error, patch_op
from tests.factories import UserFactory
from tests.host import has_row, seat

pytestmark = pytest.mark.django_db
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
WORK_EMAIL = 'emails[type eq "work"].value'


def _user(address: str, **extra):
    return {
        "schemas": [USER_SCHEMA],
        "userName": address,
        "emails": [{"value": address, "type": "work", "primary": True}],
        **extra,
    }


def _deactivate(idp, record_id: str) -> None:
    response = idp.patch(
        f"/Users/{record_id}", patch_op({"op": "replace", "path": "active", "value": False})
    )
    assert response.status_code == 200, response.content


def test_a_team_that_deactivated_someone_still_holds_them(idp, team, other_idp, other_team):
    """A password-less account acme's IdP linked then deactivated is no proof to globex."""
    account = UserFactory(email="pat@acme.com", password=None)
    linked = idp.post("/Users", _user("pat@acme.com"))
    assert linked.status_code == 201, linked.content
    _deactivate(idp, linked.json()["id"])
    assert not has_row(team, account)

    response = other_idp.post("/Users", _user("pat@acme.com"))

    assert_scim_error(response, 409, "uniqueness")
    assert SCIMLinkRefusal.objects.get(team=other_team).reason == "unverified"
    assert seat(other_team, account) is None


def test_a_login_another_team_holds_without_a_row_does_not_move(idp, team, other_idp, other_team):
    """globex created the account; acme holds a deactivated record of it; globex renames."""
    created = other_idp.post("/Users", _user("pat@globex.com")).json()
    account = SCIMUser.objects.get(pk=created["id"]).user
    SCIMUser.objects.create(team=team, user=account, user_name="pat@globex.com", active=False)
    SCIMTeamConfig.objects.filter(team=other_team).update(verified_domains=["globex.com"])

    response = other_idp.patch(
        f"/Users/{created['id']}",
        patch_op({"op": "replace", "path": WORK_EMAIL, "value": "p@globex.com"}),
    )

    assert response.status_code == 200, response.content
    account = User.objects.get(pk=account.pk)
    assert (account.email, account.username) == ("pat@globex.com", "pat@globex.com")


def test_a_login_given_inside_the_domain_moves_with_its_username(other_idp, other_team):
    """The rule holds on a username-keyed account: email and username move together."""
    SCIMTeamConfig.objects.filter(team=other_team).update(verified_domains=["globex.com"])
    created = other_idp.post("/Users", _user("pat@globex.com")).json()
    account = SCIMUser.objects.get(pk=created["id"]).user
    account.set_password("pat's own")
    account.save()

    response = other_idp.patch(
        f"/Users/{created['id']}",
        patch_op({"op": "replace", "path": WORK_EMAIL, "value": "p@globex.com"}),
    )

    assert response.status_code == 200, response.content
    account = User.objects.get(pk=account.pk)
    assert (account.email, account.username) == ("p@globex.com", "p@globex.com")
