"""``manage.py scim_health [--stale-after 2d]``: list unhealthy teams; exit 1 if any, for cron.

Each run records every team's state and sends ``team_health_changed`` for the
teams whose state changed since the previous run (see :mod:`scim_provisioning.health`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...health import HealthState, record_health

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def duration(text: str) -> timedelta:
    """``2d``, ``36h`` or ``90m`` as a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 2d, 36h or 90m")
    return timedelta(**{_UNITS[match[2]]: float(match[1])})


class Command(BaseCommand):
    help = "List the teams whose IdP has stopped syncing or is failing; exit 1 if any."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale-after",
            type=duration,
            default=None,
            help="Silence after which a connected team is unhealthy, e.g. 2d, 36h "
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
