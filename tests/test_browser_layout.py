"""In a real browser, as a new IT admin on ``make demo`` would: sign in, read every SCIM page
at a laptop's and a phone's width, with a keyboard, and with axe-core checking each.

Every page is screenshotted at 1280 and 390 CSS pixels into ``test-artifacts/browser/``
(``layout-<page>-<width>.png``) and must have no serious or critical axe-core violation.
The team, setup and people pages must not scroll sideways at either width (``scrollWidth``, the
document's laid-out width, at most the viewport's); the admin's pages at 1280 px.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMToken, SCIMUser
from scim_provisioning.team_api import services

from .accessibility import (
    VIEWPORTS,
    blocking_violations,
    horizontal_overflow,
    overflowing_elements,
    screenshot,
)
from .test_browser import browser  # noqa: F401 - the fixture
from .test_browser_setup import _user
from .test_browser_timeline import _okta_moves_jane_around

STAFF_EMAIL = "staff@example.com"


def _context(browser, live_server, user, *, javascript: bool = True):  # noqa: F811
    """A browser signed in as ``user`` (a session cookie: the login form is tested on its own)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=javascript, viewport=VIEWPORTS["1280"]
    )
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
    return context


@pytest.fixture
def history(live_server, team):
    """Acme after Okta provisioned, renamed, regrouped and deactivated Jane, with a
    domain to verify: every table of the pages has rows."""
    owner = _user("it-admin@acme.com", role=Membership.Role.OWNER, team=team)
    jane = _okta_moves_jane_around(live_server, team)
    services.add_domain(team, owner, "acme.com")
    return {"owner": owner, "jane": jane}


def _check_page(page: Any, url: str, name: str, *, fits_at: tuple[str, ...]) -> list[str]:
    """Open ``url`` at each width: screenshot, axe-core, and the sideways-scroll check."""
    problems = []
    for width, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        response = page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        screenshot(page, f"layout-{name}-{width}")
        problems += [f"{name} at {width} px: {line}" for line in blocking_violations(page)]
        if width in fits_at and (overflow := horizontal_overflow(page)) > 0:
            culprits = ", ".join(overflowing_elements(page))
            problems.append(f"{name} at {width} px scrolls sideways by {overflow} px: {culprits}")
    return problems


@pytest.mark.django_db(transaction=True)
def test_the_demo_owner_signs_in_from_the_home_page_and_lands_on_the_team_page(
    browser,  # noqa: F811
    live_server,
):
    from playwright.sync_api import expect

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    printed = re.search(r"owner@acme\.example / (\S+)", out.getvalue())
    assert printed, out.getvalue()  # seed_demo prints how to sign in as acme's owner

    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems = _check_page(page, "/", "home", fits_at=("1280", "390"))
    problems += _check_page(page, "/accounts/login/", "login", fits_at=("1280", "390"))
    assert problems == [], "\n".join(problems)
    page.set_viewport_size(VIEWPORTS["390"])  # signing in on a phone
    page.goto("/")
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill("owner@acme.example")
    page.get_by_label("Password").fill(printed.group(1))
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("SCIM provisioning for Acme Corp")
    assert page.url == f"{live_server.url}/teams/acme/scim/"
    screenshot(page, "layout-demo-signed-in")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_team_page_fits_a_phone_and_a_laptop_and_passes_axe(browser, live_server, history):  # noqa: F811
    context = _context(browser, live_server, history["owner"])
    page = context.new_page()
    problems = _check_page(page, "/teams/acme/scim/", "team", fits_at=("1280", "390"))
    assert problems == [], "\n".join(problems)
    assert page.locator("meta[name=viewport]").count() == 1
    assert page.locator("main").count() == 1
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_people_page_fits_a_phone_and_a_laptop_and_passes_axe(browser, live_server, history):  # noqa: F811
    context = _context(browser, live_server, history["owner"])
    page = context.new_page()
    problems = _check_page(page, "/teams/acme/scim/people/", "people", fits_at=("1280", "390"))
    problems += _check_page(
        page, "/teams/acme/scim/people/?q=okta", "people-search", fits_at=("1280", "390")
    )
    assert problems == [], "\n".join(problems)
    assert page.locator("meta[name=viewport]").count() == 1
    assert page.locator("main").count() == 1
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_setup_page_fits_a_phone_and_a_laptop_and_passes_axe(browser, live_server, history):  # noqa: F811
    context = _context(browser, live_server, history["owner"])
    page = context.new_page()
    problems = _check_page(page, "/teams/acme/scim/setup/", "setup-choose", fits_at=("1280", "390"))
    problems += _check_page(
        page, "/teams/acme/scim/setup/?idp=okta", "setup-okta", fits_at=("1280", "390")
    )
    assert problems == [], "\n".join(problems)
    assert page.locator("meta[name=viewport]").count() == 1
    assert page.locator("main").count() == 1
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_admin_scim_pages_pass_axe_and_fit_a_laptop(browser, live_server, history, team):  # noqa: F811
    staff = get_user_model().objects.create_superuser(email=STAFF_EMAIL, password=None)
    jane = SCIMUser.objects.get(pk=history["jane"])
    context = _context(browser, live_server, staff)
    page = context.new_page()
    pages = {
        "admin-team-scim": f"/admin/scim_provisioning/scimteamconfig/{team.pk}/scim/",
        "admin-scim-user": f"/admin/scim_provisioning/scimuser/{jane.pk}/change/",
        "admin-scim-users": "/admin/scim_provisioning/scimuser/",
        "admin-timeline": "/admin/scim_provisioning/scimuserevent/",
        "admin-requests": "/admin/scim_provisioning/scimrequestlog/",
    }
    problems = []
    for name, url in pages.items():
        problems += _check_page(page, url, name, fits_at=("1280",))
    assert problems == [], "\n".join(problems)
    context.close()


#: What hides part of an element: the viewport, or an ancestor that clips or scrolls its
#: overflow (the admin's form row hid the Token and Request columns without a scroll bar).
CLIPPED_BY = """element => {
    const box = element.getBoundingClientRect();
    if (box.left < 0 || box.right > window.innerWidth) return 'the viewport';
    for (let parent = element.parentElement; parent; parent = parent.parentElement) {
        if (getComputedStyle(parent).overflowX === 'visible') continue;
        const outer = parent.getBoundingClientRect();
        if (box.left < outer.left - 1 || box.right > outer.right + 1
                || parent.scrollWidth > parent.clientWidth + 1 || parent.scrollLeft > 0)
            return parent.tagName + '#' + parent.id + '.' + parent.className;
    }
    return null;
}"""


@pytest.mark.django_db(transaction=True)
def test_the_admin_timeline_shows_every_column_at_1280_px(browser, live_server, history):  # noqa: F811
    """The Token and Request columns sat off screen: the table outgrew the admin's form row."""
    staff = get_user_model().objects.create_superuser(email=STAFF_EMAIL, password=None)
    context = _context(browser, live_server, staff)
    page = context.new_page()
    page.goto(f"/admin/scim_provisioning/scimuser/{history['jane']}/change/")
    table = page.locator("#scim-timeline")  # not scrolled to: that would scroll sideways too
    hidden = {
        header: clipped
        for header in ("When", "Person", "What", "Details", "Token", "Request")
        if (clipped := table.get_by_role("columnheader", name=header).evaluate(CLIPPED_BY))
    }
    assert hidden == {}
    screenshot(page, "layout-admin-scim-user-timeline")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_base_url_has_a_copy_button_and_stays_selectable_text_without_script(
    browser,  # noqa: F811
    live_server,
    history,
):
    from playwright.sync_api import expect

    base_url = f"{live_server.url}/scim/v2"
    context = _context(browser, live_server, history["owner"])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto("/teams/acme/scim/")
    copy = page.get_by_role("button", name="Copy URL (the SCIM base URL)")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == base_url
    context.close()

    context = _context(browser, live_server, history["owner"], javascript=False)
    page = context.new_page()
    page.goto("/teams/acme/scim/")
    expect(page.locator("#base-url")).to_have_text(base_url)
    assert page.locator("#base-url").evaluate("e => getComputedStyle(e).userSelect") != "none"
    expect(page.get_by_role("button", name="Copy URL (the SCIM base URL)")).to_have_count(0)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_each_token_control_says_what_it_acts_on(browser, live_server, history, team):  # noqa: F811
    """Screen readers list a page's controls by name: "Revoke" three times, or two
    "expiring after" fields, do not say which token or which form."""
    from playwright.sync_api import expect

    prefix = SCIMToken.objects.get().prefix
    context = _context(browser, live_server, history["owner"])
    page = context.new_page()
    page.goto("/teams/acme/scim/")
    expect(page.get_by_role("button", name=f"Revoke token {prefix}…")).to_have_count(1)
    expect(page.get_by_role("textbox", name="New token expires after")).to_have_count(1)
    expect(page.get_by_role("spinbutton", name="Keep the previous tokens valid for")).to_have_count(
        1
    )
    expect(page.get_by_role("textbox", name="Rotated token expires after")).to_have_count(1)
    expect(page.locator("#tokens").get_by_role("columnheader", name="Actions")).to_have_count(1)
    expect(page.get_by_role("button", name="Remove acme.com")).to_have_count(1)
    context.close()

    staff = get_user_model().objects.create_superuser(email=STAFF_EMAIL, password=None)
    context = _context(browser, live_server, staff)
    page = context.new_page()
    page.goto(f"/admin/scim_provisioning/scimteamconfig/{team.pk}/scim/")
    expect(page.get_by_role("button", name=f"Revoke token {prefix}…")).to_have_count(1)
    expect(page.get_by_role("button", name="Check DNS: acme.com")).to_have_count(1)
    expect(page.get_by_role("button", name="Remove acme.com")).to_have_count(1)
    expect(page.locator("#scim-tokens").get_by_role("columnheader", name="Actions")).to_have_count(
        1
    )
    context.close()


def _focus_indicator(page: Any) -> dict[str, str]:
    return page.evaluate(
        """() => {
            const el = document.activeElement, style = getComputedStyle(el);
            return {tag: el.tagName, text: (el.textContent || el.value || '').trim().slice(0, 40),
                    outlineStyle: style.outlineStyle, outlineWidth: style.outlineWidth,
                    boxShadow: style.boxShadow};
        }"""
    )


def _controls_without_a_visible_focus(page: Any, url: str, tabs: int = 15) -> list[dict[str, str]]:
    page.goto(url)
    invisible = []
    for _ in range(tabs):
        page.keyboard.press("Tab")
        focus = _focus_indicator(page)
        if focus["tag"] == "BODY":
            continue
        outlined = focus["outlineStyle"] != "none" and focus["outlineWidth"] != "0px"
        if not outlined and focus["boxShadow"] == "none":
            invisible.append({"url": url, **focus})
    return invisible


@pytest.mark.django_db(transaction=True)
def test_keyboard_focus_is_visible_on_every_control_tabbed_to(browser, live_server, history, team):  # noqa: F811
    """Tab through the first controls of the team, setup, people and admin SCIM pages: each shows
    where focus is (an outline or a ring), as WCAG 2.4.7 asks."""
    context = _context(browser, live_server, history["owner"])
    page = context.new_page()
    invisible = _controls_without_a_visible_focus(page, "/teams/acme/scim/")
    invisible += _controls_without_a_visible_focus(page, "/teams/acme/scim/setup/?idp=okta")
    invisible += _controls_without_a_visible_focus(page, "/teams/acme/scim/people/")
    screenshot(page, "layout-focus-setup")
    context.close()

    staff = get_user_model().objects.create_superuser(email=STAFF_EMAIL, password=None)
    context = _context(browser, live_server, staff)
    page = context.new_page()
    invisible += _controls_without_a_visible_focus(
        page, f"/admin/scim_provisioning/scimteamconfig/{team.pk}/scim/", tabs=25
    )
    context.close()
    assert invisible == []
