"""The team service: one way to find a team and to tell what its SCIM looks like.

The Django admin's SCIM page, the team page and API (:mod:`scim_provisioning.team_api`),
the token functions and the management commands all go through these, so a team is
looked up, found enabled or not, and its latest requests listed the same way
everywhere.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models

from .conf import app_settings
from .models import SCIMRequestLog, SCIMTeamConfig

#: Shown to a team's managers instead of the SCIM settings while the staff switch is off.
DISABLED_MESSAGE = "Contact support to enable SCIM."
#: How many of a team's latest SCIM requests its pages show (the admin links to the rest).
RECENT_REQUESTS = 50

__all__ = [
    "DISABLED_MESSAGE",
    "RECENT_REQUESTS",
    "SCIMNotEnabled",
    "find_team",
    "is_enabled",
    "recent_requests",
    "require_enabled",
    "team_model",
]


class SCIMNotEnabled(Exception):
    """Raised when a token is requested for a team whose SCIM switch is off."""


def team_model() -> type[models.Model]:
    """The host's team model (``SCIM_PROVISIONING_TEAM_MODEL``)."""
    return apps.get_model(app_settings.TEAM_MODEL)


def find_team(slug: str) -> Any | None:
    """The team whose ``TEAM_SLUG_FIELD`` is ``slug``, or ``None``."""
    return team_model()._default_manager.filter(**{app_settings.TEAM_SLUG_FIELD: slug}).first()


def is_enabled(team: Any) -> bool:
    """The staff switch of ``team`` (off when the team has no SCIM configuration)."""
    return SCIMTeamConfig.objects.filter(team=team, enabled=True).exists()


def require_enabled(team: Any) -> None:
    """Raise :class:`SCIMNotEnabled` unless the team's SCIM switch is on."""
    if not is_enabled(team):
        raise SCIMNotEnabled(f"SCIM is not enabled for team {team}.")


def recent_requests(team: Any, limit: int = RECENT_REQUESTS) -> list[SCIMRequestLog]:
    """The team's latest SCIM requests, newest first, with the columns the pages show."""
    return list(
        SCIMRequestLog.objects.filter(team=team)
        .only("created", "idp", "method", "path", "status", "resource_type")
        .order_by("-created", "-pk")[:limit]
    )
