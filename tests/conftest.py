"""Shared fixtures: teams with SCIM on, an IdP client per team, payload files."""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.servers.basehttp import WSGIServer
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from scim_provisioning.request_log_writer import writer
from scim_provisioning.token_cache import cache as token_cache
from scim_provisioning.tokens import issue_token

from .factories import SCIMTeamConfigFactory, TeamFactory

# Each host under tests/hosts/ has its own settings: tests/test_hosts.py runs it in a process
# of its own, never in this one.
collect_ignore = ["hosts"]

# The live server's listen backlog: the concurrency tests open 24 connections at
# once, and on a loaded machine the server accepts them slower than they arrive;
# past the backlog (Django's default is 10) the kernel refuses or resets them.
WSGIServer.request_queue_size = 128

PAYLOADS = Path(__file__).parent / "payloads"
SCIM_JSON = "application/scim+json"


ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


def assert_scim_error(response: Any, status: int, scim_type: str | None = None) -> dict[str, Any]:
    """The response is a SCIM Error: status, media type, body shape and ``scimType``."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].split(";")[0].strip().lower() == SCIM_JSON
    body = json.loads(response.content)
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type
    assert isinstance(body["detail"], str) and body["detail"].strip()
    return body


def load_payload(name: str) -> Any:
    """An IdP request from ``tests/payloads``, without its ``source``.

    Every payload file's ``source`` says where its shape comes from (see
    ``tests/test_payload_provenance.py``); it is never sent.
    """
    payload = json.loads((PAYLOADS / name).read_text())
    if isinstance(payload, dict):
        payload.pop("source", None)
    return payload


class IdPClient:
    """Talks to the SCIM endpoints the way an IdP does: bearer token, SCIM JSON bodies."""

    base = "/scim/v2"

    def __init__(self, token: str | None, **headers: str) -> None:
        extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        extra.update(headers)
        self.client = Client(**extra)

    def _url(self, path: str) -> str:
        return path if path.startswith(self.base) else f"{self.base}{path}"

    def get(self, path: str, params: dict[str, str] | None = None, **extra: Any) -> Any:
        return self.client.get(self._url(path), params, **extra)

    def delete(self, path: str, **extra: Any) -> Any:
        return self.client.delete(self._url(path), **extra)

    def _send(self, method: str, path: str, body: Any, content_type: str, **extra: Any) -> Any:
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return getattr(self.client, method)(
            self._url(path), data, content_type=content_type, **extra
        )

    def post(self, path: str, body: Any, content_type: str = SCIM_JSON, **extra: Any) -> Any:
        return self._send("post", path, body, content_type, **extra)

    def put(self, path: str, body: Any, content_type: str = SCIM_JSON, **extra: Any) -> Any:
        return self._send("put", path, body, content_type, **extra)

    def patch(self, path: str, body: Any, content_type: str = SCIM_JSON, **extra: Any) -> Any:
        return self._send("patch", path, body, content_type, **extra)


def patch_op(*operations: dict[str, Any]) -> dict[str, Any]:
    """A PatchOp body."""
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": list(operations),
    }


@pytest.fixture(scope="session", autouse=True)
def _fast_test_settings():
    """Two settings that cost time and test nothing, for the whole run.

    - Django's default hasher (PBKDF2, a million iterations) spends about half a
      second of CPU on every password set or checked, and the suite sets some
      hundreds; what the tests check of passwords (never stored in clear, never
      linked without proof) does not depend on the hash function.
    - The request-log writer waits ``REQUEST_LOG_FLUSH_INTERVAL`` (0.5 s) for more
      rows before it writes a batch, so each test that sends requests over a live
      server waited that long in :func:`_request_log_written`. Tests of the batching
      itself set the interval they need.
    """
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        SCIM_PROVISIONING_REQUEST_LOG_FLUSH_INTERVAL=0.02,
    ):
        yield


@pytest.fixture(autouse=True)
def _request_log_written():
    """Every request-log row a test caused is saved before the test's database goes away."""
    yield
    assert writer.flush(), "the request-log writer did not finish within its timeout"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with empty counters (rate limits, the unauthenticated log budget)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def team(db):
    """Team A: SCIM enabled."""
    return SCIMTeamConfigFactory(team=TeamFactory(slug="acme", name="Acme")).team


@pytest.fixture
def other_team(db):
    """Team B: SCIM enabled, a different IdP."""
    return SCIMTeamConfigFactory(team=TeamFactory(slug="globex", name="Globex")).team


@pytest.fixture
def idp(team) -> IdPClient:
    """Team A's identity provider."""
    return IdPClient(issue_token(team).plaintext)


@pytest.fixture
def other_idp(other_team) -> IdPClient:
    """Team B's identity provider."""
    return IdPClient(issue_token(other_team).plaintext)


@pytest.fixture
def owner(team):
    """An owner of team A (an example-site account with an owner membership)."""
    from .team_helpers import member_of  # team_helpers imports this module

    return member_of(team, "owner")


@pytest.fixture
def owner_client(owner) -> Client:
    """A browser session of team A's owner."""
    from .team_helpers import logged_in

    return logged_in(owner)


@pytest.fixture
def disabled_team(db):
    """A team whose SCIM switch is off."""
    return SCIMTeamConfigFactory(team=TeamFactory(slug="initech"), enabled=False).team


@pytest.fixture
def provision(idp):
    """Provision a user through team A's SCIM API; returns the created resource."""

    def _provision(user_name: str = "ada@acme.com", client: IdPClient | None = None, **extra: Any):
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": user_name, "type": "work", "primary": True}],
            "active": True,
            **extra,
        }
        response = (client or idp).post("/Users", body)
        assert response.status_code == 201, response.content
        return response.json()

    return _provision


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


#: Modules of long tests (a child pytest per host, Chromium, hypothesis, a whole migrate):
#: run first, so that pytest-xdist's workers end on short tests together rather than one
#: of them finishing a 10-second host test alone while the other waits.
LONG_FIRST = (
    "test_hosts.py",
    "test_browser_layout.py",
    "test_properties.py",
    "test_browser_setup.py",
    "test_conformance_scim2_tester.py",
    "test_browser.py",
    "test_migrations.py",
    "test_browser_timeline.py",
)


def pytest_collection_modifyitems(config, items):
    """Long tests first (:data:`LONG_FIRST`, a fixed order); PostgreSQL-only tests skip with
    a reason on SQLite, and fail loudly where CI requires them.

    That skip is by design, not for want of something: ``.ci/run`` runs the suite
    on SQLite, then on PostgreSQL with ``SCIM_REQUIRE_POSTGRES=1``, where every one
    of them runs.
    """
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FIRST)))  # stable
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    required = os.environ.get("SCIM_REQUIRE_POSTGRES") == "1"
    for item in items:
        if "postgres" in item.keywords:
            if required:
                raise pytest.UsageError(
                    "SCIM_REQUIRE_POSTGRES=1 but DATABASE_URL is not PostgreSQL"
                )
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... to run")
            )
            item.add_marker(pytest.mark.ci_may_skip)


def pytest_collection_finish(session):
    """Collected: the test items, modules and Django's apps live until the end of the run.

    ``gc.freeze()`` moves them out of the garbage collector's sight, so that its full
    collections (every few thousand allocations) stop walking them again and again:
    measured on five SCIM modules, collections took 1.2 s of 14 s of CPU, 0.75 s after this.
    """
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _tokens_forgotten():
    """Each test starts with no token remembered by the process (``token_cache``)."""
    token_cache.clear()
    yield
    token_cache.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Where ``CI`` is set, a skip is a failure: CI must not go green by skipping.

    A test that cannot run because the machine lacks something (Chromium, Redis,
    an installed package) skips locally with its reason, and fails in CI with the
    same reason. Only skips marked ``ci_may_skip`` pass: they depend on the run's
    choice (the SQLite pass, an older Python), not on what the machine has.
    """
    outcome = yield
    report = outcome.get_result()
    if not os.environ.get("CI") or not report.skipped or hasattr(report, "wasxfail"):
        return
    if item.get_closest_marker("ci_may_skip") is not None:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
    report.outcome = "failed"
    report.longrepr = f"CI is set, so this test must run instead of skipping: {reason}"
