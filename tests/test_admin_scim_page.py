"""A team's SCIM page in the admin: base URL, tokens, the switch, the latest requests.

The page talks to a staff member; a new token's plaintext is in one response only.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from scim_provisioning import tokens
from scim_provisioning.models import SCIMRequestLog, SCIMTeamConfig, SCIMToken
from scim_provisioning.oauth.clients import create_client
from scim_provisioning.teams import RECENT_REQUESTS

from .conftest import IdPClient
from .factories import TeamFactory, UserFactory
from .oauth_helpers import client_credentials

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r"scim_[A-Za-z0-9_-]{43}")


def page_url(team) -> str:
    return reverse("admin:scim_provisioning_scimteamconfig_scim", args=[team.pk])


def new_token_in(response) -> str:
    """The plaintext shown in the page, which the page shows at most once."""
    found = TOKEN_RE.findall(response.content.decode())
    assert len(found) == 1, found
    return found[0]


def staff(*codenames: str, is_staff: bool = True):
    user = UserFactory(is_staff=is_staff)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="scim_provisioning", codename__in=codenames
        )
    )
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def issue(client: Client, team):
    return client.post(page_url(team), {"action": "issue"})


# --- the page ---------------------------------------------------------------


def test_page_shows_the_absolute_base_url(admin_client, team):
    response = admin_client.get(page_url(team))

    assert response.status_code == 200
    assert "http://testserver/scim/v2" in response.content.decode()


@override_settings(SCIM_PROVISIONING_BASE_URL="https://scim.example.com/scim/v2/")
def test_page_shows_the_configured_base_url(admin_client, team):
    body = admin_client.get(page_url(team)).content.decode()

    assert "https://scim.example.com/scim/v2<" in body
    assert "http://testserver/scim/v2" not in body


def test_tokens_are_listed_without_their_secret(admin_client, team, admin_user):
    issued = tokens.issue_token(team, created_by=admin_user)
    tokens.revoke_tokens(team, prefix=tokens.issue_token(team).token.prefix)

    body = admin_client.get(page_url(team)).content.decode()

    assert issued.token.prefix in body
    assert str(admin_user) in body
    assert "revoked" in body and "active" in body
    assert issued.plaintext not in body
    assert issued.token.digest not in body
    assert not TOKEN_RE.search(body)


def test_an_oauth_clients_access_tokens_are_not_listed_as_the_teams_tokens(admin_client, team):
    ours = tokens.issue_token(team)
    issued = create_client(team)
    response = client_credentials(issued.client.client_id, issued.secret)
    assert response.status_code == 200, response.content
    access = SCIMToken.objects.get(digest=tokens.digest(response.json()["access_token"]))

    body = admin_client.get(page_url(team)).content.decode()

    assert ours.token.prefix in body
    assert access.prefix not in body


def test_the_changelist_links_to_each_teams_page(admin_client, team):
    body = admin_client.get(reverse("admin:scim_provisioning_scimteamconfig_changelist")).content

    assert page_url(team).encode() in body


def test_an_unknown_team_is_a_404(admin_client):
    assert (
        admin_client.get("/admin/scim_provisioning/scimteamconfig/999999/scim/").status_code == 404
    )
    assert admin_client.get("/admin/scim_provisioning/scimteamconfig/nope/scim/").status_code == 404


# --- issue ------------------------------------------------------------------


def test_issue_shows_the_token_once_and_it_authenticates(admin_client, team, admin_user):
    response = issue(admin_client, team)

    assert response.status_code == 200
    plaintext = new_token_in(response)
    body = response.content.decode()
    assert "will not be shown again" in body
    assert "navigator.clipboard.writeText" in body
    assert "history.replaceState" in body
    assert "no-store" in response["Cache-Control"]
    assert IdPClient(plaintext).get("/Users").status_code == 200
    token = SCIMToken.objects.get(team=team)
    assert token.created_by == admin_user
    assert token.digest == tokens.digest(plaintext)


def test_a_later_get_never_shows_the_token(admin_client, team):
    plaintext = new_token_in(issue(admin_client, team))

    body = admin_client.get(page_url(team)).content.decode()

    assert plaintext not in body
    assert plaintext[:13] in body
    assert not TOKEN_RE.search(body)


def test_the_token_is_kept_in_no_session_message_or_cookie(admin_client, team):
    response = issue(admin_client, team)
    plaintext = new_token_in(response)

    assert all(plaintext not in morsel.value for morsel in response.cookies.values())
    session = admin_client.session
    assert all(plaintext not in str(session[key]) for key in session.keys())
    assert all(plaintext not in str(m) for m in response.context["messages"])


def test_issue_is_refused_while_scim_is_disabled(admin_client, team):
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)

    response = issue(admin_client, team)

    assert response.status_code == 302
    assert not SCIMToken.objects.filter(team=team).exists()
    body = admin_client.get(response["Location"]).content.decode()
    assert "not enabled" in body


# --- rotate and revoke ------------------------------------------------------


def test_rotate_issues_a_token_and_ends_the_others_after_the_overlap(admin_client, team):
    old = tokens.issue_token(team)

    response = admin_client.post(page_url(team), {"action": "rotate", "overlap_hours": "2"})

    assert response.status_code == 200
    new = new_token_in(response)
    assert new != old.plaintext
    old.token.refresh_from_db()
    assert timezone.now() + timedelta(hours=1, minutes=59) < old.token.expires_at
    assert old.token.expires_at < timezone.now() + timedelta(hours=2, minutes=1)
    assert IdPClient(old.plaintext).get("/Users").status_code == 200
    assert IdPClient(new).get("/Users").status_code == 200


@override_settings(SCIM_PROVISIONING_TOKEN_ROTATION_OVERLAP_HOURS=6)
def test_rotate_overlap_defaults_to_the_setting(admin_client, team):
    body = admin_client.get(page_url(team)).content.decode()

    assert re.search(r'name="overlap_hours" value="6"', body)


@pytest.mark.parametrize("hours", ["-1", str(24 * 30 + 1), str(24 * 365)])
def test_rotate_with_an_overlap_out_of_bounds_issues_nothing(admin_client, team, hours):
    """0 to 30 days, as on the team page and API and in ``scim_token rotate``."""
    old = tokens.issue_token(team)

    response = admin_client.post(page_url(team), {"action": "rotate", "overlap_hours": hours})

    assert response.status_code == 200
    assert not TOKEN_RE.search(response.content.decode())
    assert response.context["rotate_form"].errors
    assert list(SCIMToken.objects.filter(team=team)) == [old.token]


def test_revoke_one_token_by_prefix(admin_client, team):
    kept, revoked = tokens.issue_token(team), tokens.issue_token(team)

    response = admin_client.post(
        page_url(team), {"action": "revoke", "prefix": revoked.token.prefix}
    )

    assert response.status_code == 302
    assert IdPClient(revoked.plaintext).get("/Users").status_code == 401
    assert IdPClient(kept.plaintext).get("/Users").status_code == 200


def test_revoke_all(admin_client, team, other_team):
    mine = [tokens.issue_token(team), tokens.issue_token(team)]
    theirs = tokens.issue_token(other_team)

    response = admin_client.post(page_url(team), {"action": "revoke_all"})

    assert response.status_code == 302
    assert all(IdPClient(t.plaintext).get("/Users").status_code == 401 for t in mine)
    assert IdPClient(theirs.plaintext).get("/Users").status_code == 200


def test_revoke_cannot_reach_another_teams_token(admin_client, team, other_team):
    theirs = tokens.issue_token(other_team)

    admin_client.post(page_url(team), {"action": "revoke", "prefix": theirs.token.prefix})

    assert IdPClient(theirs.plaintext).get("/Users").status_code == 200


def test_an_unknown_action_is_a_400(admin_client, team):
    assert admin_client.post(page_url(team), {"action": "explode"}).status_code == 400
    assert admin_client.post(page_url(team), {"action": "revoke"}).status_code == 400


# --- the SCIM switch --------------------------------------------------------


def test_staff_enable_scim_for_a_team_without_configuration(admin_client, admin_user):
    team = TeamFactory()
    page = admin_client.get(page_url(team))
    assert page.status_code == 200
    assert "not configured yet" in page.content.decode()

    response = admin_client.post(page_url(team), {"action": "enable"})

    assert response.status_code == 302
    assert SCIMTeamConfig.objects.get(team=team).enabled is True
    entry = LogEntry.objects.get(user=admin_user)
    assert (entry.action_flag, entry.object_id) == (ADDITION, str(team.pk))
    assert new_token_in(issue(admin_client, team))


def test_staff_disable_scim(admin_client, team):
    plaintext = tokens.issue_token(team).plaintext

    admin_client.post(page_url(team), {"action": "disable"})

    assert SCIMTeamConfig.objects.get(team=team).enabled is False
    assert IdPClient(plaintext).get("/Users").status_code == 403


def test_the_add_form_leads_to_the_teams_page(admin_client):
    team = TeamFactory()

    response = admin_client.post(
        reverse("admin:scim_provisioning_scimteamconfig_add"),
        {
            "team": team.pk,
            "enabled": "on",
            "group_roles": "{}",
            "user_roles": "{}",
            "verified_domains": "[]",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == page_url(team)
    assert SCIMTeamConfig.objects.get(team=team).enabled


def test_staff_map_role_values_next_to_group_roles(admin_client):
    team = TeamFactory()

    admin_client.post(
        reverse("admin:scim_provisioning_scimteamconfig_add"),
        {
            "team": team.pk,
            "group_roles": '{"Acme Admins": "admin"}',
            "user_roles": '{"Admin": "admin", "User": "member"}',
            "verified_domains": "[]",
        },
    )

    config = SCIMTeamConfig.objects.get(team=team)
    assert config.group_roles == {"Acme Admins": "admin"}
    assert list(config.user_roles.items()) == [("Admin", "admin"), ("User", "member")]


# --- permissions ------------------------------------------------------------


def test_a_non_staff_user_is_sent_to_the_login(team):
    client = client_for(
        staff("view_scimtoken", "add_scimtoken", "change_scimteamconfig", is_staff=False)
    )

    for response in (client.get(page_url(team)), issue(client, team)):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert not SCIMToken.objects.exists()


def test_staff_without_the_permissions_get_403(team):
    client = client_for(staff())

    assert client.get(page_url(team)).status_code == 403
    assert issue(client, team).status_code == 403
    assert client.post(page_url(team), {"action": "disable"}).status_code == 403
    assert not SCIMToken.objects.exists()
    assert SCIMTeamConfig.objects.get(team=team).enabled


def test_view_permission_sees_the_page_but_cannot_act(team):
    tokens.issue_token(team)
    client = client_for(staff("view_scimtoken"))

    page = client.get(page_url(team))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'value="issue"' not in body and 'value="revoke_all"' not in body
    assert 'value="disable"' not in body

    assert issue(client, team).status_code == 403
    assert (
        client.post(page_url(team), {"action": "rotate", "overlap_hours": "1"}).status_code == 403
    )
    assert client.post(page_url(team), {"action": "revoke_all"}).status_code == 403
    assert client.post(page_url(team), {"action": "disable"}).status_code == 403
    assert SCIMToken.objects.filter(team=team, revoked_at__isnull=True).count() == 1


def test_add_permission_issues_but_cannot_revoke_or_switch(team):
    client = client_for(staff("view_scimtoken", "add_scimtoken"))

    assert new_token_in(issue(client, team))
    assert client.post(page_url(team), {"action": "revoke_all"}).status_code == 403
    assert client.post(page_url(team), {"action": "disable"}).status_code == 403


def test_the_switch_needs_change_on_the_configuration(team):
    client = client_for(staff("change_scimteamconfig"))

    assert client.get(page_url(team)).status_code == 200
    assert client.post(page_url(team), {"action": "disable"}).status_code == 302
    assert SCIMTeamConfig.objects.get(team=team).enabled is False


def test_creating_a_configuration_also_needs_add(db):
    team = TeamFactory()
    client = client_for(staff("change_scimteamconfig"))

    assert client.post(page_url(team), {"action": "enable"}).status_code == 403
    assert not SCIMTeamConfig.objects.filter(team=team).exists()


# --- the admin log ----------------------------------------------------------


def test_every_action_is_logged_without_the_token(admin_client, team, admin_user):
    plaintext = new_token_in(issue(admin_client, team))
    prefix = plaintext[:13]
    rotated = new_token_in(
        admin_client.post(page_url(team), {"action": "rotate", "overlap_hours": "0"})
    )
    admin_client.post(page_url(team), {"action": "revoke", "prefix": rotated[:13]})
    admin_client.post(page_url(team), {"action": "disable"})

    entries = list(LogEntry.objects.filter(user=admin_user).order_by("pk"))
    messages = [entry.get_change_message() for entry in entries]
    assert [entry.action_flag for entry in entries] == [CHANGE] * 4
    assert {entry.object_id for entry in entries} == {str(team.pk)}
    assert f"Issued SCIM token {prefix}" in messages[0]
    assert "Rotated" in messages[1] and rotated[:13] in messages[1]
    assert f"Revoked SCIM token {rotated[:13]}" in messages[2]
    assert messages[3] == "Disabled SCIM."
    for entry in entries:
        assert plaintext not in entry.change_message and rotated not in entry.change_message
        assert not TOKEN_RE.search(entry.change_message)


# --- CSRF -------------------------------------------------------------------


def test_actions_need_the_csrf_token(team, admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    for action in ("issue", "revoke_all", "disable"):
        assert client.post(page_url(team), {"action": action}).status_code == 403
    assert not SCIMToken.objects.exists()
    assert SCIMTeamConfig.objects.get(team=team).enabled

    page = client.get(page_url(team))
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = client.post(page_url(team), {"action": "issue", "csrfmiddlewaretoken": csrf})
    assert response.status_code == 200
    assert new_token_in(response)


# --- the latest requests ----------------------------------------------------


def test_the_latest_50_requests_and_a_link_to_all(admin_client, team, other_team):
    """As many as the team page and API show: one team service lists them (RECENT_REQUESTS)."""
    now = timezone.now()
    SCIMRequestLog.objects.bulk_create(
        SCIMRequestLog(
            team=team,
            method="GET",
            path=f"/scim/v2/Users/n{i:02d}",
            status=200,
            duration_ms=1.0,
            idp="okta",
            created=now - timedelta(minutes=i),
        )
        for i in range(55)
    )
    SCIMRequestLog.objects.create(
        team=other_team, method="DELETE", path="/scim/v2/Users/theirs", status=204, duration_ms=1
    )

    body = admin_client.get(page_url(team)).content.decode()

    assert RECENT_REQUESTS == 50
    assert "/scim/v2/Users/n00" in body and "/scim/v2/Users/n49" in body
    assert "/scim/v2/Users/n50" not in body
    assert "/scim/v2/Users/theirs" not in body
    assert "Okta" in body
    changelist = reverse("admin:scim_provisioning_scimrequestlog_changelist")
    link = f"{changelist}?team__id__exact={team.pk}"
    assert f'href="{link}"' in body
    listed = admin_client.get(link)
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 55


def test_requests_need_their_own_view_permission(team):
    SCIMRequestLog.objects.create(
        team=team, method="GET", path="/scim/v2/Users/seen", status=200, duration_ms=1
    )
    client = client_for(staff("view_scimtoken"))

    body = client.get(page_url(team)).content.decode()

    assert "/scim/v2/Users/seen" not in body


def test_a_role_mapping_that_is_no_object_of_names_is_refused(admin_client):
    team = TeamFactory()

    response = admin_client.post(
        reverse("admin:scim_provisioning_scimteamconfig_add"),
        {
            "team": team.pk,
            "group_roles": "{}",
            "user_roles": '["Admin"]',
            "verified_domains": "[]",
        },
    )

    assert response.status_code == 200  # the form again, with the error
    assert "Enter a JSON object of names to team roles" in response.content.decode()
    assert not SCIMTeamConfig.objects.filter(team=team).exists()
