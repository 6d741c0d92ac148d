"""``manage.py scim_oauth_client create|rotate|revoke|list --team SLUG``: OAuth 2.0 clients.

``create`` and ``rotate`` end their output with the lines an IdP admin pastes,
``token_url=…``, ``client_id=…`` and ``client_secret=…``: the only time the
secret is ever shown. ``revoke`` refuses the client's access tokens from the next request.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...durations import describe
from ...links import oauth_endpoint_url
from ...models import SCIMOAuthClient
from ...oauth.clients import (
    DEFAULT_ACCESS_TOKEN_LIFETIME,
    create_client,
    find_client,
    live_secrets,
    revoke_client,
    rotate_secret,
)
from ...scope import TeamScope
from ...teams import SCIMNotEnabled, find_team
from ...tokens import MAX_ROTATION_OVERLAP_HOURS
from ..arguments import lifetime


class Command(BaseCommand):
    help = "Create, rotate, revoke or list a team's OAuth 2.0 clients (Entra ID, Okta)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="A new client and its secret (shown once).")
        rotate = actions.add_parser(
            "rotate", help="A new secret; the old one ends after an overlap."
        )
        revoke = actions.add_parser("revoke", help="Revoke a client and all its access tokens.")
        listing = actions.add_parser("list", help="The team's clients, never a secret.")
        for sub in (create, rotate, revoke, listing):
            sub.add_argument("--team", required=True, help="The team's slug.")
        for sub in (rotate, revoke):
            sub.add_argument("--client-id", required=True, help="The client's client_id.")
        for sub in (create, rotate):
            sub.add_argument(
                "--expires-in",
                type=lifetime,
                default=None,
                help="Lifetime of the client secret: 90d, 12h, 2w or never (default: never).",
            )
        create.add_argument(
            "--access-token-lifetime",
            type=lifetime,
            default=DEFAULT_ACCESS_TOKEN_LIFETIME,
            help="Lifetime of each access token (default "
            f"{describe(DEFAULT_ACCESS_TOKEN_LIFETIME)}, at most 1d).",
        )
        create.add_argument("--name", default="", help="Which IdP this is, for people.")
        create.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            help="A redirect URI for the authorization code grant (Okta); repeat for more.",
        )
        rotate.add_argument(
            "--overlap-hours",
            type=float,
            default=None,
            help=f"Hours the previous secret stays valid (at most {MAX_ROTATION_OVERLAP_HOURS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        team = find_team(options["team"])
        if team is None:
            raise CommandError(f"No team with slug {options['team']!r}.")
        action = options["action"]
        try:
            if action == "create":
                issued = create_client(
                    team,
                    name=options["name"],
                    redirect_uris=options["redirect_uri"],
                    secret_expires_in=options["expires_in"],
                    access_token_lifetime=options["access_token_lifetime"],
                )
                self._print_credentials(issued.client, issued.secret)
            elif action == "rotate":
                client = self._client(team, options["client_id"])
                hours = options["overlap_hours"]
                if hours is not None and not 0 <= hours <= MAX_ROTATION_OVERLAP_HOURS:
                    raise CommandError(
                        f"--overlap-hours is between 0 and {MAX_ROTATION_OVERLAP_HOURS}."
                    )
                overlap = timedelta(hours=hours) if hours is not None else None
                secret = rotate_secret(client, overlap=overlap, expires_in=options["expires_in"])
                self._print_credentials(client, secret)
            elif action == "revoke":
                client = self._client(team, options["client_id"])
                count = revoke_client(client)
                self.stdout.write(
                    f"Revoked client {client.client_id} of team {options['team']} "
                    f"and its {count} live access token(s)."
                )
            else:
                self._list(team)
        except SCIMNotEnabled as exc:
            raise CommandError(f"SCIM is not enabled for team {options['team']!r}.") from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    def _client(self, team: Any, client_id: str) -> SCIMOAuthClient:
        client = find_client(team, client_id)
        if client is None:
            raise CommandError(f"Team {team} has no OAuth client {client_id!r}.")
        return client

    def _print_credentials(self, client: SCIMOAuthClient, secret: str) -> None:
        self.stderr.write(
            "Copy the client secret now; it is not stored and will not be shown again."
        )
        self.stdout.write(f"token_url={oauth_endpoint_url('token')}")
        self.stdout.write(f"client_id={client.client_id}")
        self.stdout.write(f"client_secret={secret}")

    def _list(self, team: Any) -> None:
        clients = TeamScope.of(team).filter(SCIMOAuthClient.objects.order_by("-created_at"))
        if not clients:
            self.stdout.write("No OAuth clients.")
            return
        for client in clients:
            state = (
                "revoked" if client.revoked_at else f"{live_secrets(client).count()} live secret(s)"
            )
            self.stdout.write(f"{client.client_id}  {client.name or '-'}  {state}")
