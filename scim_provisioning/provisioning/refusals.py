"""Refused links, kept where the team's managers and the staff can see them.

A refusal is recorded after the refused create's transaction rolled back
(the create changed nothing), as one row per team and address.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ..exceptions import LinkRefused
from ..models import SCIMLinkRefusal


def record_refusal(refused: LinkRefused) -> None:
    """Record ``refused``: a new row, or one more attempt on the team's row for the address."""
    now = timezone.now()
    rows = SCIMLinkRefusal.objects.filter(team_id=refused.team_id, email=refused.email)
    fields = {"reason": refused.reason, "last_attempt": now}
    if rows.update(attempts=F("attempts") + 1, **fields):
        return
    try:
        with transaction.atomic():
            SCIMLinkRefusal.objects.create(team_id=refused.team_id, email=refused.email, **fields)
    except IntegrityError:  # a concurrent retry created it first
        rows.update(attempts=F("attempts") + 1, **fields)


def clear_refusals(team_id: Any, email: str) -> None:
    """The address is now linked: it is no longer refused."""
    SCIMLinkRefusal.objects.filter(team_id=team_id, email=email).delete()
