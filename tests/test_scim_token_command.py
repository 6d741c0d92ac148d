"""``manage.py scim_token issue|rotate|revoke|list``, driven through ``call_command``."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from scim_provisioning import tokens
from scim_provisioning.models import SCIMTeamConfig, SCIMToken, SCIMTokenState
from scim_provisioning.oauth.clients import create_client

from .conftest import IdPClient
from .factories import SCIMTeamConfigFactory, TeamFactory
from .oauth_helpers import client_credentials


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("scim_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1].strip()


def works(plaintext: str) -> bool:
    response = IdPClient(plaintext).get("/Users")
    assert response.status_code in (200, 401), response.content
    return response.status_code == 200


def assert_one_line_error(excinfo, *fragments: str) -> None:
    message = str(excinfo.value)
    assert message.strip()
    assert "\n" not in message.strip()
    for fragment in fragments:
        assert fragment in message


# --- issue -------------------------------------------------------------------


def test_issue_prints_plaintext_as_last_line_and_it_authenticates(team):
    out, err = run("issue", "--team", "acme")

    plaintext = last_line(out)
    assert plaintext.startswith("scim_")
    assert works(plaintext)
    assert SCIMToken.objects.get(team=team).digest == tokens.digest(plaintext)


def test_issue_warns_on_stderr_and_keeps_plaintext_off_it(team):
    out, err = run("issue", "--team", "acme")

    assert err.strip()
    assert last_line(out) not in err


def test_issue_adds_a_token_beside_existing_ones(team):
    existing = tokens.issue_token(team)

    out, _ = run("issue", "--team", "acme")

    assert SCIMToken.objects.filter(team=team).count() == 2
    assert works(existing.plaintext)
    assert works(last_line(out))


def test_issue_unknown_team_is_a_one_line_command_error(db):
    with pytest.raises(CommandError) as excinfo:
        run("issue", "--team", "nope")

    assert_one_line_error(excinfo, "nope")
    assert not SCIMToken.objects.exists()


def test_issue_for_disabled_team_is_a_command_error(team):
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)

    with pytest.raises(CommandError) as excinfo:
        run("issue", "--team", "acme")

    assert_one_line_error(excinfo, "acme")
    assert not SCIMToken.objects.filter(team=team).exists()


def test_issue_for_team_without_config_is_a_command_error(db):
    bare = TeamFactory(slug="bare")

    with pytest.raises(CommandError) as excinfo:
        run("issue", "--team", "bare")

    assert_one_line_error(excinfo, "bare")
    assert not SCIMToken.objects.filter(team=bare).exists()


def test_missing_team_option_is_a_command_error(db):
    with pytest.raises(CommandError):
        run("issue")


# --- list --------------------------------------------------------------------


def test_list_shows_prefix_and_state_never_the_plaintext(team):
    active = tokens.issue_token(team)
    expired = tokens.issue_token(team, expires_at=timezone.now() - timedelta(hours=1))
    revoked = tokens.issue_token(team)
    tokens.revoke_tokens(team, prefix=revoked.token.prefix)

    out, err = run("list", "--team", "acme")

    rows = {line.split()[0]: line for line in out.strip().splitlines()[1:]}
    assert rows[active.token.prefix].split()[-1] == SCIMTokenState.ACTIVE.value
    assert rows[expired.token.prefix].split()[-1] == SCIMTokenState.EXPIRED.value
    assert rows[revoked.token.prefix].split()[-1] == SCIMTokenState.REVOKED.value
    for issued in (active, expired, revoked):
        assert issued.plaintext not in out
        assert issued.plaintext not in err
        assert issued.token.digest not in out


def test_list_shows_only_that_teams_tokens(team, other_team):
    ours = tokens.issue_token(team)
    theirs = tokens.issue_token(other_team)

    out, _ = run("list", "--team", "acme")

    assert ours.token.prefix in out
    assert theirs.token.prefix not in out


def _access_token(team) -> SCIMToken:
    """An OAuth 2.0 access token Entra ID got for ``team`` (a SCIMToken row of the client)."""
    issued = create_client(team)
    response = client_credentials(issued.client.client_id, issued.secret)
    assert response.status_code == 200, response.content
    return SCIMToken.objects.get(digest=tokens.digest(response.json()["access_token"]))


def test_list_leaves_out_oauth_access_tokens(team):
    ours = tokens.issue_token(team)
    access = _access_token(team)

    out, _ = run("list", "--team", "acme")

    rows = [line.split()[0] for line in out.strip().splitlines()[1:]]
    assert rows == [ours.token.prefix]
    assert access.prefix not in out


def test_list_of_a_team_with_only_an_oauth_client_says_no_tokens(team):
    _access_token(team)

    out, _ = run("list", "--team", "acme")

    assert out.strip() == "No tokens."


def test_rotate_leaves_oauth_access_tokens_to_their_client(team):
    access = _access_token(team)
    expires_at = access.expires_at

    run("rotate", "--team", "acme", "--overlap-hours", "0")

    access.refresh_from_db()
    assert access.expires_at == expires_at
    assert access.revoked_at is None


def test_list_without_tokens_says_so(team):
    out, _ = run("list", "--team", "acme")

    assert out.strip() == "No tokens."


def test_list_unknown_team_is_a_command_error(db):
    with pytest.raises(CommandError) as excinfo:
        run("list", "--team", "nope")

    assert_one_line_error(excinfo, "nope")


# --- rotate ------------------------------------------------------------------


def test_rotate_with_zero_overlap_refuses_old_token_at_once(team):
    old = tokens.issue_token(team)

    out, _ = run("rotate", "--team", "acme", "--overlap-hours", "0")

    new = last_line(out)
    assert new.startswith("scim_") and new != old.plaintext
    assert works(new)
    assert not works(old.plaintext)
    old.token.refresh_from_db()
    assert old.token.state == SCIMTokenState.EXPIRED


def test_rotate_with_default_overlap_keeps_old_token_valid(team):
    old = tokens.issue_token(team)
    before = timezone.now()

    out, _ = run("rotate", "--team", "acme")

    assert works(old.plaintext)
    assert works(last_line(out))
    old.token.refresh_from_db()
    assert before + timedelta(hours=24) <= old.token.expires_at
    assert old.token.expires_at <= timezone.now() + timedelta(hours=24)


@override_settings(SCIM_PROVISIONING_TOKEN_ROTATION_OVERLAP_HOURS=2)
def test_rotate_default_overlap_follows_the_setting(team):
    old = tokens.issue_token(team)
    before = timezone.now()

    run("rotate", "--team", "acme")

    old.token.refresh_from_db()
    assert before + timedelta(hours=2) <= old.token.expires_at
    assert old.token.expires_at <= timezone.now() + timedelta(hours=2)


def test_rotate_with_explicit_overlap(team):
    old = tokens.issue_token(team)
    before = timezone.now()

    run("rotate", "--team", "acme", "--overlap-hours", "1.5")

    old.token.refresh_from_db()
    assert before + timedelta(minutes=90) <= old.token.expires_at
    assert old.token.expires_at <= timezone.now() + timedelta(minutes=90)
    assert works(old.plaintext)


def test_rotate_negative_overlap_is_a_command_error(team):
    old = tokens.issue_token(team)

    with pytest.raises(CommandError) as excinfo:
        run("rotate", "--team", "acme", "--overlap-hours", "-1")

    assert_one_line_error(excinfo, "--overlap-hours")
    assert SCIMToken.objects.filter(team=team).count() == 1
    assert works(old.plaintext)


def test_rotate_overlap_longer_than_30_days_is_a_command_error(team):
    """The bound of the admin page and the team API (tokens.MAX_ROTATION_OVERLAP_HOURS)."""
    old = tokens.issue_token(team)

    with pytest.raises(CommandError) as excinfo:
        run("rotate", "--team", "acme", "--overlap-hours", str(24 * 30 + 1))

    assert_one_line_error(excinfo, "--overlap-hours is at most 720")
    assert SCIMToken.objects.filter(team=team).count() == 1
    assert works(old.plaintext) and old.token.expires_at is None


def test_rotate_for_disabled_team_is_a_command_error(team):
    old = tokens.issue_token(team)
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)

    with pytest.raises(CommandError) as excinfo:
        run("rotate", "--team", "acme", "--overlap-hours", "0")

    assert_one_line_error(excinfo, "acme")
    old.token.refresh_from_db()
    assert old.token.expires_at is None
    assert SCIMToken.objects.filter(team=team).count() == 1


def test_rotate_unknown_team_is_a_command_error(db):
    with pytest.raises(CommandError) as excinfo:
        run("rotate", "--team", "nope")

    assert_one_line_error(excinfo, "nope")


# --- revoke ------------------------------------------------------------------


def test_revoke_all_refuses_every_token_of_the_team(team, other_team):
    first = tokens.issue_token(team)
    second = tokens.issue_token(team)
    theirs = tokens.issue_token(other_team)

    out, _ = run("revoke", "--team", "acme", "--all")

    assert "2 token" in out
    assert not works(first.plaintext)
    assert not works(second.plaintext)
    assert works(theirs.plaintext)
    assert SCIMToken.objects.filter(team=team, revoked_at__isnull=True).count() == 0


def test_revoke_prefix_refuses_only_that_token(team):
    target = tokens.issue_token(team)
    kept = tokens.issue_token(team)

    out, _ = run("revoke", "--team", "acme", "--prefix", target.token.prefix)

    assert "1 token" in out
    assert not works(target.plaintext)
    assert works(kept.plaintext)
    target.token.refresh_from_db()
    assert target.token.state == SCIMTokenState.REVOKED


def test_revoke_unknown_prefix_is_a_command_error(team):
    kept = tokens.issue_token(team)

    with pytest.raises(CommandError) as excinfo:
        run("revoke", "--team", "acme", "--prefix", "scim_zzzzzzzz")

    assert_one_line_error(excinfo, "scim_zzzzzzzz")
    assert works(kept.plaintext)


def test_revoke_prefix_of_another_team_is_a_command_error(team, other_team):
    theirs = tokens.issue_token(other_team)

    with pytest.raises(CommandError):
        run("revoke", "--team", "acme", "--prefix", theirs.token.prefix)

    assert works(theirs.plaintext)


def test_revoke_needs_all_or_prefix(team):
    with pytest.raises(CommandError):
        run("revoke", "--team", "acme")


def test_revoke_unknown_team_is_a_command_error(db):
    with pytest.raises(CommandError) as excinfo:
        run("revoke", "--team", "nope", "--all")

    assert_one_line_error(excinfo, "nope")


def test_revoke_works_while_scim_is_disabled(db):
    config = SCIMTeamConfigFactory(team=TeamFactory(slug="initech"))
    issued = tokens.issue_token(config.team)
    SCIMTeamConfig.objects.filter(pk=config.pk).update(enabled=False)

    run("revoke", "--team", "initech", "--all")

    issued.token.refresh_from_db()
    assert issued.token.state == SCIMTokenState.REVOKED
