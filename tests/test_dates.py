"""One date format, with its time zone, wherever people read a moment (issue 24).

The team page, the setup page's tables, the admin's SCIM page and the admin's lists
showed "2026-12-06 12:16", "2026-12-06 12:16:11" and "Dec. 6, 2026, 12:16 p.m.",
none saying which zone; the IdP's logs they are compared with are in UTC.
Each test runs in Europe/Paris so that the zone is seen to be the site's, not UTC's.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from datetime import timezone as dt_timezone

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from example_project.teams.models import Membership
from scim_provisioning import tokens
from scim_provisioning.dates import format_moment
from scim_provisioning.models import SCIMRequestLog, SCIMToken, SCIMUser, SCIMUserEvent

from .factories import SCIMUserFactory
from .team_helpers import logged_in, member_of

pytestmark = pytest.mark.django_db

#: 08:30:05 UTC on 15 January: 09:30:05 in Paris, whose winter zone is CET.
MOMENT = datetime(2026, 1, 15, 8, 30, 5, tzinfo=dt_timezone.utc)
SHOWN = "2026-01-15 09:30:05 CET"
#: Django's default DATETIME_FORMAT ("Jan. 15, 2026, 9:30 a.m."), any ISO-ish without zone.
OTHER_FORMATS = re.compile(
    r"\b[A-Z][a-z]{2}\.? \d{1,2}, \d{4}"
    r"|\b\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?(?![:\d]| [A-Z]{3,5}\b)"
)


@override_settings(TIME_ZONE="Europe/Paris")
def test_a_moment_is_shown_in_the_site_zone_with_its_name():
    assert format_moment(MOMENT) == SHOWN
    assert format_moment(datetime(2026, 7, 1, 12, 0, tzinfo=dt_timezone.utc)) == (
        "2026-07-01 14:00:00 CEST"
    )
    assert format_moment(None) == ""
    assert format_moment(date(2026, 1, 15)) == "2026-01-15"


@override_settings(TIME_ZONE="Europe/Paris")
def test_the_template_filter_is_the_same_helper():
    rendered = Template("{% load scim_dates %}{{ when|moment }}|{{ none|moment|default:'never' }}")
    assert rendered.render(Context({"when": MOMENT, "none": None})) == f"{SHOWN}|never"


def _history(team) -> None:
    """A token, a request and a timeline entry, all at MOMENT."""
    issued = tokens.issue_token(team)
    SCIMToken.objects.filter(pk=issued.token.pk).update(
        created_at=MOMENT, last_used_at=MOMENT, expires_at=MOMENT
    )
    log = SCIMRequestLog.objects.create(
        team=team, method="GET", path="/scim/v2/Users", status=200, duration_ms=1
    )
    SCIMRequestLog.objects.filter(pk=log.pk).update(created=MOMENT)
    person = SCIMUserFactory(team=team, user_name="jane@acme.com")
    event = SCIMUserEvent.objects.create(
        team=team, scim_user_id=person.pk, user_name="jane@acme.com", action="user.created"
    )
    SCIMUserEvent.objects.filter(pk=event.pk).update(created=MOMENT)


def _dates_in(html: str) -> list[str]:
    return OTHER_FORMATS.findall(html)


@override_settings(TIME_ZONE="Europe/Paris")
def test_the_team_page_shows_every_moment_one_way(team):
    _history(team)
    owner = member_of(team, role=Membership.Role.OWNER)

    body = logged_in(owner).get(f"/teams/{team.slug}/scim/").content.decode()

    # Token created, last used, expires; the timeline; the latest request; health.
    assert body.count(SHOWN) >= 6, body
    assert _dates_in(body) == []


@override_settings(TIME_ZONE="Europe/Paris")
def test_the_people_page_shows_each_last_change_one_way(team):
    _history(team)
    SCIMUser.objects.filter(team=team).update(last_modified=MOMENT)
    owner = member_of(team, role=Membership.Role.OWNER)

    body = logged_in(owner).get(f"/teams/{team.slug}/scim/people/").content.decode()

    assert SHOWN in body
    assert _dates_in(body) == []


@override_settings(TIME_ZONE="Europe/Paris")
def test_the_admin_scim_page_shows_every_moment_one_way(team, admin_client):
    _history(team)

    url = reverse("admin:scim_provisioning_scimteamconfig_scim", args=[team.pk])
    body = admin_client.get(url).content.decode()

    assert body.count(SHOWN) >= 5, body
    assert _dates_in(body) == []


@override_settings(TIME_ZONE="Europe/Paris")
@pytest.mark.parametrize("model", ["scimtoken", "scimrequestlog", "scimuserevent"])
def test_the_admins_lists_show_every_moment_one_way(team, admin_client, model):
    _history(team)

    body = admin_client.get(reverse(f"admin:scim_provisioning_{model}_changelist")).content
    html = body.decode()

    assert SHOWN in html
    # The date hierarchy's links name days and months, not moments: only the result table.
    table = html[html.index('id="result_list"') :]
    assert _dates_in(table) == []


@override_settings(TIME_ZONE="Europe/Paris")
def test_the_admins_scim_user_page_shows_its_moments_one_way(team, admin_client):
    _history(team)
    person = SCIMUserFactory(team=team, user_name="sam@acme.com")
    type(person).objects.filter(pk=person.pk).update(created=MOMENT, last_modified=MOMENT)

    url = reverse("admin:scim_provisioning_scimuser_change", args=[person.pk])
    html = admin_client.get(url).content.decode()

    assert html.count(SHOWN) >= 2  # created, last modified
    assert html.count("Last modified:") == 1  # shown once, read-only, not also as a form field
    assert _dates_in(html) == []


def test_a_moment_now_names_utc_on_the_example_site():
    assert format_moment(timezone.now()).endswith(" UTC")


@override_settings(TIME_ZONE="Europe/Paris")
@pytest.mark.parametrize("model", [SCIMToken, SCIMRequestLog, SCIMUserEvent])
def test_the_admins_read_only_pages_show_their_moments_one_way(team, admin_client, model):
    _history(team)
    entry = model.objects.get()
    name = model._meta.model_name

    response = admin_client.get(reverse(f"admin:scim_provisioning_{name}_change", args=[entry.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert SHOWN in html
    assert _dates_in(html) == []


@override_settings(TIME_ZONE="Pacific/Kiritimati")
def test_a_moment_at_the_end_of_time_is_shown_in_utc_rather_than_failing_the_page():
    """A year-9999 moment (a far "never") overflows when moved to a zone east of UTC."""
    end = datetime.max.replace(tzinfo=dt_timezone.utc)

    assert format_moment(end) == "9999-12-31 23:59:59 UTC"
