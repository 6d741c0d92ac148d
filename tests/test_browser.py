"""In a real browser: staff turn SCIM on for a team and issue a token that is shown once;
then a team admin finds the SCIM base URL on the team's page.

Runs Debian's ``/usr/bin/chromium`` through the ``playwright`` package (no browser
download). Without either the test is skipped locally, and fails where ``CI`` is set.
Screenshots of each step go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMTeamConfig, SCIMToken

from .example_factories import MembershipFactory
from .factories import TeamFactory, UserFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"
TOKEN_RE = re.compile(r"^scim_[A-Za-z0-9_-]{43}$")
STAFF_EMAIL, STAFF_PASSWORD = "staff@example.com", "correct horse battery staple"


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is absent (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium; skipped without it (a failure where CI is set: see conftest.py).

    One per test module: starting Playwright's driver and Chromium costs about a second,
    and each test opens a fresh context (cookies, storage) of its own.
    """
    missing = _missing()
    if missing:
        pytest.skip(missing)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as monkeypatch:
        # Playwright's sync API keeps an event loop running in this thread while it is
        # started; the ORM calls of these tests (and of their fixtures, set up and torn
        # down meanwhile) are still plain synchronous ones.
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
                # The tests' ORM calls ran in Playwright's context, whose database
                # connection the test teardown cannot see: closed here, or PostgreSQL
                # refuses to drop the test database ("being accessed by other users").
                connections.close_all()


def screenshot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_staff_issue_a_token_once_and_a_team_admin_finds_the_base_url(browser, live_server):
    from playwright.sync_api import expect

    team = TeamFactory(name="Initech", slug="initech")
    get_user_model().objects.create_superuser(email=STAFF_EMAIL, password=STAFF_PASSWORD)
    base_url = f"{live_server.url}/scim/v2"

    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()

    # Staff log in to the admin.
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", STAFF_EMAIL)
    page.fill("#id_password", STAFF_PASSWORD)
    screenshot(page, "01-admin-login")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()

    # A team with no SCIM configuration yet: add one, which leads to the team's SCIM page.
    page.goto("/admin/scim_provisioning/scimteamconfig/")
    page.click(".object-tools a.addlink")
    page.fill("#id_team", str(team.pk))
    page.click("input[name=_save]")
    expect(page.locator("#scim-status")).to_contain_text("SCIM is disabled")
    expect(page.locator("#scim-base-url")).to_have_text(base_url)
    screenshot(page, "02-scim-page-disabled")

    page.click("input[value='Enable SCIM']")
    expect(page.locator("#scim-status")).to_contain_text("SCIM is enabled")
    assert SCIMTeamConfig.objects.get(team=team).enabled
    screenshot(page, "03-scim-enabled")

    # Issue a token: shown once, with a warning and a copy button.
    page.click("input[value='Issue token']")
    shown = page.locator("#scim-new-token")
    expect(shown).to_be_visible()
    token = shown.inner_text().strip()
    assert TOKEN_RE.match(token)
    expect(page.locator("#scim-new-token-panel")).to_contain_text("will not be shown again")
    page.click("button[data-copy='scim-new-token']")
    expect(page.locator("button[data-copy='scim-new-token']")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    screenshot(page, "04-token-shown-once")
    scim = context.request.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})
    assert scim.status == 200, scim.text()

    # A reload is a GET: no token on the page, and no second token issued.
    page.reload()
    expect(page.locator("#scim-tokens")).to_contain_text(token[:13])
    expect(page.locator("#scim-new-token")).to_have_count(0)
    assert token not in page.content()
    assert SCIMToken.objects.filter(team=team).count() == 1
    screenshot(page, "05-reloaded-no-token")
    context.close()

    # A team admin (not staff) finds the base URL on the team's own page.
    team_admin = UserFactory(email="admin@initech.example")
    MembershipFactory(team=team, user=team_admin, role=Membership.Role.ADMIN)
    client = Client()
    client.force_login(team_admin)
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    response = page.goto(f"/teams/{team.slug}/scim/")
    screenshot(page, "06-team-page")
    assert response is not None and response.status == 200, f"/teams/{team.slug}/scim/"
    expect(page.get_by_text(base_url).first).to_be_visible()
    assert token not in page.content()
    context.close()
