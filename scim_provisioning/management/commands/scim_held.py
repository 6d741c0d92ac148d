"""``manage.py scim_held list|release|discard --team SLUG [--id N ...]``.

The deprovisionings the guard holds for a team (docs/deprovision-guard.md).
``release`` applies them (the site's rules still apply: a refusal is printed and
recorded), ``discard`` keeps the people's memberships. Without ``--id`` every
pending change of the team; the decision is recorded as made by
``manage.py scim_held`` (or ``--by NAME``).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...models import SCIMTeamConfig
from ...provisioning import held
from ...scope import TeamScope
from ...teams import find_team


class Command(BaseCommand):
    help = "List, release or discard the deprovisionings the guard holds for a team."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        for name, help_text in (
            ("list", "List the team's held deprovisionings."),
            ("release", "Apply them (deactivate or remove the memberships)."),
            ("discard", "Keep the memberships; the IdP's next sync sends them again."),
        ):
            sub = actions.add_parser(name, help=help_text)
            sub.add_argument("--team", required=True, help="The team's slug.")
            if name != "list":
                sub.add_argument(
                    "--id", type=int, action="append", dest="ids", help="Only this held change."
                )
                sub.add_argument("--by", default="manage.py scim_held", help="Who decides.")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["team"]
        team = find_team(slug)
        if team is None:
            raise CommandError(f"No team with slug {slug!r}.")
        changes = held.pending(team)
        action = options["action"]
        if action == "list":
            for change in changes:
                self.stdout.write(
                    f"{change.pk}\t{change.get_kind_display()}\t{change.user_name}\t"
                    f"held {change.held_at:%Y-%m-%d %H:%M} UTC"
                )
            self.stdout.write(f"{changes.count()} held deprovisioning(s) for {slug}.")
            return
        if options["ids"]:
            changes = changes.filter(pk__in=options["ids"])
        config = TeamScope.of(team).filter(SCIMTeamConfig.objects.all()).get()
        decide = held.release if action == "release" else held.discard
        decisions = decide(config, list(changes), by_name=options["by"])
        for decision in decisions:
            if decision.refused:
                self.stdout.write(f"{decision.change.user_name}: refused: {decision.refused}")
        refused = sum(1 for d in decisions if d.refused)
        verb = "released" if action == "release" else "discarded"
        self.stdout.write(f"{len(decisions) - refused} {verb}, {refused} refused, for {slug}.")
