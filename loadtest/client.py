"""The load generator: virtual IdPs on asyncio and httpx, and what they expect to find afterwards.

Each virtual IdP belongs to one team (its bearer token) and loops until the
deadline or the shared request budget runs out, with no think time, picking
each step from an IdP-like mix: ``userName`` filters (Entra's lookup before
a create, Okta's import), reads by id, list pages, creates, PATCHes (title,
name, ``active``) and group PATCHes adding members.

What was acknowledged is recorded so that it can be checked in the database
once the server has stopped: every created user (one row, its id), every
user's last acknowledged PATCH (each PATCH sets all the checked attributes,
so the last acknowledged one is the final state; a user whose last PATCH
failed is left out), and every member added to a group. IdPs of one team
PATCH disjoint sets of users (as one IdP's own queue would), and add members
to the same groups concurrently.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

SCIM_JSON = "application/scim+json"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

#: The step mix, in relative weights.
MIX = {
    "create_user": 15,  # preceded by a userName filter, as Entra does
    "filter_user": 25,
    "get_user": 10,
    "list_users": 5,
    "patch_user": 25,
    "patch_group": 12,
    "filter_group": 8,
}


@dataclass
class Team:
    slug: str
    token: str
    users: list[str] = field(default_factory=list)  # ids, acknowledged
    user_names: list[str] = field(default_factory=list)
    groups: list[tuple[str, str]] = field(default_factory=list)  # (id, displayName)


@dataclass
class Expected:
    """What the server acknowledged, to be found in the database afterwards."""

    created: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (team, userName)
    seeded: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # team -> users
    unacknowledged_creates: list[tuple[str, str]] = field(default_factory=list)  # (team, name)
    final: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> attributes
    uncertain: set[str] = field(default_factory=set)  # ids whose last PATCH failed
    members: set[tuple[str, str]] = field(default_factory=set)  # (group id, user id)
    # Every (group, user) pair ever sent, acknowledged or not: nothing else may be stored.
    attempted_members: set[tuple[str, str]] = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "seeded": dict(self.seeded),
            "unacknowledged_creates": self.unacknowledged_creates,
            "final": {k: v for k, v in self.final.items() if k not in self.uncertain},
            "uncertain": sorted(self.uncertain),
            "members": sorted(self.members),
            "attempted_members": sorted(self.attempted_members),
        }


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)  # (op, status or exception) -> n
    samples: dict[tuple[str, str], str] = field(default_factory=dict)  # first body per error
    statuses: Counter = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def error(self, op: str, what: str, sample: str = "") -> None:
        self.errors[(op, what)] += 1
        self.samples.setdefault((op, what), sample[:300])


class Budget:
    """Steps left to take (a create is two requests), shared by every virtual IdP."""

    def __init__(self, steps: int, deadline: float) -> None:
        self.left = steps
        self.deadline = deadline

    def take(self) -> bool:
        if self.left <= 0 or time.monotonic() >= self.deadline:
            return False
        self.left -= 1
        return True


class IdP:
    """One IdP connection to one team: an httpx client with its bearer token."""

    def __init__(self, base_url: str, team: Team, stats: Stats, *, name: str, timeout: float):
        self.team = team
        self.stats = stats
        self.name = name
        self.owned: list[str] = []  # users this IdP PATCHes
        self.seq = 0
        self.http = httpx.AsyncClient(
            base_url=base_url,
            headers={
                "Authorization": f"Bearer {team.token}",
                "Accept": SCIM_JSON,
                "User-Agent": "scim-loadtest/1 (virtual IdP)",
            },
            timeout=timeout,
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self, op: str, method: str, url: str, body: Any = None, ok: tuple[int, ...] = (200,)
    ) -> httpx.Response | None:
        headers = {"Content-Type": SCIM_JSON} if body is not None else None
        content = json.dumps(body) if body is not None else None
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            self.stats.latencies[op].append(time.perf_counter() - started)
            self.stats.error(op, type(exc).__name__, str(exc))
            return None
        self.stats.latencies[op].append(time.perf_counter() - started)
        self.stats.statuses[response.status_code] += 1
        if response.status_code not in ok:
            self.stats.error(op, str(response.status_code), response.text)
            return None
        return response

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    # --- the steps ------------------------------------------------------------

    async def filter_user(self, user_name: str, expect: int, op: str = "filter_user") -> None:
        query = {"filter": f'userName eq "{user_name}"'}
        response = await self.call(op, "GET", f"/Users?{httpx.QueryParams(query)}")
        if response is not None and response.json().get("totalResults") != expect:
            self.stats.error(op, f"totalResults!={expect}", response.text)

    async def create_user(self, expected: Expected, rng: random.Random) -> None:
        n = self.next_seq()
        user_name = f"{self.name}-{n}-{uuid.uuid4().hex[:6]}@{self.team.slug}.example"
        await self.filter_user(user_name, expect=0)
        body = {
            "schemas": [CORE, ENTERPRISE],
            "externalId": str(uuid.uuid4()),
            "userName": user_name,
            "active": True,
            "displayName": f"Load {n}",
            "name": {"givenName": "Load", "familyName": f"User {n}"},
            "emails": [{"value": user_name, "type": "work", "primary": True}],
            "title": "new",
            ENTERPRISE: {"department": rng.choice(["Sales", "R&D", "Ops", "Legal"])},
        }
        response = await self.call("create_user", "POST", "/Users", body, ok=(201,))
        if response is None:
            expected.unacknowledged_creates.append((self.team.slug, user_name))
            return
        user_id = response.json()["id"]
        expected.created[user_id] = (self.team.slug, user_name)
        self.team.users.append(user_id)
        self.team.user_names.append(user_name)
        self.owned.append(user_id)

    async def patch_user(self, expected: Expected, rng: random.Random) -> None:
        if not self.owned:
            return
        user_id = rng.choice(self.owned)
        state = expected.final.get(user_id, {"active": True})
        n = self.next_seq()
        active = (not state["active"]) if rng.random() < 0.2 else state["active"]
        wanted = {"title": f"{self.name}-t{n}", "givenName": f"G{n}", "active": active}
        body = {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": "title", "value": wanted["title"]},
                {"op": "Replace", "path": "name.givenName", "value": wanted["givenName"]},
                {"op": "Replace", "path": "active", "value": active},
            ],
        }
        response = await self.call("patch_user", "PATCH", f"/Users/{user_id}", body, ok=(200, 204))
        if response is None:
            expected.uncertain.add(user_id)
        else:
            expected.final[user_id] = wanted
            expected.uncertain.discard(user_id)

    async def patch_group(self, expected: Expected, rng: random.Random) -> None:
        if not self.team.groups or not self.team.users:
            return
        group_id, _ = rng.choice(self.team.groups)
        members = rng.sample(self.team.users, k=min(len(self.team.users), rng.randint(1, 3)))
        body = {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Add", "path": "members", "value": [{"value": m} for m in members]}
            ],
        }
        expected.attempted_members.update((group_id, m) for m in members)
        response = await self.call(
            "patch_group", "PATCH", f"/Groups/{group_id}", body, ok=(200, 204)
        )
        if response is not None:
            expected.members.update((group_id, m) for m in members)

    async def step(self, expected: Expected, rng: random.Random) -> None:
        op = rng.choices(list(MIX), weights=list(MIX.values()))[0]
        team = self.team
        if op == "create_user":
            await self.create_user(expected, rng)
        elif op == "filter_user":
            if rng.random() < 0.9 and team.user_names:
                await self.filter_user(rng.choice(team.user_names), expect=1)
            else:
                await self.filter_user(f"nobody-{uuid.uuid4().hex[:8]}@x.example", expect=0)
        elif op == "get_user" and team.users:
            await self.call("get_user", "GET", f"/Users/{rng.choice(team.users)}")
        elif op == "list_users":
            start = rng.randint(1, max(1, len(team.users)))
            await self.call("list_users", "GET", f"/Users?startIndex={start}&count=100")
        elif op == "patch_user":
            await self.patch_user(expected, rng)
        elif op == "patch_group":
            await self.patch_group(expected, rng)
        elif op == "filter_group" and team.groups:
            _, name = rng.choice(team.groups)
            query = httpx.QueryParams({"filter": f'displayName eq "{name}"'})
            response = await self.call(
                "filter_group", "GET", f"/Groups?{query}&excludedAttributes=members"
            )
            if response is not None and response.json().get("totalResults") != 1:
                self.stats.error("filter_group", "totalResults!=1", response.text)


async def seed(
    base_url: str, teams: list[Team], *, users: int, groups: int, expected: Expected
) -> Stats:
    """Each team's first users and groups, through the API (not measured)."""
    stats = Stats()
    rng = random.Random(1)

    async def seed_team(team: Team) -> None:
        idp = IdP(base_url, team, stats, name=f"seed-{team.slug}", timeout=60)
        try:
            for _ in range(users):
                await idp.create_user(expected, rng)
            for g in range(groups):
                name = f"{team.slug} group {g}"
                body = {"schemas": [GROUP], "displayName": name, "externalId": str(uuid.uuid4())}
                response = await idp.call("create_group", "POST", "/Groups", body, ok=(201,))
                if response is not None:
                    team.groups.append((response.json()["id"], name))
        finally:
            await idp.close()
        expected.seeded[team.slug] = len(team.users)

    await asyncio.gather(*(seed_team(t) for t in teams))
    return stats


async def run_load(
    base_url: str,
    teams: list[Team],
    *,
    idps_per_team: int,
    duration: float,
    max_steps: int,
    expected: Expected,
    timeout: float = 30.0,
    seed_value: int = 7,
) -> tuple[Stats, float]:
    """``idps_per_team`` virtual IdPs per team for ``duration`` seconds; (stats, elapsed)."""
    stats = Stats()
    budget = Budget(max_steps, time.monotonic() + duration)
    idps: list[IdP] = []
    for team in teams:
        for j in range(idps_per_team):
            idp = IdP(base_url, team, stats, name=f"{team.slug}-idp{j}", timeout=timeout)
            # Seeded users are shared out among the team's IdPs for PATCHing.
            idp.owned = team.users[j::idps_per_team]
            idps.append(idp)

    async def loop(idp: IdP, rng: random.Random) -> None:
        while budget.take():
            await idp.step(expected, rng)

    started = time.monotonic()
    try:
        await asyncio.gather(
            *(loop(idp, random.Random(seed_value * 1000 + i)) for i, idp in enumerate(idps))
        )
    finally:
        for idp in idps:
            await idp.close()
    return stats, time.monotonic() - started


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0-100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]
