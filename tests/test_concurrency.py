"""Concurrency: simultaneous IdP requests over real HTTP against the live server.

IdPs retry and parallelise: Okta and Entra send several requests for one
person or one group at once, and a retried POST can overlap the first. Each
test here starts many requests together (real threads, one HTTP connection
each, released by a barrier once every connection is open) against
pytest-django's ``live_server``, which handles each connection in a thread of
its own with its own database connection, so the requests really overlap.
They run on both databases: on PostgreSQL (row locks, real parallel writers)
and on SQLite configured as the example site is (IMMEDIATE transactions, a
busy timeout, WAL, a file database), where the default DEFERRED mode fails
most of them with "database is locked".

What must hold: uniqueness is decided by the database (one 201, the rest
409 ``uniqueness``, never a 500 or a duplicate), read-modify-write requests
(PATCH, PUT) lock the row they change (no lost write, ``If-Match`` honoured
under contention), and a reader never sees a half-written resource.
"""

from __future__ import annotations

import http.client
import io
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings

from example_project.teams.models import Membership, Team
from scim_provisioning.models import (
    SCIMGroup,
    SCIMGroupMembership,
    SCIMHeldChange,
    SCIMLinkRefusal,
    SCIMRequestLog,
    SCIMTeamConfig,
    SCIMUser,
)
from scim_provisioning.request_log_writer import writer
from scim_provisioning.tokens import issue_token

from .conftest import ERROR_SCHEMA, SCIM_JSON, IdPClient, patch_op
from .host import prove_mailbox
from .live_client import LiveIdPClient

pytestmark = [pytest.mark.django_db(transaction=True)]

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
BASE = "/scim/v2"
TIMEOUT = 60  # seconds: per request, and for the barrier


@dataclass
class Call:
    method: str
    path: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Reply:
    call: Call
    status: int
    body: Any
    headers: dict[str, str]

    def describe(self) -> str:
        return f"{self.call.method} {self.call.path} → {self.status}: {self.body}"


def race(server_url: str, token: str, calls: list[Call]) -> list[Reply]:
    """Send ``calls`` at the same moment, one thread and connection each; replies in order.

    Every thread connects first and waits at a barrier, so all requests are
    written once every connection is open and a server thread is waiting on
    each of them. Afterwards, waits until the server has logged every request
    (it does so after sending the response), so that nothing writes to the
    database once the test is over.
    """
    target = urllib.parse.urlsplit(server_url)
    barrier = threading.Barrier(len(calls))
    replies: list[Reply | None] = [None] * len(calls)
    errors: list[BaseException] = []
    logged_before = SCIMRequestLog.objects.count()

    def run(index: int, call: Call) -> None:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=TIMEOUT)
        try:
            connection.connect()
            barrier.wait(timeout=TIMEOUT)
            headers = {"Authorization": f"Bearer {token}", "Accept": SCIM_JSON, **call.headers}
            data = None
            if call.body is not None:
                data = json.dumps(call.body).encode()
                headers["Content-Type"] = SCIM_JSON
            connection.request(call.method, BASE + call.path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            replies[index] = Reply(call, response.status, body, dict(response.getheaders()))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    assert not errors, f"client errors: {errors!r}"
    assert all(r is not None for r in replies), "some requests never completed"
    _wait_for_log(logged_before + len(calls))
    return replies  # type: ignore[return-value]


def _wait_for_log(expected: int, timeout: float = 10.0) -> None:
    # The live server runs in this process: its log rows are in this writer's buffer
    # once each response has been sent, which the count below waits for.
    deadline = time.monotonic() + timeout
    while SCIMRequestLog.objects.count() < expected and time.monotonic() < deadline:
        writer.flush(timeout)
        time.sleep(0.02)


def assert_no_server_errors(replies: list[Reply]) -> None:
    broken = [r.describe() for r in replies if r.status >= 500]
    assert not broken, f"{len(broken)} server error(s):\n" + "\n".join(broken)


def statuses(replies: list[Reply]) -> list[int]:
    return sorted(r.status for r in replies)


def assert_uniqueness_error(reply: Reply) -> None:
    assert reply.status == 409, reply.describe()
    assert reply.headers.get("Content-Type", "").split(";")[0] == SCIM_JSON
    assert reply.body["schemas"] == [ERROR_SCHEMA], reply.describe()
    assert reply.body["status"] == "409", reply.describe()
    assert reply.body.get("scimType") == "uniqueness", reply.describe()


@pytest.fixture
def token(team) -> str:
    return issue_token(team).plaintext


@pytest.fixture
def api(token) -> IdPClient:
    """In-process client of the same team, for setting the scene and reading back."""
    return IdPClient(token)


def user_body(user_name: str, **extra: Any) -> dict[str, Any]:
    return {
        "schemas": [USER],
        "userName": user_name,
        "name": {"givenName": "Race", "familyName": "Condition"},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "active": True,
        **extra,
    }


def create_user(api: IdPClient, user_name: str, **extra: Any) -> dict[str, Any]:
    response = api.post("/Users", user_body(user_name, **extra))
    assert response.status_code == 201, response.content
    return response.json()


def test_simultaneous_creates_of_one_user_name_make_one_user(live_server, token, team):
    calls = [Call("POST", "/Users", user_body("ada@acme.com")) for _ in range(24)]

    replies = race(live_server.url, token, calls)

    assert_no_server_errors(replies)
    assert statuses(replies) == [201] + [409] * 23, [r.describe() for r in replies]
    for reply in replies:
        if reply.status == 409:
            assert_uniqueness_error(reply)
    assert SCIMUser.objects.filter(team=team).count() == 1
    assert get_user_model().objects.filter(email__iexact="ada@acme.com").count() == 1
    assert Membership.objects.filter(team=team).count() == 1
    (created,) = [r for r in replies if r.status == 201]
    assert str(SCIMUser.objects.get(team=team).pk) == created.body["id"]


def test_simultaneous_member_adds_to_one_group_keep_every_member(live_server, token, api, team):
    people = [create_user(api, f"member{i}@acme.com")["id"] for i in range(12)]
    response = api.post("/Groups", {"schemas": [GROUP], "displayName": "Engineering"})
    assert response.status_code == 201, response.content
    group = response.json()
    calls = [
        Call(
            "PATCH",
            f"/Groups/{group['id']}",
            patch_op({"op": "add", "path": "members", "value": [{"value": person}]}),
        )
        for person in people
    ]

    replies = race(live_server.url, token, calls)

    assert_no_server_errors(replies)
    assert statuses(replies) == [200] * 12, [r.describe() for r in replies]
    stored = SCIMGroupMembership.objects.filter(group_id=group["id"])
    assert {str(u) for u in stored.values_list("user_id", flat=True)} == set(people)
    read = api.get(f"/Groups/{group['id']}").json()
    assert {m["value"] for m in read["members"]} == set(people)
    # Each PATCH read the version the previous one wrote: 1 (create) + 12.
    assert read["meta"]["version"] == 'W/"13"'


def test_racing_patches_and_reads_of_one_user_stay_consistent(live_server, token, api, team):
    user = create_user(api, "ada@acme.com", title="title-initial")
    initial = (user["meta"]["version"], "title-initial")
    titles = [f"title-{i}" for i in range(10)]
    patches = [
        Call(
            "PATCH",
            f"/Users/{user['id']}",
            patch_op({"op": "replace", "path": "title", "value": title}),
        )
        for title in titles
    ]
    reads = [Call("GET", f"/Users/{user['id']}") for _ in range(20)]
    calls = [call for pair in zip(patches, reads[:10], strict=True) for call in pair] + reads[10:]

    replies = race(live_server.url, token, calls)

    assert_no_server_errors(replies)
    assert all(r.status == 200 for r in replies), [r.describe() for r in replies]
    written = {
        (r.body["meta"]["version"], r.body["title"]) for r in replies if r.call.method == "PATCH"
    }
    assert {title for _, title in written} == set(titles)
    # No lost update: every PATCH saw the previous one's write, so versions 2..11 each once.
    assert sorted(version for version, _ in written) == sorted(f'W/"{n}"' for n in range(2, 12)), (
        written
    )
    for reply in replies:
        if reply.call.method == "GET":
            state = (reply.body["meta"]["version"], reply.body.get("title"))
            assert state in written | {initial}, f"torn read {state}: {reply.describe()}"
            assert reply.headers.get("ETag") == reply.body["meta"]["version"], reply.describe()
    record = SCIMUser.objects.get(pk=user["id"])
    assert record.version == 11
    assert (record.etag, record.attributes["title"]) in written
    final = api.get(f"/Users/{user['id']}").json()
    assert (final["meta"]["version"], final["title"]) == (record.etag, record.attributes["title"])


def test_simultaneous_creates_of_one_group_name_make_one_group(live_server, token, team):
    calls = [Call("POST", "/Groups", {"schemas": [GROUP], "displayName": "Sales"})] * 12

    replies = race(live_server.url, token, calls)

    assert_no_server_errors(replies)
    assert statuses(replies) == [201] + [409] * 11, [r.describe() for r in replies]
    for reply in replies:
        if reply.status == 409:
            assert_uniqueness_error(reply)
    assert SCIMGroup.objects.filter(team=team).count() == 1


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_simultaneous_renames_to_one_user_name_one_wins(live_server, token, api, team, method):
    for round_ in range(5):
        ada = create_user(api, f"ada{round_}@acme.com")
        bob = create_user(api, f"bob{round_}@acme.com")
        wanted = f"shared{round_}@acme.com"
        if method == "PATCH":
            body = patch_op({"op": "replace", "path": "userName", "value": wanted})
        else:
            body = {"schemas": [USER], "userName": wanted}
        calls = [Call(method, f"/Users/{person['id']}", body) for person in (ada, bob)]

        replies = race(live_server.url, token, calls)

        assert_no_server_errors(replies)
        assert statuses(replies) == [200, 409], [r.describe() for r in replies]
        loser = next(r for r in replies if r.status == 409)
        assert_uniqueness_error(loser)
        winner = next(r for r in replies if r.status == 200)
        assert winner.body["userName"] == wanted
        holders = SCIMUser.objects.filter(team=team, user_name__iexact=wanted)
        assert [str(pk) for pk in holders.values_list("pk", flat=True)] == [winner.body["id"]]
        untouched = SCIMUser.objects.get(pk=loser.call.path.rsplit("/", 1)[1])
        assert untouched.user_name != wanted and untouched.version == 1


def test_simultaneous_if_match_puts_of_one_version_one_wins(live_server, token, api, team):
    user = create_user(api, "ada@acme.com", title="before")
    version = user["meta"]["version"]
    calls = [
        Call(
            "PUT",
            f"/Users/{user['id']}",
            {**user_body("ada@acme.com"), "title": f"writer-{i}"},
            headers={"If-Match": version},
        )
        for i in range(8)
    ]

    replies = race(live_server.url, token, calls)

    assert_no_server_errors(replies)
    assert statuses(replies) == [200] + [412] * 7, [r.describe() for r in replies]
    for reply in replies:
        if reply.status == 412:
            assert reply.body["schemas"] == [ERROR_SCHEMA]
            assert reply.body["status"] == "412"
    (winner,) = [r for r in replies if r.status == 200]
    record = SCIMUser.objects.get(pk=user["id"])
    assert record.version == 2
    assert record.attributes["title"] == winner.body["title"] == winner.call.body["title"]


def test_many_operation_patches_on_different_groups_keep_each_groups_members(
    live_server, token, api, team
):
    """The reported corruption: 8 parallel 400-operation PATCHes, 7 groups with foreign members.

    Each PATCH adds and removes its own five people over and over and ends by
    adding them: every group must end with exactly its own five.
    """
    people = [create_user(api, f"person{i}@acme.com")["id"] for i in range(40)]
    groups = []
    for g in range(8):
        response = api.post("/Groups", {"schemas": [GROUP], "displayName": f"Team {g}"})
        assert response.status_code == 201, response.content
        groups.append(response.json()["id"])
    own = {group: people[5 * g : 5 * g + 5] for g, group in enumerate(groups)}
    calls = []
    for group, members in own.items():
        operations = []
        for _ in range(40):
            for person in members:
                operations.append({"op": "add", "path": "members", "value": [{"value": person}]})
                operations.append({"op": "remove", "path": f'members[value eq "{person}"]'})
        operations += [{"op": "add", "path": "members", "value": [{"value": p}]} for p in members]
        calls.append(
            Call("PATCH", f"/Groups/{group}?excludedAttributes=members", patch_op(*operations))
        )

    replies = race(live_server.url, token, calls)

    assert_no_server_errors(replies)
    assert statuses(replies) == [200] * 8, [r.describe() for r in replies]
    for group, members in own.items():
        stored = SCIMGroupMembership.objects.filter(group_id=group).values_list(
            "user_id", flat=True
        )
        assert sorted(str(u) for u in stored) == sorted(members), f"group {group}"


def _idp_session(client: LiveIdPClient, prefix: str, people: int) -> list[tuple[str, int]]:
    """One IdP's sequential conversation (Okta-like): look up, create, read, update, group."""
    seen: list[tuple[str, int]] = []

    def note(what: str, response: Any) -> Any:
        seen.append((what, response.status_code))
        return response

    note("list", client.get("/Users", {"startIndex": "1", "count": "2"}))
    group = note("group", client.post("/Groups", {"schemas": [GROUP], "displayName": prefix}))
    group_id = group.json()["id"] if group.status_code == 201 else None
    for i in range(people):
        name = f"{prefix}-{i}@acme.com"
        note("filter", client.get("/Users", {"filter": f'userName eq "{name}"'}))
        created = note("create", client.post("/Users", user_body(name)))
        if created.status_code != 201:
            continue
        user_id = created.json()["id"]
        note("get", client.get(f"/Users/{user_id}"))
        off = patch_op({"op": "replace", "value": {"active": False}})
        note("deactivate", client.patch(f"/Users/{user_id}", off))
        on = patch_op({"op": "replace", "value": {"active": True}})
        note("reactivate", client.patch(f"/Users/{user_id}", on))
        note("put", client.put(f"/Users/{user_id}", user_body(name, title="Engineer")))
        if group_id:
            add = patch_op({"op": "add", "path": "members", "value": [{"value": user_id}]})
            note("member", client.patch(f"/Groups/{group_id}", add))
    return seen


def test_four_idps_at_once_get_no_server_error(live_server, team):
    """The reported failure: on SQLite, 96 of 144 requests of 4 concurrent clients were 500s."""
    tokens = [issue_token(team).plaintext for _ in range(4)]
    results: list[list[tuple[str, int]]] = [[] for _ in tokens]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            client = LiveIdPClient(live_server.url, tokens[index], timeout=TIMEOUT)
            results[index] = _idp_session(client, f"idp{index}", 5)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 4)

    assert not errors, errors
    answered = [pair for result in results for pair in result]
    assert len(answered) == 4 * (2 + 5 * 7)
    failed = [pair for pair in answered if pair[1] >= 500]
    assert not failed, f"{len(failed)} of {len(answered)} requests failed: {failed}"
    assert {status for what, status in answered if what == "create"} == {201}
    assert SCIMUser.objects.filter(team=team, active=True).count() == 20
    assert Membership.objects.filter(team=team, is_active=True).count() == 20
    for index in range(4):
        group = SCIMGroup.objects.get(team=team, display_name=f"idp{index}")
        assert group.memberships.count() == 5
    _wait_for_log(len(answered))


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_two_managers_removed_at_once_one_stays(live_server, token, api, team, method):
    """Issue 8: each request sees "another manager remains"; the lock makes one wait and see."""
    owners = []
    for email in ("owner1@acme.com", "owner2@acme.com"):
        account = get_user_model().objects.create_user(email=email)  # no usable password
        Membership.objects.create(team=team, user=account, role="owner")
        owners.append(create_user(api, email))
    body = patch_op({"op": "replace", "path": "active", "value": False})
    calls = [Call(method, f"/Users/{o['id']}", body if method == "PATCH" else None) for o in owners]

    replies = race(live_server.url, token, calls)

    assert_no_server_errors(replies)
    assert statuses(replies) == sorted([200 if method == "PATCH" else 204, 409])
    assert Membership.objects.filter(team=team, role="owner", is_active=True).count() == 1


def test_two_teams_creating_one_new_person_at_once_share_one_account(
    live_server, token, team, other_team
):
    # Each team's IdP provisions the same new person at the same moment: one
    # account, never a 500 (the account's unique email is decided by the
    # database). The loser finds an account the winner's SCIM created, which
    # proves nothing to it (issue 21): its link is refused (409 uniqueness),
    # as it would be one request later.
    theirs = issue_token(other_team).plaintext
    for round_ in range(5):
        email = f"new{round_}@acme.com"
        calls = [
            Call("POST", "/Users", user_body(email)),
            Call("POST", "/Users", user_body(email), headers={"Authorization": f"Bearer {theirs}"}),
        ]

        replies = race(live_server.url, token, calls)

        assert_no_server_errors(replies)
        assert statuses(replies) == [201, 409], [r.describe() for r in replies]
        (created,) = [r for r in replies if r.status == 201]
        (refused,) = [r for r in replies if r.status == 409]
        assert_uniqueness_error(refused)
        account = get_user_model().objects.get(email__iexact=email)
        record = SCIMUser.objects.get(user=account)
        assert (str(record.pk), record.created_account) == (created.body["id"], True)
        seats = Membership.objects.filter(user=account, is_active=True)
        assert list(seats.values_list("team_id", flat=True)) == [record.team_id]
        assert SCIMLinkRefusal.objects.filter(email=email).exclude(team=record.team).count() == 1
        # One allauth address, by the account's creator: the refused team created nothing.
        addresses = EmailAddress.objects.filter(user=account)
        assert list(addresses.values_list("email", "primary", "verified")) == [(email, True, False)]


def test_one_user_added_to_two_groups_at_once_gets_the_role_of_both(live_server, token, api, team):
    # Group roles: "Acme Admins" grants admin, "Engineering" grants nothing. Two
    # PATCHes add the same person to each at the same moment; whichever commits
    # last must still see the other's membership, so the person ends up admin.
    team.scim_config.group_roles = {"Acme Admins": "admin"}
    team.scim_config.save()
    groups = [
        api.post("/Groups", {"schemas": [GROUP], "displayName": name}).json()
        for name in ("Acme Admins", "Engineering")
    ]
    for round_ in range(8):
        person = create_user(api, f"person{round_}@acme.com")
        calls = [
            Call(
                "PATCH",
                f"/Groups/{group['id']}",
                patch_op({"op": "add", "path": "members", "value": [{"value": person["id"]}]}),
            )
            for group in groups
        ]

        replies = race(live_server.url, token, calls)

        assert_no_server_errors(replies)
        assert statuses(replies) == [200, 200], [r.describe() for r in replies]
        record = SCIMUser.objects.get(pk=person["id"])
        joined = SCIMGroupMembership.objects.filter(user=record)
        assert {str(g) for g in joined.values_list("group_id", flat=True)} == {
            g["id"] for g in groups
        }
        seat = Membership.objects.get(team=team, user=record.user_id)
        assert (seat.role, seat.is_active) == (Membership.Role.ADMIN, True), f"round {round_}"


def _assert_no_seat_error(reply: Reply) -> None:
    assert reply.status == 400, reply.describe()
    assert reply.body["schemas"] == [ERROR_SCHEMA], reply.describe()
    assert reply.body.get("scimType") == "invalidValue", reply.describe()
    assert "no free seat" in reply.body["detail"], reply.describe()


def test_simultaneous_creates_for_the_last_seat_seat_one_person(live_server, token, api, team):
    # Nine seats taken, one free; twelve different people asked for at the same
    # moment. The seat is taken by a conditional UPDATE of the team's row: one
    # request gets it, the others find none, and nothing of theirs is left behind.
    Team.objects.filter(pk=team.pk).update(max_seats=10)
    for n in range(9):
        create_user(api, f"seated{n}@acme.com")
    calls = [Call("POST", "/Users", user_body(f"racer{n}@acme.com")) for n in range(12)]

    replies = race(live_server.url, token, calls)

    assert_no_server_errors(replies)
    assert statuses(replies) == [201] + [400] * 11, [r.describe() for r in replies]
    for reply in replies:
        if reply.status == 400:
            _assert_no_seat_error(reply)
    (winner,) = [r for r in replies if r.status == 201]
    racers = SCIMUser.objects.filter(team=team, user_name__startswith="racer")
    assert [str(r.pk) for r in racers] == [winner.body["id"]]
    assert get_user_model().objects.filter(email__startswith="racer").count() == 1
    team.refresh_from_db()
    active = Membership.objects.filter(team=team, is_active=True).count()
    assert (team.seats_used, active, Membership.objects.filter(team=team).count()) == (10, 10, 10)
    refused = SCIMLinkRefusal.objects.filter(team=team, reason="seat")
    assert refused.count() == 11


# The scene switches all 8 people off at once, which the deprovisioning guard (issue 25)
# would hold beyond 5: the race under test is the reactivations'.
@override_settings(SCIM_PROVISIONING_DEPROVISION_GUARD=None)
def test_simultaneous_reactivations_for_the_last_seat_seat_one_person(
    live_server, token, api, team
):
    people = [create_user(api, f"returning{n}@acme.com")["id"] for n in range(8)]
    off = patch_op({"op": "replace", "path": "active", "value": False})
    for person in people:
        assert api.patch(f"/Users/{person}", off).status_code == 200
    Team.objects.filter(pk=team.pk).update(max_seats=3)
    create_user(api, "seated0@acme.com")
    create_user(api, "seated1@acme.com")
    on = patch_op({"op": "replace", "path": "active", "value": True})
    calls = [Call("PATCH", f"/Users/{person}", on) for person in people]

    replies = race(live_server.url, token, calls)

    assert_no_server_errors(replies)
    assert statuses(replies) == [200] + [400] * 7, [r.describe() for r in replies]
    for reply in replies:
        if reply.status == 400:
            _assert_no_seat_error(reply)
    back = SCIMUser.objects.filter(pk__in=people, active=True)
    assert [str(r.pk) for r in back] == [r.body["id"] for r in replies if r.status == 200]
    team.refresh_from_db()
    active = Membership.objects.filter(team=team, is_active=True).count()
    assert (team.seats_used, active) == (3, 3)


def test_a_role_dropped_while_a_group_grants_it_leaves_the_groups_role(
    live_server, token, api, team
):
    # The role comes from `roles` ("Admin") and from the group "Acme Admins":
    # one PATCH drops the role value while another adds the person to the
    # group. Whichever commits last must see the other's write: the group
    # still grants admin, so the person ends up admin.
    team.scim_config.group_roles = {"Acme Admins": "admin"}
    team.scim_config.user_roles = {"Admin": "admin"}
    team.scim_config.save()
    Membership.objects.create(
        team=team,
        user=get_user_model().objects.create(email="owner@acme.com"),
        role=Membership.Role.OWNER,
    )  # another manager: demoting the person is allowed
    group = api.post("/Groups", {"schemas": [GROUP], "displayName": "Acme Admins"}).json()
    for round_ in range(8):
        person = create_user(api, f"person{round_}@acme.com", roles=[{"value": "Admin"}])
        record = SCIMUser.objects.get(pk=person["id"])
        assert Membership.objects.get(team=team, user=record.user_id).role == "admin"
        calls = [
            Call("PATCH", f"/Users/{person['id']}", patch_op({"op": "remove", "path": "roles"})),
            Call(
                "PATCH",
                f"/Groups/{group['id']}",
                patch_op({"op": "add", "path": "members", "value": [{"value": person["id"]}]}),
            ),
        ]

        replies = race(live_server.url, token, calls)

        assert_no_server_errors(replies)
        assert statuses(replies) == [200, 200], [r.describe() for r in replies]
        assert "roles" not in replies[0].body
        assert SCIMGroupMembership.objects.filter(user=record, group_id=group["id"]).exists()
        seat = Membership.objects.get(team=team, user=record.user_id)
        assert (seat.role, seat.is_active) == (Membership.Role.ADMIN, True), f"round {round_}"


def test_two_teams_looking_up_one_value_at_once_each_see_their_own(
    live_server, token, api, team, other_team, monkeypatch
):
    # Lookups and reads by id run SQL compiled once per process and shared by
    # every thread (scim_provisioning.prepared): started cold, two teams' IdPs
    # compile and reuse the same shapes at once, each with its own team, value
    # and token. Each must see its own person and nothing of the other team's.
    from scim_provisioning import reads

    theirs = issue_token(other_team).plaintext
    their_api = IdPClient(theirs)
    ours = create_user(api, "ada@acme.com", externalId="ext-ada")
    prove_mailbox(monkeypatch, SCIMUser.objects.get(pk=ours["id"]).user, "ada@acme.com")
    mine_of_theirs = create_user(their_api, "ada@acme.com", externalId="ext-ada")
    as_them = {"Authorization": f"Bearer {theirs}"}
    lookups = ['userName eq "ADA@acme.com"', 'externalId eq "ext-ada"']
    for round_ in range(3):
        reads._page_read.cache_clear()  # every shape compiled afresh, in the race
        reads._by_id.cache_clear()
        calls = []
        for text in lookups:
            query = "/Users?" + urllib.parse.urlencode({"filter": text})
            calls += [Call("GET", query) for _ in range(4)]
            calls += [Call("GET", query, headers=as_them) for _ in range(4)]
        calls += [Call("GET", f"/Users/{ours['id']}"), Call("GET", f"/Users/{ours['id']}")]
        calls += [Call("GET", f"/Users/{mine_of_theirs['id']}", headers=as_them)] * 2
        calls += [Call("GET", f"/Users/{mine_of_theirs['id']}")] * 2  # the other team's id
        calls += [Call("GET", f"/Users/{ours['id']}", headers=as_them)] * 2

        replies = race(live_server.url, token, calls)

        assert_no_server_errors(replies)
        for reply in replies:
            own = mine_of_theirs if reply.call.headers else ours
            foreign = ours if reply.call.headers else mine_of_theirs
            if "filter=" in reply.call.path:
                assert reply.status == 200, reply.describe()
                assert [r["id"] for r in reply.body["Resources"]] == [own["id"]], round_
                assert reply.body["totalResults"] == 1
            elif reply.call.path.endswith(own["id"]):
                assert reply.status == 200, reply.describe()
                assert reply.body["id"] == own["id"]
            else:
                assert reply.call.path.endswith(foreign["id"])
                assert reply.status == 404, reply.describe()


@pytest.mark.parametrize("rename", ["userName and email", "email"])
def test_simultaneous_renames_of_managed_accounts_onto_one_free_address(
    live_server, token, api, team, rename
):
    """Issue 21, item 8: four accounts the team created, each renamed at once onto one free
    address inside the team's verified domain. Every login may move, so all four race for
    the address on the host's unique email: 6 of 12 answers were 500 on PostgreSQL.

    One login takes the address. A request that lost the race on a unique constraint is a
    409 ``uniqueness`` that changed nothing (the IdP retries); one that ran after the
    winner had committed sees the address taken and keeps its login, as when the address
    was taken before (200, the record follows the IdP)."""
    SCIMTeamConfig.objects.filter(team=team).update(verified_domains=["acme.com"])
    for round_ in range(3):
        people = [create_user(api, f"person{round_}-{i}@acme.com") for i in range(4)]
        wanted = f"free{round_}@acme.com"
        operations = [{"op": "replace", "path": 'emails[type eq "work"].value', "value": wanted}]
        if rename == "userName and email":
            operations.append({"op": "replace", "path": "userName", "value": wanted})
        calls = [Call("PATCH", f"/Users/{p['id']}", patch_op(*operations)) for p in people]

        replies = race(live_server.url, token, calls)

        assert_no_server_errors(replies)
        described = [r.describe() for r in replies]
        assert {r.status for r in replies} <= {200, 409}, described
        login = get_user_model().objects.get(email__iexact=wanted)
        holders = [r for r in replies if r.status == 200 and r.body["id"] == _record_of(login)]
        assert len(holders) == 1, described
        for reply in replies:
            record = SCIMUser.objects.get(pk=reply.call.path.rsplit("/", 1)[1])
            if reply.status == 409:
                assert_uniqueness_error(reply)
                assert record.version == 1 and record.email != wanted
                assert record.user.email != wanted
            else:
                assert record.email == wanted
        if rename == "userName and email":
            assert statuses(replies) == [200, 409, 409, 409], described


def _record_of(account: Any) -> str:
    return str(SCIMUser.objects.get(user=account).pk)


def test_parallel_retries_of_a_removal_the_host_refuses_are_each_a_409(
    live_server, token, api, team, settings
):
    """Issue 22: the membership model's guard refuses; parallel retries (Okta, Entra) neither
    slip past it nor fail with a 500, and the refusal counts every attempt on one row."""
    from django.db.models.signals import pre_delete, pre_save

    from .test_host_rules import KeeperGuard

    settings.SCIM_PROVISIONING_MEMBERSHIP_GUARD_EXCEPTIONS = ["tests.test_host_rules.KeeperGuard"]

    def refuse(sender: Any, instance: Any, **kwargs: Any) -> None:
        if instance.pk and instance.user.email == "keeper@acme.com":
            raise KeeperGuard("The keeper stays in the team.")

    pre_save.connect(refuse, sender=Membership, dispatch_uid="test-race-keeper-save")
    pre_delete.connect(refuse, sender=Membership, dispatch_uid="test-race-keeper-delete")
    try:
        keeper = create_user(api, "keeper@acme.com")
        deactivate = patch_op({"op": "replace", "path": "active", "value": False})
        calls = [Call("DELETE", f"/Users/{keeper['id']}") for _ in range(3)]
        calls += [Call("PATCH", f"/Users/{keeper['id']}", deactivate) for _ in range(3)]

        replies = race(live_server.url, token, calls)
    finally:
        pre_save.disconnect(sender=Membership, dispatch_uid="test-race-keeper-save")
        pre_delete.disconnect(sender=Membership, dispatch_uid="test-race-keeper-delete")

    assert_no_server_errors(replies)
    assert statuses(replies) == [409] * 6, [r.describe() for r in replies]
    assert all("The keeper stays in the team." in r.body["detail"] for r in replies)
    refusal = SCIMLinkRefusal.objects.get(team=team, email="keeper@acme.com")
    assert (refusal.reason, refusal.attempts) == ("host", 6)
    assert Membership.objects.get(team=team, user__email="keeper@acme.com").is_active is True
    assert SCIMUser.objects.filter(pk=keeper["id"], active=True).exists()


def test_a_burst_of_parallel_deactivations_counts_each_once_against_the_guard(
    live_server, token, api, team
):
    """Issue 25: 13 people, 9 deactivated at once; the guard lets exactly 5 through
    (the site default's minimum), holds 4, and every request answers 200."""
    people = [create_user(api, f"burst{i}@acme.com")["id"] for i in range(13)]
    nine = people[:9]
    deactivate = patch_op({"op": "replace", "value": {"active": False}})
    calls = [Call("PATCH", f"/Users/{pk}", deactivate) for pk in nine]

    replies = race(live_server.url, token, calls)

    assert_no_server_errors(replies)
    assert statuses(replies) == [200] * 9, [r.describe() for r in replies]
    assert all(r.body["active"] is False for r in replies)
    accounts = SCIMUser.objects.filter(pk__in=nine).values("user_id")
    still_active = Membership.objects.filter(team=team, user__in=accounts, is_active=True)
    assert still_active.count() == 4
    config = SCIMTeamConfig.objects.get(team=team)
    assert (config.guard_count, config.guard_held) == (5, 4)
    assert SCIMHeldChange.objects.filter(team=team, resolved_at=None).count() == 4

    call_command("scim_held", "release", "--team", "acme", stdout=io.StringIO())

    assert not Membership.objects.filter(team=team, user__in=accounts, is_active=True).exists()


def test_a_burst_of_parallel_deletes_counts_each_once_against_the_guard(
    live_server, token, api, team
):
    """Issue 25: 9 of 13 deleted at once: 204 each, 404 after; 5 memberships gone, 4 held."""
    people = [create_user(api, f"gone{i}@acme.com")["id"] for i in range(13)]
    nine = people[:9]
    accounts = list(SCIMUser.objects.filter(pk__in=nine).values_list("user_id", flat=True))

    replies = race(live_server.url, token, [Call("DELETE", f"/Users/{pk}") for pk in nine])

    assert_no_server_errors(replies)
    assert statuses(replies) == [204] * 9, [r.describe() for r in replies]
    assert not SCIMUser.objects.filter(pk__in=nine).exists()
    assert Membership.objects.filter(team=team, user__in=accounts).count() == 4
    assert SCIMHeldChange.objects.filter(team=team, kind="delete", resolved_at=None).count() == 4
