"""The guided setup: one source for docs/idp and the page, the team's values filled in,
a token shown once, and a status that follows the IdP's first requests."""

from __future__ import annotations

import re
from html import unescape
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMTeamConfig, SCIMToken
from scim_provisioning.request_log_writer import writer
from scim_provisioning.setup.guides import IDPS, docs_files
from scim_provisioning.setup.markdown import to_html
from scim_provisioning.setup.status import ConnectionState, connection_status
from scim_provisioning.tokens import issue_token

from .conftest import IdPClient
from .team_helpers import logged_in, member_of

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parent.parent / "docs" / "idp"
TOKEN_RE = re.compile(r"scim_[A-Za-z0-9_-]{43}")
PAGE = "/teams/acme/scim/setup/"
OKTA_AGENT = {"HTTP_USER_AGENT": "Okta SCIM Client 1.0.0"}


# --- one source ------------------------------------------------------------------------------


def test_docs_idp_is_what_the_guide_templates_give():
    """Fails when docs/idp/*.md and the page's templates drift: run manage.py scim_setup_docs."""
    files = docs_files()

    assert sorted(files) == sorted(p.name for p in DOCS.glob("*.md"))
    for name, content in files.items():
        assert (DOCS / name).read_text() == content, f"docs/idp/{name} is stale"


def test_the_check_command_fails_on_a_stale_file(tmp_path):
    for name, content in docs_files().items():
        (tmp_path / name).write_text(content)
    (tmp_path / "okta.md").write_text("edited by hand\n")

    with pytest.raises(CommandError) as raised:
        call_command("scim_setup_docs", "--check", "--output", str(tmp_path), stdout=StringIO())

    assert raised.value.returncode == 1 and "okta.md" in str(raised.value)


def test_the_markdown_renderer_escapes_everything():
    html = to_html("| a | `<b>` |\n|---|---|\n| <script> | [x](javascript:alert(1)) |")

    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<code>&lt;b&gt;</code>" in html
    assert "javascript:" not in html


# --- who may open it ---------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_log_in(team, client):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/teams/acme/scim/setup/")


def test_members_who_may_not_manage_scim_get_403_and_outsiders_404(team, other_team):
    assert logged_in(member_of(team)).get(PAGE).status_code == 403
    assert logged_in(member_of(other_team, Membership.Role.OWNER)).get(PAGE).status_code == 404


# --- the page ----------------------------------------------------------------------------------


def test_the_page_offers_every_idp(team, owner_client):
    response = owner_client.get(PAGE)

    html = response.content.decode()
    assert response.status_code == 200
    for idp in IDPS:
        assert f'href="?idp={idp.slug}"' in html and idp.name in html
    assert 'id="guide"' not in html


@pytest.mark.parametrize("idp", IDPS, ids=lambda idp: idp.slug)
def test_each_guide_shows_the_teams_base_url(team, owner_client, idp):
    response = owner_client.get(PAGE, {"idp": idp.slug})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<code>http://testserver/scim/v2</code>" in html
    assert "&lt;your-site&gt;" not in html
    assert "README.md" not in html  # the docs' links point into the page


def test_issuing_a_token_shows_it_once_inside_the_guide(team, owner, owner_client):
    response = owner_client.post(PAGE, {"idp": "okta", "action": "issue"})

    html = response.content.decode()
    tokens = set(TOKEN_RE.findall(html))
    assert response.status_code == 200 and len(tokens) == 1
    token = tokens.pop()
    assert f"<code>{token}</code> (your new token), alone" in html  # the Okta field row
    assert SCIMToken.objects.get(team=team).created_by == owner
    assert IdPClient(token).get("/Users").status_code == 200
    assert not TOKEN_RE.search(owner_client.get(PAGE, {"idp": "okta"}).content.decode())


def test_no_token_while_scim_is_off(disabled_team):
    admin = member_of(disabled_team, Membership.Role.OWNER)

    response = logged_in(admin).post(
        "/teams/initech/scim/setup/", {"idp": "okta", "action": "issue"}
    )

    assert response.status_code == 409
    assert "Contact support to enable SCIM." in response.content.decode()
    assert not SCIMToken.objects.exists()


def test_verified_domains_are_filled_into_the_jumpcloud_guide(team, owner_client):
    SCIMTeamConfig.objects.filter(team=team).update(verified_domains=["acme.com", "acme.io"])

    html = owner_client.get(PAGE, {"idp": "jumpcloud"}).content.decode()

    assert "It must be inside your team&#x27;s verified email domains (acme.com, acme.io)." in html


def test_the_page_has_no_inline_script_or_style(team, owner_client):
    html = owner_client.post(PAGE, {"idp": "okta", "action": "issue"}).content.decode()

    assert re.findall(r"<script\b[^>]*>", html) == [
        '<script src="/static/scim_provisioning/setup.js" defer>'
    ]
    assert "<style" not in html and " style=" not in html and " on" + "click=" not in html
    assert "http://" not in html.replace("http://testserver/scim/v2", "")


# --- the live status -------------------------------------------------------------------------


def status_of(client, idp="okta") -> dict:
    assert writer.flush()
    response = client.get(f"{PAGE}status/", {"idp": idp})
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    return response.json()


def test_the_status_waits_for_the_first_request(team, owner_client):
    issue_token(team)

    status = status_of(owner_client)

    assert status["state"] == "waiting"
    assert status["headline"] == "Waiting for the first request from Okta…"


def test_the_status_confirms_the_connection(team, owner_client, provision):
    okta = IdPClient(issue_token(team).plaintext, **OKTA_AGENT)
    assert okta.get("/Users", {"startIndex": "1", "count": "2"}).status_code == 200
    for name in ("ada", "grace", "edsger"):
        provision(f"{name}@acme.com", client=okta)

    status = status_of(owner_client)

    assert status["state"] == "connected"
    assert re.fullmatch(
        r"Connected: Okta, first request \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, "
        r"3 people provisioned\.",
        status["headline"],
    )


def test_the_status_explains_the_first_failure_with_its_fix(team, owner_client):
    okta = IdPClient(issue_token(team).plaintext, **OKTA_AGENT)
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "jdoe"}
    assert okta.post("/Users", body).status_code == 400
    assert okta.post("/Users", body).status_code == 400

    status = status_of(owner_client)

    assert status["state"] == "failing"
    assert status["headline"].startswith("Okta's first request failed: 400 for POST /scim/v2/Users")
    fixes = [e["fix"] for e in status["failure"]["explanations"]]
    assert "Map userName (or emails) to the person's email." in fixes


def test_the_status_follows_the_newest_token_and_ignores_the_doctor(team):
    old = IdPClient(issue_token(team).plaintext, **OKTA_AGENT)
    assert old.get("/Users").status_code == 200
    new_token = issue_token(team).plaintext
    doctor = IdPClient(new_token, HTTP_USER_AGENT="scim-doctor/1.0")
    assert doctor.get("/Users").status_code == 200
    writer.flush()

    assert connection_status(team).state == ConnectionState.WAITING
    assert IdPClient(new_token, **OKTA_AGENT).get("/Users").status_code == 200
    writer.flush()
    assert connection_status(team).state == ConnectionState.CONNECTED


def test_the_entra_guide_offers_client_credentials_with_entras_field_names(team, owner_client):
    html = unescape(owner_client.get(PAGE, {"idp": "entra-id"}).content.decode())

    assert "OAuth2 Client Credentials Grant" in html
    for label in ("Token Endpoint", "Client ID", "Client Secret"):
        assert f"<strong>{label}</strong>" in html
    assert "http://testserver/scim/v2/oauth/token" in html


def test_the_okta_guide_offers_every_authentication_mode(team, owner_client):
    html = unescape(owner_client.get(PAGE, {"idp": "okta"}).content.decode())

    for mode in ("HTTP Header", "Basic Auth", "OAuth 2"):
        assert f"<strong>{mode}</strong>" in html
    assert "http://testserver/scim/v2/oauth/authorize" in html
    assert "http://testserver/scim/v2/oauth/token" in html


def test_the_failing_box_names_the_cause_from_the_stored_error(team, owner_client):
    # Issue 24: a failed GET got four guesses, the first about email domains.
    okta = IdPClient(issue_token(team).plaintext, **OKTA_AGENT)
    assert okta.get("/Users", {"filter": 'nickName pr and ("'}).status_code == 400

    status = status_of(owner_client)

    assert status["state"] == "failing"
    failure = status["failure"]
    assert failure["error"].startswith("invalidFilter: ")
    assert [e["meaning"] for e in failure["explanations"]] == [
        "The IdP searched on an attribute or with a syntax the site does not support"
    ]


def test_the_failing_box_picks_the_row_whose_message_the_site_sent(team, owner_client):
    okta = IdPClient(issue_token(team).plaintext, **OKTA_AGENT)
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "jdoe"}
    assert okta.post("/Users", body).status_code == 400

    failure = status_of(owner_client)["failure"]

    assert "is not an email address" in failure["error"] or "required" in failure["error"]
    assert [e["fix"] for e in failure["explanations"]] == [
        "Map userName (or emails) to the person's email."
    ]
