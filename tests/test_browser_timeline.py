"""In a real browser: a team owner reads why Jane lost access on the team's SCIM page.

Okta provisions Jane, renames her, moves her between two groups and deactivates
her over HTTP; the owner opens the team page, sees the timeline, and filters it
to Jane with the form (no JavaScript involved). Screenshots go to
``test-artifacts/browser/timeline-*.png``.
"""

from __future__ import annotations

import pytest

from example_project.teams.models import Membership
from scim_provisioning.tokens import issue_token

from .conversations import Conversation
from .live_client import LiveIdPClient
from .test_browser import browser, screenshot  # noqa: F401 - the fixture
from .test_browser_setup import _session_context, _user


def _okta_moves_jane_around(live_server, team) -> str:
    convo = Conversation(LiveIdPClient(live_server.url, issue_token(team).plaintext), "okta_oin")
    jane = convo.send("post_user").json()["id"]
    sam = convo.send("post_second_user").json()["id"]
    first = convo.send("post_group_empty").json()["id"]
    second = convo.send("post_second_group").json()["id"]
    sends = [
        ("patch_group_replace_members", {"group_id": first, "user_id": jane, "member_id": sam}),
        ("put_profile", {"user_id": jane}),
        (
            "patch_group_remove_filter_add_members",
            {"group_id": first, "member_id": jane, "user_id": sam},
        ),
        (
            "patch_group_remove_filter_add_members",
            {"group_id": second, "member_id": sam, "user_id": jane},
        ),
        ("patch_deactivate_nopath", {"user_id": jane}),
    ]
    for name, values in sends:
        response = convo.send(name, **values)
        assert response.status_code == 200, (name, response.content)
    return jane


@pytest.mark.django_db(transaction=True)
def test_a_team_owner_reads_janes_timeline_and_filters_it(browser, live_server, team):  # noqa: F811
    from playwright.sync_api import expect

    owner = _user("it-admin@acme.com", role=Membership.Role.OWNER, team=team)
    jane = _okta_moves_jane_around(live_server, team)
    context = _session_context(browser, live_server, owner, javascript=False)
    page = context.new_page()

    page.goto("/teams/acme/scim/#timeline")
    rows = page.locator("#scim-timeline tbody tr")
    expect(rows).to_have_count(8)  # Jane's six steps, Sam's creation and group join
    page.locator("#timeline").scroll_into_view_if_needed()
    screenshot(page, "timeline-01-team-page")

    page.fill("#timeline input[name=person]", "test.user@okta.local")
    page.click("#timeline button[type=submit]")
    expect(rows).to_have_count(6)
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.action)") == [
        "user.deactivated",
        "user.joined_group",
        "user.left_group",
        "user.updated",
        "user.joined_group",
        "user.created",
    ]
    expect(rows.nth(3)).to_contain_text("name.givenName: Test → Another")
    screenshot(page, "timeline-02-filtered-to-jane")

    page.select_option("#timeline select[name=action]", "user.deactivated")
    page.click("#timeline button[type=submit]")
    expect(rows).to_have_count(1)
    assert "person=test.user%40okta.local&action=user.deactivated" in page.url
    expect(rows.first).to_contain_text("deactivated")
    expect(rows.first.locator("a")).to_have_attribute("href", f"?person={jane}")
    screenshot(page, "timeline-03-why-jane-lost-access")
    context.close()
