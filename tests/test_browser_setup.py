"""In a real browser, as a new team admin would: from "SCIM enabled" to a connected Okta
without opening another document, under a strict Content-Security-Policy; then the
essentials again with JavaScript off, and a first failure explained with its fix.

Screenshots go to ``test-artifacts/browser/setup-*.png``.
"""

from __future__ import annotations

import re
import time

import pytest
from django.conf import settings
from django.test import Client

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMGroup, SCIMRequestLog, SCIMToken, SCIMUser
from scim_provisioning.request_log_writer import writer

from .example_factories import MembershipFactory
from .factories import UserFactory
from .live_client import LiveIdPClient
from .test_browser import browser, screenshot  # noqa: F401 - the fixture

STRICT_CSP = "default-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
TOKEN_RE = re.compile(r"^scim_[A-Za-z0-9_-]{43}$")
OKTA = {"HTTP_USER_AGENT": "Okta SCIM Client 1.0.0"}


def _session_context(browser, live_server, user, *, javascript: bool = True):  # noqa: F811
    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=javascript)
    context.set_default_timeout(15_000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )

    # Serve every page of the site with a strict CSP, as a careful host would.
    def with_csp(route):
        response = route.fetch()
        route.fulfill(
            response=response,
            headers={**response.headers, "content-security-policy": STRICT_CSP},
        )

    context.route("**/teams/**", with_csp)
    return context


def _user(email: str, role=Membership.Role.OWNER, team=None):
    user = UserFactory(email=email)
    MembershipFactory(team=team, user=user, role=role)
    return user


@pytest.mark.django_db(transaction=True)
def test_a_new_team_admin_connects_okta_from_the_setup_page(browser, live_server, team, settings):  # noqa: F811
    from playwright.sync_api import expect

    # Check connection calls only the configured base URL (issue 21).
    settings.SCIM_PROVISIONING_BASE_URL = f"{live_server.url}/scim/v2"

    admin = _user("it-admin@acme.com", team=team)
    context = _session_context(browser, live_server, admin)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.clock.install()  # the status poll's 4 s are fast-forwarded below, not waited for
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text or message.type == "error"
            else None
        ),
    )

    # From the team's SCIM page to the guided setup.
    page.goto("/teams/acme/scim/")
    violations.clear()  # the example site's own page has inline styles; the setup page has none
    page.click("#guided-setup")
    expect(page.locator("h1")).to_have_text("Set up SCIM provisioning for Acme")
    screenshot(page, "setup-01-choose-idp")

    page.click("text=Okta")
    expect(page.locator("#guide h3").first).to_contain_text("1. Which app")
    expect(page.locator("#guide")).to_contain_text("SCIM connector base URL")
    expect(page.locator("#scim-setup-base-url")).to_have_text(f"{live_server.url}/scim/v2")
    expect(page.locator("#guide")).to_contain_text(f"{live_server.url}/scim/v2")
    expect(page.locator("#scim-setup-headline")).to_have_text("No live token yet.")
    screenshot(page, "setup-02-okta-guide")

    # A token issued on the spot, shown once, already in the guide's field table.
    page.click("#scim-setup-issue")
    token = page.locator("#scim-setup-token").inner_text().strip()
    assert TOKEN_RE.match(token)
    expect(page.locator("#guide tr", has_text="Authorization (Bearer)")).to_contain_text(token)
    page.click("button[data-copy='scim-setup-token']")  # visible: the static script ran
    expect(page.locator("button[data-copy='scim-setup-token']")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    expect(page.locator("#scim-setup-headline")).to_have_text(
        "Waiting for the first request from Okta…"
    )
    screenshot(page, "setup-03-token-issued")

    # Okta tests the connector and pushes three people; the page notices by itself.
    okta = LiveIdPClient(live_server.url, token)
    assert okta.get("/Users", {"startIndex": "1", "count": "2"}, **OKTA).status_code == 200
    for name in ("ada", "grace", "edsger"):
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": f"{name}@acme.com",
            "emails": [{"value": f"{name}@acme.com", "primary": True}],
            "active": True,
        }
        assert okta.post("/Users", body, **OKTA).status_code == 201
    page.clock.fast_forward(4_000)  # setup.js polls the status every 4 s
    expect(page.locator("#scim-setup-headline")).to_have_text(
        re.compile(
            r"^Connected: Okta, first request \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, "
            r"3 people provisioned\.$"
        )
    )
    expect(page.locator("#scim-setup-status")).to_have_attribute("data-state", "connected")
    screenshot(page, "setup-04-connected")

    # The connection doctor from the same page.
    page.click("#scim-setup-check")
    expect(page.locator("#scim-doctor-results caption")).to_contain_text(
        "No check failed: 7 passed, 1 warned."  # plain http on this machine warns
    )
    expect(page.locator("#scim-doctor-results")).to_contain_text("round-trip")
    screenshot(page, "setup-05-check-connection")
    assert token not in page.content()  # the POST that showed it is not replayed

    assert violations == []
    assert SCIMUser.objects.filter(team=team, active=True).count() == 3
    assert not SCIMGroup.objects.filter(team=team).exists()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_essentials_work_and_a_failure_is_explained(
    browser,  # noqa: F811
    live_server,
    team,
):
    from playwright.sync_api import expect

    admin = _user("it-admin@acme.com", team=team)
    context = _session_context(browser, live_server, admin, javascript=False)
    page = context.new_page()

    page.goto("/teams/acme/scim/setup/")
    page.click("text=Microsoft Entra ID")
    expect(page.locator("#guide")).to_contain_text("Tenant URL")
    page.click("#scim-setup-issue")
    token = page.locator("#scim-setup-token").inner_text().strip()
    assert TOKEN_RE.match(token)
    assert SCIMToken.objects.get(team=team).created_by == admin
    expect(page.locator("#guide tr", has_text="Secret Token").first).to_contain_text(token)
    screenshot(page, "setup-06-no-javascript-token")

    # Entra's first request fails: its userName is not an email and it sent no mail.
    entra = LiveIdPClient(live_server.url, token)
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "jdoe"}
    headers = {"HTTP_USER_AGENT": "Azure-SCIM-Client"}
    assert entra.post("/Users", body, **headers).status_code == 400
    # The log is written after the response (a background writer): once it is, refresh.
    deadline = time.monotonic() + 10
    while not SCIMRequestLog.objects.filter(team=team, status=400).exists():
        assert time.monotonic() < deadline, "the failed request was never logged"
        writer.flush()
        time.sleep(0.01)
    page.click("#scim-setup-refresh")
    expect(page.locator("#scim-setup-headline")).to_contain_text(
        "Microsoft Entra ID's first request failed: 400 for POST /scim/v2/Users"
    )
    expect(page.locator("#scim-setup-failure")).to_contain_text(
        "Fix: Map userName (or emails) to the person's email."
    )
    screenshot(page, "setup-07-first-failure-explained")
    context.close()
