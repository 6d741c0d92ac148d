"""What every resource's provisioning shares."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction

from ..exceptions import Uniqueness


def save_unique(record: models.Model, conflict: str) -> None:
    """Save under a savepoint: a lost uniqueness race is a 409, not a broken transaction."""
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as exc:
        raise Uniqueness(conflict) from exc
