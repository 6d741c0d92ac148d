"""Two redemptions of one refresh token at once: exactly one gets tokens (threads, live server).

An IdP that retries a refresh, or two of its workers refreshing together, must
not end up with two live token families from one refresh token: the grant is
marked used by one conditional UPDATE, which the database serialises (a row
lock on PostgreSQL, the write lock on SQLite).
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse

import pytest

from scim_provisioning.models import SCIMOAuthGrant, SCIMToken
from scim_provisioning.oauth.clients import create_client
from scim_provisioning.oauth.grants import access_token_response

from .oauth_helpers import FORM, TOKEN_URL, basic

pytestmark = [pytest.mark.django_db(transaction=True)]

TIMEOUT = 60
RACERS = 4


def race_token_requests(server_url: str, bodies: list[str], authorization: str) -> list[tuple]:
    """POST every body at the same moment, one thread and connection each: (status, JSON)."""
    target = urllib.parse.urlsplit(server_url)
    barrier = threading.Barrier(len(bodies))
    replies: list[tuple | None] = [None] * len(bodies)
    errors: list[BaseException] = []

    def run(index: int, body: str) -> None:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=TIMEOUT)
        try:
            connection.connect()
            barrier.wait(timeout=TIMEOUT)
            headers = {"Authorization": authorization, "Content-Type": FORM}
            connection.request("POST", TOKEN_URL, body=body.encode(), headers=headers)
            response = connection.getresponse()
            replies[index] = (response.status, json.loads(response.read()))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, b), daemon=True) for i, b in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    assert not errors, f"client errors: {errors!r}"
    assert all(reply is not None for reply in replies)
    return replies  # type: ignore[return-value]


def test_simultaneous_refreshes_of_one_refresh_token_give_one_set_of_tokens(live_server, team):
    okta = create_client(team, name="Okta")
    refresh_token = access_token_response(okta.client, refresh=True)["refresh_token"]
    body = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": refresh_token})

    replies = race_token_requests(
        live_server.url, [body] * RACERS, basic(okta.client.client_id, okta.secret)
    )

    statuses = sorted(status for status, _ in replies)
    assert statuses == [200] + [400] * (RACERS - 1), replies
    assert all(body["error"] == "invalid_grant" for status, body in replies if status == 400)
    # The first access token (issued above) and the winner's: no more.
    assert SCIMToken.objects.filter(oauth_client=okta.client).count() == 2
    assert SCIMOAuthGrant.objects.filter(client=okta.client, used_at__isnull=True).count() == 1


def test_simultaneous_client_credentials_requests_each_get_a_token(live_server, team):
    entra = create_client(team, name="Entra ID")
    body = urllib.parse.urlencode({"grant_type": "client_credentials"})

    replies = race_token_requests(
        live_server.url, [body] * RACERS, basic(entra.client.client_id, entra.secret)
    )

    assert [status for status, _ in replies] == [200] * RACERS, replies
    assert len({body["access_token"] for _, body in replies}) == RACERS
