"""Faults: a database connection lost mid-request, a rate-limit cache that is down.

A failover, a restarted PostgreSQL or an operator's ``pg_terminate_backend``
kills a request's connection halfway through its transaction. The IdP must
get a SCIM error it retries (503 with ``Retry-After``), the half-done work must
be gone, and the next request must succeed on a fresh connection. A rate-limit
cache that is down must not stop provisioning: the throttle fails open.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from example_project.teams.models import Membership
from scim_provisioning.adapters import get_adapter
from scim_provisioning.models import SCIMUser
from scim_provisioning.tokens import issue_token

from .live_client import LiveIdPClient

User = get_user_model()
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def _user(name: str) -> dict:
    return {"schemas": [USER], "userName": name, "emails": [{"value": name, "primary": True}]}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_backend_killed_mid_request_is_a_scim_503_and_leaves_nothing(
    live_server, team, monkeypatch
):
    adapter = type(get_adapter())  # the host's (the example site's seat-counting one)
    # A create of a new account saves its membership through create_membership (issue 27).
    seat = adapter.create_membership
    killed = []

    def seat_after_the_backend_dies(self, *args, **kwargs):
        # By now the account and the SCIM record are written in the request's transaction.
        if not killed:
            killed.append(True)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return seat(self, *args, **kwargs)

    monkeypatch.setattr(adapter, "create_membership", seat_after_the_backend_dies)
    idp = LiveIdPClient(live_server.url, issue_token(team).plaintext)

    response = idp.post("/Users", _user("ada@acme.com"))

    assert killed
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/scim+json")
    assert response.json()["status"] == "503"
    assert response["Retry-After"] == "5"
    assert not SCIMUser.objects.exists()
    assert not User.objects.filter(email="ada@acme.com").exists()
    assert not Membership.objects.filter(team=team).exists()

    retried = idp.post("/Users", _user("ada@acme.com"))

    assert retried.status_code == 201, retried.content
    assert SCIMUser.objects.get().user_name == "ada@acme.com"
    assert Membership.objects.get(team=team).is_active


@pytest.mark.django_db
def test_a_rate_limit_cache_on_a_redis_that_is_down_lets_scim_work(settings, idp, caplog):
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Nothing listens on port 1: connections are refused, as when Redis is down.
            "LOCATION": f"redis://127.0.0.1:1/0?x={uuid.uuid4()}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    settings.SCIM_PROVISIONING_THROTTLE_CACHE = "throttle"
    settings.SCIM_PROVISIONING_RATE_LIMIT = 1

    statuses = [idp.get("/Users").status_code for _ in range(3)]
    created = idp.post("/Users", _user("ada@acme.com"))

    assert statuses == [200, 200, 200]  # over the limit of 1/s, yet nothing is refused
    assert created.status_code == 201
    assert SCIMUser.objects.filter(user_name="ada@acme.com").exists()
    assert "SCIM rate limit not applied: the cache failed" in caplog.text
