"""One request through a WSGI application, as a WSGI server calls it (the benchmarks' client)."""

from __future__ import annotations

import io
import json
import sys
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Answer:
    status: int
    content: bytes
    seconds: float  # to the last byte of the body: what the IdP waits for
    close_seconds: float  # close(): where the request log is handed over, after the response
    cpu_seconds: float  # this process's CPU time up to the last byte


def call(
    app: Any,
    method: str,
    path: str,
    *,
    query: str = "",
    body: Any = None,
    token: str = "",
    user_agent: str = "Okta SCIM Client 1.0.0",
) -> Answer:
    """``app(environ, start_response)`` with a minimal HTTPS environ, the body read, then closed."""
    data = b"" if body is None else json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "scim.example.com",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_HOST": "scim.example.com",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_ACCEPT": "application/scim+json",
        "HTTP_USER_AGENT": user_agent,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body is not None:
        environ["CONTENT_TYPE"] = "application/scim+json"
        environ["CONTENT_LENGTH"] = str(len(data))
    statuses: list[str] = []

    def start_response(status: str, headers: list, exc_info: Any = None) -> None:
        statuses.append(status)

    cpu = time.process_time()
    started = time.perf_counter()
    result = app(environ, start_response)
    content = b"".join(result)
    answered = time.perf_counter()
    cpu_seconds = time.process_time() - cpu
    result.close()
    closed = time.perf_counter()
    return Answer(int(statuses[0][:3]), content, answered - started, closed - answered, cpu_seconds)
