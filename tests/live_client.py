"""An IdP client over real HTTP, for tests against pytest-django's threaded ``live_server``.

It has :class:`~tests.conftest.IdPClient`'s methods and answers with objects that
read like Django's test responses (``status_code``, ``content``, ``json()``,
``response["Header"]``), so a test written for the in-process client runs
unchanged against a live server: every request then crosses a socket, runs in
a server thread with its own database connection and commits before it is
answered, as in production.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any

from .conftest import SCIM_JSON


class LiveResponse:
    """A finished HTTP response, read like a Django test-client response."""

    def __init__(self, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
        self.status_code = status
        self.content = content
        self._headers = {name.lower(): value for name, value in headers}

    def __getitem__(self, name: str) -> str:
        return self._headers[name.lower()]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._headers.get(name.lower(), default)

    def json(self) -> Any:
        return json.loads(self.content)


def _header_name(environ_key: str) -> str:
    """``HTTP_USER_AGENT`` (the test client's spelling) → ``User-Agent``."""
    return "-".join(part.capitalize() for part in environ_key.removeprefix("HTTP_").split("_"))


class LiveIdPClient:
    """Talks to a live server the way an IdP does: bearer token, SCIM JSON, one connection each."""

    base = "/scim/v2"

    def __init__(self, server_url: str, token: str | None, timeout: float = 60) -> None:
        self.target = urllib.parse.urlsplit(server_url)
        self.token = token
        self.timeout = timeout

    def _url(self, path: str, params: dict[str, str] | None) -> str:
        url = path if path.startswith(self.base) else f"{self.base}{path}"
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        # The IdP's query strings are sent as recorded, unencoded quotes and spaces
        # included; http.client refuses raw spaces, which an HTTP client encodes.
        return url.replace(" ", "%20")

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, str] | None = None,
        content_type: str = SCIM_JSON,
        **extra: str,
    ) -> LiveResponse:
        headers = {"Accept": SCIM_JSON}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = (
                body
                if isinstance(body, bytes)
                else body.encode()
                if isinstance(body, str)
                else json.dumps(body).encode()
            )
            headers["Content-Type"] = content_type
        for key, value in extra.items():
            if key == "QUERY_STRING":
                params = {**(params or {}), **dict(urllib.parse.parse_qsl(value))}
            elif key.startswith("HTTP_"):
                headers[_header_name(key)] = value
        connection = http.client.HTTPConnection(
            self.target.hostname, self.target.port, timeout=self.timeout
        )
        try:
            connection.request(method, self._url(path, params), body=data, headers=headers)
            response = connection.getresponse()
            return LiveResponse(response.status, response.getheaders(), response.read())
        finally:
            connection.close()

    def get(self, path: str, params: dict[str, str] | None = None, **extra: Any) -> LiveResponse:
        return self.request("GET", path, params=params, **extra)

    def delete(self, path: str, **extra: Any) -> LiveResponse:
        return self.request("DELETE", path, **extra)

    def post(
        self, path: str, body: Any, content_type: str = SCIM_JSON, **extra: Any
    ) -> LiveResponse:
        return self.request("POST", path, body, content_type=content_type, **extra)

    def put(
        self, path: str, body: Any, content_type: str = SCIM_JSON, **extra: Any
    ) -> LiveResponse:
        return self.request("PUT", path, body, content_type=content_type, **extra)

    def patch(
        self, path: str, body: Any, content_type: str = SCIM_JSON, **extra: Any
    ) -> LiveResponse:
        return self.request("PATCH", path, body, content_type=content_type, **extra)
