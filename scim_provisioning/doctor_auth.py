"""How the connection doctor presents its credential: each way an IdP may (DESIGN promise 9).

``bearer`` (``Authorization: Bearer <token>``), ``header`` (the token alone, Okta's
HTTP Header mode), ``basic`` (the token as an HTTP Basic password, Okta's Basic
Auth) and ``oauth``: an access token fetched from the token endpoint with the
client credentials grant, as Entra ID does (RFC 6749 §4.4), then sent as a bearer.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit

#: The modes :func:`scim_provisioning.doctor.diagnose` can test.
AUTH_MODES = ("bearer", "header", "basic", "oauth")
#: The user name the doctor sends in Basic mode (the site ignores it).
BASIC_USER = "scim-doctor"


class TokenFetchFailed(Exception):
    """The token endpoint gave no access token; the message says what it answered."""


def authorization_header(mode: str, token: str) -> str:
    """The ``Authorization`` value carrying ``token`` in ``mode`` (an OAuth token is a bearer)."""
    if mode == "header":
        return token
    if mode == "basic":
        return "Basic " + base64.b64encode(f"{BASIC_USER}:{token}".encode()).decode("ascii")
    return f"Bearer {token}"


def fetch_access_token(
    token_url: str,
    client_id: str,
    client_secret: str,
    *,
    ssl_context: ssl.SSLContext | None,
    timeout: float,
) -> str:
    """An access token from ``token_url`` by the client credentials grant, as Entra asks for it."""
    parts = urlsplit(token_url)
    host = parts.hostname or ""
    if parts.scheme == "https":
        context = ssl_context or ssl.create_default_context()
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, parts.port, timeout=timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=timeout)
    body = urlencode(
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    try:
        connection.request("POST", parts.path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        content = response.read()
    finally:
        connection.close()
    try:
        answer: Any = json.loads(content)
    except ValueError:
        answer = None
    if response.status == 200 and isinstance(answer, dict) and answer.get("access_token"):
        return str(answer["access_token"])
    error = (
        answer.get("error_description") or answer.get("error") if isinstance(answer, dict) else None
    )
    raise TokenFetchFailed(
        f"The token endpoint {token_url} answered {response.status}"
        + (f" ({error})." if error else ".")
    )


@contextmanager
def throwaway_client(team: Any, created_by: Any) -> Iterator[tuple[str, str]]:
    """A client of ``team`` (id, secret) revoked, with its access tokens, when the block ends."""
    from .oauth.clients import create_client, revoke_client

    issued = create_client(team, created_by=created_by, name="scim-doctor")
    try:
        yield issued.client.client_id, issued.secret
    finally:
        revoke_client(issued.client)
