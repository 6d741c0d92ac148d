"""``manage.py scim_import_django_scim2 --team SLUG [--apply]``: move a team off django-scim2.

A dry run by default: it prints what it would create and why it skips whom.
``--apply`` creates the records; running it again changes nothing. See
:mod:`scim_provisioning.django_scim2_import` for what is imported.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...django_scim2_import import DjangoSCIM2NotInUse, import_django_scim2_users
from ...teams import find_team


class Command(BaseCommand):
    help = (
        "Create this app's SCIM records for a team's members from their django-scim2 fields "
        "(scim_id, scim_external_id, scim_username). Dry run unless --apply."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", required=True, help="The team's slug.")
        parser.add_argument(
            "--apply", action="store_true", help="Create the records (default: a dry run)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        team = find_team(options["team"])
        if team is None:
            raise CommandError(f"No team with slug {options['team']!r}.")
        try:
            plan = import_django_scim2_users(team, apply=options["apply"])
        except DjangoSCIM2NotInUse as exc:
            raise CommandError(str(exc)) from exc
        for item in plan.to_create:
            state = "active" if item.active else "inactive"
            self.stdout.write(
                f"  + {item.user_name} (externalId {item.external_id or '-'}, "
                f"old id {item.legacy_id or '-'}, {state})"
            )
        for account, reason in plan.skipped:
            self.stdout.write(f"  - {account}: {reason}")
        self.stdout.write(f"Team {options['team']}: {plan.summary()}.")
        if not plan.applied and plan.to_create:
            self.stdout.write("Dry run: nothing was written. Run again with --apply.")
