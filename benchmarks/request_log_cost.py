"""What the request log costs: GET /Users/{id} in-process, with the log on and off, alternating.

    export DATABASE_URL=sqlite:////tmp/log.sqlite3   # or postgres://postgres@127.0.0.1:5432/DB
    .venv/bin/python benchmarks/request_log_cost.py

In-process the INSERT is part of the measured time (the test client closes the
response itself); through a real WSGI server it runs after the response has
been sent, so the IdP does not wait for it (see benchmarks/README.md).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from example_project.teams.models import Team  # noqa: E402
from scim_provisioning.models import SCIMTeamConfig  # noqa: E402
from scim_provisioning.tokens import issue_token  # noqa: E402

ROUNDS, PER_ROUND = 5, 300


def main() -> None:
    call_command("migrate", verbosity=0)
    team, _ = Team.objects.get_or_create(slug="bench-log", defaults={"name": "Bench log"})
    SCIMTeamConfig.objects.update_or_create(team=team, defaults={"enabled": True})
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(team).plaintext}")
    created = client.post(
        "/scim/v2/Users", '{"userName": "bench@example.com"}', content_type="application/scim+json"
    )
    user_id = created.json()["id"] if created.status_code == 201 else None
    if user_id is None:
        user_id = client.get('/scim/v2/Users?filter=userName eq "bench@example.com"').json()[
            "Resources"
        ][0]["id"]

    def run(logging: bool, n: int) -> list[float]:
        with override_settings(SCIM_PROVISIONING_REQUEST_LOG=logging):
            times = []
            for _ in range(n):
                started = time.perf_counter()
                response = client.get(f"/scim/v2/Users/{user_id}")
                times.append(time.perf_counter() - started)
                assert response.status_code == 200
            return times

    run(True, 50), run(False, 50)  # warm up
    on: list[float] = []
    off: list[float] = []
    for _ in range(ROUNDS):
        on += run(True, PER_ROUND)
        off += run(False, PER_ROUND)
    with_log, without = statistics.median(on) * 1000, statistics.median(off) * 1000
    vendor = django.db.connection.vendor
    print(
        f"{vendor}: GET /Users/{{id}} median {with_log:.3f} ms with the log, "
        f"{without:.3f} ms without: {with_log - without:+.3f} ms (n={len(on)} each)"
    )


if __name__ == "__main__":
    main()
