"""``manage.py scim_setup_link create|revoke|list --team SLUG [--expires-in 7d] [--site URL]``.

``create`` prints the absolute link as the last line of stdout, the only time it is
ever shown (only its digest is stored). ``revoke`` ends every live link of the team.
``list`` shows the links and their states, never a secret.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...conf import app_settings
from ...durations import describe
from ...setup_links import SiteURLUnknown, create_link, links_of, revoke_links, site_url
from ...teams import find_team
from ..arguments import finite_lifetime


class Command(BaseCommand):
    help = "Create, revoke or list the links that open a team's guided SCIM setup."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        for name, help_text in (
            ("create", "Create a link (printed once, as the last line)."),
            ("revoke", "Revoke every live link of the team."),
            ("list", "List the team's links: created, expiry, state."),
        ):
            sub = actions.add_parser(name, help=help_text)
            sub.add_argument("--team", required=True, help="The team's slug.")
            if name == "create":
                sub.add_argument(
                    "--expires-in",
                    type=finite_lifetime,
                    default=None,
                    help="Lifetime of the link: 7d, 12h, 2w (default: "
                    "SCIM_PROVISIONING_SETUP_LINK_TTL, "
                    f"now {describe(app_settings.SETUP_LINK_TTL)}). A link always expires.",
                )
                sub.add_argument(
                    "--site",
                    default=None,
                    help="The site's address (https://site.example), when "
                    "SCIM_PROVISIONING_BASE_URL is not set.",
                )

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["team"]
        team = find_team(slug)
        if team is None:
            raise CommandError(f"No team with slug {slug!r}.")
        action = options["action"]
        if action == "create":
            try:
                site_url(options["site"])  # before any row: no link nobody can be sent
            except SiteURLUnknown as exc:
                raise CommandError(f"{exc} Or pass --site https://<site>.") from exc
            created = create_link(team, expires_in=options["expires_in"], site=options["site"])
            if created.url is None:
                created.link.delete()
                raise CommandError(
                    "The setup link's URLs are not mounted: add "
                    'path("scim/setup-link/", include("scim_provisioning.setup.link_urls")).'
                )
            self.stderr.write(
                f"Send this link to the IT contact of {slug}; it opens the team's SCIM setup "
                f"until {created.link.expires_at:%Y-%m-%d %H:%M} UTC and issues one token. "
                "It is not stored and will not be shown again."
            )
            self.stdout.write(created.url)
        elif action == "revoke":
            count = revoke_links(team)
            self.stdout.write(f"Revoked {count} setup link(s) of team {slug}.")
        else:
            self._list(team)

    def _list(self, team: Any) -> None:
        links = links_of(team)
        if not links:
            self.stdout.write("No setup links.")
            return
        self.stdout.write(f"{'id':<6} {'created':<20} {'expires':<20} state")
        for link in links:
            self.stdout.write(
                f"{link.pk:<6} {link.created_at:%Y-%m-%d %H:%M:%S}  "
                f"{link.expires_at:%Y-%m-%d %H:%M:%S}  {link.state.label}"
            )
