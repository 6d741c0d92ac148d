"""Token expiry chosen when a token is issued: command, admin, team page and API, site default.

An expired token is refused with a 401 like a revoked one and shown as expired.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from scim_provisioning.models import SCIMToken
from scim_provisioning.tokens import issue_token

from .conftest import IdPClient
from .factories import UserFactory
from .team_helpers import logged_in, scim_works

pytestmark = pytest.mark.django_db


def _command(*args: str) -> str:
    out = StringIO()
    call_command("scim_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip().splitlines()[-1]


def _expires_in(token: SCIMToken) -> timedelta:
    token.refresh_from_db()
    return token.expires_at - token.created_at


def _close(actual: timedelta, expected: timedelta) -> bool:
    return abs(actual - expected) < timedelta(minutes=1)


def test_the_command_issues_a_token_that_expires(team):
    plaintext = _command("issue", "--team", "acme", "--expires-in", "90d")

    token = SCIMToken.objects.get()
    assert _close(_expires_in(token), timedelta(days=90))
    assert scim_works(plaintext)


def test_the_command_rotates_to_a_token_that_expires(team):
    issue_token(team)

    _command("rotate", "--team", "acme", "--expires-in", "12h", "--overlap-hours", "0")

    newest = SCIMToken.objects.order_by("-created_at").first()
    assert _close(_expires_in(newest), timedelta(hours=12))


def test_the_command_refuses_a_lifetime_it_cannot_read(team):
    with pytest.raises(CommandError, match="not a lifetime"):
        call_command("scim_token", "issue", "--team", "acme", "--expires-in", "soon")
    assert not SCIMToken.objects.exists()


def test_no_expiry_by_default(team):
    _command("issue", "--team", "acme")

    assert SCIMToken.objects.get().expires_at is None


def test_the_site_default_applies_unless_the_issuer_chooses(team, settings):
    settings.SCIM_PROVISIONING_TOKEN_DEFAULT_TTL = "30d"

    _command("issue", "--team", "acme")
    _command("issue", "--team", "acme", "--expires-in", "never")

    defaulted, never = SCIMToken.objects.order_by("created_at")
    assert _close(_expires_in(defaulted), timedelta(days=30))
    assert never.expires_at is None


def test_an_expired_token_is_a_401_like_a_revoked_one_and_shown_as_expired(team, owner_client):
    issued = issue_token(team, expires_in=timedelta(hours=1))
    SCIMToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = IdPClient(issued.plaintext).get("/Users")

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    status = owner_client.get("/api/teams/acme/scim/").json()
    assert [t["state"] for t in status["tokens"]] == ["expired"]
    assert _command("list", "--team", "acme").endswith("expired")


def test_the_api_issues_and_rotates_with_a_lifetime(team, owner_client):
    issued = owner_client.post(
        "/api/teams/acme/scim/tokens/", {"expires_in": "2w"}, content_type="application/json"
    )
    rotated = owner_client.post(
        "/api/teams/acme/scim/tokens/rotate/",
        {"expires_in": "90d", "overlap_hours": 1},
        content_type="application/json",
    )

    assert issued.status_code == rotated.status_code == 201
    first, second = SCIMToken.objects.order_by("created_at")
    assert _close(_expires_in(second), timedelta(days=90))
    assert issued.json()["expires_at"] is not None


def test_the_api_refuses_a_bad_lifetime(team, owner_client):
    response = owner_client.post(
        "/api/teams/acme/scim/tokens/", {"expires_in": "-5d"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "expires_in" in response.json()
    assert not SCIMToken.objects.exists()


def test_the_api_uses_the_site_default(team, owner_client, settings):
    settings.SCIM_PROVISIONING_TOKEN_DEFAULT_TTL = timedelta(days=7)

    owner_client.post("/api/teams/acme/scim/tokens/")

    assert _close(_expires_in(SCIMToken.objects.get()), timedelta(days=7))


def test_the_team_page_issues_with_a_lifetime(team, owner_client):
    response = owner_client.post("/teams/acme/scim/", {"action": "issue", "expires_in": "1w"})

    assert response.status_code == 200
    assert _close(_expires_in(SCIMToken.objects.get()), timedelta(weeks=1))


def test_the_team_page_refuses_a_bad_lifetime(team, owner_client):
    response = owner_client.post("/teams/acme/scim/", {"action": "issue", "expires_in": "ages"})

    assert response.status_code == 400
    assert "not a lifetime" in response.content.decode()
    assert not SCIMToken.objects.exists()


def test_the_admin_issues_with_a_lifetime(team):
    client = logged_in(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:scim_provisioning_scimteamconfig_scim", args=[team.pk])

    assert client.post(url, {"action": "issue", "expires_in": "90d"}).status_code == 200
    bad = client.post(url, {"action": "issue", "expires_in": "forever-ish"})

    assert _close(_expires_in(SCIMToken.objects.get()), timedelta(days=90))
    assert "not a lifetime" in bad.content.decode()
