"""Small reverse proxies in front of the live server, each with one classic fault.

They stand for what sits between an IdP and a real deployment: a proxy that
drops ``Authorization``, one that redirects to https or to a trailing slash,
one that rewrites the ``Host`` so the app builds links to the internal host,
and a TLS terminator with a self-signed certificate.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

#: Hop-by-hop headers and those the proxy sets itself.
_NOT_FORWARDED = {
    "connection", "keep-alive", "transfer-encoding", "content-length", "date", "server",
}  # fmt: skip


class Fault(str, Enum):
    NONE = "none"
    STRIP_AUTHORIZATION = "strip-authorization"
    REDIRECT_TO_HTTPS = "redirect-to-https"
    REDIRECT_POST_TO_TRAILING_SLASH = "redirect-post-to-trailing-slash"
    REWRITE_HOST = "rewrite-host"


class _Handler(BaseHTTPRequestHandler):
    server: _ProxyServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        pass

    def _answer_redirect(self, location: str) -> None:
        self.send_response(301)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _forward(self) -> None:
        fault = self.server.fault
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        host = self.headers.get("Host", "")
        if fault == Fault.REDIRECT_TO_HTTPS:
            return self._answer_redirect(f"https://{host}{self.path}")
        path, _, query = self.path.partition("?")
        if (
            fault == Fault.REDIRECT_POST_TO_TRAILING_SLASH
            and self.command == "POST"
            and not path.endswith("/")
        ):
            return self._answer_redirect(f"{path}/" + (f"?{query}" if query else ""))
        headers = {
            name: value
            for name, value in self.headers.items()
            if name.lower() not in _NOT_FORWARDED
        }
        if fault == Fault.STRIP_AUTHORIZATION:
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        if fault == Fault.REWRITE_HOST:
            headers = {k: v for k, v in headers.items() if k.lower() != "host"}
            headers["Host"] = "app.internal:8000"
        upstream = urlsplit(self.server.upstream)
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in _NOT_FORWARDED:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        finally:
            connection.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward  # noqa: N815


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, fault: Fault, address: str) -> None:
        super().__init__((address, 0), _Handler)
        self.upstream = upstream
        self.fault = fault


@contextmanager
def proxy(
    upstream: str,
    fault: Fault = Fault.NONE,
    *,
    certificate: Path | None = None,
    address: str = "127.0.0.1",
) -> Iterator[str]:
    """Run a proxy to ``upstream`` on ``address``; yields its base URL (https with ``certificate``).

    ``address``: another of this machine's addresses (see :func:`non_loopback_address`)
    stands for a site on another machine, reached over the network.
    """
    server = _ProxyServer(upstream, fault, address)
    scheme = "http"
    if certificate is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    # serve_forever checks for shutdown() every poll_interval (0.5 s by default): each
    # test that leaves this block would wait that long for a proxy doing nothing.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"{scheme}://{address}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def non_loopback_address() -> str:
    """An IPv4 address of this machine that is not a loopback one (the default route's).

    Connecting a UDP socket sends nothing; it only picks the interface a packet would
    leave by. Without one (a sandbox with ``lo`` alone) the test cannot run: skipped,
    which fails when CI is set (see conftest).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, nothing is sent
            address = probe.getsockname()[0]
        except OSError:
            address = "127.0.0.1"
    if ipaddress.ip_address(address).is_loopback:
        pytest.skip("this machine has no address other than loopback")
    return address


def self_signed_certificate(directory: Path) -> Path:
    """A PEM with a self-signed certificate and its key, for 127.0.0.1 and localhost."""
    pem = directory / "self-signed.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(pem), "-out", str(directory / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    pem.write_text(pem.read_text() + (directory / "cert.pem").read_text())
    return pem
