"""Where the timeline is read: the team page and API (the team's managers), the admin (staff)."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMUser, SCIMUserEvent, TimelineAction
from scim_provisioning.timeline import timeline_page

from .conftest import load_payload
from .host import prove_mailbox
from .team_helpers import logged_in, member_of

pytestmark = pytest.mark.django_db

PAGE = "/teams/acme/scim/"
API = "/api/teams/acme/scim/timeline/"


@pytest.fixture
def jane(idp):
    """Jane, provisioned by Okta and then deactivated."""
    response = idp.post("/Users", load_payload("okta/create_user.json"))
    assert response.status_code == 201, response.content
    jane = response.json()
    assert (
        idp.patch(f"/Users/{jane['id']}", load_payload("okta/patch_deactivate.json")).status_code
        == 200
    )
    return jane


def test_the_team_page_shows_the_timeline_to_the_teams_owner(owner_client, jane):
    response = owner_client.get(PAGE)

    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="scim-timeline"' in content
    assert content.count('data-action="user.deactivated"') == 1
    assert content.count('data-action="user.created"') == 1
    assert "<code>name.givenName</code>: – &rarr; Test" in content
    assert f'href="?person={jane["id"]}"' in content


def test_the_team_page_filters_by_person_and_action(owner_client, jane, provision):
    provision("bob@acme.com")

    by_person = owner_client.get(PAGE, {"person": "TEST.USER@okta.local"}).content.decode()
    by_action = owner_client.get(PAGE, {"action": TimelineAction.DEACTIVATED}).content.decode()

    assert by_person.count("<tr data-action=") == 2
    assert "bob@acme.com</a>" not in by_person
    assert by_action.count("<tr data-action=") == 1
    assert '<option value="user.deactivated" selected>' in by_action


def test_a_plain_member_sees_no_timeline(team, jane):
    client = logged_in(member_of(team))

    assert client.get(PAGE).status_code == 403
    assert client.get(API).status_code == 403


def test_another_teams_owner_never_sees_these_entries(other_team, other_idp, jane, monkeypatch):
    # The same person in team B: the account SCIM created for team A is linked,
    # once the person proved the address.
    prove_mailbox(monkeypatch, SCIMUser.objects.get(pk=jane["id"]).user, "test.user@okta.local")
    assert other_idp.post("/Users", load_payload("okta/create_user.json")).status_code == 201
    client = logged_in(member_of(other_team, Membership.Role.OWNER))

    assert client.get(PAGE).status_code == 404
    assert client.get(API, {"person": jane["id"]}).status_code == 404
    own = client.get("/teams/globex/scim/", {"person": jane["id"]}).content.decode()
    assert "<tr data-action=" not in own
    own_api = client.get("/api/teams/globex/scim/timeline/", {"person": "test.user@okta.local"})
    assert [e["action"] for e in own_api.json()["entries"]] == [TimelineAction.LINKED]
    assert {e["scim_user_id"] for e in own_api.json()["entries"]} != {jane["id"]}


def test_the_team_api_lists_the_entries_newest_first(owner_client, jane):
    response = owner_client.get(API, {"person": jane["id"]})

    assert response.status_code == 200
    entries = response.json()["entries"]
    assert [e["action"] for e in entries] == [TimelineAction.DEACTIVATED, TimelineAction.CREATED]
    assert entries[1]["changes"]["name.givenName"] == [None, "Test"]
    assert entries[0]["token_prefix"].startswith("scim_")
    assert "no-store" in response["Cache-Control"]


def test_the_admin_shows_the_timeline_on_the_scim_user(admin_client, jane):
    record = SCIMUser.objects.get(pk=jane["id"])

    page = admin_client.get(reverse("admin:scim_provisioning_scimuser_change", args=[record.pk]))

    content = page.content.decode()
    assert page.status_code == 200
    assert content.count("<tr data-action=") == 2
    entry = SCIMUserEvent.objects.get(scim_user_id=record.pk, action=TimelineAction.CREATED)
    log = reverse("admin:scim_provisioning_scimrequestlog_changelist")
    assert f'href="{log}?request_id={entry.request_id}"' in content
    everything = reverse("admin:scim_provisioning_scimuserevent_changelist")
    assert f"{everything}?scim_user_id={record.pk}" in content


def test_the_admin_lists_one_persons_entries_and_their_request(admin_client, jane, provision):
    provision("bob@acme.com")
    entries = reverse("admin:scim_provisioning_scimuserevent_changelist")

    listed = admin_client.get(entries, {"scim_user_id": jane["id"]})
    entry = SCIMUserEvent.objects.filter(scim_user_id=jane["id"]).first()
    request = admin_client.get(
        reverse("admin:scim_provisioning_scimrequestlog_changelist"),
        {"request_id": str(entry.request_id)},
    )

    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 2
    assert request.status_code == 200
    assert request.context["cl"].result_count == 1


def test_the_timeline_needs_no_inline_script_or_style(team, jane):
    """It fits a strict Content-Security-Policy (``default-src 'self'``) in any host page."""
    html = render_to_string("scim_provisioning/timeline.html", {"timeline": timeline_page(team)})

    assert html.count("<tr data-action=") == 2
    for inline in ("<script", "<style", "style=", "onclick", "onsubmit", "javascript:"):
        assert inline not in html.lower()
