"""The team service: one way to find a team and to tell what its SCIM looks like.

The Django admin's SCIM page, the team page and API (:mod:`scim_provisioning.team_api`),
the token functions and the management commands all go through these, so a team is
looked up, found enabled or not, and its latest requests listed the same way
everywhere. The readers take the host's team, its key or its
:class:`~scim_provisioning.scope.TeamScope` (``TeamScope`` is re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models, transaction

from .conf import app_settings
from .models import SCIMRequestLog, SCIMTeamConfig
from .scope import TeamScope

#: Shown to a team's managers instead of the SCIM settings while the staff switch is off.
DISABLED_MESSAGE = "Contact support to enable SCIM."
#: How many of a team's latest SCIM requests its pages show (the admin links to the rest).
RECENT_REQUESTS = 50

__all__ = [
    "DISABLED_MESSAGE",
    "RECENT_REQUESTS",
    "SCIMNotEnabled",
    "Switch",
    "TeamScope",
    "find_team",
    "is_enabled",
    "recent_requests",
    "require_enabled",
    "set_enabled",
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
    return TeamScope.of(team).filter(SCIMTeamConfig.objects.filter(enabled=True)).exists()


def require_enabled(team: Any) -> None:
    """Raise :class:`SCIMNotEnabled` unless the team's SCIM switch is on."""
    if not is_enabled(team):
        raise SCIMNotEnabled(f"SCIM is not enabled for team {team}.")


@dataclass(frozen=True)
class Switch:
    """What :func:`set_enabled` did: the configuration, and whether it was created or changed."""

    config: SCIMTeamConfig | None
    created: bool = False
    changed: bool = False


def set_enabled(team: Any, enabled: bool) -> Switch:
    """Turn the team's SCIM switch on or off (staff only: the callers check who asks).

    A team without a configuration gets one when switched on; switching it off
    creates nothing. The configuration row is locked while it changes.
    """
    with transaction.atomic():
        configs = TeamScope.of(team).filter(SCIMTeamConfig.objects.select_for_update())
        config = configs.first()
        if config is None:
            if not enabled:
                return Switch(None)
            config, created = SCIMTeamConfig.objects.get_or_create(
                team=team, defaults={"enabled": True}
            )
            if created:
                return Switch(config, created=True, changed=True)
        if config.enabled == enabled:
            return Switch(config)
        config.enabled = enabled
        config.save(update_fields=["enabled", "updated"])
        return Switch(config, changed=True)


def recent_requests(team: Any, limit: int = RECENT_REQUESTS) -> list[SCIMRequestLog]:
    """The team's latest SCIM requests, newest first, with the columns the pages show."""
    return list(
        TeamScope.of(team)
        .filter(SCIMRequestLog.objects.all())
        .only("created", "idp", "method", "path", "status", "resource_type")
        .order_by("-created", "-pk")[:limit]
    )
