"""``manage.py scim_prune_timeline [--days N]``: delete timeline entries (and setup link
uses, the team's other activity) older than N days."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...conf import app_settings
from ...retention import prune_setup_link_uses, prune_timeline


class Command(BaseCommand):
    help = (
        "Delete entries of the people's SCIM provisioning timeline older than the retention period."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep this many days (default: SCIM_PROVISIONING_TIMELINE_RETENTION_DAYS, "
            f"now {app_settings.TIMELINE_RETENTION_DAYS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is None:
            days = app_settings.TIMELINE_RETENTION_DAYS
        if days < 0:
            raise CommandError("--days cannot be negative.")
        deleted = prune_timeline(days)
        self.stdout.write(f"Deleted {deleted} SCIM timeline entries older than {days} days.")
        uses = prune_setup_link_uses(days)
        self.stdout.write(f"Deleted {uses} setup link uses older than {days} days.")
