"""The membership shapes the default adapter serves by settings alone (DESIGN promise 3),
as the IdP meets them: deactivation frees the seat and loses nothing (promise 4).

The example site's own adapter switches memberships itself (it counts seats), so
these tests name ``DefaultAdapter``: a membership with an ``is_active`` flag (the
example site's ``teams.Membership``), then the same model read as a row that
exists while the person belongs (``MEMBERSHIP_ACTIVE_FIELD = None``). The stock
``auth.User`` host (``tests/hosts/stock_user``) runs the second shape on its own
model, in a pytest process of its own.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from example_project.teams.models import Membership
from scim_provisioning.adapters import DefaultAdapter
from scim_provisioning.models import SCIMUser

from .conftest import patch_op
from .example_factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_adapter(settings):
    settings.SCIM_PROVISIONING_ADAPTER = "scim_provisioning.adapters.DefaultAdapter"


def _active(idp, resource: dict, active: bool) -> dict:
    response = idp.patch(
        f"/Users/{resource['id']}", patch_op({"op": "replace", "path": "active", "value": active})
    )
    assert response.status_code == 200, response.content
    assert response.json()["active"] is active
    return response.json()


def test_with_a_flag_deactivation_switches_the_row_off_and_reactivation_on(idp, team, provision):
    ada = provision("ada@acme.com")
    membership = Membership.objects.get(team=team)
    assert (membership.is_active, membership.role) == (True, "member")

    _active(idp, ada, False)
    assert list(Membership.objects.filter(team=team).values_list("pk", "is_active")) == [
        (membership.pk, False)
    ]
    assert SCIMUser.objects.get(pk=ada["id"]).active is False

    _active(idp, ada, True)
    assert list(Membership.objects.filter(team=team).values_list("pk", "is_active")) == [
        (membership.pk, True)
    ]


def test_with_a_flag_a_user_created_inactive_holds_an_inactive_row(idp, team, provision):
    provision("ada@acme.com", active=False)

    assert list(Membership.objects.filter(team=team).values_list("is_active", "role")) == [
        (False, "member")
    ]


def test_without_a_flag_deactivation_deletes_the_row_and_reactivation_recreates_it(
    idp, team, provision, settings
):
    settings.SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = None
    ada = provision("ada@acme.com")
    account = SCIMUser.objects.get(pk=ada["id"]).user
    first = Membership.objects.get(team=team, user=account)

    _active(idp, ada, False)
    assert not Membership.objects.filter(team=team).exists()
    assert SCIMUser.objects.get(pk=ada["id"]).user == account

    _active(idp, ada, True)
    again = Membership.objects.get(team=team)
    assert (again.user, again.role, again.is_active) == (account, "member", True)
    assert again.pk != first.pk  # a new row, with MEMBERSHIP_DEFAULTS


def test_without_a_flag_the_teams_own_member_linked_keeps_their_one_row(provision, team, settings):
    settings.SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = None
    membership = MembershipFactory(team=team, role="admin", user__email="ada@acme.com")

    created = provision("ada@acme.com")  # asserts the 201

    assert SCIMUser.objects.get(pk=created["id"]).user == membership.user
    assert list(Membership.objects.filter(team=team).values_list("pk", "role")) == [
        (membership.pk, "admin")
    ]


def test_without_a_membership_model_the_host_is_told_what_to_set(settings):
    settings.SCIM_PROVISIONING_MEMBERSHIP_MODEL = None

    with pytest.raises(ImproperlyConfigured) as refused:
        DefaultAdapter().memberships()

    assert str(refused.value) == (
        "Set SCIM_PROVISIONING_MEMBERSHIP_MODEL, or name an adapter that needs none."
    )
