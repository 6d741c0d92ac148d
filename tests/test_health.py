"""Sync health: silence, no live token and failing requests make a connected team unhealthy.

The IdP's requests are real ones through the SCIM API; "three days ago" is their
request-log rows moved back in time.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from scim_provisioning.health import HealthProblem, record_health, team_health
from scim_provisioning.models import HealthState, SCIMRequestLog, SCIMTeamHealth, SCIMToken
from scim_provisioning.request_log_writer import writer
from scim_provisioning.signals import team_health_changed
from scim_provisioning.tokens import issue_token

from .conftest import IdPClient, patch_op

pytestmark = pytest.mark.django_db


def logged(days_ago: float = 0) -> None:
    """Write the log rows of the requests so far, moved ``days_ago`` back."""
    assert writer.flush()
    if days_ago:
        moved = timezone.now() - timedelta(days=days_ago)
        SCIMRequestLog.objects.update(created=moved)


def run_command(*args: str) -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("scim_health", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def signals():
    received = []

    def receiver(sender, health, previous, **kwargs):
        received.append((health.team.slug, health.state, previous))

    team_health_changed.connect(receiver)
    yield received
    team_health_changed.disconnect(receiver)


def test_a_team_whose_token_was_revoked_three_days_ago_is_flagged(team, idp, provision):
    provision("ada@acme.com")
    assert idp.get("/Users").status_code == 200
    logged(days_ago=3)
    SCIMToken.objects.filter(team=team).update(revoked_at=timezone.now() - timedelta(days=3))
    # The IdP keeps trying with the revoked token: refused (a request, but no success).
    assert idp.get("/Users").status_code == 401
    logged()

    status, out = run_command("--stale-after", "2d")

    assert status == 1
    assert out.startswith("Acme [silent,no-live-token] last request ")
    assert "No successful request from your identity provider for 3 days" in out
    assert "has no live token" in out
    assert SCIMTeamHealth.objects.get(team=team).state == HealthState.UNHEALTHY


def test_a_team_syncing_today_is_healthy(team, idp, provision):
    provision("ada@acme.com")
    user_id = idp.get("/Users").json()["Resources"][0]["id"]
    rename = patch_op({"op": "replace", "path": "displayName", "value": "Ada L."})
    assert idp.patch(f"/Users/{user_id}", rename).status_code == 200
    logged()

    status, out = run_command()

    assert status == 0, out
    assert "All 1 team(s) with SCIM are healthy" in out
    health = team_health(team)
    assert health.state == HealthState.HEALTHY
    assert health.last_write is not None and health.requests_last_day == 3


def test_the_stale_after_option_moves_the_threshold(team, idp):
    assert idp.get("/Users").status_code == 200
    logged(days_ago=3)

    assert run_command("--stale-after", "4d")[0] == 0
    status, out = run_command("--stale-after", "36h")
    assert status == 1 and "[silent]" in out


def test_a_silence_shorter_than_an_hour_is_told_in_minutes(team, idp):
    """Issue 24: ``--stale-after 1m`` said "for 0 hours"."""
    assert idp.get("/Users").status_code == 200
    logged(days_ago=3 / (24 * 60))

    status, out = run_command("--stale-after", "1m")

    assert status == 1
    assert "No successful request from your identity provider for 3 minutes:" in out


def test_a_team_never_connected_is_not_unhealthy(team, other_team):
    issue_token(team)

    status, out = run_command()

    assert status == 0
    assert "(2 not connected)" in out
    assert team_health(team).state == HealthState.NOT_CONNECTED


def test_a_high_error_rate_is_flagged_and_404s_are_not_errors(team, idp):
    for _ in range(6):
        assert idp.get("/Users/00000000-0000-0000-0000-000000000000").status_code == 404
    for _ in range(4):
        assert idp.post("/Users", {"schemas": [], "userName": ""}).status_code == 400
    logged()

    health = team_health(team)

    assert (health.requests_last_day, health.failed_last_day) == (10, 4)
    assert [p.code for p in health.problems] == [HealthProblem.ERRORS]
    assert health.summary.startswith("4 of the last day's 10 requests failed")


def test_searches_are_not_writes_and_the_doctor_is_not_the_idp(team, idp):
    search = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}
    assert idp.post("/Users/.search", search).status_code == 200
    doctor = IdPClient(issue_token(team).plaintext, HTTP_USER_AGENT="scim-doctor/1.0")
    assert doctor.post("/Groups", {"schemas": [], "displayName": "probe"}).status_code == 201
    logged()

    health = team_health(team)

    assert health.last_request is not None
    assert health.last_write is None
    assert health.requests_last_day == 1


def test_the_signal_fires_when_a_team_turns_unhealthy_and_when_it_recovers(
    team, idp, signals, django_capture_on_commit_callbacks
):
    def record(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            record_health(**kwargs)

    assert idp.get("/Users").status_code == 200
    logged()
    record()
    assert signals == []  # a healthy team seen for the first time: no news

    later = timezone.now() + timedelta(days=3)
    record(now=later)
    record(now=later + timedelta(hours=1))
    assert signals == [("acme", HealthState.UNHEALTHY, HealthState.HEALTHY)]

    assert idp.get("/Users").status_code == 200
    logged()
    record()
    assert signals[1:] == [("acme", HealthState.HEALTHY, HealthState.UNHEALTHY)]
    row = SCIMTeamHealth.objects.get(team=team)
    assert row.state == HealthState.HEALTHY and row.problems == []


def test_an_unhealthy_team_seen_for_the_first_time_is_signalled(
    team, idp, signals, django_capture_on_commit_callbacks
):
    assert idp.get("/Users").status_code == 200
    logged(days_ago=5)

    with django_capture_on_commit_callbacks(execute=True):
        record_health()

    assert signals == [("acme", HealthState.UNHEALTHY, None)]


def test_the_admin_page_shows_the_health(team, idp):
    from .test_admin_scim_page import client_for, page_url, staff

    assert idp.get("/Users").status_code == 200
    logged(days_ago=3)

    response = client_for(staff("view_scimtoken")).get(page_url(team))

    html = response.content.decode()
    assert 'class="scim-health scim-health-unhealthy"' in html
    assert "No successful request from your identity provider for 3 days" in html


def test_the_team_api_reports_the_health(team, idp, owner_client):
    assert idp.get("/Users").status_code == 200
    assert idp.get("/Groups/nope").status_code == 404
    logged()

    health = owner_client.get("/api/teams/acme/scim/").json()["health"]

    assert health["state"] == "healthy"
    assert health["problems"] == []
    assert (health["requests_last_day"], health["failed_last_day"]) == (2, 0)
    assert health["error_rate"] == 0.0 and health["silent_days"] == 0
    assert health["last_write"] is None and health["last_request"] is not None


def test_a_team_whose_requests_all_failed_is_unhealthy(team, idp):
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "jdoe"}
    assert idp.post("/Users", body).status_code == 400
    logged()

    health = team_health(team)

    assert health.state == HealthState.UNHEALTHY
    assert health.last_success is None and health.silent_days is None
    assert health.summary.startswith("No successful request from your identity provider yet")
