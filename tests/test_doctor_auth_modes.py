"""The connection doctor tests each way an IdP authenticates, against the live example site."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from scim_provisioning.doctor import Check, Outcome, diagnose
from scim_provisioning.models import SCIMOAuthClient, SCIMRequestLog, SCIMToken
from scim_provisioning.oauth.clients import create_client, revoke_client
from scim_provisioning.request_log_writer import writer
from scim_provisioning.tokens import issue_token

pytestmark = pytest.mark.django_db(transaction=True)


def outcome(report, check: Check) -> Outcome:
    return next(r.outcome for r in report.results if r.check == check)


@pytest.mark.parametrize("mode", ["bearer", "header", "basic"])
def test_each_header_mode_passes_the_round_trip(team, live_server, mode):
    token = issue_token(team).plaintext

    report = diagnose(f"{live_server.url}/scim/v2", token=token, auth_mode=mode)

    assert report.ok, [r.line for r in report.results]
    assert outcome(report, Check.ROUND_TRIP) == Outcome.PASS


def test_basic_with_a_revoked_token_fails_and_says_why(team, live_server):
    issued = issue_token(team)
    SCIMToken.objects.filter(pk=issued.token.pk).update(revoked_at=issued.token.created_at)

    report = diagnose(f"{live_server.url}/scim/v2", token=issued.plaintext, auth_mode="basic")

    assert not report.ok
    assert outcome(report, Check.LOCATION) == Outcome.FAIL


def test_oauth_with_a_client_fetches_a_token_as_entra_does(team, live_server):
    issued = create_client(team)

    report = diagnose(
        f"{live_server.url}/scim/v2",
        auth_mode="oauth",
        oauth_client=(issued.client.client_id, issued.secret),
    )

    assert report.ok, [r.line for r in report.results]
    assert outcome(report, Check.ROUND_TRIP) == Outcome.PASS
    assert SCIMToken.objects.filter(oauth_client=issued.client).count() == 1


def test_oauth_with_a_team_uses_a_throwaway_client_and_revokes_it(team, live_server):
    report = diagnose(f"{live_server.url}/scim/v2", auth_mode="oauth", team=team)

    assert report.ok, [r.line for r in report.results]
    throwaway = SCIMOAuthClient.objects.get(team=team)
    assert throwaway.revoked_at is not None
    assert not SCIMToken.objects.filter(oauth_client=throwaway, revoked_at__isnull=True).exists()


def test_oauth_with_a_revoked_client_fails_and_says_why(team, live_server):
    issued = create_client(team)
    revoke_client(issued.client)

    report = diagnose(
        f"{live_server.url}/scim/v2",
        auth_mode="oauth",
        oauth_client=(issued.client.client_id, issued.secret),
    )

    assert not report.ok
    failed = next(r for r in report.results if r.check == Check.LOCATION)
    assert failed.outcome == Outcome.FAIL
    assert "invalid_client" in failed.message or "401" in failed.message
    assert outcome(report, Check.ROUND_TRIP) == Outcome.SKIP
    writer.flush()
    assert issued.secret[5:] not in repr(list(SCIMRequestLog.objects.values()))


def test_the_command_tests_oauth_with_the_secret_from_the_environment(
    team, live_server, monkeypatch
):
    issued = create_client(team)
    monkeypatch.setenv("SCIM_DOCTOR_CLIENT_SECRET", issued.secret)
    out = io.StringIO()

    call_command(
        "scim_doctor",
        "--url",
        f"{live_server.url}/scim/v2",
        "--auth-mode",
        "oauth",
        "--client-id",
        issued.client.client_id,
        stdout=out,
    )

    assert out.getvalue().splitlines()[-1].startswith("No check failed: ")


def test_the_command_wants_the_secret_in_the_environment(team, live_server, monkeypatch):
    monkeypatch.delenv("SCIM_DOCTOR_CLIENT_SECRET", raising=False)

    with pytest.raises(CommandError, match="SCIM_DOCTOR_CLIENT_SECRET"):
        call_command(
            "scim_doctor",
            "--url",
            f"{live_server.url}/scim/v2",
            "--auth-mode",
            "oauth",
            "--client-id",
            "scimclient_" + "0" * 24,
            stdout=io.StringIO(),
        )
