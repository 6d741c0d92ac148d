"""A setup link on the stock ``auth.User`` host: no team page, no team API, no account."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from scim_provisioning.models import SCIMSetupLink, SCIMToken
from tests.conftest import IdPClient

pytestmark = pytest.mark.django_db

SITE = "https://org.example"
PAGE = "/scim/setup-link/"


@override_settings(SCIM_PROVISIONING_BASE_URL=f"{SITE}/scim/v2")
def test_a_link_opens_the_setup_issues_one_token_and_ends_when_revoked(team, other_team):
    out = StringIO()
    call_command("scim_setup_link", "create", "--team", team.slug, stdout=out, stderr=StringIO())
    url = out.getvalue().strip().splitlines()[-1]
    assert url.startswith(f"{SITE}/scim/setup-link/scimsetup_")
    path = url[len(SITE) :]
    browser = Client()

    assert browser.get(path).status_code == 302
    page = browser.get(PAGE, {"idp": "entra-id"})
    issued = browser.post(PAGE, {"action": "issue", "idp": "entra-id"})
    again = browser.post(PAGE, {"action": "issue", "idp": "entra-id"})

    assert page.status_code == 200
    assert f"{SITE}/scim/v2" in page.content.decode()
    assert str(other_team) not in page.content.decode()
    assert issued.status_code == 200 and again.status_code == 409
    token = re.search(r'<code id="scim-setup-token">([^<]+)</code>', issued.content.decode())
    assert IdPClient(token.group(1)).get("/Users").status_code == 200
    assert SCIMToken.objects.filter(team=team).count() == 1
    assert not SCIMToken.objects.filter(team=other_team).exists()
    call_command("scim_setup_link", "revoke", "--team", team.slug, stdout=StringIO())
    assert browser.get(PAGE).status_code == 404
    assert Client().get(path).status_code == 404
    assert SCIMSetupLink.objects.get().revoked_at is not None
