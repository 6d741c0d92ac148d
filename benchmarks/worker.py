"""One setup in its own process: builds its database, or answers the driver's commands.

    BENCH_DATABASE_URL=... BENCH_SIZE=1000 python benchmarks/worker.py sp --build
    BENCH_DATABASE_URL=... BENCH_SIZE=1000 python benchmarks/worker.py sp

Setups: ``sp`` (this project's example site), ``ds`` (django-scim2), ``bare``
(one SELECT, the floor; it reads the ``sp`` database). Without ``--build`` the
worker reads one JSON command a line on stdin and answers one JSON line on
stdout (anything else written to stdout goes to stderr):

    {"cmd": "batch", "op": "get_user", "reps": 10, "budget": 1.0}
    {"cmd": "profile", "op": "list_deep", "reps": 20, "out": "path.pstats"}
    {"cmd": "quit"}

Every request goes through Django's WSGI handler in-process, as a WSGI server
would call it: ``application(environ, start_response)``, the body read to the
end (the time the IdP waits), then ``close()`` (where the example site writes
its request log; timed apart). A batch's first request is a warm-up whose
queries are counted (with ``connection.execute_wrapper``: ``CaptureQueriesContext``
reads ``connection.queries``, which the WSGI handler's ``request_started``
signal empties); the timed ones run without it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.wsgi import call  # noqa: E402

SETTINGS = {
    "sp": "benchmarks.sites.example",
    "ds": "benchmarks.django_scim2_site.settings",
    "bare": "benchmarks.sites.bare",
}

#: The IdP workload, in the order it runs. Every setup offers every operation but
#: ``bare``, which only answers GET by id.
OPERATIONS = (
    "create_user",
    "get_user",
    "filter_username",
    "filter_external_id",
    "list_deep",
    "patch_active",
    "put_user",
    "delete_user",
    "create_group_100",
    "patch_group_add_1000",
    "groups_excluding_members",
)
BIG_GROUP = "Everyone"
BIG_GROUP_MAX = 10_000
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BATCH = 5000


def email(i: int) -> str:
    return f"bulk{i:06d}@acme.com"


def user_body(user_name: str, external_id: str, given: str, family: str) -> dict:
    """What Okta sends to create or replace a user."""
    return {
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "displayName": f"{given} {family}",
        "active": True,
        "externalId": external_id,
    }


def patch_body(*operations: dict) -> dict:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


class Request:
    __slots__ = ("method", "path", "query", "body")

    def __init__(self, method: str, path: str, query: str = "", body: Any = None) -> None:
        self.method, self.path, self.query, self.body = method, path, query, body


class Setup:
    """One site under test: how to build its data and what each operation sends."""

    base = "/scim/v2"
    token = ""

    def __init__(self, size: int) -> None:
        self.size = size
        self.target = size // 2  # GET, PATCH and PUT this user
        self.found = size - 3  # filters look this one up, near the end of the table
        self.serial = 0

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    # -- the workload -------------------------------------------------------------------

    def request(self, op: str) -> Request:
        return getattr(self, f"op_{op}")()

    def counted_request(self, op: str) -> Request:
        """The request whose statements a batch counts: one of ``op``'s, sent after what
        makes it change something. A PATCH of ``active`` counts a deactivation (the
        person switched on first, untimed, uncounted): otherwise the batch's first PATCH
        could be a reactivation, or set what is already so."""
        if op == "patch_active":
            self.send(self._patch_active(True))
            return self._patch_active(False)
        return self.request(op)

    def cleanup(self, op: str) -> None:
        """Undo what ``op`` created (untimed, after each batch)."""

    def op_create_user(self) -> Request:
        n = self.next_serial()
        name = f"new-{os.getpid()}-{n}@acme.com"
        return Request("POST", "/Users", body=user_body(name, f"new-ext-{n}", "New", str(n)))

    def op_filter_username(self) -> Request:
        return Request("GET", "/Users", urlencode({"filter": f'userName eq "{email(self.found)}"'}))

    def op_filter_external_id(self) -> Request:
        return Request("GET", "/Users", urlencode({"filter": f'externalId eq "ext-{self.found}"'}))

    def op_list_deep(self) -> Request:
        start = max(1, self.size - 199)
        return Request("GET", "/Users", urlencode({"startIndex": start, "count": 100}))

    def op_get_user(self) -> Request:
        return Request("GET", f"/Users/{self.target_id}")

    def op_patch_active(self) -> Request:
        # Alternate, so that each PATCH changes something.
        return self._patch_active(self.next_serial() % 2 == 0)

    def _patch_active(self, active: bool) -> Request:
        operation = {"op": "replace", "path": "active", "value": active}
        return Request("PATCH", f"/Users/{self.target_id}", body=patch_body(operation))

    def op_put_user(self) -> Request:
        given = f"Bulk{self.next_serial() % 2}"  # alternate, so that each PUT changes something
        body = user_body(email(self.target), f"ext-{self.target}", given, str(self.target))
        return Request("PUT", f"/Users/{self.target_id}", body=body)

    def op_delete_user(self) -> Request:
        # A person provisioned for it, untimed (the request is timed, not its making).
        return Request(
            "DELETE", f"/Users/{self.doomed(f'gone-{os.getpid()}-{self.next_serial()}')}"
        )

    def op_create_group_100(self) -> Request:
        members = [{"value": str(i)} for i in self.member_ids[:100]]
        name = f"new-group-{os.getpid()}-{self.next_serial()}"
        return Request(
            "POST",
            "/Groups",
            body={"schemas": [GROUP_SCHEMA], "displayName": name, "members": members},
        )

    def op_patch_group_add_1000(self) -> Request:
        group_id = self.empty_group(f"new-group-{os.getpid()}-{self.next_serial()}")
        members = [{"value": str(i)} for i in self.member_ids[:1000]]
        operation = {"op": "add", "path": "members", "value": members}
        return Request("PATCH", f"/Groups/{group_id}", body=patch_body(operation))

    def op_groups_excluding_members(self) -> Request:
        return Request("GET", "/Groups", urlencode({"excludedAttributes": "members"}))

    # -- per setup ---------------------------------------------------------------------

    target_id: str
    member_ids: list
    #: Sends a request through the site, untimed (set by the worker); returns the body.
    send: Any

    def build(self) -> None:
        raise NotImplementedError

    def prepare(self) -> None:
        """Before the first batch: the token, the ids the workload uses, no leftovers."""
        raise NotImplementedError

    def empty_group(self, name: str) -> str:
        raise NotImplementedError

    def doomed(self, name: str) -> str:
        """The id of a new, active person named ``name``@acme.com, for a DELETE to remove."""
        raise NotImplementedError


class ThisProject(Setup):
    """(a) The example site with scim_provisioning."""

    def build(self) -> None:
        from django.core.management import call_command
        from django.db import connection, transaction
        from django.utils import timezone

        from example_project.accounts.models import User
        from example_project.teams.models import Membership, Team
        from scim_provisioning.models import (
            SCIMGroup,
            SCIMGroupMembership,
            SCIMTeamConfig,
            SCIMUser,
            SCIMUserValue,
        )

        call_command("migrate", verbosity=0)
        base = timezone.now() - timedelta(days=365)
        with transaction.atomic():
            team = Team.objects.create(slug="bench", name="Bench", seats_used=self.size)
            SCIMTeamConfig.objects.create(team=team, enabled=True)
            first_ids: list = []
            for start in range(0, self.size, BATCH):
                numbers = range(start, min(self.size, start + BATCH))
                accounts = User.objects.bulk_create(
                    [
                        User(email=email(i), password="!", first_name="Bulk", last_name=str(i))
                        for i in numbers
                    ]
                )
                Membership.objects.bulk_create([Membership(team=team, user=a) for a in accounts])
                records = SCIMUser.objects.bulk_create(
                    [
                        SCIMUser(
                            id=uuid.uuid4(),
                            team=team,
                            user=account,
                            user_name=account.email,
                            email=account.email,
                            external_id=f"ext-{i}",
                            attributes={
                                "name": {"givenName": "Bulk", "familyName": str(i)},
                                "emails": [
                                    {"value": account.email, "type": "work", "primary": True}
                                ],
                            },
                            created_account=True,
                            created=base + timedelta(seconds=i),
                            last_modified=base + timedelta(seconds=i),
                        )
                        for i, account in zip(numbers, accounts, strict=True)
                    ]
                )
                SCIMUserValue.objects.bulk_create([row for r in records for row in r.value_rows()])
                room = BIG_GROUP_MAX - len(first_ids)
                first_ids += [r.id for r in records[:room]]
            group = SCIMGroup.objects.create(team=team, display_name=BIG_GROUP)
            SCIMGroupMembership.objects.bulk_create(
                [SCIMGroupMembership(group=group, user_id=i) for i in first_ids], batch_size=BATCH
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

    def prepare(self) -> None:
        from example_project.accounts.models import User
        from example_project.teams.models import Team
        from scim_provisioning.models import SCIMGroup, SCIMRequestLog, SCIMToken, SCIMUser
        from scim_provisioning.tokens import issue_token

        team = Team.objects.get(slug="bench")
        self.team = team
        User.objects.filter(email__startswith="new-").delete()
        User.objects.filter(email__startswith="gone-").delete()
        SCIMGroup.objects.filter(team=team).exclude(display_name=BIG_GROUP).delete()
        SCIMRequestLog.objects.all().delete()
        SCIMToken.objects.filter(team=team).delete()
        self.token = issue_token(team).plaintext
        target = SCIMUser.objects.get(team=team, user_name=email(self.target))
        SCIMUser.objects.filter(pk=target.pk).update(active=True)
        self.target_id = str(target.id)
        self.member_ids = list(
            SCIMUser.objects.filter(team=team)
            .order_by("created", "id")
            .values_list("id", flat=True)[:1000]
        )

    def empty_group(self, name: str) -> str:
        from scim_provisioning.models import SCIMGroup

        return str(SCIMGroup.objects.create(team=self.team, display_name=name).id)

    def doomed(self, name: str) -> str:
        from example_project.accounts.models import User
        from example_project.teams.models import Membership
        from scim_provisioning.models import SCIMUser, SCIMUserValue

        address = f"{name}@acme.com"
        account = User.objects.create(email=address, password="!", first_name="Gone")
        Membership.objects.bulk_create([Membership(team=self.team, user=account)])
        record = SCIMUser.objects.create(
            team=self.team,
            user=account,
            user_name=address,
            email=address,
            external_id=f"ext-{name}",
            attributes={
                "name": {"givenName": "Gone", "familyName": name},
                "emails": [{"value": address, "type": "work", "primary": True}],
            },
            created_account=True,
        )
        SCIMUserValue.objects.bulk_create(record.value_rows())
        return str(record.id)

    def cleanup(self, op: str) -> None:
        from example_project.accounts.models import User
        from scim_provisioning.models import SCIMGroup

        if op == "create_user":
            User.objects.filter(email__startswith="new-").delete()
        elif op == "delete_user":
            User.objects.filter(email__startswith="gone-").delete()
        elif op in ("create_group_100", "patch_group_add_1000"):
            SCIMGroup.objects.filter(team=self.team).exclude(display_name=BIG_GROUP).delete()


class Bare(ThisProject):
    """(c) The floor, on (a)'s database: GET by id only."""

    base = "/bare"

    def build(self) -> None:
        raise SystemExit("bare reads the sp database: build sp")

    def prepare(self) -> None:
        from scim_provisioning.models import SCIMUser

        self.token = "unused"
        self.target_id = str(SCIMUser.objects.get(user_name=email(self.target)).id)
        self.member_ids = []


class DjangoSCIM2(Setup):
    """(b) django-scim2 0.23, its default adapters and views."""

    def build(self) -> None:
        from django.core.management import call_command
        from django.db import connection, transaction
        from django.db.models import CharField
        from django.db.models.functions import Cast
        from django.utils import timezone

        from benchmarks.django_scim2_site.accounts.models import Group, User

        call_command("migrate", verbosity=0)
        base = timezone.now() - timedelta(days=365)
        with transaction.atomic():
            for start in range(0, self.size, BATCH):
                User.objects.bulk_create(
                    [
                        User(
                            username=email(i),
                            email=email(i),
                            password="!",
                            first_name="Bulk",
                            last_name=str(i),
                            scim_username=email(i),
                            scim_external_id=f"ext-{i}",
                            date_joined=base + timedelta(seconds=i),
                        )
                        for i in range(start, min(self.size, start + BATCH))
                    ]
                )
            # What AbstractSCIMCommonAttributesMixin.save() does for each new row.
            User.objects.update(scim_id=Cast("id", CharField()))
            group = Group.objects.create(name=BIG_GROUP)
            through = User.scim_groups.through
            first = User.objects.order_by("id").values_list("id", flat=True)[:BIG_GROUP_MAX]
            through.objects.bulk_create(
                [through(user_id=i, group_id=group.id) for i in first], batch_size=BATCH
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

    def prepare(self) -> None:
        from django.conf import settings

        from benchmarks.django_scim2_site.accounts.models import Group, User

        User.objects.filter(username__startswith="new-").delete()
        User.objects.filter(username__startswith="gone-").delete()
        Group.objects.exclude(name=BIG_GROUP).delete()
        self.token = settings.SCIM_BEARER_TOKEN
        target = User.objects.get(username=email(self.target))
        User.objects.filter(pk=target.pk).update(is_active=True)
        self.target_id = target.scim_id
        self.member_ids = list(User.objects.order_by("id").values_list("scim_id", flat=True)[:1000])

    def empty_group(self, name: str) -> str:
        from benchmarks.django_scim2_site.accounts.models import Group

        return Group.objects.create(name=name).scim_id

    def doomed(self, name: str) -> str:
        from benchmarks.django_scim2_site.accounts.models import User

        address = f"{name}@acme.com"
        user = User.objects.create(
            username=address,
            email=address,
            password="!",
            first_name="Gone",
            last_name=name,
            scim_username=address,
            scim_external_id=f"ext-{name}",
        )
        return str(user.scim_id)

    def cleanup(self, op: str) -> None:
        from benchmarks.django_scim2_site.accounts.models import Group, User

        if op == "create_user":
            User.objects.filter(username__startswith="new-").delete()
        elif op == "delete_user":
            User.objects.filter(username__startswith="gone-").delete()
        elif op in ("create_group_100", "patch_group_add_1000"):
            Group.objects.exclude(name=BIG_GROUP).delete()


SETUPS = {"sp": ThisProject, "ds": DjangoSCIM2, "bare": Bare}


class Worker:
    def __init__(self, setup: Setup) -> None:
        from django.core.wsgi import get_wsgi_application

        self.setup = setup
        self.app = get_wsgi_application()
        setup.send = lambda request: self.call(request)[1]

    def call(self, request: Request) -> tuple[int, bytes, float, float]:
        """One request through the WSGI handler: status, body, seconds to the last byte, close()."""
        answer = call(
            self.app,
            request.method,
            self.setup.base + request.path,
            query=request.query,
            body=request.body,
            token=self.setup.token,
        )
        self.last_cpu = answer.cpu_seconds
        return answer.status, answer.content, answer.seconds, answer.close_seconds

    def batch(self, op: str, reps: int, budget: float) -> dict:
        from django.db import connection

        request = self.setup.counted_request(op)
        captured: list[str] = []
        durations: list[float] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            captured.append(sql)
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                durations.append(time.perf_counter() - started)

        commits: list[float] = []
        commit = connection._commit

        def timed_commit() -> None:  # COMMIT does not go through execute wrappers
            started = time.perf_counter()
            try:
                commit()
            finally:
                commits.append(time.perf_counter() - started)

        connection._commit = timed_commit
        try:
            with connection.execute_wrapper(count):
                status, content, _, _ = self.call(request)
        finally:
            del connection._commit
        statuses = [status]
        sample = content[:300].decode(errors="replace")
        times: list[float] = []
        cpus: list[float] = []
        closes: list[float] = []
        started = time.perf_counter()
        for _ in range(reps):
            status, content, answered, closed = self.call(self.setup.request(op))
            statuses.append(status)
            times.append(answered)
            cpus.append(self.last_cpu)
            closes.append(closed)
            if time.perf_counter() - started > budget:
                break
        self.setup.cleanup(op)
        return {
            "op": op,
            "times": times,
            "cpus": cpus,
            "closes": closes,
            "commit_ms": [round(c * 1000, 3) for c in commits],
            "queries": len(captured),
            "sql": [sql[:160] for sql in captured],
            "sql_ms": [round(d * 1000, 3) for d in durations],
            "sql_full": [sql for sql in captured] if os.environ.get("BENCH_FULL_SQL") else [],
            "statuses": sorted(set(statuses)),
            "sample": sample if any(s >= 300 for s in statuses) else "",
            "bytes": len(content),
        }

    def profile(self, op: str, reps: int, out: str) -> dict:
        self.call(self.setup.request(op))  # warm-up
        profiler = cProfile.Profile(time.process_time)  # CPU time: other processes don't count
        for _ in range(reps):
            request = self.setup.request(op)
            profiler.enable()
            self.call(request)
            profiler.disable()
        self.setup.cleanup(op)
        profiler.dump_stats(out)
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).strip_dirs()
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        return {"report": text.getvalue()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("setup", choices=sorted(SETUPS))
    parser.add_argument("--build", action="store_true")
    args = parser.parse_args()

    # The protocol owns the real stdout; stray prints go to stderr.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS[args.setup]
    import django

    django.setup()
    setup = SETUPS[args.setup](int(os.environ["BENCH_SIZE"]))
    if args.build:
        started = time.perf_counter()
        setup.build()
        print(f"built {args.setup} x {setup.size} in {time.perf_counter() - started:.1f} s")
        return
    worker = Worker(setup)
    setup.prepare()
    protocol.write(json.dumps({"ready": args.setup}) + "\n")
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        if command["cmd"] == "batch":
            answer = worker.batch(command["op"], command["reps"], command["budget"])
        elif command["cmd"] == "profile":
            answer = worker.profile(command["op"], command["reps"], command["out"])
        else:
            answer = {"error": f"unknown command {command['cmd']!r}"}
        protocol.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
