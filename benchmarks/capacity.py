#!/usr/bin/env python
"""The figures of docs/scaling.md: storage per 100,000 users and per million log rows,
and an Entra-style initial sync, on PostgreSQL.

    .venv/bin/python benchmarks/capacity.py storage [--size 100000]
    .venv/bin/python benchmarks/capacity.py request-log [--rows 1000000]
    .venv/bin/python benchmarks/capacity.py timeline [--rows 1000000]
    .venv/bin/python benchmarks/capacity.py initial-sync [--users 20000]
    .venv/bin/python benchmarks/capacity.py per-operation [--size 100000] [--reps 200]
    .venv/bin/python benchmarks/capacity.py table [--size 100000] [--reps 100] [--users 2000]

``storage`` reads the benchmark's populated database ``bench_sp_<size>`` (build it
with ``benchmarks/run.py --build-only --dbs postgresql --sizes <size>``): rows, table
and index bytes of this app's tables and of the example host's.

``request-log`` and ``initial-sync`` each work in a scratch database they create,
migrate and drop. ``request-log`` inserts rows shaped like an IdP's traffic with one
``INSERT … SELECT generate_series`` and measures the table and its indexes.
``timeline`` does the same with provisioning-timeline entries shaped like a sync's:
a creation with its fields, a rename, a group joined and left, a deactivation.
``initial-sync`` provisions ``--users`` people into an empty team the way Entra's
initial cycle does (a ``userName eq`` lookup that finds nobody, then ``POST /Users``
with Entra's body), in-process through Django's handler with the rate limit off,
and prints per block of 1,000 people the wall time and the CPU time of this process
and of its PostgreSQL backend: what one person costs the server, and whether it grows.

``per-operation`` sends each operation of ``benchmarks/worker.py`` ``--reps`` times to
``bench_sp_<size>`` and prints the CPU time it cost this process (Django, this app,
the request-log thread) and the database's backends, and so how many such requests
one core serves running flat out. CPU time, unlike latency, hardly depends on what
else the machine is doing, which is why the capacity table is built from it.

``table`` runs ``per-operation`` and ``initial-sync`` (each in a process of its own)
and rewrites docs/scaling.md's capacity table and initial-sync table with what they
measured: creates per second per core, and how long 100,000 people take on two cores.

``BENCH_POSTGRES_URL`` (default ``postgres://postgres@127.0.0.1:5432``) is the server;
``BENCH_PG_PREFIX`` the benchmark databases' prefix, as for ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.wsgi import call  # noqa: E402
from loadtest.cpu import process_cpu_seconds  # noqa: E402

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
PG_PREFIX = os.environ.get("BENCH_PG_PREFIX", "bench")
SCALING = ROOT / "docs" / "scaling.md"
ENTRA_CREATE = ROOT / "tests" / "payloads" / "entra" / "create_user.json"
MB = 1024 * 1024


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def _sizes(url: str, like: tuple[str, ...]) -> list[tuple[str, int, int, int]]:
    """(table, rows, table bytes incl. TOAST, index bytes) for tables matching ``like``."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            SELECT c.relname, c.reltuples::bigint,
                   pg_table_size(c.oid), pg_indexes_size(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.relname LIKE ANY(%s)
            ORDER BY pg_total_relation_size(c.oid) DESC
            """,
            [list(like)],
        ).fetchall()
    return rows


def _print_sizes(rows: list[tuple[str, int, int, int]], per: int, label: str) -> None:
    print(f"| table | rows | table MB | indexes MB | MB {label} |")
    print("| --- | ---: | ---: | ---: | ---: |")
    total = 0
    for name, count, table, indexes in rows:
        total += table + indexes
        # Scaled only where the rows are many enough to say what a row costs.
        scaled = f"{(table + indexes) / MB * per / count:.1f}" if count >= 1000 else "–"
        print(f"| {name} | {count:,} | {table / MB:.1f} | {indexes / MB:.1f} | {scaled} |")
    print(f"| all | | | | {total / MB:.1f} MB in all |")


def storage(size: int) -> None:
    url = f"{SERVER}/{PG_PREFIX}_sp_{size}"
    rows = _sizes(url, ("scim_provisioning_%", "accounts_%", "teams_%"))
    _print_sizes([r for r in rows if r[1] > 0], 100_000, "per 100,000 rows")


def _backends(database: str) -> list[int]:
    """Every PostgreSQL backend on ``database``: the request's and the log writer's."""
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]
        ).fetchall()
    return [pid for (pid,) in rows]


def _backend_cpu(database: str) -> float:
    return sum(process_cpu_seconds(pid) or 0.0 for pid in _backends(database))


def per_operation(size: int, reps: int) -> list[dict]:
    """CPU per request of each benchmark operation, this process and PostgreSQL's."""
    database = f"{PG_PREFIX}_sp_{size}"
    os.environ["BENCH_DATABASE_URL"] = f"{SERVER}/{database}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.sites.example"
    import django

    django.setup()
    from benchmarks.worker import OPERATIONS, ThisProject, Worker
    from scim_provisioning.request_log_writer import writer

    setup = ThisProject(size)
    worker = Worker(setup)
    setup.prepare()
    print(f"{size:,} users in the team; {reps} requests an operation")
    print("| operation | app CPU ms | PostgreSQL CPU ms | server CPU ms | requests/s per core |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rows = []
    for op in OPERATIONS:
        worker.call(setup.request(op))  # warm-up: connections, caches, the writer thread
        # Made before the clock starts: a DELETE's user is created by a request of its own.
        requests = [setup.request(op) for _ in range(reps)]
        writer.flush()
        app, pg = time.process_time(), _backend_cpu(database)
        for request in requests:
            status, content, _, _ = worker.call(request)
            assert status < 300, content[:300]
        writer.flush()  # the request log's rows are part of what a request costs
        app_ms = (time.process_time() - app) * 1000 / reps
        pg_ms = (_backend_cpu(database) - pg) * 1000 / reps
        setup.cleanup(op)
        server = app_ms + pg_ms
        print(f"| {op} | {app_ms:.1f} | {pg_ms:.1f} | {server:.1f} | {1000 / server:,.0f} |")
        rows.append({"op": op, "app_ms": app_ms, "pg_ms": pg_ms})
    return rows


def _scratch(name: str) -> str:
    """A fresh, migrated database; its URL. Django is set up on it."""
    _admin(f"CREATE DATABASE {name}")
    os.environ["BENCH_DATABASE_URL"] = f"{SERVER}/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.sites.example")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return os.environ["BENCH_DATABASE_URL"]


def _drop(name: str) -> None:
    from django.db import connections

    from scim_provisioning.request_log_writer import writer

    writer.flush()  # the request log's rows, written by a thread of their own
    connections.close_all()
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


#: The traffic of an IdP cycle: lookups by filter, PATCHes and creates, a summary
#: on writes, spread over 90 days (the default retention).
_REQUEST_LOG_ROWS = """
                INSERT INTO scim_provisioning_scimrequestlog
                    (team_id, token_prefix, method, path, query, status, resource_type,
                     resource_id, summary, duration_ms, client_ip, user_agent, idp, created)
                SELECT (%s::int[])[1 + i %% 10], 'scim_Ab3dE6',
                       (ARRAY['GET','PATCH','POST','GET'])[1 + i %% 4],
                       (ARRAY['/scim/v2/Users',
                              '/scim/v2/Users/' || gen_random_uuid(),
                              '/scim/v2/Users',
                              '/scim/v2/Groups/' || gen_random_uuid()])[1 + i %% 4],
                       CASE WHEN i %% 4 = 0
                            THEN 'filter=userName eq "user' || i || '@contoso.com"' ELSE '' END,
                       (ARRAY[200, 200, 201, 200])[1 + i %% 4],
                       (ARRAY['User','User','User','Group'])[1 + i %% 4],
                       CASE WHEN i %% 4 = 0 THEN '' ELSE gen_random_uuid()::text END,
                       CASE WHEN i %% 4 IN (1, 2) THEN 'active: true -> false' ELSE '' END,
                       2.5, '10.1.2.3', 'Azure Active Directory SCIM Client', 'entra',
                       now() - (i * interval '7.776 seconds')
                FROM generate_series(1, %s) AS i
                """

#: One person in five entries: created (its fields), renamed, joined and left a
#: group, deactivated; spread over 365 days (the default retention).
_TIMELINE_ROWS = """
                INSERT INTO scim_provisioning_scimuserevent
                    (team_id, scim_user_id, user_name, action, changes, group_id, group_name,
                     role, token_prefix, request_id, created)
                SELECT (%s::int[])[1 + i %% 10], gen_random_uuid(),
                       'user' || (i / 5) || '@contoso.com',
                       (ARRAY['user.created','user.updated','user.joined_group',
                              'user.left_group','user.deactivated'])[1 + i %% 5],
                       CASE i %% 5
                         WHEN 0 THEN jsonb_build_object(
                           'active', jsonb_build_array(null, true),
                           'displayName', jsonb_build_array(null, 'Person ' || i),
                           'emails', jsonb_build_array(null, jsonb_build_array(jsonb_build_object(
                             'primary', true, 'type', 'work',
                             'value', 'user' || (i / 5) || '@contoso.com'))),
                           'externalId', jsonb_build_array(null, gen_random_uuid()::text),
                           'name.familyName', jsonb_build_array(null, 'Family'),
                           'name.givenName', jsonb_build_array(null, 'Given'),
                           'userName', jsonb_build_array(null, 'user' || (i / 5) || '@contoso.com'))
                         WHEN 1 THEN jsonb_build_object(
                           'name.familyName', jsonb_build_array('Family', 'Renamed'))
                         ELSE '{}'::jsonb END,
                       CASE WHEN i %% 5 IN (2, 3) THEN gen_random_uuid() END,
                       CASE WHEN i %% 5 IN (2, 3) THEN 'Engineering' ELSE '' END,
                       '', 'scim_Ab3dE6', gen_random_uuid(),
                       now() - (i * interval '31.536 seconds')
                FROM generate_series(1, %s) AS i
                """


def _table_per_million(kind: str, table: str, insert: str, rows: int) -> None:
    """``rows`` rows made by ``insert`` (one ``INSERT … SELECT generate_series``, its two
    parameters the teams' ids and ``rows``) into ``table`` of a scratch database, measured."""
    name = f"capacity_{kind}_{secrets.token_hex(3)}"
    url = _scratch(name)
    try:
        from django.db import connection

        from example_project.teams.models import Team

        teams = [Team.objects.create(slug=f"t{i}", name=f"T{i}").pk for i in range(10)]
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(insert, [teams, rows])
            cursor.execute(f"VACUUM ANALYZE {table}")
        print(f"inserted {rows:,} rows in {time.monotonic() - started:.1f} s")
        _print_sizes(_sizes(url, (table,)), 1_000_000, "per million rows")
    finally:
        _drop(name)


def request_log(rows: int) -> None:
    _table_per_million("log", "scim_provisioning_scimrequestlog", _REQUEST_LOG_ROWS, rows)


def timeline(rows: int) -> None:
    _table_per_million("timeline", "scim_provisioning_scimuserevent", _TIMELINE_ROWS, rows)


def initial_sync(users: int, block: int = 1000) -> list[dict]:
    name = f"capacity_sync_{secrets.token_hex(3)}"
    _scratch(name)
    try:
        from django.core.wsgi import get_wsgi_application
        from django.db import connection

        from example_project.teams.models import Team
        from scim_provisioning.models import SCIMTeamConfig
        from scim_provisioning.tokens import issue_token

        team = Team.objects.create(slug="entra", name="Entra")
        SCIMTeamConfig.objects.create(team=team, enabled=True)
        token = issue_token(team).plaintext
        body = json.loads(ENTRA_CREATE.read_text())
        body.pop("source")
        app = get_wsgi_application()
        agent = "Azure Active Directory SCIM Client"
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        print("| people | wall ms / person | app CPU ms | PostgreSQL CPU ms | server CPU ms |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        first = None
        blocks = []
        for start in range(0, users, block):
            wall, cpu, pg = time.monotonic(), time.process_time(), process_cpu_seconds(backend)
            for i in range(start, min(users, start + block)):
                user_name = f"person{i:06d}@contoso.com"
                query = urlencode({"filter": f'userName eq "{user_name}"'})
                found = call(
                    app, "GET", "/scim/v2/Users", query=query, token=token, user_agent=agent
                )
                assert found.status == 200 and json.loads(found.content)["totalResults"] == 0
                body["userName"] = user_name
                body["externalId"] = f"ext-{i}"
                body["emails"][0]["value"] = user_name
                created = call(
                    app, "POST", "/scim/v2/Users", body=body, token=token, user_agent=agent
                )
                assert created.status == 201, created.content
            count = min(users, start + block) - start
            figures = (
                (time.monotonic() - wall) * 1000 / count,
                (time.process_time() - cpu) * 1000 / count,
                ((process_cpu_seconds(backend) or 0) - (pg or 0)) * 1000 / count,
            )
            first = first or figures
            if start == 0 or start + block >= users or (start // block) % 5 == 4:
                blocks.append(
                    {"people": start + count, "wall_ms": figures[0], "app_ms": figures[1]}
                )
                blocks[-1]["pg_ms"] = figures[2]
                print(
                    f"| {start + count:,} | {figures[0]:.1f} | {figures[1]:.1f} | "
                    f"{figures[2]:.1f} | {figures[1] + figures[2]:.1f} |"
                )
    finally:
        _drop(name)
    return blocks


#: Entra's initial cycle: a lookup and a create a person.
REQUESTS_PER_PERSON = 2
#: What an IdP needs of a tenant's endpoint (issue 27: Entra, at least 25 requests a second).
IDP_REQUESTS_PER_SECOND = 25
CORES = 2


def table(size: int, reps: int, users: int) -> None:
    """Measure (two processes: Django is set up once per process) and rewrite docs/scaling.md."""
    import subprocess
    import tempfile
    from datetime import datetime, timezone

    here = Path(__file__).resolve()
    load_before = os.getloadavg()[0]
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for what, extra in (
            ("per-operation", ["--size", str(size), "--reps", str(reps)]),
            ("initial-sync", ["--users", str(users)]),
        ):
            out = Path(folder) / f"{what}.json"
            subprocess.run(
                [sys.executable, str(here), what, *extra, "--json", str(out)], check=True
            )
            results[what] = json.loads(out.read_text())
    load_after = os.getloadavg()[0]
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "an unnamed CPU",
    )
    when = (
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {cpu}, `nproc` = {os.cpu_count()}, "
        f"load average {load_before:.1f} → {load_after:.1f}"
    )
    operations = results["per-operation"]
    lines = [
        f"`.venv/bin/python benchmarks/capacity.py table --size {size} --reps {reps} "
        f"--users {users}`, {when}; {reps} requests an operation:",
        "",
        "| operation | app CPU ms | PostgreSQL CPU ms | server CPU ms | requests/s per core |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    from benchmarks.run import LABELS

    for row in operations:
        server = row["app_ms"] + row["pg_ms"]
        lines.append(
            f"| {LABELS.get(row['op'], row['op'])} | {row['app_ms']:.1f} | {row['pg_ms']:.1f} "
            f"| {server:.1f} | {1000 / server:,.0f} |"
        )
    create = next(r for r in operations if r["op"] == "create_user")
    create_ms = create["app_ms"] + create["pg_ms"]
    lines += [
        "",
        f"**Creates per second per core: {1000 / create_ms:,.0f}** (POST /Users, "
        f"{create_ms:.1f} ms of server CPU each, in a team of {size:,}).",
    ]
    _replace(SCALING, "capacity", lines)

    blocks = results["initial-sync"]
    last = blocks[-1]
    person_ms = last["app_ms"] + last["pg_ms"]
    seconds = 100_000 * person_ms / 1000 / CORES
    people_per_second = 1000 * CORES / person_ms
    needed = IDP_REQUESTS_PER_SECOND / REQUESTS_PER_PERSON
    lines = [
        f"`.venv/bin/python benchmarks/capacity.py table --size {size} --reps {reps} "
        f"--users {users}`, {when}:",
        "",
        "| people | wall ms / person | app CPU ms | PostgreSQL CPU ms | server CPU ms |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for b in blocks:
        lines.append(
            f"| {b['people']:,} | {b['wall_ms']:.1f} | {b['app_ms']:.1f} | {b['pg_ms']:.1f} "
            f"| {b['app_ms'] + b['pg_ms']:.1f} |"
        )
    lines += [
        "",
        f"A person (a lookup and a create) costs {person_ms:.1f} ms of server CPU: "
        f"**{people_per_second:,.0f} people a second on {CORES} cores**, "
        f"{people_per_second * REQUESTS_PER_PERSON:,.0f} requests a second, so "
        f"**100,000 people in {seconds / 60:,.0f} minutes** with both cores busy "
        f"(IdP requests in parallel, no rate limit). An IdP asking "
        f"{IDP_REQUESTS_PER_SECOND} requests a second of a tenant ({needed:g} people) "
        f"needs {needed * person_ms / 1000:.2f} cores: "
        + ("met." if needed * person_ms / 1000 <= CORES else "**not met**."),
    ]
    _replace(SCALING, "sync", lines)
    print(f"{SCALING.relative_to(ROOT)} rewritten")


def _replace(path: Path, marker: str, lines: list[str]) -> None:
    import textwrap

    # Prose wrapped as the page's own; table rows as they are.
    lines = [line if line.startswith("|") else textwrap.fill(line, 88) for line in lines]
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    text = path.read_text()
    before, _, rest = text.partition(start)
    _, _, after = rest.partition(end)
    path.write_text(before + start + "\n" + "\n".join(lines) + "\n" + end + after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("storage").add_argument("--size", type=int, default=100_000)
    sub.add_parser("request-log").add_argument("--rows", type=int, default=1_000_000)
    sub.add_parser("timeline").add_argument("--rows", type=int, default=1_000_000)
    sync = sub.add_parser("initial-sync")
    sync.add_argument("--users", type=int, default=20_000)
    sync.add_argument("--json", type=Path, help="also write the figures here")
    operations = sub.add_parser("per-operation")
    operations.add_argument("--size", type=int, default=100_000)
    operations.add_argument("--reps", type=int, default=200)
    operations.add_argument("--json", type=Path, help="also write the figures here")
    both = sub.add_parser("table", help="measure both and rewrite docs/scaling.md's tables")
    both.add_argument("--size", type=int, default=100_000)
    both.add_argument("--reps", type=int, default=100)
    both.add_argument("--users", type=int, default=2_000)
    args = parser.parse_args()
    os.chdir(ROOT)
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.what == "storage":
        storage(args.size)
    elif args.what == "per-operation":
        figures = per_operation(args.size, args.reps)
        if args.json:
            args.json.write_text(json.dumps(figures))
    elif args.what == "table":
        table(args.size, args.reps, args.users)
    elif args.what == "request-log":
        request_log(args.rows)
    elif args.what == "timeline":
        timeline(args.rows)
    else:
        blocks = initial_sync(args.users)
        if args.json:
            args.json.write_text(json.dumps(blocks))
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
