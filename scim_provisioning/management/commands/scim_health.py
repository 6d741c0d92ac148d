"""``manage.py scim_health [--stale-after 2d]``: list unhealthy teams; exit 1 if any, for cron.

Each run records every team's state and sends ``team_health_changed`` for the
teams whose state changed since the previous run (see :mod:`scim_provisioning.health`).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...health import HealthState, record_health
from ..arguments import duration


class Command(BaseCommand):
    help = "List the teams whose IdP has stopped syncing or is failing; exit 1 if any."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale-after",
            type=duration,
            default=None,
            help="Silence after which a connected team is unhealthy, e.g. 2d, 36h, 90m "
            "(default: SCIM_PROVISIONING_HEALTH_STALE_AFTER_HOURS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        results = record_health(stale_after=options["stale_after"])
        unhealthy = [health for health in results if health.state == HealthState.UNHEALTHY]
        for health in unhealthy:
            last = health.last_request.strftime("%Y-%m-%d %H:%M %Z") if health.last_request else "-"
            codes = ",".join(problem.code.value for problem in health.problems)
            self.stdout.write(f"{health.team} [{codes}] last request {last}: {health.summary}")
        if unhealthy:
            raise CommandError(
                f"{len(unhealthy)} of {len(results)} team(s) with SCIM are unhealthy.",
                returncode=1,
            )
        waiting = sum(1 for health in results if health.state == HealthState.NOT_CONNECTED)
        self.stdout.write(
            f"All {len(results)} team(s) with SCIM are healthy or not connected yet "
            f"({waiting} not connected)."
        )
