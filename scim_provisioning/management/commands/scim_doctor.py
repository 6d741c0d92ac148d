"""``manage.py scim_doctor [--url https://site.example/scim/v2] [--team SLUG | --token T]
[--auth-mode bearer|header|basic|oauth [--client-id ID]]``.

Prints one line per check of :func:`scim_provisioning.doctor.diagnose`, then a
summary counting passes, warnings and skips, and exits with status 1 when any
check fails (warnings and skipped checks do not fail).

``--url`` defaults to ``SCIM_PROVISIONING_BASE_URL``. A throwaway token of the
site's (``--team``) goes only there: checking another URL takes a token the
operator gives (``--token``), as an IdP would hold it.
"""

from __future__ import annotations

import os
import ssl
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import guard
from ...conf import PREFIX, app_settings
from ...doctor import diagnose
from ...doctor_auth import AUTH_MODES
from ...teams import SCIMNotEnabled, find_team


class Command(BaseCommand):
    help = "Check a SCIM base URL the way an IdP meets it, and say how to fix what fails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            help="The SCIM base URL the IdP uses (default: SCIM_PROVISIONING_BASE_URL).",
        )
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--team",
            help="Issue a throwaway token for this team (slug) for the round trip; "
            "it is revoked at the end, and goes only to SCIM_PROVISIONING_BASE_URL.",
        )
        which.add_argument(
            "--token",
            default=os.environ.get("SCIM_DOCTOR_TOKEN"),
            help="A team's token for the round trip (or SCIM_DOCTOR_TOKEN; "
            "keeps it out of the shell history).",
        )
        parser.add_argument(
            "--ca-file", help="Trust this CA bundle (PEM) instead of the system's, for https."
        )
        parser.add_argument("--timeout", type=float, default=10.0, help="Seconds per request.")
        parser.add_argument(
            "--auth-mode",
            choices=AUTH_MODES,
            default="bearer",
            help="How the token is sent: bearer, header (the token alone), basic (as the "
            "password) or oauth (an access token fetched with --client-id and "
            "SCIM_DOCTOR_CLIENT_SECRET, or with a throwaway client of --team).",
        )
        parser.add_argument("--client-id", help="The OAuth client's client_id (--auth-mode oauth).")

    def handle(self, *args: Any, **options: Any) -> None:
        configured = app_settings.BASE_URL
        url = options["url"] or configured
        if not url:
            raise CommandError(
                f"Give --url, or set {PREFIX}BASE_URL (the URL the IdP uses), which is "
                "checked by default."
            )
        team = None
        if options["team"]:
            if configured and url.rstrip("/") != configured:
                raise CommandError(
                    f"--team issues a token of the site's, which goes only to {PREFIX}BASE_URL "
                    f"({configured}); to check {url}, give a token of the team's with --token."
                )
            team = find_team(options["team"])
            if team is None:
                raise CommandError(f"No team with slug {options['team']!r}.")
        context = None
        if options["ca_file"]:
            context = ssl.create_default_context(cafile=options["ca_file"])
        try:
            report = diagnose(
                url,
                token=options["token"],
                team=team,
                ssl_context=context,
                timeout=options["timeout"],
                auth_mode=options["auth_mode"],
                oauth_client=_oauth_client(options["client_id"]),
            )
        except SCIMNotEnabled as exc:
            raise CommandError(f"SCIM is not enabled for team {options['team']!r}.") from exc
        for result in report.results:
            self.stdout.write(result.line)
        if team is not None:
            self.stdout.write(guard.status_line(team))
        if not report.ok:
            raise CommandError(report.summary, returncode=1)
        self.stdout.write(report.summary)


def _oauth_client(client_id: str | None) -> tuple[str, str] | None:
    """The client id and its secret, read from ``SCIM_DOCTOR_CLIENT_SECRET`` (never argv)."""
    if not client_id:
        return None
    secret = os.environ.get("SCIM_DOCTOR_CLIENT_SECRET", "")
    if not secret:
        raise CommandError("Set SCIM_DOCTOR_CLIENT_SECRET to the client's secret.")
    return client_id, secret
