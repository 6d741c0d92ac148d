"""Setup links under concurrent requests: real threads against the live server.

An IT contact double-clicks "Issue", or two colleagues open the same link: the
link issues one token (a conditional ``UPDATE`` decides), whatever arrives at once.
Runs on SQLite and PostgreSQL (see ``test_concurrency``); on PostgreSQL the two
``UPDATE``\\s really contend for the row.
"""

from __future__ import annotations

import http.client
import re
import threading
import urllib.parse
from http.cookies import SimpleCookie

import pytest
from django.test import override_settings

from scim_provisioning import setup_links
from scim_provisioning.models import SCIMSetupLink, SCIMSetupLinkUse, SCIMToken

pytestmark = [pytest.mark.django_db(transaction=True)]

TIMEOUT = 60
PAGE = "/scim/setup-link/"


class Browser:
    """A cookie-keeping HTTP client of its own connection per request (one per thread)."""

    def __init__(self, server_url: str) -> None:
        self.target = urllib.parse.urlsplit(server_url)
        self.cookies: dict[str, str] = {}

    def connect(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(
            self.target.hostname, self.target.port, timeout=TIMEOUT
        )
        connection.connect()
        return connection

    def send(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        connection: http.client.HTTPConnection | None = None,
        address: str | None = None,
    ) -> tuple[int, str]:
        connection = connection or self.connect()
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{self.target.netloc}{PAGE}"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            for value in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(value).items():
                    self.cookies[name] = morsel.value
            return response.status, text
        finally:
            connection.close()


def at_once(count: int, action) -> list:
    """Run ``action(connection_index)`` in ``count`` threads released together."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            prepared = action.prepare()
            barrier.wait(timeout=TIMEOUT)
            results[index] = action.fire(prepared)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    assert not errors, errors
    return results


class IssueThroughLink:
    def __init__(self, browser: Browser, csrf: str) -> None:
        self.browser, self.csrf = browser, csrf

    def prepare(self) -> http.client.HTTPConnection:
        return self.browser.connect()

    def fire(self, connection: http.client.HTTPConnection) -> tuple[int, str]:
        form = {"action": "issue", "idp": "okta", "csrfmiddlewaretoken": self.csrf}
        return self.browser.send("POST", PAGE, form, connection)


def test_four_issues_through_one_link_at_once_make_exactly_one_token(live_server, team):
    with override_settings(SCIM_PROVISIONING_BASE_URL=f"{live_server.url}/scim/v2"):
        created = setup_links.create_link(team)
    browser = Browser(live_server.url)
    status, _ = browser.send("GET", setup_links.link_path(created.secret))
    assert status == 302
    status, page = browser.send("GET", f"{PAGE}?idp=okta")
    assert status == 200, page
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    replies = at_once(4, IssueThroughLink(browser, csrf))

    statuses = sorted(status for status, _ in replies)
    assert statuses == [200, 409, 409, 409], replies
    winner = next(body for status, body in replies if status == 200)
    token = re.search(r'<code id="scim-setup-token">([^<]+)</code>', winner).group(1)
    assert SCIMToken.objects.filter(team=team).count() == 1
    link = SCIMSetupLink.objects.get()
    assert link.token is not None and token.startswith(link.token.prefix)
    uses = sorted(SCIMSetupLinkUse.objects.values_list("action", flat=True))
    assert uses == ["opened", "refused", "refused", "refused", "token_issued"]


class OpenWrongLink:
    def __init__(self, server_url: str) -> None:
        self.server_url = server_url

    def prepare(self) -> tuple[Browser, http.client.HTTPConnection]:
        browser = Browser(self.server_url)
        return browser, browser.connect()

    def fire(self, prepared) -> int:
        browser, connection = prepared
        wrong = setup_links.link_path("scimsetup_" + "W" * 43)
        return browser.send("GET", wrong, connection=connection)[0]


@override_settings(SCIM_PROVISIONING_SETUP_LINK_RATE_LIMIT=5)
def test_a_parallel_burst_of_wrong_links_is_counted_exactly(live_server, team):
    replies = at_once(10, OpenWrongLink(live_server.url))

    assert sorted(replies) == [404] * 5 + [429] * 5
