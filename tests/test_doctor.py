"""The connection doctor over real HTTP: a healthy live server, then broken proxies in front of it.

Each broken proxy must fail exactly the check it breaks, with the fix named;
the round trip must leave nothing behind (no group, no live token).
"""

from __future__ import annotations

import re
import ssl
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from scim_provisioning.doctor import Check, CheckResult, DoctorReport, Outcome, diagnose
from scim_provisioning.models import SCIMGroup, SCIMRequestLog, SCIMToken
from scim_provisioning.request_log_writer import writer
from scim_provisioning.tokens import issue_token

from .proxies import Fault, proxy, self_signed_certificate

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parent.parent


def outcomes(report) -> dict[Check, Outcome]:
    return {result.check: result.outcome for result in report.results}


def result(report, check: Check):
    return next(r for r in report.results if r.check == check)


def test_a_healthy_server_passes_every_check_and_leaves_nothing_behind(team, live_server):
    report = diagnose(f"{live_server.url}/scim/v2", team=team)

    assert report.ok, [r.line for r in report.results]
    assert outcomes(report) == {
        Check.REACHABLE: Outcome.PASS,
        Check.TLS: Outcome.WARN,  # plain http on 127.0.0.1
        Check.NO_REDIRECT: Outcome.PASS,
        Check.AUTHORIZATION: Outcome.PASS,
        Check.MEDIA_TYPE: Outcome.PASS,
        Check.CLOCK: Outcome.PASS,
        Check.LOCATION: Outcome.PASS,
        Check.ROUND_TRIP: Outcome.PASS,
    }
    assert not SCIMGroup.objects.filter(team=team).exists()
    throwaway = SCIMToken.objects.get(team=team)
    assert throwaway.revoked_at is not None and not throwaway.is_usable
    writer.flush()
    agents = set(SCIMRequestLog.objects.values_list("user_agent", flat=True))
    assert agents == {"scim-doctor/1.0"}


def test_a_given_token_is_used_and_kept(team, live_server):
    token = issue_token(team)

    report = diagnose(f"{live_server.url}/scim/v2", token=token.plaintext)

    assert report.ok
    assert result(report, Check.ROUND_TRIP).outcome == Outcome.PASS
    token.token.refresh_from_db()
    assert token.token.is_usable
    assert SCIMToken.objects.filter(team=team).count() == 1


def test_without_a_token_the_token_checks_are_skipped(live_server):
    report = diagnose(f"{live_server.url}/scim/v2")

    assert report.ok
    assert result(report, Check.LOCATION).outcome == Outcome.SKIP
    assert result(report, Check.ROUND_TRIP).outcome == Outcome.SKIP
    assert result(report, Check.AUTHORIZATION).outcome == Outcome.PASS


def test_a_revoked_token_fails_the_token_checks_with_the_fix(team, live_server):
    token = issue_token(team)
    SCIMToken.objects.filter(pk=token.token.pk).update(revoked_at=datetime.now(timezone.utc))

    report = diagnose(f"{live_server.url}/scim/v2", token=token.plaintext)

    failed = result(report, Check.LOCATION)
    assert failed.outcome == Outcome.FAIL
    assert "401" in failed.message and "issue a new one" in failed.fix


def test_a_proxy_stripping_authorization_is_named(team, live_server):
    with proxy(live_server.url, Fault.STRIP_AUTHORIZATION) as url:
        report = diagnose(f"{url}/scim/v2", team=team)

    assert not report.ok
    failed = result(report, Check.AUTHORIZATION)
    assert failed.outcome == Outcome.FAIL
    assert "removes the header" in failed.message
    assert "WSGIPassAuthorization On" in failed.fix
    assert not SCIMToken.objects.filter(team=team, revoked_at__isnull=True).exists()


def test_a_redirect_to_https_is_named_with_the_url_to_paste(team, live_server):
    with proxy(live_server.url, Fault.REDIRECT_TO_HTTPS) as url:
        report = diagnose(f"{url}/scim/v2", team=team)
        https_url = url.replace("http://", "https://") + "/scim/v2"

    failed = result(report, Check.NO_REDIRECT)
    assert failed.outcome == Outcome.FAIL
    assert "is redirected (301)" in failed.message
    assert failed.fix == f"Paste the https URL into the IdP: {https_url}"
    assert result(report, Check.ROUND_TRIP).outcome == Outcome.SKIP
    assert not SCIMToken.objects.filter(team=team).exists()  # stopped before any token


def test_a_trailing_slash_redirect_of_post_is_named(team, live_server):
    with proxy(live_server.url, Fault.REDIRECT_POST_TO_TRAILING_SLASH) as url:
        report = diagnose(f"{url}/scim/v2", team=team)

    failed = result(report, Check.NO_REDIRECT)
    assert failed.outcome == Outcome.FAIL
    assert failed.message.startswith(f"POST {url}/scim/v2/Users is redirected (301)")
    assert "a redirected POST arrives as a GET without its body" in failed.message
    assert "trailing-slash redirect" in failed.fix


def test_a_rewritten_host_is_named_with_the_base_url_setting(team, live_server):
    with proxy(live_server.url, Fault.REWRITE_HOST) as url:
        report = diagnose(f"{url}/scim/v2", team=team)

    failed = result(report, Check.LOCATION)
    assert failed.outcome == Outcome.FAIL
    assert "http://app.internal:8000/scim/v2/ServiceProviderConfig" in failed.message
    assert f'SCIM_PROVISIONING_BASE_URL = "{url}/scim/v2"' in failed.fix
    assert result(report, Check.ROUND_TRIP).outcome == Outcome.FAIL
    assert not SCIMGroup.objects.filter(team=team).exists()


def test_the_base_url_setting_repairs_the_rewritten_host(team, live_server):
    with proxy(live_server.url, Fault.REWRITE_HOST) as url:
        with override_settings(SCIM_PROVISIONING_BASE_URL=f"{url}/scim/v2"):
            report = diagnose(f"{url}/scim/v2", team=team)

    assert report.ok, [r.line for r in report.results]


def test_a_self_signed_certificate_fails_tls(team, live_server, tmp_path):
    certificate = self_signed_certificate(tmp_path)
    with proxy(live_server.url, certificate=certificate) as url:
        report = diagnose(f"{url}/scim/v2", team=team)

    failed = result(report, Check.TLS)
    assert failed.outcome == Outcome.FAIL
    assert "not trusted" in failed.message and "self-signed" in failed.message
    assert "public CA" in failed.fix
    assert result(report, Check.ROUND_TRIP).outcome == Outcome.SKIP
    assert not SCIMToken.objects.filter(team=team).exists()


def test_a_trusted_certificate_passes_behind_a_tls_proxy(team, live_server, tmp_path):
    certificate = self_signed_certificate(tmp_path)
    trust = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    with proxy(live_server.url, certificate=certificate) as url:
        with override_settings(SCIM_PROVISIONING_BASE_URL=f"{url}/scim/v2"):
            report = diagnose(f"{url}/scim/v2", team=team, ssl_context=trust)

    assert report.ok, [r.line for r in report.results]
    assert result(report, Check.TLS).outcome == Outcome.PASS


def test_a_skewed_clock_fails(live_server):
    ahead = lambda: datetime.now(timezone.utc) - timedelta(minutes=30)  # noqa: E731

    report = diagnose(f"{live_server.url}/scim/v2", clock=ahead)

    failed = result(report, Check.CLOCK)
    assert failed.outcome == Outcome.FAIL
    assert "ahead" in failed.message and "NTP" in failed.fix


def test_nothing_listening_is_unreachable():
    report = diagnose("http://127.0.0.1:9/scim/v2", timeout=2)

    failed = result(report, Check.REACHABLE)
    assert failed.outcome == Outcome.FAIL and "firewall" in failed.fix
    assert {r.outcome for r in report.results[1:]} == {Outcome.SKIP}


def test_a_page_that_is_not_scim_fails_the_media_type(live_server):
    report = diagnose(f"{live_server.url}/not-scim")

    assert result(report, Check.MEDIA_TYPE).outcome == Outcome.FAIL
    assert result(report, Check.AUTHORIZATION).outcome == Outcome.FAIL


def test_the_command_prints_one_line_per_check_and_fails(team, live_server, capsys):
    with proxy(live_server.url, Fault.STRIP_AUTHORIZATION) as url:
        with pytest.raises(CommandError) as raised:
            call_command("scim_doctor", "--url", f"{url}/scim/v2", "--team", "acme")

    assert raised.value.returncode == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(Check) + 1  # and the team's deprovisioning guard (issue 25)
    assert lines[-1].startswith("Deprovisioning guard: on")
    assert lines[3].startswith("FAIL  authorization-header")
    assert "Fix: Pass Authorization through" in lines[3]


def test_the_summary_counts_warnings_and_skips_instead_of_all_passed(live_server, capsys):
    """Issue 24: "All checks passed." under a WARN and two SKIPs."""
    call_command("scim_doctor", "--url", f"{live_server.url}/scim/v2")

    lines = capsys.readouterr().out.splitlines()
    assert [line[:4] for line in lines[:-1]].count("SKIP") == 2
    assert lines[-1] == "No check failed: 5 passed, 1 warned, 2 skipped."


def test_the_summary_says_all_passed_only_when_every_check_passed():
    passed = DoctorReport(
        "https://site.example/scim/v2", [CheckResult(c, Outcome.PASS, "") for c in Check]
    )

    assert passed.summary == f"All {len(Check)} checks passed."


def test_a_failing_command_counts_every_outcome(team, live_server):
    with proxy(live_server.url, Fault.STRIP_AUTHORIZATION) as url:
        with pytest.raises(CommandError) as raised:
            call_command("scim_doctor", "--url", f"{url}/scim/v2")

    assert str(raised.value) == "1 of 8 checks failed: 4 passed, 1 warned, 2 skipped."


def test_the_command_exits_non_zero_from_a_shell(team, live_server):
    """The exit status cron and CI read (a separate process; --token needs no database)."""
    token = issue_token(team).plaintext
    with proxy(live_server.url, Fault.REWRITE_HOST) as url:
        broken = subprocess.run(
            [sys.executable, "manage.py", "scim_doctor", "--url", f"{url}/scim/v2"],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={"SCIM_DOCTOR_TOKEN": token, "PATH": "/usr/bin:/bin"},
            timeout=60,
        )
    healthy = subprocess.run(
        [sys.executable, "manage.py", "scim_doctor", "--url", f"{live_server.url}/scim/v2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"SCIM_DOCTOR_TOKEN": token, "PATH": "/usr/bin:/bin"},
        timeout=60,
    )

    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "FAIL  location" in broken.stdout
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    # Plain http on this machine is a warning, and the summary counts it (issue 24).
    assert healthy.stdout.rstrip().endswith("No check failed: 7 passed, 1 warned.")


# --- the "Check connection" buttons ---------------------------------------------------------


def _doctor_rows(response) -> list[str]:
    html = response.content.decode()
    assert 'id="scim-doctor-results"' in html, html
    return re.findall(r'<tr class="scim-doctor-(\w+)">\s*<td><strong>\w+</strong></td>\s*'
                      r"<td><code>([\w-]+)</code>", html)  # fmt: skip


def test_the_admin_button_checks_the_configured_base_url(team, live_server):
    from .test_admin_scim_page import client_for, page_url, staff

    admin = staff("view_scimtoken", "add_scimtoken")
    with proxy(live_server.url, Fault.STRIP_AUTHORIZATION) as url:
        with override_settings(SCIM_PROVISIONING_BASE_URL=f"{url}/scim/v2"):
            response = client_for(admin).post(page_url(team), {"action": "check_connection"})

    assert response.status_code == 200
    rows = dict((check, outcome) for outcome, check in _doctor_rows(response))
    assert rows["authorization-header"] == "fail"
    assert "WSGIPassAuthorization On" in response.content.decode()
    token = SCIMToken.objects.get(team=team)  # the throwaway one, revoked
    assert token.created_by == admin and token.revoked_at is not None


def test_the_admin_button_without_issue_permission_uses_no_token(team, live_server):
    from .test_admin_scim_page import client_for, page_url, staff

    with override_settings(SCIM_PROVISIONING_BASE_URL=f"{live_server.url}/scim/v2"):
        response = client_for(staff("view_scimtoken")).post(
            page_url(team), {"action": "check_connection"}
        )

    rows = dict((check, outcome) for outcome, check in _doctor_rows(response))
    assert rows["reachable"] == "pass" and rows["round-trip"] == "skip"
    assert not SCIMToken.objects.filter(team=team).exists()


def test_the_team_page_button_runs_the_doctor_for_its_managers(team, owner_client, live_server):
    with override_settings(SCIM_PROVISIONING_BASE_URL=f"{live_server.url}/scim/v2"):
        response = owner_client.post("/teams/acme/scim/", {"action": "check_connection"})

    assert response.status_code == 200
    rows = dict((check, outcome) for outcome, check in _doctor_rows(response))
    assert rows["round-trip"] == "pass" and rows["location"] == "pass"
    assert "No check failed: 7 passed, 1 warned." in response.content.decode()
    assert not SCIMToken.objects.filter(team=team, revoked_at__isnull=True).exists()
