"""Per-token rate limits: a SCIM 429 with Retry-After, per token, per team, across processes.

The clock is frozen at the start of a window, so every count is exact. The
counters live in a cache of their own (``SCIM_PROVISIONING_THROTTLE_CACHE``):
local memory here, Redis in the one test marked ``redis``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scim_provisioning.authentication import SCIMClient
from scim_provisioning.models import SCIMToken
from scim_provisioning.throttling import KEY_PREFIX, SCIMTokenRateThrottle
from scim_provisioning.tokens import issue_token

from .conftest import IdPClient, assert_scim_error

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("SCIM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
#: A window boundary for every window length used here (1 s and 60 s).
T0 = 1_800_000_000.0


class Clock:
    """A frozen, settable clock (an instance, so it does not bind as a method)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class BrokenCache(BaseCache):
    """A cache whose server is down."""

    def __init__(self, location: str, params: dict) -> None:
        super().__init__(params)

    def _fail(self, *args, **kwargs):
        raise ConnectionError("cache server unreachable")

    add = get = set = incr = delete = touch = clear = _fail


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock(T0)
    monkeypatch.setattr(SCIMTokenRateThrottle, "timer", clock)
    return clock


@pytest.fixture
def limits(settings, clock):
    """Counters in a fresh local-memory cache; 3 requests per 1-second window."""
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttle-{uuid.uuid4()}",
        },
    }
    settings.SCIM_PROVISIONING_THROTTLE_CACHE = "throttle"
    settings.SCIM_PROVISIONING_RATE_LIMIT = 3
    settings.SCIM_PROVISIONING_RATE_LIMIT_WINDOW = 1
    return settings


def _statuses(client: IdPClient, n: int) -> list[int]:
    return [client.get("/Users?count=1").status_code for _ in range(n)]


def test_past_the_limit_a_scim_429_with_retry_after(limits, idp, clock):
    assert _statuses(idp, 3) == [200, 200, 200]

    response = idp.get("/Users")

    body = assert_scim_error(response, 429)
    assert "throttled" in body["detail"].lower()
    # The window is full: one more request fits once a third of the next
    # window has passed (3 x 2/3 + 1 <= 3), 1.33 s from now.
    assert response["Retry-After"] == "2"


def test_retry_after_is_honest_and_refusals_do_not_count(limits, idp, clock):
    _statuses(idp, 3)
    assert _statuses(idp, 5) == [429] * 5  # an IdP retrying at once
    retry_after = int(idp.get("/Users")["Retry-After"])

    clock.now = T0 + 1.3  # the exact wait is 1.33 s (rounded up to 2)
    assert idp.get("/Users").status_code == 429
    clock.now = T0 + retry_after
    assert idp.get("/Users").status_code == 200


def test_the_previous_window_weighs_in_proportion(limits, idp, clock):
    limits.SCIM_PROVISIONING_RATE_LIMIT = 4
    assert _statuses(idp, 4) == [200] * 4

    clock.now = T0 + 1.5  # half way through the next window: 4 x 0.5 + 2 <= 4
    assert _statuses(idp, 3) == [200, 200, 429]


def test_each_token_has_its_own_allowance(limits, idp, other_idp, team, clock):
    _statuses(idp, 3)
    assert idp.get("/Users").status_code == 429

    assert _statuses(other_idp, 3) == [200, 200, 200]  # team B is unaffected
    second_token = IdPClient(issue_token(team).plaintext)
    assert second_token.get("/Users").status_code == 200  # so is team A's other token


def test_a_team_overrides_the_site_rate(limits, idp, other_idp, team, clock):
    team.scim_config.rate_limit = 1
    team.scim_config.save()

    assert _statuses(idp, 2) == [200, 429]
    assert _statuses(other_idp, 3) == [200, 200, 200]  # the site's rate


def test_a_team_rate_of_zero_is_no_limit(limits, idp, team, clock):
    team.scim_config.rate_limit = 0
    team.scim_config.save()

    assert set(_statuses(idp, 10)) == {200}


@pytest.mark.parametrize("rate", [0, None])
def test_disabled_for_the_site(limits, idp, other_idp, team, clock, rate):
    limits.SCIM_PROVISIONING_RATE_LIMIT = rate
    team.scim_config.rate_limit = 1
    team.scim_config.save()

    assert set(_statuses(other_idp, 10)) == {200}
    assert _statuses(idp, 2) == [200, 429]  # a team's own rate still holds


def test_unauthenticated_requests_fail_auth_and_spend_nothing(limits, idp, clock):
    stranger = IdPClient("scim_" + "x" * 43)

    for _ in range(5):
        assert_scim_error(stranger.get("/Users"), 401)
    assert_scim_error(IdPClient(None).get("/Users"), 401)

    assert _statuses(idp, 3) == [200, 200, 200]


def test_a_disabled_team_is_a_403_before_the_throttle(limits, idp, team, clock):
    team.scim_config.enabled = False
    team.scim_config.save()

    for _ in range(5):
        assert_scim_error(idp.get("/Users"), 403)


def test_the_check_runs_no_query(limits, idp, team, clock):
    token = SCIMToken.objects.select_related("team__scim_config").get(team=team)
    request = SimpleNamespace(user=SCIMClient.looked_up(token, token.digest))

    with CaptureQueriesContext(connection) as queries:
        allowed = [SCIMTokenRateThrottle().allow_request(request, None) for _ in range(4)]

    assert allowed == [True, True, True, False]
    assert len(queries) == 0


def test_a_request_costs_the_same_queries_with_and_without_the_limit(limits, idp, clock):
    idp.get("/Users?count=1")  # records last_used_at, outside the measurements
    with CaptureQueriesContext(connection) as limited:
        assert idp.get("/Users?count=1").status_code == 200
    limits.SCIM_PROVISIONING_RATE_LIMIT = 0
    with CaptureQueriesContext(connection) as unlimited:
        assert idp.get("/Users?count=1").status_code == 200

    assert len(limited) == len(unlimited)


def test_a_failing_cache_lets_requests_through(limits, idp, clock, caplog):
    limits.CACHES = {**limits.CACHES, "throttle": {"BACKEND": f"{__name__}.BrokenCache"}}

    assert _statuses(idp, 5) == [200] * 5
    assert "SCIM rate limit not applied" in caplog.text


# --- Redis: the limit holds across processes ---------------------------------

#: A second Django instance: its own process, cache handler and Redis connections.
#: It spends the same token's allowance through the throttle, after a "go" on stdin.
WORKER = """
import json, os, sys
import django

os.environ["DJANGO_SETTINGS_MODULE"] = "example_project.settings"
django.setup()
from types import SimpleNamespace
from django.test.utils import override_settings
from scim_provisioning.authentication import SCIMClient
from scim_provisioning.throttling import SCIMTokenRateThrottle

job = json.loads(sys.argv[1])
SCIMTokenRateThrottle.timer = staticmethod(lambda: job["now"])
client = SCIMClient.__new__(SCIMClient)
client.token = SimpleNamespace(pk=job["token_pk"], prefix=job["token_prefix"], oauth_client_id=None)
client.rate_limit = None
request = SimpleNamespace(user=client)
with override_settings(**job["settings"]):
    print("ready", flush=True)
    sys.stdin.readline()
    admitted = sum(SCIMTokenRateThrottle().allow_request(request, None) for _ in range(job["n"]))
print(json.dumps({"admitted": admitted}), flush=True)
"""


@pytest.fixture
def redis_url() -> str:
    """The Redis test database; a skip when unreachable (a failure when CI is set: conftest.py)."""
    try:
        import redis  # the [dev] extra's client, which Django's RedisCache uses

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:
        pytest.skip(f"needs Redis at {REDIS_URL} (SCIM_TEST_REDIS_URL): {exc}")
    return REDIS_URL


@pytest.fixture
def file_cache(tmp_path) -> dict:
    """Django's file-based cache: a cache that every process on the host shares, not Redis."""
    return {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(tmp_path / "throttle"),
    }


@pytest.fixture
def redis_cache(redis_url) -> dict:
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": f"scim-test-{uuid.uuid4()}",
    }


@pytest.mark.parametrize(
    "cache",
    [
        pytest.param("redis_cache", marks=pytest.mark.redis),
        # A known limit, kept as a test that fails once it no longer holds: Django's
        # file-based (and database) cache implements incr() as a get then a set, so two
        # processes lose each other's counts (60 admitted where 40 fit). docs/operations.md
        # says to point the throttle at Redis or Memcached. Not strict: a race is not
        # lost every time (it was not once under two loaded workers), and a strict xfail
        # would then fail the run for the limit holding by luck.
        pytest.param(
            "file_cache",
            marks=pytest.mark.xfail(
                strict=False, reason="FileBasedCache.incr is not atomic across processes"
            ),
        ),
    ],
)
def test_the_limit_holds_across_processes(settings, clock, idp, team, cache, request):
    throttle_settings = {
        "CACHES": {**settings.CACHES, "throttle": request.getfixturevalue(cache)},
        "SCIM_PROVISIONING_THROTTLE_CACHE": "throttle",
        "SCIM_PROVISIONING_RATE_LIMIT": 1,
        "SCIM_PROVISIONING_RATE_LIMIT_WINDOW": 60,  # 60 requests in the frozen window
    }
    for name, value in throttle_settings.items():
        setattr(settings, name, value)
    token = SCIMToken.objects.get(team=team)

    # This process spends 20 of the 60 through the whole SCIM stack.
    assert set(_statuses(idp, 20)) == {200}

    # Two other processes race for the remaining 40, 40 attempts each, at once.
    job = {
        "now": T0,
        "token_pk": token.pk,
        "token_prefix": token.prefix,
        "n": 40,
        "settings": throttle_settings,
    }
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, json.dumps(job)],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = [json.loads(worker.communicate(timeout=60)[0]) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert all(worker.returncode == 0 for worker in workers)

    assert sum(r["admitted"] for r in results) == 40  # not one more, not one less
    response = idp.get("/Users")
    assert_scim_error(response, 429)
    assert int(response["Retry-After"]) >= 1

    window = int(T0 // 60)
    ident = SCIMTokenRateThrottle.ident(SimpleNamespace(token=token))
    caches["throttle"].delete_many([f"{KEY_PREFIX}:{ident}:{i}" for i in (window - 1, window)])


def test_throttled_writes_cost_the_database_no_timeline_entry(limits, idp, clock):
    """Issue 24 records failed writes; a 429 is the throttle protecting the database, so
    recording each would undo it (the request log's row is written off the request path)."""
    from scim_provisioning.models import SCIMUserEvent, TimelineAction

    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}
    replies = [idp.patch(f"/Users/{uuid.uuid4()}", body).status_code for _ in range(6)]

    assert replies[3:] == [429] * 3
    failed = SCIMUserEvent.objects.filter(action=TimelineAction.WRITE_FAILED)
    assert sorted(entry.outcome["status"] for entry in failed) == sorted(replies[:3])
