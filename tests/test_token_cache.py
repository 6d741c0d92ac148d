"""A worker remembers which team a token belongs to; what can change is checked every time.

Reads of a remembered token check its validity inside their own query, and
every other request checks it in full before it runs. So a token revoked,
expired or whose team was switched off is refused on the very next request,
whatever the worker remembers; another team's data stays out of reach.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from scim_provisioning.authentication import (
    DISABLED,
    INVALID,
    SCIMClient,
    TokenGuard,
)
from scim_provisioning.models import SCIMRequestLog, SCIMTeamConfig, SCIMToken
from scim_provisioning.reads import record_by_id
from scim_provisioning.resource_types import USERS
from scim_provisioning.throttling import SCIMTokenRateThrottle
from scim_provisioning.token_cache import MAX_ENTRIES, TokenCache, TokenFacts
from scim_provisioning.token_cache import cache as token_cache
from scim_provisioning.tokens import digest, issue_token, revoke_tokens, rotate_token

from .conftest import IdPClient, assert_scim_error, patch_op

pytestmark = pytest.mark.django_db

TOKEN_TABLE = SCIMToken._meta.db_table


@pytest.fixture
def issued(team):
    return issue_token(team)


@pytest.fixture
def client(issued) -> IdPClient:
    return IdPClient(issued.plaintext)


@pytest.fixture
def ada(client) -> dict:
    response = client.post("/Users", {"userName": "ada@acme.com"})
    assert response.status_code == 201
    return response.json()


@pytest.fixture
def warm(client, ada, issued):
    """The token is remembered by this process, as after any first request."""
    assert client.get(f"/Users/{ada['id']}").status_code == 200
    assert token_cache.get(issued.token.digest) is not None


def _reads(ada) -> list[str]:
    return [
        f"/Users/{ada['id']}",
        "/Users",
        '/Users?filter=userName eq "ada@acme.com"',
        "/Users?startIndex=500&count=10",  # past the end: no row to check the token with
        "/Users?count=0",
        "/Users/00000000-0000-4000-8000-000000000000",  # unknown: 401 before 404
        '/Users?filter=nonsense eq "x"',  # a bad filter: 401 before 400
        "/Groups",
    ]


def test_a_remembered_token_reads_without_a_token_query(client, ada, warm):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/Users/{ada['id']}")

    assert response.status_code == 200
    selects = [q["sql"] for q in queries if q["sql"].lstrip().startswith("SELECT")]
    assert [sql for sql in selects if sql.lstrip().startswith(f'SELECT "{TOKEN_TABLE}"')] == []
    assert len(selects) == 1  # the user, with the token's validity and its groups


@pytest.mark.parametrize("read", range(8))
def test_a_revoked_token_is_refused_on_the_next_read(client, ada, warm, team, read):
    revoke_tokens(team)

    response = client.get(_reads(ada)[read])

    assert_scim_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert token_cache.get(digest(client.client.defaults["HTTP_AUTHORIZATION"][7:])) is None


def test_a_revoked_token_is_refused_on_the_next_write(client, ada, warm, team):
    revoke_tokens(team)
    body = patch_op({"op": "replace", "path": "title", "value": "Boss"})

    assert_scim_error(client.patch(f"/Users/{ada['id']}", body), 401)
    assert_scim_error(client.post("/Users", {"userName": "bob@acme.com"}), 401)
    assert_scim_error(client.delete(f"/Users/{ada['id']}"), 401)
    assert_scim_error(client.get("/ServiceProviderConfig"), 401)


def test_an_expired_token_is_refused_on_the_next_request(client, ada, warm, issued):
    SCIMToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert_scim_error(client.get(f"/Users/{ada['id']}"), 401)
    assert_scim_error(client.get("/Users"), 401)


def test_a_token_ended_by_a_rotation_without_overlap_is_refused_at_once(client, ada, warm, team):
    new = rotate_token(team, overlap=timedelta(0))

    assert_scim_error(client.get(f"/Users/{ada['id']}"), 401)
    assert IdPClient(new.plaintext).get(f"/Users/{ada['id']}").status_code == 200


@pytest.mark.parametrize("read", range(8))
def test_a_team_switched_off_is_refused_on_the_next_read(client, ada, warm, team, read):
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)

    response = client.get(_reads(ada)[read])

    assert_scim_error(response, 403)


def test_a_team_switched_off_is_refused_on_the_next_write(client, ada, warm, team):
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)

    response = client.post("/Users", {"userName": "bob@acme.com"})

    assert_scim_error(response, 403)
    assert not team.scim_users.filter(user_name="bob@acme.com").exists()


def test_a_team_switched_back_on_is_served_again(client, ada, warm, team):
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)
    assert_scim_error(client.get("/Users"), 403)
    SCIMTeamConfig.objects.filter(team=team).update(enabled=True)

    assert client.get("/Users").status_code == 200


def test_a_remembered_token_never_reaches_another_team(client, warm, other_idp):
    theirs = other_idp.post("/Users", {"userName": "eve@globex.com"}).json()

    assert_scim_error(client.get(f"/Users/{theirs['id']}"), 404)
    listed = client.get('/Users?filter=userName eq "eve@globex.com"').json()
    assert listed["totalResults"] == 0


def test_nothing_is_remembered_when_switched_off(settings, client, ada, issued):
    settings.SCIM_PROVISIONING_TOKEN_CACHE_SECONDS = 0

    client.get(f"/Users/{ada['id']}")

    assert token_cache.get(issued.token.digest) is None


def test_a_disabled_teams_token_is_not_remembered(disabled_team):
    token = SCIMToken.objects.create(
        team=disabled_team, digest=digest("scim_" + "d" * 43), prefix="scim_dddddddd"
    )
    client = IdPClient("scim_" + "d" * 43)

    assert_scim_error(client.get("/Users"), 403)
    assert token_cache.get(token.digest) is None


def test_the_cache_forgets_after_its_time(settings, monkeypatch):
    settings.SCIM_PROVISIONING_TOKEN_CACHE_SECONDS = 60
    now = [1000.0]
    monkeypatch.setattr("scim_provisioning.token_cache.time.monotonic", lambda: now[0])
    cache = TokenCache()
    facts = TokenFacts(token_id=1, team_id=1, prefix="scim_x", rate_limit=None, last_used_at=None)
    cache.put("d", facts)

    now[0] += 59
    assert cache.get("d") == facts
    now[0] += 2
    assert cache.get("d") is None


def test_the_cache_is_bounded():
    cache = TokenCache()
    facts = TokenFacts(token_id=1, team_id=1, prefix="scim_x", rate_limit=None, last_used_at=None)
    for i in range(MAX_ENTRIES + 10):
        cache.put(f"d{i}", facts)

    assert cache.get("d0") is None
    assert cache.get(f"d{MAX_ENTRIES + 9}") == facts


def test_last_use_is_still_recorded_once_a_minute(client, ada, warm, issued):
    SCIMToken.objects.filter(pk=issued.token.pk).update(last_used_at=None)
    token_cache.used(issued.token.digest, None)

    client.get(f"/Users/{ada['id']}")

    assert SCIMToken.objects.get(pk=issued.token.pk).last_used_at is not None


def test_a_remembered_token_writes_its_last_use_at_most_once_per_interval(client, issued):
    assert client.get("/Users").status_code == 200  # the first request: looked up, remembered
    first_use = SCIMToken.objects.get(pk=issued.token.pk).last_used_at
    assert first_use is not None

    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get("/Users").status_code == 200

    writes = [q["sql"] for q in queries if q["sql"].lstrip().startswith(f'UPDATE "{TOKEN_TABLE}"')]
    assert writes == []
    assert SCIMToken.objects.get(pk=issued.token.pk).last_used_at == first_use


def test_a_remembered_token_keeps_its_teams_rate_limit(settings, monkeypatch, client, team):
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
    # The clock stands still at a window's start (a function, so it does not bind as a method).
    monkeypatch.setattr(SCIMTokenRateThrottle, "timer", staticmethod(lambda: 1_800_000_000.0))
    SCIMTeamConfig.objects.filter(team=team).update(rate_limit=1)

    assert client.get("/Users").status_code == 200  # looked up, then remembered
    response = client.get("/Users")  # remembered: the team's rate, not the site's

    assert_scim_error(response, 429)


def test_the_request_log_names_a_remembered_token(client, ada, warm, issued):
    client.get(f"/Users/{ada['id']}")

    entry = SCIMRequestLog.objects.order_by("-pk").first()
    assert (entry.team_id, entry.token_prefix) == (issued.token.team_id, issued.token.prefix)


def test_a_team_switched_off_is_told_so_and_its_token_forgotten(client, ada, warm, team, issued):
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)

    body = assert_scim_error(client.post("/Users", {"userName": "bob@acme.com"}), 403)

    assert body["detail"] == DISABLED
    assert token_cache.get(issued.token.digest) is None
    assert not team.scim_users.filter(user_name="bob@acme.com").exists()


def test_a_revoked_remembered_token_is_told_it_is_not_valid(client, ada, warm, team):
    revoke_tokens(team)

    body = assert_scim_error(client.post("/Users", {"userName": "bob@acme.com"}), 401)

    assert body["detail"] == INVALID
    assert not team.scim_users.filter(user_name="bob@acme.com").exists()


def test_a_remembered_tokens_stale_last_use_is_rewritten_once(client, ada, warm, issued):
    long_ago = timezone.now() - timedelta(hours=1)
    SCIMToken.objects.filter(pk=issued.token.pk).update(last_used_at=long_ago)
    token_cache.used(issued.token.digest, long_ago)  # as remembered an hour ago

    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get(f"/Users/{ada['id']}").status_code == 200

    writes = [q["sql"] for q in queries if q["sql"].lstrip().startswith(f'UPDATE "{TOKEN_TABLE}"')]
    assert len(writes) == 1
    assert SCIMToken.objects.get(pk=issued.token.pk).last_used_at > long_ago


def _token_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().startswith(f'SELECT "{TOKEN_TABLE}"')]


LISTS = ["/Users", '/Users?filter=userName eq "ada@acme.com"', "/Users?count=1"]


@pytest.mark.parametrize("listing", LISTS)
def test_a_remembered_token_lists_without_a_token_query(client, ada, warm, listing):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(listing)

    assert response.status_code == 200
    assert response.json()["Resources"][0]["id"] == ada["id"]
    assert _token_reads(queries) == []


@pytest.mark.parametrize("read", ["/Users/{id}", *LISTS])
def test_a_remembered_token_that_expires_later_reads_without_a_token_query(
    client, ada, warm, issued, read
):
    """The query's own check compares the expiry with the time of the request."""
    SCIMToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() + timedelta(days=1)
    )

    with CaptureQueriesContext(connection) as queries:
        response = client.get(read.format(id=ada["id"]))

    assert response.status_code == 200
    assert _token_reads(queries) == []


@pytest.mark.parametrize("listing", LISTS)
def test_an_expired_token_is_refused_on_the_next_list(client, ada, warm, issued, listing):
    SCIMToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert_scim_error(client.get(listing), 401)


@pytest.mark.parametrize("listing", LISTS)
def test_a_revoked_token_lists_nothing_while_other_tokens_live(
    client, ada, warm, team, other_idp, listing
):
    """Another team's token, and this team's new one, prove nothing about the revoked one."""
    issue_token(team)
    revoke_tokens(team, prefix=SCIMToken.objects.filter(team=team).earliest("pk").prefix)

    assert_scim_error(client.get(listing), 401)


def test_a_new_tokens_first_write_looks_the_token_up_once(client, team):
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/Users", {"userName": "ada@acme.com"})

    assert response.status_code == 201
    assert len(_token_reads(queries)) == 1
    assert team.scim_users.filter(user_name="ada@acme.com").exists()


def test_a_remembered_tokens_failed_write_checks_the_token_once(client, ada, warm):
    body = patch_op({"op": "replace", "path": "title", "value": "Boss"})

    with CaptureQueriesContext(connection) as queries:
        response = client.patch("/Users/00000000-0000-4000-8000-000000000000", body)

    assert_scim_error(response, 404)
    assert len(_token_reads(queries)) == 1


def _remembered(issued) -> SCIMClient:
    facts = TokenFacts(
        token_id=issued.token.pk,
        team_id=issued.token.team_id,
        prefix=issued.token.prefix,
        rate_limit=None,
        last_used_at=None,
    )
    return SCIMClient.remembered(facts, issued.token.digest)


def test_a_read_that_did_not_check_the_token_never_vouches_for_it(team, issued, ada):
    """A read made without the token's digest falls back to the full check."""
    revoke_tokens(team)
    guard = TokenGuard(_remembered(issued))
    unchecked = record_by_id(USERS, team.pk, team.scim_users.get().pk, None)

    assert unchecked.record is not None and unchecked.token_ok is None
    with pytest.raises(AuthenticationFailed):
        guard.confirm(unchecked.token_ok)


def test_a_read_that_vouches_for_the_token_ends_the_requests_checks(team, issued, ada):
    guard = TokenGuard(_remembered(issued))
    found = record_by_id(USERS, team.pk, team.scim_users.get().pk, guard.unchecked_digest)

    guard.confirm(found.token_ok)

    assert guard.unchecked_digest is None


SEARCHES = [
    {},
    {"filter": 'userName eq "ada@acme.com"'},
    {"filter": 'userName sw "a"'},
    {"startIndex": 500, "count": 10},  # past the end: no row to check the token with
    {"filter": 'nonsense eq "x"'},  # a bad filter: 401 before 400
]


@pytest.mark.parametrize("search", range(len(SEARCHES)))
def test_a_remembered_token_searches_checked_in_the_page_query(client, ada, warm, team, search):
    """``POST /Users/.search`` takes the GET list's path: the token is checked in its query,
    and a revoked token is refused on the next search whatever the search asks."""
    with CaptureQueriesContext(connection) as queries:
        live = client.post("/Users/.search", SEARCHES[search])
    token_reads = _token_reads(queries)  # before the next request empties the log
    revoke_tokens(team)
    revoked = client.post("/Users/.search", SEARCHES[search])

    assert live.status_code == (400 if search == 4 else 200), live.content
    # Past the end no row vouches for the token, and a bad filter fails before any query:
    # both take the full check, as a GET list does.
    assert len(token_reads) == (1 if search in (3, 4) else 0)
    assert_scim_error(revoked, 401)


def test_a_team_switched_off_is_refused_on_the_next_search(client, ada, warm, team):
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)

    assert_scim_error(client.post("/Users/.search", {"filter": 'userName eq "ada@acme.com"'}), 403)
    assert_scim_error(client.post("/Groups/.search", {}), 403)


def test_each_request_of_a_remembered_token_has_a_token_of_its_own(issued, team):
    """The remembered token row is copied per request: what one request writes on its
    token (``last_used_at``) is not what the next request starts from; the team's scope
    and rate limit come with the client, no config row stands in for them."""
    facts = TokenFacts(
        token_id=issued.token.pk,
        team_id=team.pk,
        prefix=issued.token.prefix,
        rate_limit=7,
        last_used_at=None,
    )
    first = SCIMClient.remembered(facts, issued.token.digest)
    first.token.last_used_at = timezone.now()

    second = SCIMClient.remembered(facts, issued.token.digest)

    assert second.token is not first.token and second.token._state is not first.token._state
    assert (second.token.pk, second.token.team_id, second.token.prefix) == (
        issued.token.pk,
        team.pk,
        issued.token.prefix,
    )
    assert second.token.last_used_at is None
    assert (second.config, second.scope.team_id, second.rate_limit) == (None, team.pk, 7)
    assert second.token._state.adding and second.token._state.db is None
    assert not second.verified
