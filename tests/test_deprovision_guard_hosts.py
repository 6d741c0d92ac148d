"""The deprovisioning guard on every host shape (run there by tests/test_hosts.py).

Membership reads go through ``tests/host.py``, so the same IdP conversation
checks the example site, stock ``auth.User`` with organizations, django-organizations
and the allauth seats host.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from scim_provisioning.conf import app_settings
from scim_provisioning.models import SCIMUser

from .conftest import patch_op
from .host import has_row, seat

pytestmark = pytest.mark.django_db

DEACTIVATE = patch_op({"op": "replace", "value": {"active": False}})


def _release(team) -> None:
    slug = getattr(team, app_settings.TEAM_SLUG_FIELD)
    call_command("scim_held", "release", "--team", slug, stdout=StringIO())


def test_nine_of_thirteen_deactivated_wait_for_release(idp, team, provision):
    people = [provision(f"held{i}@acme.com")["id"] for i in range(13)]
    accounts = [SCIMUser.objects.get(pk=pk).user for pk in people[:9]]

    for pk in people[:9]:
        response = idp.patch(f"/Users/{pk}", DEACTIVATE)
        assert response.status_code == 200, response.content
        assert response.json()["active"] is False

    assert [seat(team, account) for account in accounts].count(True) == 4
    _release(team)
    assert [seat(team, account) for account in accounts].count(True) == 0


def test_a_held_delete_keeps_the_membership_until_release(idp, team, provision):
    people = [provision(f"gone{i}@acme.com")["id"] for i in range(13)]
    accounts = [SCIMUser.objects.get(pk=pk).user for pk in people[:6]]

    for pk in people[:6]:
        assert idp.delete(f"/Users/{pk}").status_code == 204
        assert idp.get(f"/Users/{pk}").status_code == 404

    assert [has_row(team, account) for account in accounts] == [False] * 5 + [True]
    _release(team)
    assert not any(has_row(team, account) for account in accounts)
