#!/usr/bin/env python
"""Load test: gunicorn on a fresh PostgreSQL database, driven by virtual IdPs.

    python loadtest/run.py [--duration 60] [--teams 4] [--idps-per-team 4] [--keep-db]
    python loadtest/run.py --worker-class gthread --workers 2 --threads 8

``make loadtest`` runs it twice: 4 sync workers, then 2 ``gthread`` workers of
8 threads each (requests of one process served at the same time, sharing every
module-level object: what a threaded host does).

1. Creates a fresh PostgreSQL database (``--pg``, default the local server) and
   migrates it; creates ``--teams`` teams with SCIM enabled and a token each.
2. Starts gunicorn on 127.0.0.1 (a free port) with the example project's WSGI
   app and ``loadtest.settings``: DEBUG off, persistent connections, the SCIM
   request log on, the cache in Redis and the rate limit on but raised to
   100,000 requests/s per token, so the throttle runs on every request and
   refuses none.
3. Seeds each team through the API (``--seed-users`` users, ``--seed-groups``
   groups; not measured), then runs ``--idps-per-team`` virtual IdPs per team
   for ``--duration`` seconds or ``--max-steps`` steps, whichever ends first
   (see ``loadtest/client.py`` for the mix).
4. Stops gunicorn (SIGTERM to its master, by pid; graceful) and checks the
   database: every acknowledged create is there exactly once, every user's
   last acknowledged PATCH is its stored state (SCIM record and host
   membership), every acknowledged group member is there and every group holds
   only members that were sent to *it* (none leaked from another group's
   PATCH); and, for the host,
   that ``Team.seats_used`` matches the active memberships and that the
   request log has a row per response.
5. Prints throughput, p50/p99 per operation, errors and lost writes (also as
   ``report.json`` in ``--out``), drops the database unless ``--keep-db``,
   and exits 1 if any request failed or any write was lost.

Only 127.0.0.1 is ever contacted. Needs the ``[loadtest]`` extra (gunicorn,
httpx, redis), PostgreSQL and Redis (``LOADTEST_REDIS_URL``, default
``redis://127.0.0.1:6379/14``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--teams", type=int, default=4, help="teams, one token each (4)")
    parser.add_argument("--idps-per-team", type=int, default=4, help="virtual IdPs per team (4)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument(
        "--worker-class", default="sync", choices=["sync", "gthread"], help="gunicorn (sync)"
    )
    parser.add_argument("--threads", type=int, default=8, help="threads per gthread worker (8)")
    parser.add_argument("--seed-users", type=int, default=50, help="users seeded per team (50)")
    parser.add_argument("--seed-groups", type=int, default=5, help="groups seeded per team (5)")
    parser.add_argument("--max-steps", type=int, default=200_000, help="step budget (200000)")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout (30 s)")
    parser.add_argument(
        "--pg",
        default=os.environ.get("LOADTEST_PG", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server to create the database on (LOADTEST_PG)",
    )
    parser.add_argument(
        "--cpus",
        type=_cpu_list,
        help="pin gunicorn (master and workers) to these CPUs, e.g. 0 or 0,1; PostgreSQL "
        "and the load generator stay unpinned (default: no pinning)",
    )
    parser.add_argument("--out", help="directory for logs and report.json (default: a temp dir)")
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def require(modules: list[str]) -> None:
    missing = []
    for name in modules:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        sys.exit(f"missing {', '.join(missing)}: pip install -e '.[dev,loadtest]'")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin_sql(pg_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(statement)


def backend_pids(pg_url: str, database: str) -> list[int]:
    """The PostgreSQL backends connected to ``database`` (the workers' and the log writer's)."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]
        ).fetchall()
    return [pid for (pid,) in rows]


def server_pids(server: subprocess.Popen, pg_url: str, database: str) -> list[int]:
    from .cpu import children_of

    return [server.pid, *children_of(server.pid), *backend_pids(pg_url, database)]


def check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        sys.exit(f"Redis is not reachable at {url} (LOADTEST_REDIS_URL): {exc}")


def setup_site(teams: int) -> list[Any]:
    """Migrate, then create the teams with SCIM on and a token each (in this process)."""
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    from example_project.teams.models import Team as TeamModel
    from scim_provisioning.models import SCIMTeamConfig
    from scim_provisioning.tokens import issue_token

    from .client import Team

    result = []
    for i in range(teams):
        team = TeamModel.objects.create(name=f"Load {i}", slug=f"load{i}")
        SCIMTeamConfig.objects.create(team=team, enabled=True)
        result.append(Team(slug=team.slug, token=issue_token(team).plaintext))
    connections.close_all()
    return result


def _cpu_list(text: str) -> set[int]:
    try:
        cpus = {int(part) for part in text.split(",") if part.strip()}
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of CPU numbers: {text!r}") from exc
    if not cpus or not cpus <= os.sched_getaffinity(0):
        raise argparse.ArgumentTypeError(f"CPUs {text!r} are not all available here")
    return cpus


def _pinning(args: argparse.Namespace) -> str:
    return f", gunicorn pinned to CPU {','.join(map(str, sorted(args.cpus)))}" if args.cpus else ""


def start_gunicorn(args: argparse.Namespace, port: int, out: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "example_project.wsgi:application",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        *(["--threads", str(args.threads)] if args.worker_class == "gthread" else []),
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        str(out / "access.log"),
        "--error-logfile",
        str(out / "gunicorn.log"),
        "--timeout",
        "60",
        "--graceful-timeout",
        "30",
    ]
    cpus = args.cpus

    def pin() -> None:  # in the child, before gunicorn starts: its workers inherit it
        if cpus:
            os.sched_setaffinity(0, cpus)

    return subprocess.Popen(
        command, cwd=REPO, env=os.environ.copy(), start_new_session=True, preexec_fn=pin
    )


def wait_ready(server: subprocess.Popen, base_url: str, token: str, out: Path) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log = (out / "gunicorn.log").read_text()[-3000:]
            sys.exit(f"gunicorn exited with {server.returncode}:\n{log}")
        try:
            response = httpx.get(
                f"{base_url}/ServiceProviderConfig",
                headers={"Authorization": f"Bearer {token}"},
                timeout=5,
            )
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit("gunicorn did not answer within 60 s")


def stop_gunicorn(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)  # graceful: workers finish their requests
    try:
        server.wait(timeout=45)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def verify(expected: dict[str, Any], out: Path) -> dict[str, Any]:
    """What the database holds, against what the server acknowledged."""
    from django.db.models import Count
    from django.db.models.functions import Lower

    from example_project.teams.models import Membership
    from example_project.teams.models import Team as TeamModel
    from scim_provisioning.models import SCIMGroupMembership, SCIMRequestLog, SCIMUser

    created = expected["created"]
    rows = {
        str(pk): (slug, name)
        for pk, slug, name in SCIMUser.objects.filter(pk__in=list(created)).values_list(
            "pk", "team__slug", "user_name"
        )
    }
    missing_creates = [pk for pk in created if pk not in rows]
    wrong_creates = [pk for pk, v in created.items() if pk in rows and list(rows[pk]) != list(v)]
    duplicates = (
        SCIMUser.objects.values("team", name=Lower("user_name"))
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    acknowledged_per_team: dict[str, int] = {}
    for slug, _ in created.values():
        acknowledged_per_team[slug] = acknowledged_per_team.get(slug, 0) + 1
    stored_per_team = dict(
        SCIMUser.objects.values_list("team__slug")
        .annotate(n=Count("pk"))
        .values_list("team__slug", "n")
    )
    unacknowledged_stored = sum(
        SCIMUser.objects.filter(team__slug=slug, user_name__iexact=name).exists()
        for slug, name in expected["unacknowledged_creates"]
    )
    extra_rows = sum(stored_per_team.values()) - len(created) - unacknowledged_stored

    final = expected["final"]
    stale_patches = []
    records = SCIMUser.objects.filter(pk__in=list(final)).values_list(
        "pk", "team_id", "user_id", "active", "attributes"
    )
    memberships = {
        (team_id, user_id): active
        for team_id, user_id, active in Membership.objects.values_list(
            "team_id", "user_id", "is_active"
        )
    }
    seen = set()
    for pk, team_id, user_id, active, attributes in records:
        seen.add(str(pk))
        want = final[str(pk)]
        have = {
            "title": attributes.get("title"),
            "givenName": (attributes.get("name") or {}).get("givenName"),
            "active": active,
        }
        if have != want or memberships.get((team_id, user_id)) != want["active"]:
            stale_patches.append({"id": str(pk), "want": want, "have": have})
    stale_patches += [{"id": pk, "missing": True} for pk in final if pk not in seen]

    wanted_members = {tuple(pair) for pair in expected["members"]}
    attempted_members = {tuple(pair) for pair in expected["attempted_members"]}
    stored_members = {
        (str(g), str(u)) for g, u in SCIMGroupMembership.objects.values_list("group_id", "user_id")
    }
    missing_members = sorted(wanted_members - stored_members)
    # A member in a group it was never sent to leaked from another request.
    foreign_members = sorted(stored_members - attempted_members)
    groups_checked = {group for group, _ in attempted_members}
    groups_exact = sum(
        {u for g, u in stored_members if g == group} >= {u for g, u in wanted_members if g == group}
        and not any(g == group for g, _ in foreign_members)
        for group in groups_checked
    )

    seats = []
    for team in TeamModel.objects.all():
        active = Membership.objects.filter(team=team, is_active=True).count()
        seats.append({"team": team.slug, "seats_used": team.seats_used, "active": active})

    access_lines = sum(
        "/scim/v2/" in line for line in (out / "access.log").read_text().splitlines()
    )
    return {
        "created_acknowledged": len(created),
        "created_missing": missing_creates,
        "created_wrong": wrong_creates,
        "duplicate_user_names": duplicates,
        "unacknowledged_creates": len(expected["unacknowledged_creates"]),
        "unacknowledged_creates_stored": unacknowledged_stored,
        "extra_rows": extra_rows,
        "patched_users_checked": len(final),
        "patched_users_uncertain": len(expected["uncertain"]),
        "patches_lost": stale_patches[:20],
        "patches_lost_count": len(stale_patches),
        "members_acknowledged": len(wanted_members),
        "members_missing": missing_members[:20],
        "members_missing_count": len(missing_members),
        "members_foreign": foreign_members[:20],
        "members_foreign_count": len(foreign_members),
        "groups_checked": len(groups_checked),
        "groups_exact": groups_exact,
        "seats": seats,
        "request_log_rows": SCIMRequestLog.objects.count(),
        "access_log_scim_lines": access_lines,
    }


def server_kind(args: argparse.Namespace) -> str:
    if args.worker_class == "gthread":
        return f"{args.workers} gthread workers x {args.threads} threads"
    return f"{args.workers} sync workers"


def report(args, stats, elapsed, seed_stats, checks, cpu, out: Path) -> int:
    from .client import MIX, percentile

    ms = 1000.0
    lines = [
        f"SCIM load test: {elapsed:.1f} s, {args.teams} teams x {args.idps_per_team} virtual "
        f"IdPs, gunicorn {server_kind(args)}, PostgreSQL, throttle on (Redis, "
        f"{os.environ.get('LOADTEST_RATE_LIMIT', '100000')}/s per token)" + _pinning(args),
        "",
        f"{'operation':<14}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'errors':>8}",
    ]
    per_op = {}
    all_latencies: list[float] = []
    for op in [*MIX, *sorted(set(stats.latencies) - set(MIX))]:
        values = stats.latencies.get(op, [])
        if not values:
            continue
        all_latencies += values
        errors = sum(n for (o, _), n in stats.errors.items() if o == op)
        per_op[op] = {
            "requests": len(values),
            "p50_ms": percentile(values, 50) * ms,
            "p99_ms": percentile(values, 99) * ms,
            "max_ms": max(values) * ms,
            "errors": errors,
        }
        row = per_op[op]
        lines.append(
            f"{op:<14}{len(values):>10}{len(values) / elapsed:>9.1f}{row['p50_ms']:>9.1f}"
            f"{row['p99_ms']:>9.1f}{row['max_ms']:>9.1f}{errors:>8}"
        )
    total_errors = sum(stats.errors.values())
    lines.append(
        f"{'all':<14}{len(all_latencies):>10}{len(all_latencies) / elapsed:>9.1f}"
        f"{percentile(all_latencies, 50) * ms:>9.1f}{percentile(all_latencies, 99) * ms:>9.1f}"
        f"{max(all_latencies, default=0) * ms:>9.1f}{total_errors:>8}"
    )
    lines.append("")
    lines.append(f"throughput: {len(all_latencies) / elapsed:.1f} requests/s")
    per_core = len(all_latencies) / cpu["server_cpu_s"] if cpu["server_cpu_s"] else 0.0
    lines.append(
        f"server CPU: {cpu['server_cpu_s']:.1f} s (gunicorn + PostgreSQL backends) = "
        f"{per_core:.1f} requests per CPU-second, i.e. per core running flat out; "
        f"load generator {cpu['client_cpu_s']:.1f} s; load average after "
        + " ".join(f"{x:.1f}" for x in cpu["load_average"])
    )
    lines.append(f"statuses: {dict(sorted(stats.statuses.items()))}")
    lines.append(f"errors: {total_errors}")
    for (op, what), n in stats.errors.most_common(10):
        lines.append(f"  {op} {what}: {n}  e.g. {stats.samples[(op, what)][:160]!r}")
    seed_errors = sum(seed_stats.errors.values())
    lines.append(f"seeding: {seed_stats.requests} requests, {seed_errors} errors")

    lost = (
        len(checks["created_missing"])
        + len(checks["created_wrong"])
        + checks["patches_lost_count"]
        + checks["members_missing_count"]
        + checks["members_foreign_count"]
    )
    lines += [
        "",
        "after the run (database):",
        f"  created users: {checks['created_acknowledged'] - len(checks['created_missing'])}"
        f" of {checks['created_acknowledged']} acknowledged exist, "
        f"{len(checks['created_wrong'])} wrong, {checks['duplicate_user_names']} duplicated, "
        f"{checks['extra_rows']} rows nobody was told about",
        f"  PATCH final states: {checks['patched_users_checked'] - checks['patches_lost_count']}"
        f" of {checks['patched_users_checked']} users as last acknowledged"
        f" ({checks['patched_users_uncertain']} left out: their last PATCH failed)",
        f"  group members: {checks['members_acknowledged'] - checks['members_missing_count']}"
        f" of {checks['members_acknowledged']} acknowledged adds present, "
        f"{checks['members_foreign_count']} in a group they were never sent to; "
        f"{checks['groups_exact']} of {checks['groups_checked']} groups exactly as sent",
        f"  lost writes: {lost}",
        "  host seats_used = active memberships: "
        + ", ".join(
            f"{s['team']} {s['seats_used']}/{s['active']}"
            + ("" if s["seats_used"] == s["active"] else " MISMATCH")
            for s in checks["seats"]
        ),
        f"  request log: {checks['request_log_rows']} rows for "
        f"{checks['access_log_scim_lines']} SCIM responses in gunicorn's access log",
        "",
        f"logs and report.json: {out}",
    ]
    print("\n".join(lines))
    (out / "report.json").write_text(
        json.dumps(
            {
                "elapsed_s": elapsed,
                "gunicorn_cpus": sorted(args.cpus) if args.cpus else None,
                "throughput_rps": len(all_latencies) / elapsed,
                "cpu": cpu,
                "requests_per_server_cpu_second": per_core,
                "operations": per_op,
                "errors": total_errors,
                "error_kinds": {f"{op} {what}": n for (op, what), n in stats.errors.items()},
                "lost_writes": lost,
                "checks": checks,
            },
            indent=2,
        )
    )
    return 1 if total_errors or seed_errors or lost else 0


def main() -> int:
    args = parse_args()
    require(["httpx", "gunicorn", "redis", "psycopg", "django"])
    out = Path(args.out or tempfile.mkdtemp(prefix="scim-loadtest-"))
    out.mkdir(parents=True, exist_ok=True)
    redis_url = os.environ.setdefault("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/14")
    check_redis(redis_url)

    database = f"scim_load_{os.getpid()}_{secrets.token_hex(3)}"
    server_url = args.pg.rsplit("/", 1)[0]
    admin_sql(args.pg, f"CREATE DATABASE {database}")
    os.environ.update(
        DATABASE_URL=f"{server_url}/{database}",
        DJANGO_SETTINGS_MODULE="loadtest.settings",
        DEBUG="0",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    print(f"database {database}; logs in {out}", flush=True)
    try:
        from . import client

        teams = setup_site(args.teams)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}/scim/v2"
        server = start_gunicorn(args, port, out)
        expected = client.Expected()
        try:
            wait_ready(server, base_url, teams[0].token, out)
            print(f"gunicorn up on 127.0.0.1:{port}; seeding", flush=True)
            seed_stats = asyncio.run(
                client.seed(
                    base_url,
                    teams,
                    users=args.seed_users,
                    groups=args.seed_groups,
                    expected=expected,
                )
            )
            print(f"load for {args.duration:.0f} s", flush=True)
            from .cpu import CpuMeter

            meter = CpuMeter()
            meter.start(server_pids(server, args.pg, database))
            client_cpu = time.process_time()
            stats, elapsed = asyncio.run(
                client.run_load(
                    base_url,
                    teams,
                    idps_per_team=args.idps_per_team,
                    duration=args.duration,
                    max_steps=args.max_steps,
                    expected=expected,
                    timeout=args.timeout,
                )
            )
            cpu = {
                "server_cpu_s": meter.stop(server_pids(server, args.pg, database)),
                "client_cpu_s": time.process_time() - client_cpu,
                "load_average": os.getloadavg(),
            }
        finally:
            stop_gunicorn(server)
        checks = verify(expected.as_json(), out)
        from django.db import connections

        connections.close_all()
        return report(args, stats, elapsed, seed_stats, checks, cpu, out)
    finally:
        if args.keep_db:
            print(f"kept database {database}")
        else:
            admin_sql(args.pg, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


if __name__ == "__main__":
    if __package__ in (None, ""):
        # Run as a script: import as the loadtest package so relative imports work.
        import importlib

        sys.exit(importlib.import_module("loadtest.run").main())
    sys.exit(main())
