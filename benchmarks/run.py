"""The IdP workload against three setups, alternating them, on SQLite and PostgreSQL.

    make bench                          # everything: ~7 min, plus ~3.5 min building what is missing
    make bench BENCH_ARGS=--quick       # 1,000 users, SQLite only: a smoke test
    .venv/bin/python benchmarks/run.py --dbs sqlite --sizes 1000,10000
    .venv/bin/python benchmarks/run.py --profile sp:list_deep --dbs sqlite --sizes 100000

Setups (each its own process, ``benchmarks/worker.py``): ``sp`` this project's
example site, ``ds`` django-scim2 0.23 (``benchmarks/django_scim2_site``),
``bare`` one indexed SELECT through the same middleware (the floor). For each
database, each round runs every operation once per setup and team size, in an
order rotated every round, so noise and drift hit all of them alike.

Databases are built once and reused: SQLite files in ``benchmarks/.data/``,
``bench_<setup>_<size>`` databases on PostgreSQL (``BENCH_POSTGRES_URL``,
default ``postgres://postgres@127.0.0.1:5432``). A database is rebuilt when
the migrations it was built from change. Results go to
``benchmarks/.data/results-<db>.json``; a full run (every database and size)
also rewrites the results section of ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
README = HERE / "README.md"
PYTHON = sys.executable
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
#: The PostgreSQL databases' name prefix: two checkouts benchmarking on one server at once
#: (each with its own migrations) give each its own (BENCH_PG_PREFIX=bench_mine).
PG_PREFIX = os.environ.get("BENCH_PG_PREFIX", "bench")

sys.path.insert(0, str(ROOT))
from benchmarks.worker import OPERATIONS  # noqa: E402

SETUPS = ("sp", "ds", "bare")
NAMES = {"sp": "this project", "ds": "django-scim2", "bare": "bare view"}
#: The reads that must run in at most two queries.
READS = ("get_user", "filter_username", "filter_external_id", "list_deep")
SUPPORTED = {"sp": OPERATIONS, "ds": OPERATIONS, "bare": ("get_user",)}
LABELS = {
    "create_user": "POST /Users",
    "get_user": "GET /Users/{id}",
    "filter_username": "GET /Users?filter=userName eq",
    "filter_external_id": "GET /Users?filter=externalId eq",
    "list_deep": "GET /Users page of 100, deep startIndex",
    "patch_active": "PATCH /Users/{id} active",
    "put_user": "PUT /Users/{id}",
    "delete_user": "DELETE /Users/{id}",
    "create_group_100": "POST /Groups, 100 members",
    "patch_group_add_1000": "PATCH /Groups/{id} add 1,000 members",
    "groups_excluding_members": "GET /Groups?excludedAttributes=members",
}
#: Operations on one resource: the target is "no slower than django-scim2".
SINGLE = (
    "create_user",
    "get_user",
    "filter_username",
    "filter_external_id",
    "patch_active",
    "put_user",
    "delete_user",
    "create_group_100",
    "patch_group_add_1000",
)
#: Statement budgets (issue 27): statements sent, transaction control aside.
STATEMENTS = {"create_user": 10, "patch_active": 6}
TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")
FULL_SIZES = (1_000, 10_000, 100_000)
ROUNDS = 5
REPS, BUDGET = 10, 1.5  # per batch: up to REPS timed requests, stopping after BUDGET seconds
MIGRATIONS = {
    "sp": [
        "scim_provisioning/migrations",
        "example_project/accounts/migrations",
        "example_project/teams/migrations",
    ],
    "ds": ["benchmarks/django_scim2_site/accounts/migrations"],
}
BUILD_VERSION = "1"  # bump when worker.py builds different data


# -- databases --------------------------------------------------------------------------


def fingerprint(setup: str) -> str:
    digest = hashlib.sha256(BUILD_VERSION.encode())
    for folder in MIGRATIONS[setup]:
        for path in sorted((ROOT / folder).glob("*.py")):
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def database_url(db: str, setup: str, size: int, *, building: bool = False) -> str:
    setup = "sp" if setup == "bare" else setup
    suffix = "_building" if building else ""
    if db == "sqlite":
        return f"sqlite:///{DATA / f'{setup}-{size}{suffix}.sqlite3'}"
    return f"{PG_URL}/{PG_PREFIX}_{setup}_{size}{suffix}"


def _pg(sql: str) -> list:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as connection:
        cursor = connection.execute(sql)
        return cursor.fetchall() if cursor.description else []


def _marker(db: str, setup: str, size: int) -> Path:
    return DATA / f"{db}-{setup}-{size}.built"


def is_built(db: str, setup: str, size: int) -> bool:
    marker = _marker(db, setup, size)
    if not marker.exists() or marker.read_text().strip() != fingerprint(setup):
        return False
    if db == "sqlite":
        return (DATA / f"{setup}-{size}.sqlite3").exists()
    return bool(_pg(f"SELECT 1 FROM pg_database WHERE datname = '{PG_PREFIX}_{setup}_{size}'"))


def build(db: str, setup: str, size: int) -> float:
    """Build into a scratch database, then rename it: a half-built one is never used."""
    started = time.perf_counter()
    _marker(db, setup, size).unlink(missing_ok=True)
    name = f"{PG_PREFIX}_{setup}_{size}"
    if db == "sqlite":
        scratch = DATA / f"{setup}-{size}_building.sqlite3"
        scratch.unlink(missing_ok=True)
    else:
        _pg(f"DROP DATABASE IF EXISTS {name}_building")
        _pg(f"CREATE DATABASE {name}_building")
    env = dict(os.environ, BENCH_DATABASE_URL=database_url(db, setup, size, building=True))
    env["BENCH_SIZE"] = str(size)
    subprocess.run([PYTHON, str(HERE / "worker.py"), setup, "--build"], env=env, check=True)
    if db == "sqlite":
        scratch.replace(DATA / f"{setup}-{size}.sqlite3")
    else:
        _pg(f"DROP DATABASE IF EXISTS {name}")
        _pg(f"ALTER DATABASE {name}_building RENAME TO {name}")
    _marker(db, setup, size).write_text(fingerprint(setup) + "\n")
    return time.perf_counter() - started


# -- workers ----------------------------------------------------------------------------


class Worker:
    def __init__(self, db: str, setup: str, size: int) -> None:
        env = dict(os.environ, BENCH_DATABASE_URL=database_url(db, setup, size))
        env["BENCH_SIZE"] = str(size)
        self.setup = setup
        self.process = subprocess.Popen(
            [PYTHON, str(HERE / "worker.py"), setup],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.receive()

    def send(self, **command: Any) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.receive()

    def receive(self) -> dict:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.setup} exited ({self.process.wait()})")
        return json.loads(line)

    def close(self) -> None:
        try:
            assert self.process.stdin is not None
            self.process.stdin.write('{"cmd": "quit"}\n')
            self.process.stdin.close()
        finally:
            self.process.wait(timeout=60)


def run_database(db: str, sizes: list[int], rounds: int, reps: int, budget: float) -> dict:
    """Every operation, ``rounds`` times, on every setup and team size in turn.

    All nine workers (three setups, three sizes) live for the whole run and take
    turns operation by operation, in an order rotated every round: drift (the
    disk's fsync latency, other processes) hits every setup and size alike, so
    ratios between setups and growth between sizes compare like with like.
    """
    pairs = [(size, setup) for size in sizes for setup in SETUPS]
    workers = {pair: Worker(db, pair[1], pair[0]) for pair in pairs}
    samples: dict[tuple, dict[str, dict]] = {pair: {} for pair in pairs}
    load = [os.getloadavg()[0]]
    try:
        for round_ in range(rounds):
            shift = round_ * len(pairs) // rounds
            order = pairs[shift:] + pairs[:shift]
            for op in OPERATIONS:
                for pair in order:
                    if op not in SUPPORTED[pair[1]]:
                        continue
                    answer = workers[pair].send(cmd="batch", op=op, reps=reps, budget=budget)
                    kept = samples[pair].setdefault(
                        op,
                        {
                            "times": [],
                            "cpus": [],
                            "closes": [],
                            "commits": [],
                            "queries": [],
                            "statuses": set(),
                        },
                    )
                    kept["times"] += answer["times"]
                    kept["cpus"] += answer["cpus"]
                    kept["commits"].append(sum(answer["commit_ms"]))
                    kept["closes"] += answer["closes"]
                    control = sum(sql.startswith(TRANSACTION_CONTROL) for sql in answer["sql"])
                    kept["queries"].append((answer["queries"], control))
                    kept["sql"] = answer["sql"]
                    kept["statuses"].update(answer["statuses"])
                    if answer["sample"]:
                        kept["error"] = answer["sample"]
            load.append(os.getloadavg()[0])
            print(f"  {db}: round {round_ + 1}/{rounds} done", flush=True)
    finally:
        for worker in workers.values():
            worker.close()
    results: dict[str, Any] = {}
    for (size, setup), ops in samples.items():
        result = results.setdefault(str(size), {"load": load})
        result[setup] = {}
        for op, kept in ops.items():
            times = sorted(kept["times"])
            # The fewest statements seen: the token's last_used_at is written once a minute.
            queries, control = min(kept["queries"])
            result[setup][op] = {
                "median_ms": statistics.median(times) * 1000,
                "p90_ms": times[min(len(times) - 1, int(len(times) * 0.9))] * 1000,
                "cpu_ms": statistics.median(kept["cpus"]) * 1000,
                "close_ms": statistics.median(kept["closes"]) * 1000,
                "commit_ms": statistics.median(kept["commits"]),
                "n": len(times),
                "queries": queries,
                "transaction_control": control,
                "statuses": sorted(kept["statuses"]),
                "sql": kept["sql"],
                **({"error": kept["error"]} if "error" in kept else {}),
            }
    return results


def profile(db: str, size: int, target: str, reps: int) -> None:
    setup, _, op = target.partition(":")
    worker = Worker(db, setup, size)
    try:
        out = DATA / f"profile-{db}-{setup}-{op}-{size}.pstats"
        print(worker.send(cmd="profile", op=op, reps=reps, out=str(out))["report"])
        print(f"(stats in {out})")
    finally:
        worker.close()


# -- report -----------------------------------------------------------------------------


def _cell(m: dict) -> str:
    return f"{m['median_ms']:.2f} ({m['p90_ms']:.2f})"


def _queries(m: dict) -> str:
    control = m["transaction_control"]
    return f"{m['queries']}" + (f" ({control} tx)" if control else "")


def size_table(result: dict) -> list[str]:
    lines = [
        "| operation | this project: median (p90) ms | CPU ms | COMMIT ms | queries "
        "| django-scim2: median (p90) ms | CPU ms | COMMIT ms | queries | this / django-scim2 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def cells(m: dict) -> str:
        commit = f"{m['commit_ms']:.1f}" if m["commit_ms"] else ""
        return f"{_cell(m)} | {m['cpu_ms']:.2f} | {commit} | {_queries(m)}"

    for op in OPERATIONS:
        sp, ds = result["sp"][op], result["ds"][op]
        ratio = sp["median_ms"] / ds["median_ms"]
        lines.append(f"| {LABELS[op]} | {cells(sp)} | {cells(ds)} | {ratio:.2f}× |")
    bare = result["bare"]["get_user"]
    lines.append(f"| *bare view: GET by id* | {cells(bare)} | | | | | |")
    return lines


def growth_table(results: dict, db: str) -> list[str]:
    sizes = sorted(int(s) for s in results[db])
    head = " / ".join(f"{s:,}" for s in sizes)
    lines = [
        f"| operation | this project ms: {head} | growth | django-scim2 ms: {head} | growth |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for op in OPERATIONS:
        cells = []
        for setup in ("sp", "ds"):
            values = [results[db][str(s)][setup][op]["median_ms"] for s in sizes]
            cells.append(" / ".join(f"{v:.2f}" for v in values))
            cells.append(f"{values[-1] / values[0]:.2f}×")
        lines.append(f"| {LABELS[op]} | " + " | ".join(cells) + " |")
    return lines


def targets(results: dict) -> list[str]:
    """One line per target (issue 27), database and size: what was measured, met or missed."""
    all_sizes = sorted({int(s) for db in results for s in results[db]})
    lines = [
        "| target | database | " + " | ".join(f"{s:,} users" for s in all_sizes) + " |",
        "| --- | --- |" + " --- |" * len(all_sizes),
    ]

    def row(name: str, db: str, cell: Any) -> None:
        cells = [cell(results[db][str(s)]) if str(s) in results[db] else "" for s in all_sizes]
        lines.append(f"| {name} | {db} | " + " | ".join(cells) + " |")

    def mark(ok: bool) -> str:
        return "✅ met" if ok else "❌ missed"

    for db in results:

        def vs_bare(r: dict) -> str:
            ratio = r["sp"]["get_user"]["median_ms"] / r["bare"]["get_user"]["median_ms"]
            return f"{mark(ratio <= 1.5)} {ratio:.2f}×"

        row("GET by id ≤ 1.5× the bare view", db, vs_bare)

        def read_queries(r: dict) -> str:
            counts = [r["sp"][op]["queries"] for op in READS]
            return f"{mark(max(counts) <= 2)} " + " / ".join(str(c) for c in counts)

        row("reads (by id / userName / externalId / page) ≤ 2 queries", db, read_queries)
        for op in SINGLE:

            def vs_ds(r: dict, op: str = op) -> str:
                ratio = r["sp"][op]["median_ms"] / r["ds"][op]["median_ms"]
                return f"{mark(ratio <= 1.0)} {ratio:.2f}×"

            row(f"{LABELS[op]} ≤ 1× django-scim2", db, vs_ds)
        for op, budget in STATEMENTS.items():

            def statements(r: dict, op: str = op, budget: int = budget) -> str:
                m = r["sp"][op]
                count = m["queries"] - m["transaction_control"]
                return f"{mark(count <= budget)} {count} (+{m['transaction_control']} tx)"

            row(
                f"{LABELS[op]} in ≤ {budget} statements (transaction control aside)", db, statements
            )

        def list_ratio(r: dict) -> str:
            ratio = r["sp"]["list_deep"]["median_ms"] / r["ds"]["list_deep"]["median_ms"]
            return f"{mark(ratio <= 0.1)} {ratio:.3f}×"

        row("list page of 100 ≤ 0.1× django-scim2", db, list_ratio)

        def add_queries(r: dict) -> str:
            m = r["sp"]["patch_group_add_1000"]
            return f"{mark(m['queries'] <= 10)} {_queries(m)}"

        row("add 1,000 members in ≤ 10 queries", db, add_queries)
        sizes = sorted(int(s) for s in results[db])
        if len(sizes) > 1:
            first, last = results[db][str(sizes[0])]["sp"], results[db][str(sizes[-1])]["sp"]
            for op in OPERATIONS:
                growth = last[op]["median_ms"] / first[op]["median_ms"]
                verdict = (
                    f"{growth:.2f}× (O(offset): no target)"
                    if op == "list_deep"
                    else f"{mark(growth <= 1.3)} {growth:.2f}×"
                )
                lines.append(
                    f"| flat: {LABELS[op]} (≤ 1.3×, {sizes[0]:,} → {sizes[-1]:,}) | {db} | "
                    f"{verdict} |" + " |" * (len(all_sizes) - 1)
                )
    return lines


def machine() -> list[str]:
    def sh(command: str) -> str:
        return subprocess.run(command, shell=True, capture_output=True, text=True).stdout.strip()

    import django

    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    memory = sh("free -h | awk '/Mem:/ {print $2}'")
    pg = ""
    try:
        pg = _pg("SHOW server_version")[0][0]
    except Exception:  # noqa: BLE001 - PostgreSQL is optional for --quick
        pg = "not reachable"
    import sqlite3

    ds_version = sh(
        f"{PYTHON} -m pip show django-scim2 2>/dev/null | awk '/^Version/ {{print $2}}'"
    )
    return [
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {cpu}, `nproc` = {os.cpu_count()}; memory (`free -h`): {memory}",
        f"- {platform.system()} {platform.release()}; Python {platform.python_version()}, "
        f"Django {django.get_version()}, django-scim2 {ds_version}",
        f"- SQLite {sqlite3.sqlite_version} (file on local disk, the example site's options: "
        "IMMEDIATE, busy timeout, WAL + synchronous=NORMAL), "
        f"PostgreSQL {pg} (127.0.0.1, psycopg 3)",
    ]


def report(results: dict, meta: dict) -> str:
    lines = ["### Machine", "", *machine(), f"- {meta}", "", "### Targets", ""]
    lines += targets(results)
    for db in results:
        load = next(iter(results[db].values()))["load"]
        lines += ["", f"### {db}: growth with the team (median ms)", "", *growth_table(results, db)]
        lines += [
            "",
            "Load average (1 min) before and after each round: "
            + ", ".join(f"{x:.1f}" for x in load)
            + ".",
        ]
        for size in sorted(results[db], key=int):
            r = results[db][size]
            lines += ["", f"### {db}, {int(size):,} users", "", *size_table(r)]
            closes = ", ".join(
                f"{NAMES[s]} {statistics.median(m['close_ms'] for m in r[s].values()):.2f} ms"
                for s in SETUPS
            )
            lines += [
                "",
                f"`close()` after the response (median over operations): {closes}.",
            ]
    return "\n".join(lines) + "\n"


def write_readme(text: str) -> None:
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    readme = README.read_text()
    before, _, rest = readme.partition(start)
    _, _, after = rest.partition(end)
    README.write_text(f"{before}{start}\n{text}{end}{after}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1,000 users, SQLite only, 2 rounds")
    parser.add_argument("--dbs", default="sqlite,postgresql")
    parser.add_argument("--sizes", default=",".join(map(str, FULL_SIZES)))
    parser.add_argument("--rounds", type=int, help="rounds per database and size")
    parser.add_argument("--reps", type=int, default=REPS)
    parser.add_argument("--budget", type=float, default=BUDGET)
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite the report from the last run's results files",
    )
    parser.add_argument("--profile", metavar="SETUP:OP", help="cProfile one operation instead")
    parser.add_argument(
        "--readme",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rewrite README.md's results (default: only for a full run)",
    )
    args = parser.parse_args()
    dbs = ["sqlite"] if args.quick else args.dbs.split(",")
    sizes = [1_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    DATA.mkdir(exist_ok=True)

    started = time.perf_counter()
    for db in dbs:
        for size in sizes:
            for setup in ("sp", "ds"):
                if not is_built(db, setup, size):
                    print(f"building {db} {setup} x {size:,} …", flush=True)
                    print(f"  built in {build(db, setup, size):.0f} s", flush=True)
    built = time.perf_counter()
    if args.build_only:
        return
    if args.profile:
        for db in dbs:
            for size in sizes:
                profile(db, size, args.profile, args.reps)
        return

    results: dict[str, dict[str, Any]] = {}
    kind = "quick" if args.quick else "full"
    if args.report_only:
        saved = json.loads((DATA / f"results-{kind}.json").read_text())
        results, meta = saved["results"], saved["meta"]
    else:
        rounds = args.rounds or (2 if args.quick else ROUNDS)
        reps = min(args.reps, 5) if args.quick else args.reps
        for db in dbs:
            results[db] = run_database(db, sizes, rounds, reps, args.budget)
        finished = time.perf_counter()
        meta = (
            f"run: `{' '.join(['benchmarks/run.py', *sys.argv[1:]])}`: "
            f"{(finished - built) / 60:.1f} min measuring"
            + (f", {(built - started) / 60:.1f} min building" if built - started > 5 else "")
        )
        saved = {"results": results, "meta": meta}
        (DATA / f"results-{kind}.json").write_text(json.dumps(saved, indent=1))
    text = report(results, meta)
    print(text)
    full = not args.quick and set(dbs) == {"sqlite", "postgresql"} and sizes == list(FULL_SIZES)
    if args.readme or (args.readme is None and full):
        write_readme(text)
        print(f"results written to {README.relative_to(ROOT)}")
    failures = [
        f"{db} {size} {setup} {op}: {m['statuses']} {m.get('error', '')}"
        for db in results
        for size in results[db]
        for setup in SETUPS
        for op, m in results[db][size][setup].items()
        if any(s >= 300 for s in m["statuses"])
    ]
    if failures:
        print("requests that failed:\n" + "\n".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
