"""The team SCIM API: JSON for a host's own front end, for the team's owners and admins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, override_settings
from django.utils import timezone

from example_project.teams.models import Membership
from scim_provisioning import tokens
from scim_provisioning.adapters import get_adapter
from scim_provisioning.models import SCIMRequestLog, SCIMTeamConfig, SCIMToken

from .factories import TeamFactory, UserFactory
from .team_helpers import logged_in, member_of, scim_works

DISABLED = "Contact support to enable SCIM."


def api(slug: str, path: str = "") -> str:
    return f"/api/teams/{slug}/scim/{path}"


def add_logs(team, count: int, marker: str) -> None:
    now = timezone.now()
    SCIMRequestLog.objects.bulk_create(
        SCIMRequestLog(
            team=team,
            method="GET",
            path=f"/scim/v2/Users/{marker}-{i}",
            status=200,
            resource_type="User",
            duration_ms=1.0,
            idp="okta",
            summary='{"password":"[redacted]"}',
            created=now - timedelta(minutes=count - i),
        )
        for i in range(count)
    )


# --- who may --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.ADMIN])
def test_owners_and_admins_see_the_status(team, role):
    response = logged_in(member_of(team, role)).get(api("acme"))

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    daily = body.pop("daily")
    assert len(daily) == 14 and daily[-1] == {
        "day": timezone.localdate().isoformat(),
        "requests": 0,
        "failed": 0,
    }
    assert body == {
        "enabled": True,
        "base_url": "http://testserver/scim/v2",
        "tokens": [],
        "recent_requests": [],
        "refused_links": [],
        "domains": [],
        "health": {
            "state": "not-connected",
            "summary": "No request from an identity provider yet.",
            "problems": [],
            "last_request": None,
            "last_success": None,
            "last_write": None,
            "requests_last_day": 0,
            "failed_last_day": 0,
            "error_rate": None,
            "silent_days": None,
        },
    }
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.ADMIN])
def test_owners_and_admins_issue_tokens(team, role):
    manager = member_of(team, role)

    response = logged_in(manager).post(api("acme", "tokens/"))

    assert response.status_code == 201, response.content
    plaintext = response.json()["token"]
    stored = SCIMToken.objects.get(team=team)
    assert stored.digest == tokens.digest(plaintext)
    assert stored.prefix == response.json()["prefix"] == plaintext[: tokens.DISPLAY_PREFIX_LENGTH]
    assert stored.created_by == manager
    assert stored.revoked_at is None and stored.expires_at is None


def test_a_plain_member_is_refused_with_403(team):
    client = logged_in(member_of(team))

    assert client.get(api("acme")).status_code == 403
    assert client.post(api("acme", "tokens/")).status_code == 403
    assert client.post(api("acme", "tokens/revoke-all/")).status_code == 403
    assert not SCIMToken.objects.filter(team=team).exclude(created_by=None).exists()


def test_other_teams_owner_gets_404_like_a_missing_team(team, other_team):
    client = logged_in(member_of(other_team, Membership.Role.OWNER))

    missing = client.get(api("no-such-team"))
    hidden = client.get(api("acme"))

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert client.post(api("acme", "tokens/")).status_code == 404
    assert client.get(api("globex")).status_code == 200


def test_staff_get_no_special_access(team):
    staff = UserFactory(is_staff=True, is_superuser=True)

    assert logged_in(staff).get(api("acme")).status_code == 404


def test_an_inactive_owner_is_not_a_member(team):
    client = logged_in(member_of(team, Membership.Role.OWNER, is_active=False))

    assert client.get(api("acme")).status_code == 404


def test_anonymous_is_refused_with_403(team):
    client = Client()

    assert client.get(api("acme")).status_code == 403
    assert client.post(api("acme", "tokens/")).status_code == 403
    assert client.get(api("no-such-team")).status_code == 403


def test_the_adapter_never_counts_an_anonymous_visitor_as_a_member(team):
    """The hooks a host's own pages call too (their docstring: anonymous, then no)."""
    adapter = get_adapter()

    assert adapter.is_team_member(team, AnonymousUser()) is False
    assert adapter.can_manage_scim(team, AnonymousUser()) is False


@override_settings(SCIM_PROVISIONING_MANAGER_ROLES=("owner",))
def test_manager_roles_setting(team, owner):
    admin = member_of(team, Membership.Role.ADMIN)

    assert logged_in(owner).get(api("acme")).status_code == 200
    assert logged_in(admin).get(api("acme")).status_code == 403


@override_settings(SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD=None)
def test_without_a_role_field_nobody_manages(team, owner):
    assert get_adapter().can_manage_scim(team, owner) is False
    assert logged_in(owner).get(api("acme")).status_code == 403


# --- SCIM switched off ----------------------------------------------------------------


def test_disabled_team_status_says_contact_support(disabled_team):
    client = logged_in(member_of(disabled_team, Membership.Role.OWNER))

    body = client.get(api("initech")).json()

    assert body["enabled"] is False
    assert body["message"] == DISABLED


@pytest.mark.parametrize("path", ["tokens/", "tokens/rotate/"])
def test_disabled_team_token_operations_are_409(disabled_team, path):
    client = logged_in(member_of(disabled_team, Membership.Role.OWNER))

    response = client.post(api("initech", path))

    assert response.status_code == 409
    assert response.json() == {"detail": DISABLED}
    assert not SCIMToken.objects.filter(team=disabled_team).exists()


def test_a_disabled_team_can_still_revoke_its_tokens(disabled_team):
    SCIMTeamConfig.objects.filter(team=disabled_team).update(enabled=True)
    tokens.issue_token(disabled_team)
    SCIMTeamConfig.objects.filter(team=disabled_team).update(enabled=False)
    client = logged_in(member_of(disabled_team, Membership.Role.OWNER))

    response = client.post(api("initech", "tokens/revoke-all/"))

    assert response.status_code == 200
    assert response.json() == {"revoked": 1}
    assert not SCIMToken.objects.filter(team=disabled_team, revoked_at__isnull=True).exists()


def test_team_without_scim_config_counts_as_disabled(db):
    team = TeamFactory(slug="hooli")
    client = logged_in(member_of(team, Membership.Role.OWNER))

    assert client.get(api("hooli")).json()["message"] == DISABLED
    assert client.post(api("hooli", "tokens/")).status_code == 409


# --- issue ----------------------------------------------------------------------------


def test_issue_returns_the_plaintext_once_and_it_authenticates(team, owner, owner_client):
    response = owner_client.post(api("acme", "tokens/"))

    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    plaintext = body["token"]
    assert plaintext.startswith("scim_")
    assert body["prefix"] == plaintext[: tokens.DISPLAY_PREFIX_LENGTH]
    assert body["state"] == "active"
    assert body["created_by"] == owner.email
    assert set(body) == {
        "token",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "expires_at",
        "state",
    }
    assert SCIMToken.objects.get(prefix=body["prefix"]).created_by == owner
    assert scim_works(plaintext)

    status = owner_client.get(api("acme"))
    assert plaintext.encode() not in status.content
    assert [t["prefix"] for t in status.json()["tokens"]] == [body["prefix"]]


def test_status_never_shows_a_plaintext_or_digest(team, owner_client):
    issued = [tokens.issue_token(team) for _ in range(2)]
    issued.append(tokens.rotate_token(team))
    tokens.revoke_tokens(team, prefix=issued[0].token.prefix)

    response = owner_client.get(api("acme"))

    assert response.status_code == 200
    for item in issued:
        assert item.plaintext.encode() not in response.content
        assert item.token.digest.encode() not in response.content
    listed = response.json()["tokens"]
    assert len(listed) == 3
    fields = {"prefix", "created_at", "created_by", "last_used_at", "expires_at", "state"}
    assert all(set(t) == fields for t in listed)
    assert {t["state"] for t in listed} == {"active", "revoked"}


def test_get_sets_the_csrf_cookie(team, owner):
    client = logged_in(owner, enforce_csrf_checks=True)

    response = client.get(api("acme"))

    assert "csrftoken" in response.cookies


# --- rotate ---------------------------------------------------------------------------


def test_rotate_keeps_the_old_token_for_the_overlap(team, owner_client):
    old = tokens.issue_token(team)
    before = timezone.now()

    response = owner_client.post(
        api("acme", "tokens/rotate/"), {"overlap_hours": 2}, content_type="application/json"
    )

    assert response.status_code == 201, response.content
    assert "no-store" in response["Cache-Control"]
    new = response.json()["token"]
    assert scim_works(new)
    assert scim_works(old.plaintext)
    old.token.refresh_from_db()
    assert (
        before + timedelta(hours=2) <= old.token.expires_at <= timezone.now() + timedelta(hours=2)
    )
    assert SCIMToken.objects.get(prefix=response.json()["prefix"]).expires_at is None


def test_a_rotated_token_names_who_rotated_it(team, owner, owner_client):
    tokens.issue_token(team)

    response = owner_client.post(api("acme", "tokens/rotate/"))

    assert response.status_code == 201
    assert response.json()["created_by"] == owner.email
    assert SCIMToken.objects.get(prefix=response.json()["prefix"]).created_by == owner


def test_rotate_with_no_overlap_ends_the_old_token(team, owner_client):
    old = tokens.issue_token(team)

    response = owner_client.post(api("acme", "tokens/rotate/"), {"overlap_hours": "0"})

    assert response.status_code == 201
    assert not scim_works(old.plaintext)
    assert scim_works(response.json()["token"])


@override_settings(SCIM_PROVISIONING_TOKEN_ROTATION_OVERLAP_HOURS=5)
def test_rotate_defaults_to_the_setting(team, owner_client):
    old = tokens.issue_token(team)

    assert owner_client.post(api("acme", "tokens/rotate/")).status_code == 201
    old.token.refresh_from_db()
    assert old.token.expires_at > timezone.now() + timedelta(hours=4.9)


@pytest.mark.parametrize("hours", [-1, "soon", 24 * 365])
def test_rotate_rejects_a_bad_overlap(team, owner_client, hours):
    old = tokens.issue_token(team)

    response = owner_client.post(
        api("acme", "tokens/rotate/"), {"overlap_hours": hours}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "overlap_hours" in response.json()
    assert SCIMToken.objects.filter(team=team).count() == 1
    old.token.refresh_from_db()
    assert old.token.expires_at is None


# --- revoke ---------------------------------------------------------------------------


def test_revoke_by_prefix(team, owner_client):
    kept, revoked = tokens.issue_token(team), tokens.issue_token(team)

    response = owner_client.post(api("acme", f"tokens/{revoked.token.prefix}/revoke/"))

    assert response.status_code == 200
    assert response.json() == {"revoked": 1}
    assert not scim_works(revoked.plaintext)
    assert scim_works(kept.plaintext)
    again = owner_client.post(api("acme", f"tokens/{revoked.token.prefix}/revoke/"))
    assert again.status_code == 404


def test_revoke_cannot_reach_another_teams_token(team, other_team, owner_client):
    theirs = tokens.issue_token(other_team)

    response = owner_client.post(api("acme", f"tokens/{theirs.token.prefix}/revoke/"))

    assert response.status_code == 404
    assert scim_works(theirs.plaintext)


def test_revoke_all(team, other_team, owner_client):
    mine = [tokens.issue_token(team) for _ in range(3)]
    theirs = tokens.issue_token(other_team)

    response = owner_client.post(api("acme", "tokens/revoke-all/"))

    assert response.status_code == 200
    assert response.json() == {"revoked": 3}
    assert not any(scim_works(t.plaintext) for t in mine)
    assert scim_works(theirs.plaintext)


# --- CSRF -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["tokens/", "tokens/rotate/", "tokens/revoke-all/", "tokens/scim_abcdefgh/revoke/"]
)
def test_session_posts_need_the_csrf_token(team, owner, path):
    existing = tokens.issue_token(team)
    client = logged_in(owner, enforce_csrf_checks=True)

    response = client.post(api("acme", path))

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert SCIMToken.objects.filter(team=team).count() == 1
    assert scim_works(existing.plaintext)
    existing.token.refresh_from_db()
    assert existing.token.expires_at is None


def test_a_post_with_the_csrf_token_goes_through(team, owner):
    client = logged_in(owner, enforce_csrf_checks=True)
    csrf = client.get(api("acme")).cookies["csrftoken"].value

    response = client.post(api("acme", "tokens/"), HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == 201, response.content


# --- recent requests ------------------------------------------------------------------


def test_recent_requests_are_the_teams_last_50(team, other_team, owner_client):
    add_logs(team, 55, "acme")
    add_logs(other_team, 5, "globex")

    recent = owner_client.get(api("acme")).json()["recent_requests"]

    assert len(recent) == 50
    assert all("/acme-" in row["path"] for row in recent)
    assert recent[0]["path"] == "/scim/v2/Users/acme-54"
    assert recent[-1]["path"] == "/scim/v2/Users/acme-5"
    assert set(recent[0]) == {"created", "idp", "method", "path", "status", "resource_type"}
    assert recent[0]["idp"] == "okta" and recent[0]["status"] == 200


def test_recent_requests_include_real_scim_traffic(team, owner_client, idp):
    idp.get("/Users")

    recent = owner_client.get(api("acme")).json()["recent_requests"]

    assert [(r["method"], r["status"], r["resource_type"]) for r in recent] == [
        ("GET", 200, "User")
    ]
