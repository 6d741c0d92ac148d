"""Replay recorded IdP requests: one step file per request, placeholders filled in.

A step file in ``tests/payloads/<idp>/`` is one request as the IdP sends it::

    {"source": {"kind": "vendor-doc", "from": "..."}, "note": "...",
     "method": "PATCH", "path": "/Users/{user_id}",
     "headers": {"Content-Type": "application/scim+json; charset=utf-8"},
     "body": {...}}

``path`` is relative to the SCIM base URL and keeps the IdP's query string as
sent (unencoded quotes and ``+`` included). ``{user_id}``-style placeholders
may appear in the path, the header values and any string of the body; they
are replaced by the ids the server handed out earlier in the conversation.
``source`` says where the request's shape comes from and ``note`` what it
stands for in the IdP's flow; neither is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .conftest import SCIM_JSON, IdPClient, load_payload

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Step:
    """One recorded request, its placeholders already filled in."""

    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any


def _fill(value: Any, values: dict[str, str], step: str) -> Any:
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in values:
                raise KeyError(f"{step}: no value for the placeholder {{{key}}}")
            return values[key]

        return _PLACEHOLDER.sub(substitute, value)
    if isinstance(value, list):
        return [_fill(item, values, step) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, values, step) for key, item in value.items()}
    return value


def load_step(name: str, **values: str) -> Step:
    """The step file ``tests/payloads/<name>.json`` with ``values`` substituted."""
    recorded = load_payload(f"{name}.json")
    return Step(
        name=name,
        method=recorded["method"].upper(),
        path=_fill(recorded["path"], values, name),
        headers=_fill(recorded.get("headers") or {}, values, name),
        body=_fill(recorded.get("body"), values, name),
    )


def _environ(headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The request's content type, and its other headers as WSGI environ keys."""
    content_type, extra = SCIM_JSON, {}
    for name, value in headers.items():
        if name.lower() == "content-type":
            content_type = value
        elif name.lower() == "authorization":
            raise ValueError("Step files carry no credentials; the IdPClient sends its token.")
        else:
            extra["HTTP_" + name.upper().replace("-", "_")] = value
    return content_type, extra


def send(client: IdPClient, step: Step) -> Any:
    """Send ``step`` through ``client`` (its team's bearer token) with the step's headers."""
    content_type, extra = _environ(step.headers)
    if step.method == "GET":
        return client.get(step.path, **extra)
    if step.method == "DELETE":
        return client.delete(step.path, **extra)
    if step.method in ("POST", "PUT", "PATCH"):
        sender = getattr(client, step.method.lower())
        return sender(step.path, step.body, content_type=content_type, **extra)
    raise ValueError(f"{step.name}: unsupported method {step.method}")


class Conversation:
    """One IdP talking to the server: replays its step files and remembers the ids it got."""

    def __init__(self, client: IdPClient, idp: str) -> None:
        self.client = client
        self.idp = idp
        self.values: dict[str, str] = {}

    def step(self, name: str, **values: str) -> Step:
        return load_step(f"{self.idp}/{name}", **{**self.values, **values})

    def send(self, name: str, **values: str) -> Any:
        """Replay the step file ``name``; ``values`` add to the remembered placeholders."""
        return send(self.client, self.step(name, **values))

    def remember(self, **values: str) -> None:
        self.values.update(values)
