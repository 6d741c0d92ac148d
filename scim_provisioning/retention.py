"""Deleting what is older than its retention period: the request log, the timeline, and
the setup links' uses.

Library functions that the ``scim_prune_*`` management commands call (a site
may call them from its own scheduler too). Each deletes by its table's
``created`` index.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models, transaction
from django.utils import timezone

from .conf import app_settings
from .models import SCIMPersonName, SCIMRequestLog, SCIMSetupLinkUse, SCIMUserEvent
from .timeline import NAME_SEPARATOR


def prune_request_log(days: int | None = None) -> int:
    """Delete request-log rows older than ``days`` (``REQUEST_LOG_RETENTION_DAYS``); how many."""
    return _prune(SCIMRequestLog, app_settings.REQUEST_LOG_RETENTION_DAYS if days is None else days)


def prune_timeline(days: int | None = None) -> int:
    """Delete timeline entries older than ``days`` (``TIMELINE_RETENTION_DAYS``); how many.

    The names an entry kept (``SCIMUserEvent.names``) stay searchable: they move
    to :class:`SCIMPersonName` first, in the same transaction, so a person is
    still found by any name they ever had (issue 24).
    """
    days = app_settings.TIMELINE_RETENTION_DAYS if days is None else days
    with transaction.atomic():
        _keep_names(timezone.now() - timedelta(days=max(days, 0)))
        return _prune(SCIMUserEvent, days)


#: Names moved to SCIMPersonName per INSERT when the timeline is pruned.
_NAMES_BATCH = 1000


def _keep_names(cutoff: datetime) -> None:
    """Copy the names of the entries older than ``cutoff`` to :class:`SCIMPersonName`."""
    entries = (
        SCIMUserEvent.objects.filter(created__lt=cutoff)
        .exclude(names="")  # an entry with names is about a SCIM record (timeline._names)
        .values_list("team_id", "scim_user_id", "names", "created")
    )
    batch: list[SCIMPersonName] = []
    for team_id, scim_user_id, names, created in entries.iterator(chunk_size=_NAMES_BATCH):
        assert scim_user_id is not None
        batch.extend(
            SCIMPersonName(team_id=team_id, scim_user_id=scim_user_id, folded=name, created=created)
            for name in names.split(NAME_SEPARATOR)
        )
        if len(batch) >= _NAMES_BATCH:
            SCIMPersonName.objects.bulk_create(batch, ignore_conflicts=True)  # had it before
            batch = []
    SCIMPersonName.objects.bulk_create(batch, ignore_conflicts=True)


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
