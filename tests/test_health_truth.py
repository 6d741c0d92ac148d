"""Issue 24: health never says "healthy" about a team that is switched off, has no live
token, or whose recent sample is failing; and a 14-day chart of requests and failures."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from scim_provisioning.health import HealthProblem, daily_requests, team_health
from scim_provisioning.models import HealthState, SCIMRequestLog, SCIMTeamConfig
from scim_provisioning.request_log_writer import writer

pytestmark = pytest.mark.django_db


def run_command() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("scim_health", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def switched_off_and_refused(team, idp, provision):
    """Succeeded once; staff switched SCIM off; then four PATCHes answered 403."""
    jane = provision("jane@acme.com")
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)
    for _ in range(4):
        response = idp.patch(
            f"/Users/{jane['id']}",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": False}],
            },
        )
        assert response.status_code == 403, response.content
    assert writer.flush()
    return jane


def test_a_switched_off_team_with_four_refusals_of_five_is_not_healthy(
    team, switched_off_and_refused
):
    health = team_health(team)

    assert health.state == HealthState.UNHEALTHY
    codes = {problem.code for problem in health.problems}
    assert codes == {HealthProblem.SWITCHED_OFF, HealthProblem.ERRORS}
    assert "switched off" in health.summary
    assert "4 of the last day's 5 requests failed" in health.summary


def test_scim_health_exits_1_naming_the_switched_off_team(team, switched_off_and_refused):
    code, out = run_command()

    assert code == 1
    assert "Acme" in out and "switched-off" in out


def test_four_failures_of_five_are_failing_with_scim_on(team, idp, provision):
    provision("jane@acme.com")
    for _ in range(4):
        assert idp.post("/Users", {"schemas": []}).status_code == 400
    assert writer.flush()

    health = team_health(team)

    assert health.state == HealthState.UNHEALTHY
    assert [p.code for p in health.problems] == [HealthProblem.ERRORS]


def test_a_quiet_switched_off_team_is_switched_off_not_healthy(team, idp, provision):
    provision("jane@acme.com")
    assert writer.flush()
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)
    SCIMRequestLog.objects.update(created=timezone.now() - timedelta(days=5))

    health = team_health(team)

    assert health.state == HealthState.SWITCHED_OFF
    assert not health.healthy
    assert run_command()[0] == 0  # switched off on purpose, and the IdP has stopped


def test_the_chart_counts_requests_and_failures_per_day_for_14_days(team, idp, provision):
    provision("jane@acme.com")
    assert idp.post("/Users", {"schemas": []}).status_code == 400
    assert writer.flush()
    SCIMRequestLog.objects.filter(status=201).update(created=timezone.now() - timedelta(days=3))

    days = daily_requests(team)

    assert len(days) == 14
    assert days[-1].day == timezone.localdate()
    assert (days[-1].requests, days[-1].failed) == (1, 1)
    assert (days[-4].requests, days[-4].failed) == (1, 0)
    assert sum(day.requests for day in days) == 2


def test_each_refused_write_of_a_switched_off_team_is_in_the_persons_timeline(
    team, switched_off_and_refused
):
    from scim_provisioning.models import SCIMUserEvent, TimelineAction

    failed = SCIMUserEvent.objects.filter(team=team, action=TimelineAction.WRITE_FAILED)

    assert failed.count() == 4
    assert {entry.outcome["status"] for entry in failed} == {403}
    assert all("switched off" in entry.outcome["hint"] for entry in failed)
    assert {str(entry.scim_user_id) for entry in failed} == {switched_off_and_refused["id"]}
