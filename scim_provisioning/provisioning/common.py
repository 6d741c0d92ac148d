"""What every resource's provisioning shares."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction

from ..exceptions import Uniqueness
from ..reads import InsertRecord


def save_unique(record: models.Model, conflict: str) -> None:
    """Save under a savepoint: a lost uniqueness race is a 409, not a broken transaction."""
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as exc:
        raise Uniqueness(conflict) from exc


def insert_unique(insert: InsertRecord, record: models.Model, conflict: str) -> None:
    """Insert ``record`` by ``insert``; a unique constraint's refusal is a 409 that ends the write.

    No savepoint (two statements fewer than :func:`save_unique`): the caller
    runs nothing after the refusal, the 409 leaves the write's transaction,
    which rolls back whole (on PostgreSQL the failed INSERT aborts it until
    then). For a write whose only answer to a lost race is that 409.
    """
    try:
        insert.run(record)
    except IntegrityError as exc:
        raise Uniqueness(conflict) from exc


class RunAgain(Exception):  # noqa: N818  # not an error: an instruction to the write
    """The write lost a race that running it again, from its start, resolves.

    Raised where a savepoint would otherwise be spent on every write for a race
    that is rare: a create's account insert that a concurrent request (an IdP's
    retry, another team's IdP) beat to the same address. Raised at once (on
    PostgreSQL the failed statement aborts the transaction, so nothing else may
    run); :func:`scim_provisioning.writes.create` rolls the write back and runs
    it once more, which finds that account and links to it. ``__cause__`` is
    the database's error, raised as it is if the second run loses again.
    """
