"""The SCIM records are read-only in the admin (issue 22).

Staff could edit a SCIM user (active, userName, attributes) or group and save:
the host membership did not change, no timeline entry was written, no rule
(last manager, verified domains, group roles) was asked — a second write path.
The IdP owns these records; the host's own admin owns its memberships.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from scim_provisioning.models import SCIMGroup, SCIMUser, SCIMUserEvent

from .host import seat

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(idp, provision):
    return SCIMUser.objects.get(pk=provision("ada@acme.com")["id"])


def _change_form(record: SCIMUser) -> dict:
    return {
        "team": record.team_id,
        "user": record.user_id,
        "user_name": "mallory@acme.com",
        "email": "mallory@acme.com",
        "active": "",  # unticked: inactive
        "attributes": "{}",
    }


def test_staff_cannot_edit_a_scim_user(admin_client, ada, team):
    url = reverse("admin:scim_provisioning_scimuser_change", args=[ada.pk])
    events = SCIMUserEvent.objects.count()

    response = admin_client.post(url, _change_form(ada))

    assert response.status_code == 403
    ada.refresh_from_db()
    assert (ada.user_name, ada.active) == ("ada@acme.com", True)
    assert seat(team, ada.user) is True
    assert SCIMUserEvent.objects.count() == events


def test_the_scim_user_page_still_shows_the_record_and_its_timeline(admin_client, ada):
    page = admin_client.get(reverse("admin:scim_provisioning_scimuser_change", args=[ada.pk]))

    assert page.status_code == 200
    content = page.content.decode()
    assert "ada@acme.com" in content and 'name="_save"' not in content
    assert "<tr data-action=" in content


def test_staff_cannot_delete_a_scim_user_in_the_admin(admin_client, ada, team):
    url = reverse("admin:scim_provisioning_scimuser_delete", args=[ada.pk])

    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert SCIMUser.objects.filter(pk=ada.pk).exists()
    assert seat(team, ada.user) is True


def test_staff_cannot_add_a_scim_user_in_the_admin(admin_client, team):
    assert admin_client.get(reverse("admin:scim_provisioning_scimuser_add")).status_code == 403


def test_staff_cannot_edit_a_scim_group(admin_client, idp):
    group = SCIMGroup.objects.get(pk=idp.post("/Groups", {"displayName": "Eng"}).json()["id"])
    url = reverse("admin:scim_provisioning_scimgroup_change", args=[group.pk])

    response = admin_client.post(url, {"team": group.team_id, "display_name": "Admins"})

    assert response.status_code == 403
    group.refresh_from_db()
    assert group.display_name == "Eng"
