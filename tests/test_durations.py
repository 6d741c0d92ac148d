"""One duration grammar (issue 26): every place a person writes a duration reads it alike.

The units each caller accepted before the grammars were merged still work there
(``scim_health --stale-after`` took ``d``, ``h`` and ``m``; lifetimes ``s`` to ``w``
and ``never``), and hostile text is a message for people, never a traceback.
"""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from example_project.teams.models import Membership
from scim_provisioning.conf import parse_guard
from scim_provisioning.durations import parse_duration, parse_lifetime
from scim_provisioning.models import SCIMToken

from .team_helpers import logged_in, member_of

GRAMMAR_ERROR = "write a whole number and a unit (90d, 12h, 30m, 2w)"

HOSTILE = [
    "1.5h",  # scim_health's old grammar took fractions; the one grammar says "90m"
    "-1h",
    "+1h",
    "1h30m",
    "1\x00h",
    "1h\x00",
    "\x00",
    "",
    "h",
    "1",
    "1 hour",
    "1y",
    "٣h",  # an Arabic-Indic three: a digit to \d without re.ASCII
    "１h",  # a fullwidth one
    "1e3s",
]


def stale_after(text: str) -> str:
    out = StringIO()
    try:
        call_command("scim_health", f"--stale-after={text}", stdout=out)
    except CommandError as exc:
        return str(exc)
    return out.getvalue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("90m", timedelta(minutes=90)),
        ("36h", timedelta(hours=36)),
        ("2d", timedelta(days=2)),
        ("2w", timedelta(weeks=2)),
        (" 12 H ", timedelta(hours=12)),
        ("007d", timedelta(days=7)),
        ("3650d", timedelta(days=3650)),
    ],
)
def test_every_unit_a_caller_documented_is_read(text, expected):
    assert parse_duration(text) == expected
    assert parse_lifetime(text) == expected


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_refused_with_the_one_message(text):
    with pytest.raises(ValueError, match=r"is not a duration: write a whole number") as caught:
        parse_duration(text)
    assert GRAMMAR_ERROR in str(caught.value)

    with pytest.raises(ValueError, match=r"is not a lifetime: write a whole number"):
        parse_lifetime(text)


@pytest.mark.parametrize(
    "text", ["0h", "0000s", "3651d", "99999999999d", "9" * 12 + "w", "9" * 5000 + "d"]
)
def test_zero_and_more_than_ten_years_are_out_of_range(text):
    with pytest.raises(ValueError, match="must be positive and at most ten years"):
        parse_duration(text)
    with pytest.raises(ValueError, match="must be positive and at most ten years"):
        parse_lifetime(text)


@pytest.mark.parametrize("value", [timedelta(0), timedelta(seconds=-1), timedelta(days=3651), -5])
def test_a_lifetime_given_as_a_timedelta_or_seconds_is_bounded_alike(value):
    with pytest.raises(ValueError, match="must be positive and at most ten years"):
        parse_lifetime(value)


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["2d", "36h", "90m", "2w", "3600s", "2D"])
def test_scim_health_reads_its_documented_units_and_the_others(text):
    assert "team(s) with SCIM" in stale_after(text)


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["1.5h", "-1h", "1\x00h", "٣h"])
def test_scim_health_refuses_hostile_text_with_the_one_message(text):
    message = stale_after(text)

    assert "argument --stale-after" in message
    assert GRAMMAR_ERROR in message


@pytest.mark.django_db
def test_scim_health_refuses_a_zero_silence():
    assert "must be positive and at most ten years" in stale_after("0h")


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["1.5h", "-1h", "٣h", "1 hour"])
def test_the_token_commands_and_the_team_api_give_the_same_message(team, text):
    with pytest.raises(CommandError, match="is not a lifetime: write a whole number"):
        call_command("scim_token", "issue", "--team", "acme", f"--expires-in={text}")
    client = logged_in(member_of(team, Membership.Role.OWNER))

    response = client.post(
        "/api/teams/acme/scim/tokens/",
        json.dumps({"expires_in": text}),
        content_type="application/json",
    )

    assert response.status_code == 400, response.content
    assert GRAMMAR_ERROR in response.json()["expires_in"][0]
    assert not SCIMToken.objects.exists()


@pytest.mark.parametrize("window", ["1.5h", "1\x00h", "0h"])
def test_the_guard_window_refuses_what_the_grammar_refuses(window):
    with pytest.raises(ValueError, match="lifetime"):
        parse_guard({"window": window})


def test_the_guard_window_reads_minutes_hours_and_days():
    assert parse_guard({"window": "30m"}).window == timedelta(minutes=30)
    assert parse_guard({"window": "1d"}).window == timedelta(days=1)
