"""Conformance: ``scim-sanity probe`` against the example site served over real HTTP.

pytest-django's ``live_server`` runs the example site in a thread; the probe runs
in a subprocess (``python -m scim_sanity probe``) and talks to it over the
network, so this exercises exactly what an IdP sees: the WSGI stack, the
database commits (the test is transactional, not wrapped in a rolled-back
transaction) and the HTTP headers.

Strict mode (scim-sanity's default): the server always answers
``application/scim+json`` and SCIM Error bodies, so no compat downgrade is needed.

What must pass: every check that is not about the agent extension. scim-sanity
has no category field; it groups checks by ``phase``. Phases 4, 5 and 5a
("Agent CRUD Lifecycle", "AgenticApplication CRUD Lifecycle", "Agent Rapid
Lifecycle") test draft-abbey-scim-agent-extension-00 (AI agents as SCIM
resources at ``/Agents`` and ``/AgenticApplications``), which this server does
not implement; the probe skips them because they are absent from
``/ResourceTypes``. Everything else must have status ``pass``: ``warn``,
``fail``, ``error`` and ``skip`` all fail the test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest
from django.test import Client

from scim_provisioning.tokens import issue_token

from .factories import SCIMTeamConfigFactory, TeamFactory

#: scim-sanity's generated userNames/emails are ``scim-sanity-test-<hex>@example.com``
#: (``--user-domain`` only takes effect together with ``--profile``), so the
#: probing team verifies that domain: creates then also pass the domain check.
PROBE_DOMAIN = "example.com"
PROBE_TIMEOUT = 180  # seconds for the whole probe run
REQUEST_TIMEOUT = 20  # seconds per request, scim-sanity's --timeout

#: Phases of the agent extension (draft-abbey-scim-agent-extension-00).
AGENT_PHASE_MARKERS = ("Agent CRUD", "AgenticApplication", "Agent Rapid")

#: scim-sanity 0.7.4 runs 3 discovery + 8 User lifecycle + 4 search + 3 error
#: checks, and 10 for the Group lifecycle (8 CRUD + add/remove members).
MIN_RAN = 28


def is_agent_check(result: dict[str, Any]) -> bool:
    phase = result.get("phase", "")
    return any(marker in phase for marker in AGENT_PHASE_MARKERS)


def summarize(report: dict[str, Any], failing: list[dict[str, Any]]) -> str:
    results = report["results"]
    counts = Counter(r["status"] for r in results)
    lines = [
        f"scim-sanity {report.get('scim_sanity_version')} ({report.get('mode')} mode): "
        f"{len(results)} results: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    ]
    phase = None
    for r in results:
        if r.get("phase") != phase:
            phase = r.get("phase")
            lines.append(f"  {phase}")
        marker = "!!" if any(r is f for f in failing) else "  "
        lines.append(f"  {marker} {r['status'].upper():<5} {r['name']}: {r.get('message', '')}")
        if r.get("details"):
            lines.append(f"           details: {r['details']}"[:2000])
    for issue in report.get("issues", []):
        lines.append(f"  issue [{issue['priority']}] {issue['title']}: {issue['fix']}")
    return "\n".join(lines)


@pytest.fixture
def probe_token(db) -> str:
    config = SCIMTeamConfigFactory(
        team=TeamFactory(slug="sanity", name="Sanity"), verified_domains=[PROBE_DOMAIN]
    )
    return issue_token(config.team).plaintext


def published_resource_types(token: str) -> set[str]:
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/scim/v2/ResourceTypes")
    assert response.status_code == 200, response.content
    return {rt["name"] for rt in json.loads(response.content)["Resources"]}


def run_probe(base_url: str, token: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    command = [
        sys.executable,
        "-m",
        "scim_sanity",
        "probe",
        base_url,
        "--token",  # scim-sanity takes the bearer token only as an option
        token,
        "--json-output",
        "--strict",
        "--i-accept-side-effects",
        "--timeout",
        str(REQUEST_TIMEOUT),
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False
    )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"scim-sanity exited {completed.returncode} without JSON.\n"
            f"stdout:\n{completed.stdout[-4000:]}\nstderr:\n{completed.stderr[-4000:]}",
            pytrace=False,
        )
    return completed, report


@pytest.mark.django_db(transaction=True)
def test_scim_sanity_probe(live_server, probe_token):
    assert published_resource_types(probe_token) == {"User", "Group"}

    completed, report = run_probe(f"{live_server.url}/scim/v2", probe_token)
    assert report.get("mode") == "strict", report.get("mode")
    results = report["results"]

    checked = [r for r in results if not is_agent_check(r)]
    failing = [r for r in checked if r["status"] != "pass"]
    summary = summarize(report, failing)
    if failing:
        pytest.fail(
            f"{len(failing)} non-agent check(s) did not pass (exit code "
            f"{completed.returncode}):\n{summary}",
            pytrace=False,
        )
    print(summary)  # visible with -s / -rP: what ran and what was skipped

    assert len(checked) >= MIN_RAN, f"only {len(checked)} non-agent checks ran:\n{summary}"
    assert any(r["name"] == "POST /Users" for r in checked), summary
    assert any(r["name"] == "POST /Groups" for r in checked), summary
    assert completed.returncode == 0, summary
