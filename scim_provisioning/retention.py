"""Deleting what is older than its retention period: the request log, the timeline, and
the setup links' uses.

Library functions that the ``scim_prune_*`` management commands call (a site
may call them from its own scheduler too). Each deletes by its table's
``created`` index.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

from .conf import app_settings
from .models import SCIMRequestLog, SCIMSetupLinkUse, SCIMUserEvent


def prune_request_log(days: int | None = None) -> int:
    """Delete request-log rows older than ``days`` (``REQUEST_LOG_RETENTION_DAYS``); how many."""
    return _prune(SCIMRequestLog, app_settings.REQUEST_LOG_RETENTION_DAYS if days is None else days)


def prune_timeline(days: int | None = None) -> int:
    """Delete timeline entries older than ``days`` (``TIMELINE_RETENTION_DAYS``); how many."""
    return _prune(SCIMUserEvent, app_settings.TIMELINE_RETENTION_DAYS if days is None else days)


def prune_setup_link_uses(days: int | None = None) -> int:
    """Delete setup link uses older than ``days`` (``TIMELINE_RETENTION_DAYS``: they are the
    team's activity, as the timeline is); how many."""
    return _prune(SCIMSetupLinkUse, app_settings.TIMELINE_RETENTION_DAYS if days is None else days)


def _prune(model: type[models.Model], days: int) -> int:
    if days < 0:
        raise ValueError("A retention period cannot be negative.")
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = model._default_manager.filter(created__lt=cutoff).delete()
    return deleted
