"""Where the connection doctor may call, and where a token may go (issue 21, items 6 and 7).

The "Check connection" buttons call ``SCIM_PROVISIONING_BASE_URL`` and nothing else:
a ``Host`` header is the caller's to choose, so an address built from it would let a
team manager point the server's requests, and a freshly issued team token, anywhere.
And no token, issued or given, is ever sent over plain http to another machine.

"Another machine" is this machine's own non-loopback address, served by a proxy
bound to it: a real network hop, no internet needed. Host names are resolved through
:func:`scim_provisioning.doctor.resolve_host`, which the tests replace.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from scim_provisioning import doctor
from scim_provisioning.doctor import Check, Outcome, diagnose
from scim_provisioning.models import SCIMRequestLog, SCIMToken
from scim_provisioning.request_log_writer import writer
from scim_provisioning.tokens import issue_token

from .proxies import non_loopback_address, proxy

pytestmark = pytest.mark.django_db(transaction=True)

SETUP_PAGE = "/teams/acme/scim/setup/"
TEAM_PAGE = "/teams/acme/scim/"


def result(report, check: Check):
    return next(r for r in report.results if r.check == check)


def tokens_sent() -> set[str]:
    """The prefixes of the tokens that reached the app (a made-up probe has none)."""
    writer.flush()
    return set(
        SCIMRequestLog.objects.exclude(token_prefix="").values_list("token_prefix", flat=True)
    )


def forged_host(live_server) -> str:
    """``127.0.0.1:<port>`` spelled as one decimal number: the issue's ``Host`` header."""
    return f"2130706433:{live_server.url.rsplit(':', 1)[1]}"


# --- item 6: the buttons call the configured base URL, never one built from the request ---


@pytest.mark.parametrize("page", [SETUP_PAGE, TEAM_PAGE])
def test_check_connection_without_a_configured_base_url_calls_nobody(
    team, owner_client, live_server, page
):
    response = owner_client.post(
        page, {"action": "check_connection", "idp": "okta"}, HTTP_HOST=forged_host(live_server)
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "SCIM_PROVISIONING_BASE_URL" in html
    assert 'id="scim-doctor-results"' not in html
    writer.flush()
    assert not SCIMRequestLog.objects.exists()  # not one request left the server
    assert not SCIMToken.objects.filter(team=team).exists()  # and no token was issued


def test_the_admin_check_without_a_configured_base_url_calls_nobody(team, live_server):
    from .test_admin_scim_page import client_for, page_url, staff

    admin = client_for(staff("view_scimtoken", "add_scimtoken"))
    response = admin.post(
        page_url(team), {"action": "check_connection"}, HTTP_HOST=forged_host(live_server)
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "SCIM_PROVISIONING_BASE_URL" in html
    assert 'id="scim-doctor-results"' not in html
    writer.flush()
    assert not SCIMRequestLog.objects.exists()
    assert not SCIMToken.objects.filter(team=team).exists()


def test_a_forged_host_header_does_not_move_the_check(team, owner_client, live_server):
    configured = f"{live_server.url}/scim/v2"
    with override_settings(SCIM_PROVISIONING_BASE_URL=configured):
        response = owner_client.post(
            SETUP_PAGE,
            {"action": "check_connection", "idp": "okta"},
            HTTP_HOST="attacker.example:8080",
            HTTP_X_FORWARDED_HOST="attacker.example",
        )

    assert response.status_code == 200
    html = response.content.decode()
    assert f"<code>{configured}</code>" in html
    assert "attacker.example" not in html
    assert re.search(
        r'scim-doctor-pass">\s*<td><strong>\w+</strong></td>\s*<td><code>round-trip', html
    )


# --- item 7: no token over plain http to another machine --------------------------------------


def test_plain_http_to_another_machine_fails_tls_and_issues_no_token(team, live_server):
    with proxy(live_server.url, address=non_loopback_address()) as url:
        report = diagnose(f"{url}/scim/v2", team=team)

    assert result(report, Check.TLS).outcome == Outcome.FAIL
    for check in (Check.LOCATION, Check.ROUND_TRIP):
        skipped = result(report, check)
        assert skipped.outcome == Outcome.SKIP
        assert "never sent over plain http" in skipped.message
    assert not SCIMToken.objects.filter(team=team).exists()
    assert tokens_sent() == set()


def test_plain_http_to_another_machine_never_sends_a_given_token(team, live_server):
    token = issue_token(team)
    with proxy(live_server.url, address=non_loopback_address()) as url:
        report = diagnose(f"{url}/scim/v2", token=token.plaintext)

    assert not report.ok
    assert result(report, Check.ROUND_TRIP).outcome == Outcome.SKIP
    assert tokens_sent() == set()


def test_the_command_stops_before_the_token_checks_when_tls_fails(team, live_server, capsys):
    with proxy(live_server.url, address=non_loopback_address()) as url:
        with pytest.raises(CommandError) as raised:
            call_command("scim_doctor", "--url", f"{url}/scim/v2", "--team", "acme")

    assert raised.value.returncode == 1
    out = capsys.readouterr().out
    assert re.search(r"^FAIL  tls ", out, re.MULTILINE)
    assert re.search(r"^SKIP  round-trip ", out, re.MULTILINE)
    assert not SCIMToken.objects.filter(team=team).exists()
    assert tokens_sent() == set()


# --- host names: decided on the address they resolve to, and connected to that address -------


def test_a_name_resolving_to_another_machine_gets_no_token(team, live_server, monkeypatch):
    address = non_loopback_address()
    monkeypatch.setattr(doctor, "resolve_host", lambda host, port: [address])
    with proxy(live_server.url, address=address) as url:
        port = url.rsplit(":", 1)[1]
        report = diagnose(f"http://scim.site.test:{port}/scim/v2", team=team)

    assert result(report, Check.REACHABLE).outcome == Outcome.PASS
    assert result(report, Check.TLS).outcome == Outcome.FAIL
    assert result(report, Check.ROUND_TRIP).outcome == Outcome.SKIP
    assert tokens_sent() == set()


def test_a_name_resolving_to_this_machine_is_checked_at_that_address(
    team, live_server, monkeypatch
):
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(doctor, "resolve_host", resolve)
    port = live_server.url.rsplit(":", 1)[1]
    report = diagnose(f"http://scim.loopback.test:{port}/scim/v2", team=team)

    assert report.ok, [r.line for r in report.results]
    assert result(report, Check.TLS).outcome == Outcome.WARN
    assert result(report, Check.ROUND_TRIP).outcome == Outcome.PASS
    # Resolved once, then every request goes to that address: a name that answers
    # 127.0.0.1 to the check and another machine to the token cannot split the two.
    assert asked == ["scim.loopback.test"]


def test_the_address_that_answers_is_the_one_judged_and_kept(team, live_server, monkeypatch):
    """Like a browser, the next address is tried when one refuses (``localhost`` is often
    ``::1`` first while the server listens on 127.0.0.1); the one that answered is then
    used for every request, and it decides whether a token may go."""
    address = non_loopback_address()
    with proxy(live_server.url, address=address) as url:
        port = url.rsplit(":", 1)[1]
        monkeypatch.setattr(doctor, "resolve_host", lambda host, port: ["127.0.0.1", address])
        report = diagnose(f"http://scim.site.test:{port}/scim/v2", team=team)

    assert result(report, Check.REACHABLE).outcome == Outcome.PASS  # 127.0.0.1 refused
    tls = result(report, Check.TLS)
    assert tls.outcome == Outcome.FAIL and address in tls.message
    assert result(report, Check.ROUND_TRIP).outcome == Outcome.SKIP
    assert tokens_sent() == set()


def test_a_loopback_address_spelled_as_a_number_is_loopback(team, live_server):
    port = live_server.url.rsplit(":", 1)[1]
    report = diagnose(f"http://2130706433:{port}/scim/v2", timeout=5)

    assert result(report, Check.TLS).outcome == Outcome.WARN


# --- scim_doctor: the configured base URL by default; a throwaway token goes nowhere else ------


def test_the_command_checks_the_configured_base_url_by_default(team, live_server, capsys):
    with override_settings(SCIM_PROVISIONING_BASE_URL=f"{live_server.url}/scim/v2"):
        call_command("scim_doctor", "--team", "acme")

    out = capsys.readouterr().out
    assert f"{live_server.url}/scim/v2 answered 401" in out
    assert re.search(r"^PASS  round-trip ", out, re.MULTILINE)


def test_the_command_without_a_url_or_a_configured_one_says_what_to_give(team):
    with pytest.raises(CommandError, match="Give --url, or set SCIM_PROVISIONING_BASE_URL"):
        call_command("scim_doctor", "--team", "acme")


def test_a_throwaway_token_goes_only_to_the_configured_base_url(team, live_server):
    elsewhere = f"{live_server.url}/scim/v2"
    with override_settings(SCIM_PROVISIONING_BASE_URL="https://scim.site.example/scim/v2"):
        with pytest.raises(CommandError, match="--team .*only to SCIM_PROVISIONING_BASE_URL"):
            call_command("scim_doctor", "--url", elsewhere, "--team", "acme")

    assert not SCIMToken.objects.filter(team=team).exists()
    assert tokens_sent() == set()


# --- hostile URLs: a FAIL with the reason, never a traceback, never a request ------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/scim/v2",  # an unclosed IPv6 bracket
        "http://scim.site.test:99999/scim/v2",  # a port out of range
        "http://\udc00.site.test/scim/v2",  # a lone surrogate in the host
        "http://" + "a" * 300 + ".test/scim/v2",  # a label longer than DNS allows
        "http://scim.site\x00.test/scim/v2",  # NUL
        "http://admin:secret@127.0.0.1:9/scim/v2",  # credentials in the URL
        "ftp://scim.site.test/scim/v2",
    ],
    ids=["ipv6", "port", "surrogate", "long-label", "nul", "userinfo", "scheme"],
)
def test_a_malformed_url_fails_reachable_without_a_request(url, monkeypatch):
    def resolve(host: str, port: int) -> list[str]:
        raise AssertionError(f"resolved {host!r}")

    monkeypatch.setattr(doctor, "resolve_host", resolve)

    report = diagnose(url, timeout=2)

    first = report.results[0]
    assert (first.check, first.outcome) == (Check.REACHABLE, Outcome.FAIL)
    assert "secret" not in first.message
    assert "https://site.example/scim/v2" in first.fix
    assert {r.outcome for r in report.results[1:]} == {Outcome.SKIP}


# --- another team's manager ------------------------------------------------------------------


@pytest.mark.parametrize("page", [SETUP_PAGE, TEAM_PAGE])
def test_another_teams_manager_cannot_check_this_teams_connection(
    team, other_team, live_server, settings, page
):
    from .team_helpers import logged_in, member_of

    settings.SCIM_PROVISIONING_BASE_URL = f"{live_server.url}/scim/v2"
    globex_owner = logged_in(member_of(other_team, "owner"))

    response = globex_owner.post(page, {"action": "check_connection", "idp": "okta"})

    assert response.status_code == 404
    assert not SCIMToken.objects.exists()
    writer.flush()
    assert not SCIMRequestLog.objects.exists()
