"""``manage.py scim_token issue|rotate|revoke|list --team SLUG [--expires-in 90d]``.

``issue`` and ``rotate`` print the new token as the last line of stdout, the
only time it is ever shown. ``list`` shows prefixes and states, never a token.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...conf import app_settings
from ...durations import describe
from ...teams import SCIMNotEnabled, find_team
from ...tokens import (
    MAX_ROTATION_OVERLAP_HOURS,
    SITE_DEFAULT,
    issue_token,
    revoke_tokens,
    rotate_token,
    team_tokens,
)
from ..arguments import lifetime


class Command(BaseCommand):
    help = "Issue, rotate, revoke or list a team's SCIM bearer tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        for name, help_text in (
            ("issue", "Issue a new token (printed once, as the last line)."),
            ("rotate", "Issue a new token; the others stay valid for an overlap."),
            ("revoke", "Revoke tokens at once."),
            ("list", "List tokens: prefix, created, last used, expiry, state."),
        ):
            sub = actions.add_parser(name, help=help_text)
            sub.add_argument("--team", required=True, help="The team's slug.")
            if name in ("issue", "rotate"):
                sub.add_argument(
                    "--expires-in",
                    type=lifetime,
                    default=SITE_DEFAULT,
                    help="Lifetime of the new token: 90d, 12h, 2w or never (default: "
                    "SCIM_PROVISIONING_TOKEN_DEFAULT_TTL, "
                    f"now {describe(app_settings.TOKEN_DEFAULT_TTL)}).",
                )
            if name == "rotate":
                sub.add_argument(
                    "--overlap-hours",
                    type=float,
                    default=None,
                    help="Hours the previous tokens stay valid (default: "
                    f"{app_settings.TOKEN_ROTATION_OVERLAP_HOURS}, at most "
                    f"{MAX_ROTATION_OVERLAP_HOURS}).",
                )
            if name == "revoke":
                which = sub.add_mutually_exclusive_group(required=True)
                which.add_argument("--all", action="store_true", help="Revoke every token.")
                which.add_argument("--prefix", help="Revoke the token with this prefix.")

    def handle(self, *args: Any, **options: Any) -> None:
        team = self._team(options["team"])
        action = options["action"]
        try:
            if action == "issue":
                self._print_new(issue_token(team, expires_in=options["expires_in"]).plaintext)
            elif action == "rotate":
                hours = options["overlap_hours"]
                if hours is not None and hours < 0:
                    raise CommandError("--overlap-hours cannot be negative.")
                if hours is not None and hours > MAX_ROTATION_OVERLAP_HOURS:
                    raise CommandError(
                        f"--overlap-hours is at most {MAX_ROTATION_OVERLAP_HOURS} (30 days)."
                    )
                overlap = timedelta(hours=hours) if hours is not None else None
                issued = rotate_token(team, overlap=overlap, expires_in=options["expires_in"])
                self._print_new(issued.plaintext)
            elif action == "revoke":
                count = revoke_tokens(team, prefix=None if options["all"] else options["prefix"])
                if not count and not options["all"]:
                    raise CommandError(f"No live token with prefix {options['prefix']!r}.")
                self.stdout.write(f"Revoked {count} token(s) of team {options['team']}.")
            else:
                self._list(team)
        except SCIMNotEnabled as exc:
            raise CommandError(f"SCIM is not enabled for team {options['team']!r}.") from exc

    def _team(self, slug: str) -> Any:
        team = find_team(slug)
        if team is None:
            raise CommandError(f"No team with slug {slug!r}.")
        return team

    def _print_new(self, plaintext: str) -> None:
        self.stderr.write("Copy this token now; it is not stored and will not be shown again.")
        self.stdout.write(plaintext)

    def _list(self, team: Any) -> None:
        tokens = team_tokens(team)
        if not tokens:
            self.stdout.write("No tokens.")
            return
        self.stdout.write(f"{'prefix':<14} {'created':<20} {'last used':<20} {'expires':<20} state")
        for token in tokens:
            self.stdout.write(
                f"{token.prefix:<14} {_when(token.created_at):<20} {_when(token.last_used_at):<20} "
                f"{_when(token.expires_at):<20} {token.state.value}"
            )


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"
