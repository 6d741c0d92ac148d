"""The doctor's own tokens and requests are told apart from the IdP's (issue 24).

Every "Check connection" used to leave a revoked token row "created by" the manager
in each token list, unexplained, and its requests showed as "Other" in the recent
activity. The throwaway token is now marked as the doctor's: kept (who ran a check,
and when, stays on record for staff), but out of the team's token lists, out of the
setup status and out of health's "live token"; its requests are labelled.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from scim_provisioning.health import HealthProblem, team_health
from scim_provisioning.models import IdentityProvider, SCIMToken
from scim_provisioning.request_log_writer import writer
from scim_provisioning.setup.status import connection_status
from scim_provisioning.tokens import issue_token

from .conftest import IdPClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def checked(team, owner, owner_client, live_server):
    """The owner pressed "Check connection" on the team page; it passed."""
    with override_settings(SCIM_PROVISIONING_BASE_URL=f"{live_server.url}/scim/v2"):
        response = owner_client.post("/teams/acme/scim/", {"action": "check_connection"})
    assert response.status_code == 200
    assert "No check failed" in response.content.decode()
    writer.flush()
    return team


def test_the_doctors_token_is_kept_and_marked_as_its(checked, owner):
    token = SCIMToken.objects.get(team=checked)

    assert token.is_doctor
    assert token.created_by == owner and token.revoked_at is not None


def test_the_team_api_lists_no_doctor_token(checked, owner_client):
    idp_token = issue_token(checked)

    listed = owner_client.get("/api/teams/acme/scim/").json()["tokens"]

    assert [token["prefix"] for token in listed] == [idp_token.token.prefix]


def test_the_team_page_lists_no_doctor_token(checked, owner_client):
    doctor_prefix = SCIMToken.objects.get(team=checked).prefix

    html = owner_client.get("/teams/acme/scim/").content.decode()

    assert doctor_prefix not in html
    assert "No tokens yet." in html


def test_the_admin_page_lists_no_doctor_token(checked):
    from .test_admin_scim_page import client_for, page_url, staff

    doctor_prefix = SCIMToken.objects.get(team=checked).prefix
    html = client_for(staff("view_scimtoken")).get(page_url(checked)).content.decode()

    assert doctor_prefix not in html


def test_scim_token_list_shows_no_doctor_token(checked):
    out = StringIO()
    call_command("scim_token", "list", "--team", "acme", stdout=out)

    assert out.getvalue().strip() == "No tokens."


def test_the_doctors_requests_are_labelled_in_recent_activity(checked, owner_client):
    recent = owner_client.get("/api/teams/acme/scim/").json()["recent_requests"]
    html = owner_client.get("/teams/acme/scim/").content.decode()

    assert recent and {entry["idp"] for entry in recent} == {IdentityProvider.DOCTOR}
    assert "<td>Connection check</td>" in html
    assert "<td>Other</td>" not in html


def test_a_live_doctor_token_is_neither_the_setup_status_nor_a_live_token(team):
    idp_token = issue_token(team)
    assert IdPClient(idp_token.plaintext).get("/Users").status_code == 200
    writer.flush()
    SCIMToken.objects.filter(pk=idp_token.token.pk).update(revoked_at=idp_token.token.created_at)
    issue_token(team, doctor=True)  # a check in progress, or one whose revocation never ran

    assert connection_status(team).headline == "No live token yet."
    problems = {problem.code for problem in team_health(team).problems}
    assert HealthProblem.NO_LIVE_TOKEN in problems


def test_parallel_checks_each_revoke_their_own_token_and_leave_the_idps(team, live_server):
    """Four managers press "Check connection" at once (threads against the live server).

    Each run issues, uses and revokes its own throwaway token; none revokes another's
    or the IdP's, none leaves a group behind, and the token list stays the IdP's.
    """
    import threading

    from scim_provisioning.doctor import diagnose
    from scim_provisioning.models import SCIMGroup

    idp_token = issue_token(team)
    barrier = threading.Barrier(4, timeout=60)
    reports: list = []

    def press() -> None:
        barrier.wait()
        reports.append(diagnose(f"{live_server.url}/scim/v2", team=team, timeout=60))

    threads = [threading.Thread(target=press) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(reports) == 4
    assert all(report.ok for report in reports), [r.line for rep in reports for r in rep.results]
    doctors = SCIMToken.objects.filter(team=team, is_doctor=True)
    assert doctors.count() == 4 and not doctors.filter(revoked_at__isnull=True).exists()
    assert list(SCIMToken.objects.for_idp().filter(team=team)) == [idp_token.token]
    assert SCIMToken.objects.get(pk=idp_token.token.pk).is_usable
    assert not SCIMGroup.objects.filter(team=team).exists()
