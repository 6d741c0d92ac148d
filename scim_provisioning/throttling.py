"""Per-token rate limits on the Django cache: a 429 with ``Retry-After`` past the limit.

Every token gets ``rate`` requests per second, averaged over a window of
``SCIM_PROVISIONING_RATE_LIMIT_WINDOW`` seconds (60 by default): a token may
spend a window's allowance (``rate x window``, 3,000 by default) in one burst,
which is how IdPs work (an initial sync is thousands of requests, as fast as
the IdP goes; Entra alone needs 25 requests per second per tenant). The rate is
the team's ``SCIMTeamConfig.rate_limit``, else ``SCIM_PROVISIONING_RATE_LIMIT``
(50); ``0`` means no limit.

The algorithm is a sliding-window counter: one integer per token and window,
and the estimate ``previous x (1 - elapsed fraction) + current``. It needs
only the cache operations that are atomic in Redis, Memcached and the
local-memory cache (``add``, ``incr``, ``get``), so the limit holds exactly
across worker processes sharing a cache. DRF's ``SimpleRateThrottle`` does
not: it reads a list of timestamps, appends and writes it back, so concurrent
workers lose each other's requests, and at 50 requests per second it pickles a
list of up to 3,000 floats on every request. A token bucket would need an
atomic read-modify-write of two values, which the cache API does not offer.

A bulk request (RFC 7644 §3.7) counts once per operation: 200 creates cost the
same allowance in one request as in 200 (the view's ``throttle_cost``). Its
operations are limited to the burst (see ``bulk``), so it can always pass once
the window has room.

Requests past the limit are not counted: a throttled IdP that keeps retrying
gets through as soon as ``Retry-After`` says. The check runs after
authentication and the team's permission (an unauthenticated request is a 401
before it), reads the team's rate from the configuration loaded with the
token (no database query), and costs one Redis round trip (a pipeline; three
on other caches; one more when it refuses). If the cache fails, the request
is let through and the failure logged: a throttle must not take provisioning
down.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from .authentication import SCIMClient
from .conf import app_settings

logger = logging.getLogger("scim_provisioning")

KEY_PREFIX = "scim_provisioning:throttle"


def rate_for(client: SCIMClient) -> int:
    """Requests per second allowed to ``client``'s token; ``0`` for no limit."""
    team_rate = client.rate_limit
    return app_settings.RATE_LIMIT if team_rate is None else int(team_rate)


def burst_for(client: SCIMClient) -> int | None:
    """Requests ``client``'s token may spend at once (rate x window); ``None`` for no limit."""
    rate = rate_for(client)
    return max(1, rate * app_settings.RATE_LIMIT_WINDOW) if rate > 0 else None


class SCIMTokenRateThrottle(BaseThrottle):
    """Limits each bearer token (not each IP) to its team's rate."""

    #: The clock, seconds since the epoch; shared by every process (tests replace it).
    timer: Callable[[], float] = time.time

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        client = getattr(request, "user", None)
        if not isinstance(client, SCIMClient):
            return True
        rate = rate_for(client)
        if rate <= 0:
            return True
        window = app_settings.RATE_LIMIT_WINDOW  # read once: each setting read costs ~1 µs
        limit = max(1, rate * window)  # burst_for(), its window read once
        cost = view.throttle_cost() if hasattr(view, "throttle_cost") else 1
        now = self.timer()
        index, elapsed = divmod(now, window)
        base = f"{KEY_PREFIX}:{self.ident(client)}"
        current_key, previous_key = f"{base}:{int(index)}", f"{base}:{int(index) - 1}"
        try:
            cache = caches[app_settings.THROTTLE_CACHE]
            count, previous = self._count(cache, current_key, previous_key, 2 * window + 1, cost)
            weight = 1 - elapsed / window
            if previous * weight + count <= limit:
                return True
            cache.decr(current_key, cost)  # a refused request is not counted
        except Exception:  # the cache is down or misconfigured: fail open
            logger.warning("SCIM rate limit not applied: the cache failed", exc_info=True)
            return True
        self._wait = self._retry_after(
            admitted=count - cost,
            cost=cost,
            previous=previous,
            limit=limit,
            window=window,
            elapsed=elapsed,
        )
        return False

    def wait(self) -> float | None:
        return self._wait

    @staticmethod
    def ident(client: SCIMClient) -> str:
        """The token's cache identity: its id, with its public prefix.

        The prefix keeps two tokens apart when the database reuses an id
        (a restored backup, test transactions rolled back). The access tokens of
        one OAuth 2.0 client share the client's identity.
        """
        if client.token.oauth_client_id is not None:
            # An OAuth client gets a new access token every hour (or as often as
            # it asks): its allowance is the client's, not each token's.
            return f"oauth-{client.token.oauth_client_id}"
        return f"{client.token.pk}-{client.token.prefix}"

    @classmethod
    def _count(
        cls, cache: Any, current_key: str, previous_key: str, timeout: int, cost: int
    ) -> tuple[int, int]:
        """This window's count (this request's ``cost`` included) and the previous window's."""
        if isinstance(cache, RedisCache):
            return cls._count_on_redis(cache, current_key, previous_key, timeout, cost)
        count = increment(cache, current_key, timeout=timeout, by=cost)
        return count, int(cache.get(previous_key) or 0)

    @staticmethod
    def _count_on_redis(
        cache: RedisCache, current_key: str, previous_key: str, timeout: int, cost: int
    ) -> tuple[int, int]:
        """One round trip instead of three: create the counter with its expiry if absent,
        add ``cost``, read the previous window's. Django stores integers as plain Redis
        integers, so the generic path and this one share their counters."""
        current = cache.make_and_validate_key(current_key)
        previous = cache.make_and_validate_key(previous_key)
        client = cache._cache.get_client(current, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.set(current, 0, ex=timeout, nx=True)
        pipe.incrby(current, cost)
        pipe.get(previous)
        _, count, before = pipe.execute()
        return int(count), int(before or 0)

    @staticmethod
    def _retry_after(
        *, admitted: int, cost: int, previous: int, limit: int, window: int, elapsed: float
    ) -> float:
        """Seconds until ``cost`` more requests fit, if none is made meanwhile (at least 1)."""
        if admitted + cost > limit:
            # This window is full: wait into the next one, until this one's
            # weight has fallen enough.
            wait = (window - elapsed) + window * max(0.0, 1 - (limit - cost) / max(admitted, 1))
        else:
            # The previous window's share is what's over: wait for it to slide out.
            wait = window * (1 - (limit - admitted - cost) / max(previous, 1)) - elapsed
        return float(max(1, math.ceil(wait)))


def increment(cache: Any, key: str, *, timeout: int, by: int = 1) -> int:
    """Atomically add ``by`` to the counter ``key``, creating it with ``timeout`` if absent."""
    try:
        return cache.incr(key, by)
    except ValueError:  # no counter yet for this window
        if cache.add(key, by, timeout):
            return by
        return cache.incr(key, by)  # another process created it meanwhile
