"""``manage.py scim_team enable|disable|status --team SLUG``: the staff switch from a shell."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from scim_provisioning import tokens
from scim_provisioning.models import SCIMTeamConfig

from .conftest import IdPClient, assert_scim_error
from .factories import TeamFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("scim_team", *args, stdout=out)
    return out.getvalue().strip()


def test_enable_creates_the_configuration_and_tokens_can_be_issued():
    team = TeamFactory(slug="acme")

    assert run("enable", "--team", "acme") == "SCIM is enabled for team acme."

    assert SCIMTeamConfig.objects.get(team=team).enabled is True
    token = tokens.issue_token(team).plaintext
    assert IdPClient(token).get("/Users").status_code == 200


def test_enable_twice_changes_nothing_more():
    team = TeamFactory(slug="acme")
    run("enable", "--team", "acme")
    updated = SCIMTeamConfig.objects.get(team=team).updated

    run("enable", "--team", "acme")

    assert SCIMTeamConfig.objects.get(team=team).updated == updated


def test_disable_refuses_the_teams_tokens_from_the_next_request(team, idp):
    assert idp.get("/Users").status_code == 200

    assert run("disable", "--team", "acme") == "SCIM is disabled for team acme."

    assert_scim_error(idp.get("/Users"), 403)
    assert SCIMTeamConfig.objects.get(team=team).enabled is False


def test_disable_without_a_configuration_creates_none():
    TeamFactory(slug="acme")

    assert run("disable", "--team", "acme") == "SCIM is disabled for team acme."

    assert not SCIMTeamConfig.objects.exists()


def test_status(team):
    assert run("status", "--team", "acme") == "SCIM is enabled for team acme."


def test_an_unknown_team_is_a_command_error():
    with pytest.raises(CommandError, match="No team with slug 'nope'"):
        run("enable", "--team", "nope")
    assert not SCIMTeamConfig.objects.exists()
