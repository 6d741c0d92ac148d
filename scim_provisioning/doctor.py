"""The connection doctor: what an IdP will meet at a SCIM base URL, checked over real HTTP.

Most "SCIM does not work" tickets are not about SCIM: a proxy drops the
``Authorization`` header, ``http://`` is redirected to ``https://`` (and an
IdP's POST turns into a GET without its body), a certificate chain is
incomplete, ``meta.location`` names the internal host behind the proxy, the
clock is off. :func:`diagnose` asks the URL what an IdP would ask, from
outside the app's own process, and returns one :class:`CheckResult` per
check, each failure with its fix. ``manage.py scim_doctor`` prints them; the
admin's SCIM page and the guided setup show them.

The round trip needs a token: one given by the caller, or a throwaway token
issued for the team (expiring within minutes, marked as the doctor's so that no
token list shows it) and revoked at the end. No token is sent when TLS failed, nor
over plain http to another machine. The round trip creates and deletes a group
(never a user: a DELETE never removes the host account a user create may have
made, so a user round trip would leave an account behind) and checks the group
is gone.

Every request carries the ``User-Agent`` :data:`USER_AGENT`, so that sync
health (:mod:`.health`) does not mistake the doctor for the team's IdP, and the
request log labels them "Connection check".
"""

from __future__ import annotations

import email.utils
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from .authentication import MISSING_CREDENTIALS
from .doctor_auth import (
    TokenFetchFailed,
    authorization_header,
    fetch_access_token,
    throwaway_client,
)
from .models import DOCTOR_USER_AGENT
from .urns import GROUP_SCHEMA_URN, SCIM_MEDIA_TYPE, USER_SCHEMA_URN

#: Sent with every request of the doctor; the request log keeps it and labels the request.
USER_AGENT = DOCTOR_USER_AGENT
#: How far the server's ``Date`` may be from the local clock before the check fails.
MAX_CLOCK_SKEW = timedelta(minutes=5)
#: How long a throwaway token lives at most, should the revocation never run.
THROWAWAY_TOKEN_LIFETIME = timedelta(minutes=15)
#: Shaped like a real token, so that only "no header at all" gets ``MISSING_CREDENTIALS``.
PROBE_TOKEN = "scim_" + "0" * 43
#: Why the token checks are skipped when TLS failed (issue 21: they used to run anyway).
NO_TOKEN_WITHOUT_TLS = (
    "Not checked: a token is never sent over plain http to another machine, "
    "nor over TLS that failed."
)


class Outcome(str, Enum):
    """How a check ended. Only ``FAIL`` makes :attr:`DoctorReport.ok` false."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


class Check(str, Enum):
    """The checks, in the order they run; the values are stable names for scripts."""

    REACHABLE = "reachable"
    TLS = "tls"
    NO_REDIRECT = "no-redirect"
    AUTHORIZATION = "authorization-header"
    MEDIA_TYPE = "media-type"
    CLOCK = "clock"
    LOCATION = "location"
    ROUND_TRIP = "round-trip"


@dataclass(frozen=True)
class CheckResult:
    """One check: its outcome, what was seen and, unless it passed, how to fix it."""

    check: Check
    outcome: Outcome
    message: str
    fix: str = ""

    @property
    def line(self) -> str:
        """One line for a terminal or a log: ``FAIL  tls  <message> Fix: <fix>``."""
        text = f"{self.outcome.value.upper():4}  {self.check.value:20}  {self.message}"
        return f"{text} Fix: {self.fix}" if self.fix else text


@dataclass(frozen=True)
class DoctorReport:
    """Every check's result for ``url``."""

    url: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(result.outcome != Outcome.FAIL for result in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [result for result in self.results if result.outcome == Outcome.FAIL]

    @property
    def summary(self) -> str:
        """One sentence counting every outcome: ``No check failed: 5 passed, 1 warned, 2 skipped.``

        "All … checks passed." only when each one did: a warning or a skipped check is
        counted, never hidden behind a pass (it said "All checks passed." with a WARN
        and two SKIPs: issue 24).
        """
        counts = {outcome: 0 for outcome in Outcome}
        for result in self.results:
            counts[result.outcome] += 1
        total = len(self.results)
        if counts[Outcome.PASS] == total:
            return f"All {total} check{'s' if total != 1 else ''} passed."
        failed = counts[Outcome.FAIL]
        head = f"{failed} of {total} checks failed" if failed else "No check failed"
        words = {Outcome.PASS: "passed", Outcome.WARN: "warned", Outcome.SKIP: "skipped"}
        rest = ", ".join(f"{counts[o]} {word}" for o, word in words.items() if counts[o])
        return f"{head}: {rest}." if rest else f"{head}."


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def detail(self) -> str:
        body = self.json()
        return str(body.get("detail", "")) if isinstance(body, dict) else ""

    @property
    def media_type(self) -> str:
        return self.header("Content-Type").split(";")[0].strip().lower()


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order (tests replace this).

    Raises :class:`socket.gaierror` when there is none.
    """
    found = [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    if not found:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
    return [str(address) for address in found]


class _Client:
    """One doctor run's HTTP: no redirect is followed, TLS is verified, nothing is shared.

    Plain http goes to one address, resolved and connected once per run, then pinned:
    whether a token may be sent is decided on that address (:attr:`on_this_machine`),
    so a name that resolves to 127.0.0.1 for the first request and elsewhere for the
    next (DNS rebinding) cannot carry the token away. Over https the certificate,
    checked against the host name, says where the token goes.
    """

    def __init__(
        self,
        url: str,
        *,
        ssl_context: ssl.SSLContext | None,
        timeout: float,
        auth_mode: str = "bearer",
    ) -> None:
        self.parts = urlsplit(url)
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.auth_mode = auth_mode
        self._address: str | None = None

    @property
    def port(self) -> int:
        return self.parts.port or _default_port(self.parts.scheme)

    def address(self) -> str:
        """The address plain http connects to: the first that accepted a connection."""
        if self._address is None:
            self._plain_connection().close()
        assert self._address is not None
        return self._address

    def _plain_connection(self) -> http.client.HTTPConnection:
        """A connection to the pinned address; the first time, to the first that answers.

        Like a browser, the next address is tried when one refuses (``localhost`` is
        often ``::1`` first while a server listens on 127.0.0.1 only).
        """
        if self._address is not None:
            return http.client.HTTPConnection(self._address, self.port, timeout=self.timeout)
        refused: OSError | None = None
        for address in resolve_host(self.parts.hostname or "", self.port):
            connection = http.client.HTTPConnection(address, self.port, timeout=self.timeout)
            try:
                connection.connect()
            except OSError as exc:
                refused = exc
                continue
            self._address = address
            return connection
        assert refused is not None  # resolve_host returns at least one address
        raise refused

    @property
    def on_this_machine(self) -> bool:
        """Whether plain http stays on this machine (the resolved address is a loopback one)."""
        return _is_loopback(self.address())

    def url(self, path: str) -> str:
        return urlunsplit(self.parts._replace(path=self.parts.path + path, query=""))

    def send(
        self, method: str, path: str, *, token: str | None = None, body: Any = None
    ) -> _Answer:
        headers = {"User-Agent": USER_AGENT, "Accept": SCIM_MEDIA_TYPE}
        if token is not None:
            headers["Authorization"] = authorization_header(self.auth_mode, token)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = SCIM_MEDIA_TYPE
        if self.parts.scheme == "https":
            context = self.ssl_context or ssl.create_default_context()
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.parts.hostname or "", self.parts.port, timeout=self.timeout, context=context
            )
        else:
            # The pinned address, with the URL's own host in the Host header.
            headers["Host"] = self.parts.netloc.rpartition("@")[2]
            connection = self._plain_connection()
        try:
            connection.request(method, self.parts.path + path, body=data, headers=headers)
            response = connection.getresponse()
            content = response.read()
            answer_headers = {name.lower(): value for name, value in response.getheaders()}
            return _Answer(response.status, answer_headers, content)
        finally:
            connection.close()


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _same_base(location: str, base: str) -> bool:
    """Whether ``location`` lies under ``base`` (scheme, host, port and path prefix)."""
    got, want = urlsplit(location), urlsplit(base)
    return (
        got.scheme == want.scheme
        and got.hostname == want.hostname
        and (got.port or _default_port(got.scheme)) == (want.port or _default_port(want.scheme))
        and got.path.startswith(want.path.rstrip("/") + "/")
    )


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _base_url_fix(url: str) -> str:
    return (
        f'Set SCIM_PROVISIONING_BASE_URL = "{url}" in the site\'s settings (or make the proxy '
        "pass the original Host and X-Forwarded-Proto, with USE_X_FORWARDED_HOST and "
        "SECURE_PROXY_SSL_HEADER set)."
    )


def _redirect_result(method: str, base: str, url: str, answer: _Answer) -> CheckResult:
    location = urljoin(url, answer.header("Location"))
    requested, target = urlsplit(url), urlsplit(location)
    if requested.scheme == "http" and target.scheme == "https":
        https_base = urlunsplit(urlsplit(base)._replace(scheme="https", netloc=target.netloc))
        fix = f"Paste the https URL into the IdP: {https_base}"
    elif target.path.rstrip("/") == requested.path.rstrip("/"):
        fix = (
            "Stop the trailing-slash redirect for the SCIM path: scim_provisioning accepts "
            "both forms, so a proxy rule or another middleware adds it; exempt the SCIM path."
        )
    else:
        fix = "Paste the final URL into the IdP, or stop the redirect for the SCIM path."
    return CheckResult(
        Check.NO_REDIRECT,
        Outcome.FAIL,
        f"{method} {url} is redirected ({answer.status}) to {location}: IdPs do not follow "
        "redirects, and a redirected POST arrives as a GET without its body.",
        fix,
    )


class _Run:
    """One call of :func:`diagnose`; holds its results as they come."""

    def __init__(self, url: str, client: _Client) -> None:
        self.url = url
        self.client = client
        self.results: list[CheckResult] = []

    def add(self, check: Check, outcome: Outcome, message: str, fix: str = "") -> None:
        self.results.append(CheckResult(check, outcome, message, fix))

    def failed(self, check: Check) -> bool:
        return any(r.check == check and r.outcome == Outcome.FAIL for r in self.results)

    def skip_rest(self, reason: str) -> None:
        done = {result.check for result in self.results}
        for check in Check:
            if check not in done:
                self.add(check, Outcome.SKIP, reason)

    # --- the checks ------------------------------------------------------------------

    def reach(self) -> _Answer | None:
        """``reachable`` and ``tls``: one GET an IdP would make, with a token-shaped probe."""
        parts = self.client.parts
        started = time.perf_counter()
        try:
            answer = self.client.send("GET", "/ServiceProviderConfig", token=PROBE_TOKEN)
        except ssl.SSLCertVerificationError as exc:
            self.add(Check.REACHABLE, Outcome.PASS, f"{parts.netloc} accepts connections.")
            self.add(
                Check.TLS,
                Outcome.FAIL,
                f"The certificate of {parts.hostname} is not trusted: {exc.verify_message}.",
                "Serve a certificate from a public CA, with its full chain (intermediates "
                "included), for exactly this host name; IdPs refuse anything else.",
            )
            return None
        except ssl.SSLError as exc:
            self.add(Check.REACHABLE, Outcome.PASS, f"{parts.netloc} accepts connections.")
            self.add(
                Check.TLS,
                Outcome.FAIL,
                f"TLS with {parts.netloc} failed: {exc.reason or exc}.",
                "Check that the port serves HTTPS (not plain HTTP) with TLS 1.2 or newer.",
            )
            return None
        except socket.gaierror as exc:
            self.add(
                Check.REACHABLE,
                Outcome.FAIL,
                f"The host name {parts.hostname} does not resolve ({exc.strerror}).",
                "Check the spelling of the URL and the site's DNS record.",
            )
            return None
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            self.add(
                Check.REACHABLE,
                Outcome.FAIL,
                f"No HTTP answer from {parts.netloc}: {exc}.",
                "Check that the site is up and that the firewall lets the IdP's "
                "addresses reach it on this port.",
            )
            return None
        elapsed = (time.perf_counter() - started) * 1000
        self.add(
            Check.REACHABLE,
            Outcome.PASS,
            f"{self.url} answered {answer.status} in {elapsed:.0f} ms.",
        )
        if parts.scheme == "https":
            self.add(Check.TLS, Outcome.PASS, f"The certificate of {parts.hostname} is valid.")
        elif self.client.on_this_machine:
            self.add(
                Check.TLS,
                Outcome.WARN,
                "Plain http: fine on this machine, but IdPs need https.",
                "Serve the SCIM base URL over https before pointing an IdP at it.",
            )
        else:
            self.add(
                Check.TLS,
                Outcome.FAIL,
                f"Plain http to {self.client.address()}, another machine: a bearer token "
                "would cross the network in clear, and Entra ID and Okta refuse http URLs.",
                "Serve the site over https and paste the https URL into the IdP.",
            )
        return answer

    def no_redirect(self, first: _Answer) -> _Answer | None:
        """``no-redirect``: neither the GET nor a POST an IdP would send is redirected."""
        if 300 <= first.status < 400:
            self.results.append(
                _redirect_result("GET", self.url, self.client.url("/ServiceProviderConfig"), first)
            )
            return None
        # A POST with a probe token: refused with a 401, so it creates nothing.
        body = {"schemas": [USER_SCHEMA_URN], "userName": "scim-doctor-probe@example.invalid"}
        try:
            answer = self.client.send("POST", "/Users", token=PROBE_TOKEN, body=body)
        except (OSError, http.client.HTTPException) as exc:
            self.add(
                Check.NO_REDIRECT,
                Outcome.FAIL,
                f"A POST got no answer: {exc}.",
                "Check that the proxy forwards POST requests with a body.",
            )
            return None
        if 300 <= answer.status < 400:
            self.results.append(
                _redirect_result("POST", self.url, self.client.url("/Users"), answer)
            )
            return None
        self.add(Check.NO_REDIRECT, Outcome.PASS, "GET and POST are answered where they were sent.")
        return answer

    def authorization(self, answers: list[_Answer]) -> None:
        """``authorization-header``: the probe token reached the app (a 401 for the token)."""
        if any(a.status == 401 and a.detail == MISSING_CREDENTIALS for a in answers):
            self.add(
                Check.AUTHORIZATION,
                Outcome.FAIL,
                "The request was sent with an Authorization header, but the app received none: "
                "something in front of it removes the header.",
                "Pass Authorization through: Apache mod_wsgi needs `WSGIPassAuthorization On`; "
                "check proxy rules that clear or rewrite headers (nginx `proxy_set_header "
                "Authorization`, load-balancer header policies).",
            )
        elif all(a.status == 401 for a in answers):
            self.add(
                Check.AUTHORIZATION,
                Outcome.PASS,
                "The Authorization header reaches the app (a made-up token is refused with 401).",
            )
        else:
            statuses = ", ".join(str(a.status) for a in answers)
            self.add(
                Check.AUTHORIZATION,
                Outcome.FAIL,
                f"A made-up token was answered {statuses}, not 401: the URL does not reach "
                "this SCIM app, or something in front of it answers instead.",
                "Check the URL (it ends where the site mounts scim_provisioning.urls, e.g. "
                "/scim/v2) and the proxy's routing for it.",
            )

    def media_type(self, answers: list[_Answer]) -> None:
        """``media-type``: every answer is ``application/scim+json``."""
        wrong = sorted(
            {a.media_type or "(none)" for a in answers if a.media_type != SCIM_MEDIA_TYPE}
        )
        if wrong:
            self.add(
                Check.MEDIA_TYPE,
                Outcome.FAIL,
                f"Answers came as {', '.join(wrong)}, not {SCIM_MEDIA_TYPE}: an error page of "
                "the proxy or the site, not the SCIM app, answered.",
                "Check the URL and that the proxy neither answers nor rewrites the SCIM path.",
            )
        else:
            self.add(Check.MEDIA_TYPE, Outcome.PASS, f"Answers are {SCIM_MEDIA_TYPE}.")

    def clock(self, answer: _Answer, now: datetime) -> None:
        """``clock``: the server's ``Date`` header is within :data:`MAX_CLOCK_SKEW`."""
        value = answer.header("Date")
        try:
            served = email.utils.parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError):
            served = None
        if served is None:
            self.add(
                Check.CLOCK,
                Outcome.WARN,
                "The answer has no valid Date header, so the server's clock cannot be checked.",
                "Let the web server send Date (every standard one does).",
            )
            return
        skew = served - now
        if abs(skew) > MAX_CLOCK_SKEW:
            self.add(
                Check.CLOCK,
                Outcome.FAIL,
                f"The server's clock is {abs(skew.total_seconds()):.0f} s "
                f"{'ahead' if skew > timedelta(0) else 'behind'} of this machine's.",
                "Synchronise the server's clock (NTP): token expiry, meta.lastModified and "
                "the request log all rely on it.",
            )
        else:
            self.add(
                Check.CLOCK,
                Outcome.PASS,
                f"The server's clock is within {abs(skew.total_seconds()):.0f} s of this "
                "machine's.",
            )

    def location(self, token: str) -> bool:
        """``location``: ``meta.location`` is under the URL the IdP uses."""
        answer = self.client.send("GET", "/ServiceProviderConfig", token=token)
        if answer.status != 200:
            self.add(
                Check.LOCATION,
                Outcome.FAIL,
                f"The token was refused ({answer.status}: {answer.detail or 'no detail'}).",
                _refusal_fix(answer),
            )
            return False
        location = str(((answer.json() or {}).get("meta") or {}).get("location", ""))
        if not _same_base(location, self.url):
            self.add(
                Check.LOCATION,
                Outcome.FAIL,
                f"meta.location is {location or '(missing)'}, but the IdP uses {self.url}: "
                "IdPs follow these links.",
                _base_url_fix(self.url),
            )
            return True
        self.add(Check.LOCATION, Outcome.PASS, f"meta.location uses {self.url}.")
        return True

    def round_trip(self, token: str) -> None:
        """``round-trip``: look up, create, read, delete and miss a throwaway group."""
        name = f"scim-doctor-{secrets.token_hex(6)}"
        lookup = self.client.send("GET", f"/Groups?filter=displayName+eq+%22{name}%22", token=token)
        if lookup.status != 200:
            self.add(
                Check.ROUND_TRIP,
                Outcome.FAIL,
                f"A lookup was answered {lookup.status} ({lookup.detail or 'no detail'}).",
                _refusal_fix(lookup),
            )
            return
        created = self.client.send(
            "POST",
            "/Groups",
            token=token,
            body={"schemas": [GROUP_SCHEMA_URN], "displayName": name},
        )
        body = created.json() if created.status == 201 else None
        if not isinstance(body, dict) or not body.get("id"):
            self.add(
                Check.ROUND_TRIP,
                Outcome.FAIL,
                f"Creating a test group was answered {created.status} "
                f"({created.detail or 'no detail'}).",
                _refusal_fix(created),
            )
            return
        group_path = f"/Groups/{body['id']}"
        location = created.header("Location")
        meta_location = str((body.get("meta") or {}).get("location", ""))
        deleted = self.client.send("DELETE", group_path, token=token)
        gone = self.client.send("GET", group_path, token=token)
        if deleted.status != 204 or gone.status != 404:
            self.add(
                Check.ROUND_TRIP,
                Outcome.FAIL,
                f"The test group {name} was created but deleting it was answered "
                f"{deleted.status} (then a GET {gone.status}): it may be left behind.",
                f"Delete the group {name} in the admin, then look at the request log for the "
                "DELETE's error.",
            )
            return
        expected = self.client.url(group_path)
        if location != meta_location or not _same_base(location, self.url):
            self.add(
                Check.ROUND_TRIP,
                Outcome.FAIL,
                f"A test group was created and deleted, but its Location is "
                f"{location or '(missing)'} and meta.location {meta_location or '(missing)'}; "
                f"the IdP expects {expected}.",
                _base_url_fix(self.url),
            )
            return
        self.add(
            Check.ROUND_TRIP,
            Outcome.PASS,
            "The token is accepted: a test group was looked up, created, deleted and is gone.",
        )


def _refusal_fix(answer: _Answer) -> str:
    if answer.status == 401 and answer.detail == MISSING_CREDENTIALS:
        return "The Authorization header is lost on the way: see authorization-header."
    if answer.status == 401:
        return "The token is wrong, expired or revoked: issue a new one and paste it alone."
    if answer.status == 403:
        return "SCIM is not enabled for the team: the site's staff switch it on."
    if answer.status == 429:
        return "The token is rate limited: wait a minute and run the doctor again."
    return "Look at the site's SCIM request log for this request's error."


@contextmanager
def _throwaway_token(team: Any, created_by: Any) -> Iterator[str]:
    """A token for ``team`` that ends within minutes and is revoked when the block ends."""
    from django.utils import timezone as django_timezone

    from .tokens import issue_token, revoke_tokens

    issued = issue_token(
        team,
        created_by=created_by,
        expires_at=django_timezone.now() + THROWAWAY_TOKEN_LIFETIME,
        doctor=True,
    )
    try:
        yield issued.plaintext
    finally:
        revoke_tokens(team, prefix=issued.token.prefix)


def diagnose(
    url: str,
    *,
    token: str | None = None,
    team: Any = None,
    created_by: Any = None,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
    clock: Callable[[], datetime] | None = None,
    auth_mode: str = "bearer",
    oauth_client: tuple[str, str] | None = None,
) -> DoctorReport:
    """Check the SCIM base ``url`` as an IdP meets it; one result per :class:`Check`.

    ``token``: a team's token for the location check and the round trip.
    ``team``: when no token is given, a throwaway token is issued for this team
    (raises :class:`~scim_provisioning.tokens.SCIMNotEnabled` if its SCIM is off)
    and revoked at the end. Without either, those two checks are skipped.
    ``ssl_context``: trust to verify https with (default: the system's CAs).
    ``auth_mode``: how the token is sent, one of :data:`~.doctor_auth.AUTH_MODES`;
    ``oauth`` first fetches an access token from ``<url>/oauth/token`` with
    ``oauth_client`` (client id, secret), or with a throwaway client of ``team``.
    """
    url = url.rstrip("/")
    problem = _url_problem(url)
    if problem is not None:
        shown = "this URL" if "@" in url else repr(url)
        run = _Run(shown, _Client("http://invalid", ssl_context=None, timeout=timeout))
        run.add(
            Check.REACHABLE,
            Outcome.FAIL,
            f"{shown} {problem}.",
            "Give the full SCIM base URL, e.g. https://site.example/scim/v2.",
        )
        run.skip_rest("Not checked: the URL is not one an IdP could call.")
        return DoctorReport(shown, run.results)
    client = _Client(url, ssl_context=ssl_context, timeout=timeout, auth_mode=auth_mode)
    run = _Run(url, client)
    now = (clock or (lambda: datetime.now(timezone.utc)))()
    first = run.reach()
    if first is None:
        run.skip_rest("Not checked: the URL could not be reached safely.")
        return DoctorReport(url, run.results)
    post = run.no_redirect(first)
    if post is None:
        run.skip_rest("Not checked: the URL redirects.")
        return DoctorReport(url, run.results)
    run.authorization([first, post])
    run.media_type([first, post])
    run.clock(first, now)
    if run.failed(Check.TLS):
        # Before any token is issued or sent: only the made-up probe has crossed in clear.
        run.skip_rest(NO_TOKEN_WITHOUT_TLS)
        return DoctorReport(url, run.results)
    if token is None and team is None and oauth_client is None:
        run.skip_rest("Not checked: needs --token or --team.")
        return DoctorReport(url, run.results)
    if auth_mode == "oauth":
        _with_oauth(run, team, created_by, oauth_client, ssl_context, timeout)
    elif token is not None:
        _with_token(run, token)
    else:
        with _throwaway_token(team, created_by) as throwaway:
            _with_token(run, throwaway)
    return DoctorReport(url, run.results)


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a SCIM base URL (checked before any lookup), or ``None``.

    An operator's ``--url`` or a setting may hold anything; the answer is a failed
    check, never a traceback from the URL parser or the IDNA codec.
    """
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        return "contains control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
        host = parts.hostname or ""
        if not _is_ip(host):
            host.encode("idna")  # a lone surrogate, a label over 63 characters
    except (ValueError, UnicodeError):
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "is not an http(s) URL"
    if "@" in parts.netloc:
        return "carries a user name or password: IdPs send the token alone, never these"
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _with_oauth(
    run: _Run,
    team: Any,
    created_by: Any,
    oauth_client: tuple[str, str] | None,
    ssl_context: ssl.SSLContext | None,
    timeout: float,
) -> None:
    """The token checks with an access token fetched as Entra ID fetches it."""

    def fetch_and_check(client_id: str, secret: str) -> None:
        try:
            token = fetch_access_token(
                f"{run.url}/oauth/token",
                client_id,
                secret,
                ssl_context=ssl_context,
                timeout=timeout,
            )
        except (TokenFetchFailed, OSError, http.client.HTTPException) as exc:
            run.add(
                Check.LOCATION,
                Outcome.FAIL,
                f"No access token: {exc}",
                "Check the client ID and secret (a new secret: the team's SCIM page), "
                "and that the client is not revoked.",
            )
            run.skip_rest("Not checked: no access token.")
            return
        _with_token(run, token)

    if oauth_client is not None:
        fetch_and_check(*oauth_client)
        return
    if team is None:
        run.skip_rest("Not checked: OAuth needs --client-id and a secret, or --team.")
        return
    with throwaway_client(team, created_by) as (client_id, secret):
        fetch_and_check(client_id, secret)


def _with_token(run: _Run, token: str) -> None:
    try:
        if run.location(token):
            run.round_trip(token)
    except (OSError, http.client.HTTPException) as exc:
        run.results.append(
            CheckResult(
                Check.ROUND_TRIP,
                Outcome.FAIL,
                f"The connection broke during the round trip: {exc}.",
                "Run the doctor again; if it repeats, look at the site's error log.",
            )
        )
    run.skip_rest("Not checked: an earlier check with the token failed.")
