"""``manage.py scim_team enable|disable|status --team SLUG``: the staff switch of a team's SCIM.

The same switch as the admin's SCIM page: while it is off, the team's tokens
are refused (403) and no token can be issued.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...teams import find_team, is_enabled, set_enabled


class Command(BaseCommand):
    help = "Turn SCIM on or off for a team, or show whether it is on."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        for name, help_text in (
            ("enable", "Turn SCIM on for the team (creates its SCIM configuration)."),
            ("disable", "Turn SCIM off: the team's tokens are refused from the next request."),
            ("status", "Print 'enabled' or 'disabled'."),
        ):
            actions.add_parser(name, help=help_text).add_argument(
                "--team", required=True, help="The team's slug."
            )

    def handle(self, *args: Any, **options: Any) -> None:
        slug, action = options["team"], options["action"]
        team = find_team(slug)
        if team is None:
            raise CommandError(f"No team with slug {slug!r}.")
        if action != "status":
            set_enabled(team, action == "enable")
        state = "enabled" if is_enabled(team) else "disabled"
        self.stdout.write(f"SCIM is {state} for team {slug}.")
