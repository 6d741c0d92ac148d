"""Ids another SCIM server gave a team's people (``SCIMUser.legacy_id``) keep resolving.

After ``scim_import_django_scim2`` an IdP still sends the ids django-scim2 gave
it (the host primary key as text). ``/Users/{id}`` resolves them within the
token's team only; the import itself is tested against a django-scim2 host in
``tests/hosts/django_scim2`` (run by ``tests/test_hosts.py``).
"""

from __future__ import annotations

import importlib.util
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMUser

from .conftest import assert_scim_error, patch_op
from .factories import SCIMUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def jane(team):
    return SCIMUserFactory(team=team, legacy_id="42", user_name="jane@acme.com")


def test_get_by_the_old_id_returns_the_record_under_its_own_id(idp, jane):
    response = idp.get("/Users/42")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["id"] == str(jane.id) and body["userName"] == "jane@acme.com"


def test_put_by_the_old_id_replaces(idp, jane):
    response = idp.put(
        "/Users/42",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "jane@acme.com",
            "name": {"givenName": "Janet", "familyName": "Doe"},
        },
    )
    assert response.status_code == 200
    assert json.loads(response.content)["name"]["givenName"] == "Janet"
    jane.refresh_from_db()
    assert jane.attributes["name"]["givenName"] == "Janet"


def test_patch_by_the_old_id_deactivates(idp, jane):
    response = idp.patch("/Users/42", patch_op({"op": "replace", "path": "active", "value": False}))
    assert response.status_code == 200 and json.loads(response.content)["active"] is False
    assert Membership.objects.get(team=jane.team, user=jane.user).is_active is False


def test_delete_by_the_old_id_removes_the_record(idp, jane):
    assert idp.delete("/Users/42").status_code == 204
    assert not SCIMUser.objects.filter(pk=jane.pk).exists()


def test_an_old_id_of_another_team_is_a_404_that_changes_nothing(other_idp, jane):
    assert_scim_error(other_idp.get("/Users/42"), 404)
    assert_scim_error(other_idp.delete("/Users/42"), 404)
    patched = other_idp.patch(
        "/Users/42", patch_op({"op": "replace", "path": "active", "value": False})
    )
    assert_scim_error(patched, 404)
    jane.refresh_from_db()
    assert jane.active is True
    assert Membership.objects.get(team=jane.team, user=jane.user).is_active is True


def test_an_old_id_shaped_like_a_uuid_resolves_when_no_record_has_that_uuid(idp, team):
    legacy = "6f1c0c6e-2b7a-4c1e-9d3f-0a1b2c3d4e5f"
    record = SCIMUserFactory(team=team, legacy_id=legacy)
    response = idp.get(f"/Users/{legacy}")
    assert response.status_code == 200 and json.loads(response.content)["id"] == str(record.id)


def test_an_unknown_id_is_still_a_404(idp, jane):
    assert_scim_error(idp.get("/Users/43"), 404)


def test_groups_have_no_old_ids(idp, jane):
    assert_scim_error(idp.get("/Groups/42"), 404)


def test_an_old_id_is_unique_within_a_team_only(team, other_team, jane):
    SCIMUserFactory(team=other_team, legacy_id="42")
    with pytest.raises(IntegrityError):
        SCIMUserFactory(team=team, legacy_id="42")


def test_the_import_refuses_a_host_without_django_scim2_state(team):
    """The example's user model has no django-scim2 fields; without the extra, it says so."""
    reason = (
        "not built on django-scim2's AbstractSCIMUserMixin"
        if importlib.util.find_spec("django_scim")
        else r"pip install 'django-scim-provisioning\[django-scim2\]'"
    )
    with pytest.raises(CommandError, match=reason):
        call_command("scim_import_django_scim2", "--team", "acme")
    assert not SCIMUser.objects.exists()
