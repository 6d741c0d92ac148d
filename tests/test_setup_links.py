"""Setup links (issue 25): one team's guided setup for an IT contact without an account.

Each test holds a link as the IT contact does (a browser without an account), or
as an attacker does (a valid link of team A, a guessed or tampered one).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scim_provisioning import setup_links
from scim_provisioning.models import (
    SCIMRequestLog,
    SCIMSetupLink,
    SCIMSetupLinkAction,
    SCIMSetupLinkUse,
    SCIMToken,
)
from scim_provisioning.redaction import SETUP_LINK_RE, scrub_tokens
from scim_provisioning.setup.link_views import NOT_FOUND
from scim_provisioning.tokens import digest

from .conftest import IdPClient
from .factories import UserFactory
from .team_helpers import logged_in, member_of, scim_works

pytestmark = pytest.mark.django_db

SITE = "https://provision.example.com"
BASE_URL = f"{SITE}/scim/v2"
PAGE = "/scim/setup-link/"


def create(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("scim_setup_link", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1].strip()


def path_of(url: str) -> str:
    assert url.startswith(SITE), url
    return url[len(SITE) :]


def opened(path: str, client: Client | None = None) -> Client:
    """A browser without an account that opened the link at ``path``."""
    browser = client or Client()
    response = browser.get(path)
    assert response.status_code == 302, response.content
    assert response["Location"] == PAGE
    return browser


def new_link(team, **kwargs) -> setup_links.CreatedLink:
    with override_settings(SCIM_PROVISIONING_BASE_URL=BASE_URL):
        return setup_links.create_link(team, **kwargs)


def issue(browser: Client):
    return browser.post(PAGE, {"action": "issue", "idp": "okta"})


def token_on(response) -> str:
    match = re.search(r'<code id="scim-setup-token">([^<]+)</code>', response.content.decode())
    assert match, response.content.decode()
    return match.group(1)


# --- the command, the "done when" of issue 25 ----------------------------------------------


@override_settings(SCIM_PROVISIONING_BASE_URL=BASE_URL)
def test_create_prints_a_link_that_opens_the_teams_setup_anonymously(team):
    out, err = create("create", "--team", "acme")

    url = last_line(out)
    assert url.startswith(f"{SITE}/scim/setup-link/scimsetup_")
    assert "not be shown again" in err
    browser = opened(path_of(url))
    page = browser.get(PAGE, {"idp": "okta"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Set up SCIM provisioning for Acme" in body
    assert f'<code id="scim-setup-base-url">{BASE_URL}</code>' in body
    link = SCIMSetupLink.objects.get(team=team)
    assert list(link.uses.values_list("action", flat=True)) == [SCIMSetupLinkAction.OPENED]


@override_settings(SCIM_PROVISIONING_BASE_URL=BASE_URL)
def test_a_tampered_link_is_a_404_that_names_no_team(team):
    url = last_line(create("create", "--team", "acme")[0])
    secret = url.rstrip("/").rsplit("/", 1)[1]
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")

    response = Client().get(f"/scim/setup-link/{tampered}/")

    assert response.status_code == 404
    assert response.content.decode() == NOT_FOUND
    assert "acme" not in response.content.decode().lower()
    assert not SCIMSetupLinkUse.objects.exists()


@override_settings(SCIM_PROVISIONING_BASE_URL=BASE_URL)
def test_a_revoked_link_is_the_same_404_and_ends_an_open_session(team):
    url = last_line(create("create", "--team", "acme")[0])
    browser = opened(path_of(url))

    out, _ = create("revoke", "--team", "acme")

    assert out.strip() == "Revoked 1 setup link(s) of team acme."
    again = Client().get(path_of(url))
    assert (again.status_code, again.content.decode()) == (404, NOT_FOUND)
    page = browser.get(PAGE)
    assert (page.status_code, page.content.decode()) == (404, NOT_FOUND)
    assert browser.post(PAGE, {"action": "issue"}).status_code == 404
    assert not SCIMToken.objects.filter(team=team).exists()


def test_an_expired_link_is_the_same_404(team):
    created = new_link(team)
    SCIMSetupLink.objects.filter(pk=created.link.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = Client().get(setup_links.link_path(created.secret))

    assert (response.status_code, response.content.decode()) == (404, NOT_FOUND)


def test_a_session_opened_before_expiry_ends_with_it(team):
    created = new_link(team)
    browser = opened(setup_links.link_path(created.secret))
    SCIMSetupLink.objects.filter(pk=created.link.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert browser.get(PAGE).status_code == 404
    assert browser.get(f"{PAGE}status/").status_code == 404


def test_the_command_expires_in_uses_the_lifetime_grammar(team):
    before = timezone.now()

    create("create", "--team", "acme", "--expires-in", "12h", "--site", SITE)

    link = SCIMSetupLink.objects.get(team=team)
    assert timedelta(hours=12) - timedelta(seconds=5) < link.expires_at - before
    assert link.expires_at - before <= timedelta(hours=12, seconds=5)


@pytest.mark.parametrize("lifetime", ["never", "0", "soon", "99999999999d"])
def test_the_command_refuses_a_link_that_never_expires_or_a_lifetime_it_cannot_read(team, lifetime):
    with pytest.raises(CommandError):
        create("create", "--team", "acme", "--expires-in", lifetime, "--site", SITE)

    assert not SCIMSetupLink.objects.exists()


def test_a_link_lives_seven_days_by_default(team):
    before = timezone.now()

    link = new_link(team).link

    lifetime = link.expires_at - before
    assert timedelta(days=7) <= lifetime < timedelta(days=7, seconds=5)


def test_the_command_without_the_sites_address_refuses_and_creates_nothing(team):
    with pytest.raises(CommandError, match="SCIM_PROVISIONING_BASE_URL"):
        create("create", "--team", "acme")

    assert not SCIMSetupLink.objects.exists()


def test_the_command_takes_the_site_from_site_when_the_setting_is_unset(team):
    url = last_line(create("create", "--team", "acme", "--site", f"{SITE}/ignored/path")[0])

    assert url.startswith(f"{SITE}/scim/setup-link/scimsetup_")


def test_the_command_names_no_unknown_team(db):
    with pytest.raises(CommandError, match="No team with slug 'nope'"):
        create("create", "--team", "nope", "--site", SITE)


def test_list_shows_states_and_never_a_secret(team):
    created = new_link(team)

    out, _ = create("list", "--team", "acme")

    assert "active" in out
    assert created.secret not in out
    assert digest(created.secret) not in out


# --- only a digest ------------------------------------------------------------------------


def test_only_the_digest_of_the_secret_is_stored(team):
    created = new_link(team)
    opened(setup_links.link_path(created.secret))

    with connection.cursor() as cursor:
        for table in ("scim_provisioning_scimsetuplink", "scim_provisioning_scimsetuplinkuse"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - our own table names
            for row in cursor.fetchall():
                assert not any(created.secret in str(value) for value in row), row
    assert SCIMSetupLink.objects.get().digest == digest(created.secret)


def test_the_link_is_looked_up_by_digest_in_one_query(team):
    created = new_link(team)

    with CaptureQueriesContext(connection) as queries:
        found = setup_links.find_link(created.secret)

    assert found is not None and found.team == team
    assert len(queries) == 1
    assert created.secret not in queries[0]["sql"]


# --- one token per link --------------------------------------------------------------------


def test_the_link_issues_one_working_token_then_refuses_a_second(team):
    created = new_link(team)
    browser = opened(setup_links.link_path(created.secret))

    first = issue(browser)
    second = issue(browser)

    assert first.status_code == 200
    token = token_on(first)
    assert scim_works(token)
    assert second.status_code == 409
    assert "issued its token already" in second.content.decode()
    assert SCIMToken.objects.filter(team=team).count() == 1
    link = SCIMSetupLink.objects.get()
    assert link.token is not None and token.startswith(link.token.prefix)
    actions = list(link.uses.order_by("created", "id").values_list("action", flat=True))
    assert actions == ["opened", "token_issued", "refused"]
    assert link.uses.get(action="token_issued").token_prefix == link.token.prefix


def test_a_spent_link_still_opens_the_page_and_its_status(team, provision):
    created = new_link(team)
    browser = opened(setup_links.link_path(created.secret))
    token = token_on(issue(browser))
    IdPClient(token).get("/Users")

    page = browser.get(PAGE, {"idp": "okta"})
    status = browser.get(f"{PAGE}status/", {"idp": "okta"})

    assert page.status_code == 200
    assert 'id="scim-setup-link-spent"' in page.content.decode()
    assert 'id="scim-setup-issue"' not in page.content.decode()
    assert status.status_code == 200
    assert status.json()["state"] == "connected"


def test_a_link_of_a_team_with_scim_off_issues_nothing_and_is_not_spent(disabled_team):
    created = new_link(disabled_team)
    browser = opened(setup_links.link_path(created.secret))

    response = issue(browser)

    assert response.status_code == 409
    assert SCIMSetupLink.objects.get().token_issued_at is None
    assert not SCIMToken.objects.exists()


# --- the link holder reaches nothing else ---------------------------------------------------


@pytest.fixture
def attacker(team, other_team) -> Client:
    """A browser without an account holding a valid, opened link of team A."""
    return opened(setup_links.link_path(new_link(team).secret))


def test_the_link_gives_no_access_to_another_teams_setup(attacker, other_team):
    for path in ("/teams/globex/scim/setup/", "/teams/globex/scim/setup/status/"):
        response = attacker.get(path)
        assert response.status_code in (302, 403), path
        assert "Globex" not in response.content.decode()


def test_the_link_gives_no_access_to_its_own_teams_manager_pages(attacker):
    for path in ("/teams/acme/scim/", "/teams/acme/scim/setup/", "/admin/"):
        response = attacker.get(path)
        assert response.status_code == 302, path
        assert "login" in response["Location"], path


def test_the_link_gives_no_access_to_the_team_api(attacker):
    for method, path in (
        ("get", "/api/teams/acme/scim/"),
        ("get", "/api/teams/acme/scim/setup-links/"),
        ("post", "/api/teams/acme/scim/tokens/"),
        ("post", "/api/teams/acme/scim/setup-links/"),
        ("get", "/api/teams/globex/scim/"),
    ):
        response = getattr(attacker, method)(path)
        assert response.status_code == 403, (method, path)
    assert not SCIMToken.objects.exists()
    assert SCIMSetupLink.objects.count() == 1


def test_the_link_gives_no_access_to_the_scim_api(attacker):
    response = attacker.get("/scim/v2/Users")

    assert response.status_code == 401


def test_the_page_shows_nothing_of_the_teams_members(attacker, team, provision):
    provision("ada@acme.com")

    body = attacker.get(PAGE, {"idp": "okta"}).content.decode()

    assert "ada@acme.com" not in body


def test_opening_team_bs_link_in_the_same_browser_shows_team_b_only(attacker, other_team):
    opened(setup_links.link_path(new_link(other_team).secret), attacker)

    body = attacker.get(PAGE).content.decode()

    assert "Globex" in body and "Acme" not in body


def test_a_session_without_a_link_is_the_same_404(db):
    for path in (PAGE, f"{PAGE}status/"):
        response = Client().get(path)
        assert response.status_code == 404


def test_a_signed_in_manager_of_another_team_gets_only_the_links_team(team, other_team):
    browser = logged_in(member_of(other_team, "owner"))
    opened(setup_links.link_path(new_link(team).secret), browser)

    assert "Acme" in browser.get(PAGE).content.decode()
    assert browser.get("/teams/acme/scim/").status_code == 404


@pytest.mark.parametrize(
    "secret",
    [
        "scimsetup_%00" + "a" * 42,
        "scimsetup_" + "a" * 42 + "%ED%A0%80",
        "scimsetup_" + "a" * 44,
        "%22%7B%22a%22%3A1%7D",
        "scim_" + "a" * 43,
        "x" * 5000,
    ],
)
def test_hostile_link_text_is_the_same_404(db, secret):
    response = Client().get(f"/scim/setup-link/{secret}/")

    assert (response.status_code, response.content.decode()) == (404, NOT_FOUND)


def test_an_opened_session_that_holds_junk_is_the_same_404(db):
    browser = Client()
    session = browser.session
    session[setup_links.SESSION_KEY] = "1; DROP TABLE"
    session.save()

    assert browser.get(PAGE).status_code == 404


# --- rate limit ---------------------------------------------------------------------------


@override_settings(SCIM_PROVISIONING_SETUP_LINK_RATE_LIMIT=5)
def test_a_burst_of_wrong_links_from_one_client_is_a_429(team):
    created = new_link(team)
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    answers = [guesser.get(f"/scim/setup-link/scimsetup_{i:043d}/").status_code for i in range(5)]

    refused = guesser.get(setup_links.link_path(created.secret))
    elsewhere = Client(REMOTE_ADDR="198.51.100.7").get(setup_links.link_path(created.secret))

    assert answers == [404] * 5
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert elsewhere.status_code == 302


# --- the secret in no log and no table -------------------------------------------------------


def test_the_secret_is_scrubbed_from_djangos_request_loggers(team, caplog):
    created = new_link(team)
    wrong = "scimsetup_" + "Z" * 43

    with caplog.at_level(logging.INFO):
        Client().get(setup_links.link_path(wrong))
        Client().get(setup_links.link_path(created.secret))
        logging.getLogger("django.server").info('"GET %s HTTP/1.1" 302 0', "/x/" + created.secret)

    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Not Found" in text  # django.request logged the wrong link's 404, scrubbed
    assert wrong not in text and created.secret not in text
    assert "[redacted]" in text


def test_a_link_pasted_into_a_scim_request_is_scrubbed_from_the_request_log(idp, team):
    created = new_link(team)

    idp.get("/Users", {"filter": f'userName eq "{created.secret}"'})

    from scim_provisioning.request_log_writer import writer

    writer.flush()
    row = SCIMRequestLog.objects.get()
    assert created.secret not in row.query and created.secret not in row.summary


def test_scrub_tokens_replaces_a_setup_link_secret():
    secret = "scimsetup_" + "q" * 43

    assert scrub_tokens(f"/scim/setup-link/{secret}/") == "/scim/setup-link/[redacted]/"
    assert SETUP_LINK_RE.fullmatch(secret)


# --- the link's address: the configured site, never the Host header --------------------------


@override_settings(SCIM_PROVISIONING_BASE_URL=BASE_URL)
def test_the_team_page_builds_the_link_from_the_setting_not_the_host_header(owner, team):
    browser = logged_in(owner, HTTP_HOST="attacker.example")

    response = browser.post("/teams/acme/scim/", {"action": "create_setup_link"})

    body = response.content.decode()
    assert response.status_code == 200
    url = re.search(r'<code id="setup-link-url">([^<]+)</code>', body).group(1)
    assert url.startswith(f"{SITE}/scim/setup-link/scimsetup_")
    assert "attacker.example" not in url
    assert opened(path_of(url)).get(PAGE).status_code == 200


def test_without_the_setting_the_team_page_shows_the_path_and_says_why(owner, team):
    response = logged_in(owner).post("/teams/acme/scim/", {"action": "create_setup_link"})

    body = response.content.decode()
    path = re.search(r'<code id="setup-link-path">([^<]+)</code>', body).group(1)
    assert path.startswith("/scim/setup-link/scimsetup_")
    assert "SCIM_PROVISIONING_BASE_URL" in body
    assert "testserver" not in path


def test_the_links_connection_check_refuses_without_the_setting(team, monkeypatch):
    calls = []
    monkeypatch.setattr(
        "scim_provisioning.connection_check.diagnose", lambda *a, **k: calls.append(a)
    )
    browser = opened(setup_links.link_path(new_link(team).secret))

    response = browser.post(
        PAGE, {"action": "check_connection", "idp": "okta"}, HTTP_HOST="attacker.example"
    )

    assert response.status_code == 409
    assert "SCIM_PROVISIONING_BASE_URL" in response.content.decode()
    assert calls == []


@override_settings(SCIM_PROVISIONING_BASE_URL=BASE_URL)
def test_the_links_connection_check_calls_the_configured_url_and_is_recorded(team, monkeypatch):
    from scim_provisioning.doctor import DoctorReport

    calls = []

    def fake(url, **kwargs):
        calls.append((url, kwargs))
        return DoctorReport(url)

    monkeypatch.setattr("scim_provisioning.connection_check.diagnose", fake)
    browser = opened(setup_links.link_path(new_link(team).secret))

    response = browser.post(
        PAGE, {"action": "check_connection", "idp": "okta"}, HTTP_HOST="attacker.example"
    )

    assert response.status_code == 200
    assert calls == [(BASE_URL, {"team": team, "created_by": None})]
    assert SCIMSetupLinkUse.objects.filter(action="connection_checked").count() == 1


# --- managers: team page, team API, admin ---------------------------------------------------


def test_a_member_who_is_no_manager_cannot_create_a_link(team):
    member = logged_in(member_of(team, "member"))

    assert member.post("/teams/acme/scim/", {"action": "create_setup_link"}).status_code == 403
    assert member.post("/api/teams/acme/scim/setup-links/").status_code == 403
    assert not SCIMSetupLink.objects.exists()


def test_a_manager_of_team_b_cannot_create_or_revoke_team_as_links(team, other_team):
    link = new_link(team).link
    manager_b = logged_in(member_of(other_team, "owner"))

    assert manager_b.post("/api/teams/acme/scim/setup-links/").status_code == 404
    response = manager_b.post(f"/api/teams/globex/scim/setup-links/{link.pk}/revoke/")
    assert response.status_code == 404
    revoke_on_page = {"action": "revoke_setup_link", "link": link.pk}
    on_page = manager_b.post("/teams/globex/scim/", revoke_on_page)
    assert on_page.status_code == 302
    assert SCIMSetupLink.objects.get(pk=link.pk).revoked_at is None
    assert SCIMSetupLink.objects.count() == 1


@override_settings(SCIM_PROVISIONING_BASE_URL=BASE_URL)
def test_the_team_api_creates_lists_and_revokes_links(owner_client, team):
    created = owner_client.post(
        "/api/teams/acme/scim/setup-links/", {"expires_in": "2d"}, content_type="application/json"
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["url"].startswith(f"{SITE}/scim/setup-link/scimsetup_")
    assert body["path"] == path_of(body["url"])
    assert body["state"] == "active"
    opened(body["path"])
    listing = owner_client.get("/api/teams/acme/scim/setup-links/").json()
    assert [link["id"] for link in listing["links"]] == [body["id"]]
    assert "url" not in listing["links"][0]
    assert [use["action"] for use in listing["uses"]] == ["opened"]
    revoked = owner_client.post(f"/api/teams/acme/scim/setup-links/{body['id']}/revoke/")
    assert revoked.json() == {"revoked": 1}
    assert Client().get(body["path"]).status_code == 404
    again = owner_client.post(f"/api/teams/acme/scim/setup-links/{body['id']}/revoke/")
    assert again.status_code == 404


@pytest.mark.parametrize("lifetime", ["never", "soon", "99999999999d", "\x00"])
def test_the_team_api_refuses_a_link_without_an_end(owner_client, team, lifetime):
    response = owner_client.post(
        "/api/teams/acme/scim/setup-links/",
        {"expires_in": lifetime},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert not SCIMSetupLink.objects.exists()


def test_the_team_api_revoke_all_and_an_overflowing_id(owner_client, team):
    new_link(team)
    new_link(team)

    huge = owner_client.post("/api/teams/acme/scim/setup-links/99999999999999999999999/revoke/")
    every = owner_client.post("/api/teams/acme/scim/setup-links/revoke-all/")

    assert huge.status_code == 404
    assert every.json() == {"revoked": 2}


def test_the_team_page_lists_links_and_their_uses(owner_client, team):
    created = new_link(team)
    token = token_on(issue(opened(setup_links.link_path(created.secret))))

    body = owner_client.get("/teams/acme/scim/").content.decode()

    assert 'id="setup-link-list"' in body
    assert "token issued" in body
    assert "issued a token" in body and "opened the setup" in body
    assert token[:13] in body
    assert created.secret not in body


def test_the_team_page_revokes_one_link(owner_client, team):
    created = new_link(team)

    response = owner_client.post(
        "/teams/acme/scim/", {"action": "revoke_setup_link", "link": str(created.link.pk)}
    )

    assert response.status_code == 302
    assert Client().get(setup_links.link_path(created.secret)).status_code == 404


@pytest.fixture
def staff_client(db) -> Client:
    return logged_in(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))


@override_settings(SCIM_PROVISIONING_BASE_URL=BASE_URL)
def test_staff_create_a_link_on_the_admin_scim_page(staff_client, team):
    page = f"/admin/scim_provisioning/scimteamconfig/{team.pk}/scim/"

    response = staff_client.post(page, {"action": "create_setup_link", "expires_in": "1d"})

    body = response.content.decode()
    assert response.status_code == 200
    url = re.search(r'<code id="scim-new-setup-link">([^<]+)</code>', body).group(1)
    assert opened(path_of(url)).get(PAGE).status_code == 200
    assert SCIMSetupLink.objects.get().created_by.get_username() == "root@example.com"
    revoke = staff_client.post(page, {"action": "revoke_setup_links"})
    assert revoke.status_code == 302
    assert Client().get(path_of(url)).status_code == 404


def test_staff_without_token_permissions_cannot_create_a_link(team):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_scimtoken"))
    page = f"/admin/scim_provisioning/scimteamconfig/{team.pk}/scim/"

    response = logged_in(viewer).post(page, {"action": "create_setup_link"})

    assert response.status_code == 403
    assert not SCIMSetupLink.objects.exists()


def test_the_admin_lists_links_and_their_uses_without_a_secret(staff_client, team):
    created = new_link(team)
    opened(setup_links.link_path(created.secret))

    links = staff_client.get("/admin/scim_provisioning/scimsetuplink/")
    uses = staff_client.get("/admin/scim_provisioning/scimsetuplinkuse/")

    assert links.status_code == 200 and uses.status_code == 200
    assert created.secret not in links.content.decode() + uses.content.decode()
    assert "opened the setup" in uses.content.decode()


# --- retention, session, redirect ------------------------------------------------------------


def test_link_uses_are_pruned_with_the_timeline(team, settings):
    created = new_link(team)
    opened(setup_links.link_path(created.secret))
    opened(setup_links.link_path(created.secret))
    SCIMSetupLinkUse.objects.filter(pk=SCIMSetupLinkUse.objects.first().pk).update(
        created=timezone.now() - timedelta(days=31)
    )
    settings.SCIM_PROVISIONING_TIMELINE_RETENTION_DAYS = 30
    out = StringIO()

    call_command("scim_prune_timeline", stdout=out)

    assert "Deleted 1 setup link uses older than 30 days." in out.getvalue()
    assert SCIMSetupLinkUse.objects.count() == 1


def test_opening_a_link_gives_the_browser_a_new_session_key(team):
    browser = Client()
    session = browser.session
    session["planted"] = True
    session.save()
    planted = session.session_key

    opened(setup_links.link_path(new_link(team).secret), browser)

    assert browser.cookies["sessionid"].value != planted
    assert browser.get(PAGE).status_code == 200


def test_opening_a_link_keeps_the_chosen_idp_and_drops_anything_else(team):
    path = setup_links.link_path(new_link(team).secret)

    response = Client().get(path, {"idp": "okta", "next": "https://evil.example/"})

    assert (response.status_code, response["Location"]) == (302, f"{PAGE}?idp=okta")


@pytest.mark.parametrize("value", ["never", "soon", "0"])
def test_a_setup_link_lifetime_setting_without_an_end_fails_the_checks(settings, value):
    from django.core import checks

    settings.SCIM_PROVISIONING_SETUP_LINK_TTL = value

    errors = [m.id for m in checks.run_checks() if m.level >= checks.ERROR]

    assert errors == ["scim_provisioning.E010"]


def test_the_default_setup_link_lifetime_passes_the_checks(db):
    from django.core import checks

    assert "scim_provisioning.E010" not in [m.id for m in checks.run_checks()]


@pytest.mark.parametrize("number", ["²", "-1", "1\x00", "99999999999999999999999", ""])
def test_the_team_page_refuses_a_link_number_that_is_none(owner_client, team, number):
    created = new_link(team)

    response = owner_client.post(
        "/teams/acme/scim/", {"action": "revoke_setup_link", "link": number}
    )

    assert response.status_code == 302
    assert SCIMSetupLink.objects.get(pk=created.link.pk).revoked_at is None


def test_staff_revoke_links_with_the_admin_action(staff_client, team):
    live, other = new_link(team), new_link(team)

    response = staff_client.post(
        "/admin/scim_provisioning/scimsetuplink/",
        {"action": "revoke", "_selected_action": [live.link.pk]},
    )

    assert response.status_code == 302
    assert Client().get(setup_links.link_path(live.secret)).status_code == 404
    assert Client().get(setup_links.link_path(other.secret)).status_code == 302


@override_settings(SCIM_PROVISIONING_BASE_URL=BASE_URL, SCIM_PROVISIONING_SETUP_LINK_RATE_LIMIT=2)
def test_connection_checks_through_a_link_are_rate_limited(team, monkeypatch):
    from scim_provisioning.doctor import DoctorReport

    calls = []
    monkeypatch.setattr(
        "scim_provisioning.connection_check.diagnose",
        lambda url, **kwargs: calls.append(url) or DoctorReport(url),
    )
    browser = opened(setup_links.link_path(new_link(team).secret))
    check = {"action": "check_connection", "idp": "okta"}

    answers = [browser.post(PAGE, check).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    assert len(calls) == 2
