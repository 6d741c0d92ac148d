"""The host's teams, as this app finds them: one lookup for the commands, the admin and the API."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models

from .conf import app_settings

__all__ = ["find_team", "team_model"]


def team_model() -> type[models.Model]:
    """The host's team model (``SCIM_PROVISIONING_TEAM_MODEL``)."""
    return apps.get_model(app_settings.TEAM_MODEL)


def find_team(slug: str) -> Any | None:
    """The team whose ``TEAM_SLUG_FIELD`` is ``slug``, or ``None``."""
    return team_model()._default_manager.filter(**{app_settings.TEAM_SLUG_FIELD: slug}).first()
