"""200 people in one POST /Bulk against the same 200 people in 200 POST /Users, in-process.

    export DATABASE_URL=sqlite:////tmp/bulk.sqlite3   # or postgres://postgres@127.0.0.1:5432/DB
    .venv/bin/python benchmarks/bulk_vs_single.py [--people 200] [--rounds 5]

Each round provisions the people twice, into two fresh teams: once as single
requests, once as one bulk request (alternating which goes first), through
Django's test client (the whole stack but the socket: middleware, token,
throttle, views, request log). Prints the median time of each over the rounds.
Both run the same write per person (``scim_provisioning.writes.create``), so the
difference is what one request per person costs: the HTTP layer, the token
check, the throttle and one request-log row each.

Wall time is what the client waits for; CPU time is this process's (Python and
SQLite, not PostgreSQL's server), the figure to trust on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from example_project.teams.models import Team  # noqa: E402
from scim_provisioning.models import SCIMTeamConfig, SCIMUser  # noqa: E402
from scim_provisioning.request_log_writer import writer  # noqa: E402
from scim_provisioning.tokens import issue_token  # noqa: E402

SCIM_JSON = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def person(serial: int, tag: str) -> dict:
    email = f"{tag}-{serial:04d}@bench.example"
    return {
        "schemas": [USER],
        "userName": email,
        "externalId": f"00u{serial:06d}",
        "name": {"givenName": "Bench", "familyName": str(serial)},
        "emails": [{"value": email, "type": "work", "primary": True}],
        "active": True,
    }


def fresh_team() -> Client:
    slug = f"bench-bulk-{uuid.uuid4().hex[:10]}"
    team = Team.objects.create(slug=slug, name=slug)
    # No rate limit: 200 single requests would otherwise be throttled on a small rate.
    SCIMTeamConfig.objects.create(team=team, enabled=True, rate_limit=0)
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(team).plaintext}")


Timing = tuple[float, float]  # (wall seconds, CPU seconds)


def singles(people: int) -> Timing:
    client, tag = fresh_team(), uuid.uuid4().hex[:8]
    bodies = [json.dumps(person(i, tag)) for i in range(people)]
    started, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        response = client.post("/scim/v2/Users", body, content_type=SCIM_JSON)
        assert response.status_code == 201, response.content
    return time.perf_counter() - started, time.process_time() - cpu


def bulk(people: int) -> Timing:
    client, tag = fresh_team(), uuid.uuid4().hex[:8]
    operations = [
        {"method": "POST", "path": "/Users", "bulkId": f"p{i}", "data": person(i, tag)}
        for i in range(people)
    ]
    body = json.dumps(
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations}
    )
    started, cpu = time.perf_counter(), time.process_time()
    response = client.post("/scim/v2/Bulk", body, content_type=SCIM_JSON)
    elapsed = time.perf_counter() - started, time.process_time() - cpu
    assert response.status_code == 200, response.content
    statuses = {op["status"] for op in response.json()["Operations"]}
    assert statuses == {"201"}, statuses
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    singles(20), bulk(20)  # warm up: imports, caches, connections
    times: dict[str, list[Timing]] = {"singles": [], "bulk": []}
    for round_ in range(args.rounds):
        order = (singles, bulk) if round_ % 2 == 0 else (bulk, singles)
        for run in order:
            times[run.__name__].append(run(args.people))
        writer.flush()
    print(f"{django.db.connection.vendor}: {args.people} people, median of {args.rounds} rounds")
    print(f"  {'':22} {'wall ms':>8} {'CPU ms':>8}")
    medians = {}
    for name, label in (("singles", f"{args.people} x POST /Users"), ("bulk", "1 x POST /Bulk")):
        wall = statistics.median(t[0] for t in times[name]) * 1000
        cpu = statistics.median(t[1] for t in times[name]) * 1000
        medians[name] = (wall, cpu)
        print(f"  {label:22} {wall:8.0f} {cpu:8.0f}")
    (single_wall, single_cpu), (bulk_wall, bulk_cpu) = medians["singles"], medians["bulk"]
    faster = f"{single_wall / bulk_wall:.2f}x (wall), {single_cpu / bulk_cpu:.2f}x (CPU)"
    print(f"  one bulk request is faster by {faster}")
    created = SCIMUser.objects.filter(user_name__endswith="@bench.example").count()
    print(f"  ({created} benchmark users in the database)")


if __name__ == "__main__":
    main()
