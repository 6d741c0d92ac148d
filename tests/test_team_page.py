"""The example site's team SCIM page: /teams/<slug>/scim/, for the team's owners and admins."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from example_project.teams.models import Membership
from scim_provisioning import tokens
from scim_provisioning.models import SCIMRequestLog, SCIMToken

from .factories import UserFactory
from .team_helpers import logged_in, member_of, scim_works

DISABLED = "Contact support to enable SCIM."
PAGE = "/teams/acme/scim/"
TOKEN_RE = re.compile(r"scim_[A-Za-z0-9_-]{43}")


def shown_tokens(response) -> list[str]:
    return TOKEN_RE.findall(response.content.decode())


# --- who may --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.ADMIN])
def test_owners_and_admins_see_the_page(team, role):
    client = logged_in(member_of(team, role))
    team.seats_used = 7
    team.save()

    response = client.get(PAGE)

    assert response.status_code == 200
    content = response.content.decode()
    assert "http://testserver/scim/v2" in content
    assert "Seats used: <strong>7</strong>" in content
    for action in ("issue", "rotate", "revoke_all"):
        assert f'name="action" value="{action}"' in content
    assert "csrfmiddlewaretoken" in content
    assert DISABLED not in content
    assert "no-store" in response["Cache-Control"]


def test_a_plain_member_gets_403(team):
    client = logged_in(member_of(team))

    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"action": "issue"}).status_code == 403
    assert not SCIMToken.objects.filter(team=team).exists()


def test_other_teams_owner_gets_404(team, other_team):
    client = logged_in(member_of(other_team, Membership.Role.OWNER))

    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, {"action": "issue"}).status_code == 404
    assert client.get("/teams/no-such-team/scim/").status_code == 404
    assert client.get("/teams/globex/scim/").status_code == 200
    assert not SCIMToken.objects.filter(team=team).exists()


def test_staff_get_no_special_access(team):
    client = logged_in(UserFactory(is_staff=True, is_superuser=True))

    assert client.get(PAGE).status_code == 404


def test_anonymous_is_sent_to_log_in(team):
    client = Client()

    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={PAGE}"
    assert client.post(PAGE, {"action": "issue"}).status_code == 302
    assert not SCIMToken.objects.filter(team=team).exists()
    assert client.get("/accounts/login/").status_code == 200


def test_logging_in_leads_back_to_the_page(team):
    user = member_of(team, Membership.Role.OWNER)
    user.set_password("correct horse battery staple")
    user.save()
    client = Client()

    response = client.post(
        f"/accounts/login/?next={PAGE}",
        {"username": user.email, "password": "correct horse battery staple", "next": PAGE},
    )

    assert response.status_code == 302 and response["Location"] == PAGE
    assert client.get(PAGE).status_code == 200


def test_home_links_a_member_to_their_team_page_only(team, other_team):
    page = logged_in(member_of(team)).get("/").content.decode()

    assert PAGE in page
    assert "globex" not in page.lower()


def test_the_anonymous_home_page_lists_no_team(team, other_team):
    """Listing every team would undercut the team page's 404-not-403 rule (issue 8)."""
    page = Client().get("/").content.decode()

    assert "acme" not in page.lower() and "globex" not in page.lower()
    assert "/accounts/login/" in page


# --- SCIM switched off ----------------------------------------------------------------


def test_disabled_team_says_contact_support(disabled_team):
    client = logged_in(member_of(disabled_team, Membership.Role.OWNER))

    response = client.get("/teams/initech/scim/")

    assert response.status_code == 200
    content = response.content.decode()
    assert DISABLED in content
    assert 'value="issue"' not in content
    assert "/scim/v2" not in content


@pytest.mark.parametrize("action", ["issue", "rotate"])
def test_disabled_team_token_operations_are_refused(disabled_team, action):
    client = logged_in(member_of(disabled_team, Membership.Role.OWNER))

    response = client.post("/teams/initech/scim/", {"action": action})

    assert response.status_code == 409
    assert DISABLED in response.content.decode()
    assert not SCIMToken.objects.filter(team=disabled_team).exists()


# --- issue ----------------------------------------------------------------------------


def test_issue_shows_the_token_once(team, owner, owner_client):
    response = owner_client.post(PAGE, {"action": "issue"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    content = response.content.decode()
    [plaintext] = set(shown_tokens(response))
    assert "will not be shown again" in content
    # The copy button and the reload-is-a-GET rule come from the app's static script.
    assert 'data-copy="new-token"' in content and "data-token-shown" in content
    assert "scim_provisioning/setup.js" in content
    token = SCIMToken.objects.get(team=team)
    assert token.prefix == plaintext[: tokens.DISPLAY_PREFIX_LENGTH]
    assert token.created_by == owner
    assert scim_works(plaintext)

    reloaded = owner_client.get(PAGE)
    assert shown_tokens(reloaded) == []
    assert plaintext.encode() not in reloaded.content
    assert token.prefix.encode() in reloaded.content
    assert b"will not be shown again" not in reloaded.content


def test_the_page_never_shows_a_plaintext_or_digest(team, owner_client):
    issued = [tokens.issue_token(team), tokens.rotate_token(team)]
    tokens.revoke_tokens(team, prefix=issued[0].token.prefix)

    response = owner_client.get(PAGE)

    for item in issued:
        assert item.plaintext.encode() not in response.content
        assert item.token.digest.encode() not in response.content
        assert item.token.prefix.encode() in response.content
    assert b"revoked" in response.content


# --- rotate ---------------------------------------------------------------------------


def test_rotate_keeps_the_old_token_for_the_overlap(team, owner_client):
    old = tokens.issue_token(team)
    before = timezone.now()

    response = owner_client.post(PAGE, {"action": "rotate", "overlap_hours": "3"})

    assert response.status_code == 200
    [new] = set(shown_tokens(response))
    assert new != old.plaintext
    assert scim_works(new)
    assert scim_works(old.plaintext)
    old.token.refresh_from_db()
    assert old.token.expires_at >= before + timedelta(hours=3)
    assert old.token.expires_at <= timezone.now() + timedelta(hours=3)


def test_rotate_with_no_overlap_ends_the_old_token(team, owner_client):
    old = tokens.issue_token(team)

    response = owner_client.post(PAGE, {"action": "rotate", "overlap_hours": "0"})

    [new] = set(shown_tokens(response))
    assert scim_works(new)
    assert not scim_works(old.plaintext)


def test_rotate_rejects_a_bad_overlap(team, owner_client):
    response = owner_client.post(PAGE, {"action": "rotate", "overlap_hours": "-2"})

    assert response.status_code == 400
    assert shown_tokens(response) == []
    assert not SCIMToken.objects.filter(team=team).exists()


# --- revoke ---------------------------------------------------------------------------


def test_revoke_by_prefix(team, owner_client):
    kept, revoked = tokens.issue_token(team), tokens.issue_token(team)

    response = owner_client.post(PAGE, {"action": "revoke", "prefix": revoked.token.prefix})

    assert response.status_code == 302 and response["Location"] == PAGE
    assert not scim_works(revoked.plaintext)
    assert scim_works(kept.plaintext)
    assert f"Token {revoked.token.prefix}… revoked." in owner_client.get(PAGE).content.decode()


def test_revoke_cannot_reach_another_teams_token(team, other_team, owner_client):
    theirs = tokens.issue_token(other_team)

    owner_client.post(PAGE, {"action": "revoke", "prefix": theirs.token.prefix})

    assert scim_works(theirs.plaintext)
    assert b"No unrevoked token has the prefix" in owner_client.get(PAGE).content


def test_revoke_all(team, other_team, owner_client):
    mine = [tokens.issue_token(team) for _ in range(2)]
    theirs = tokens.issue_token(other_team)

    response = owner_client.post(PAGE, {"action": "revoke_all"})

    assert response.status_code == 302
    assert not any(scim_works(t.plaintext) for t in mine)
    assert scim_works(theirs.plaintext)
    assert b"2 tokens revoked." in owner_client.get(PAGE).content


# --- CSRF -----------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["issue", "rotate", "revoke", "revoke_all"])
def test_posts_need_the_csrf_token(team, owner, action):
    existing = tokens.issue_token(team)
    client = logged_in(owner, enforce_csrf_checks=True)

    response = client.post(PAGE, {"action": action, "prefix": existing.token.prefix})

    assert response.status_code == 403
    assert SCIMToken.objects.filter(team=team).count() == 1
    assert scim_works(existing.plaintext)
    existing.token.refresh_from_db()
    assert existing.token.expires_at is None


def test_the_pages_forms_carry_the_csrf_token(team, owner):
    client = logged_in(owner, enforce_csrf_checks=True)
    page = client.get(PAGE).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    response = client.post(PAGE, {"action": "issue", "csrfmiddlewaretoken": csrf})

    assert response.status_code == 200
    assert len(set(shown_tokens(response))) == 1


# --- recent requests ------------------------------------------------------------------


def test_recent_requests_are_the_teams_last_50(team, other_team, owner_client):
    now = timezone.now()
    SCIMRequestLog.objects.bulk_create(
        SCIMRequestLog(
            team=t,
            method="PATCH",
            path=f"/scim/v2/Users/{t.slug}-{i:02d}",
            status=200,
            resource_type="User",
            duration_ms=1.0,
            idp="entra",
            created=now - timedelta(minutes=60 - i),
        )
        for t, count in ((team, 55), (other_team, 5))
        for i in range(count)
    )

    content = owner_client.get(PAGE).content.decode()

    shown = re.findall(r"/scim/v2/Users/([a-z]+-\d+)", content)
    assert len(shown) == 50
    assert shown[0] == "acme-54" and shown[-1] == "acme-05"
    assert not any(s.startswith("globex") for s in shown)
    assert "Microsoft Entra ID" in content
