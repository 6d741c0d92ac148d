"""The four writes of a resource, each one transaction: what a request and a bulk operation run.

``POST /Users`` and a ``POST`` operation of ``/Bulk`` are the same write, and so
on for PUT, PATCH and DELETE: the views of single requests and the bulk runner
both call these functions, so the team scope, the identity rules, the bounds,
the signals and the locking cannot differ between them.

Each write runs in a transaction of its own that locks the one record it
changes (``SELECT … FOR UPDATE``), checks ``If-Match`` against the locked
version, and commits before the function returns (signals are sent then).
A write that fails changes nothing; no lock outlives the write. A write the
site refuses (an account the team may not claim, a seat the host refuses) is
recorded for the team's managers once its transaction has rolled back.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .models import SCIMTeamConfig
from .preconditions import check_if_match
from .provisioning.refusals import recording_refusals
from .resource_types import ResourceType


def _locked(kind: ResourceType, config: SCIMTeamConfig, pk: str) -> Any:
    """The team's record ``pk``, locked until the transaction ends; else a 404."""
    record = kind.find(config, pk, for_update=True)
    if record is None:
        raise kind.not_found(pk)
    return record


def create(kind: ResourceType, config: SCIMTeamConfig, body: Any) -> Any:
    """``POST /{type}``: a new record of ``config``'s team from the SCIM document ``body``."""
    with recording_refusals(), transaction.atomic():
        return kind.create(config, body)


def replace(
    kind: ResourceType, config: SCIMTeamConfig, pk: str, body: Any, *, if_match: str | None = None
) -> Any:
    """``PUT /{type}/{pk}``: the attributes ``body`` sends replace the record's."""
    with recording_refusals(), transaction.atomic():
        record = _locked(kind, config, pk)
        check_if_match(if_match, record.etag)
        return kind.replace(config, record, body)


def patch(
    kind: ResourceType, config: SCIMTeamConfig, pk: str, body: Any, *, if_match: str | None = None
) -> Any:
    """``PATCH /{type}/{pk}``: the ``PatchOp`` ``body``, all its operations or none."""
    with recording_refusals(), transaction.atomic():
        record = _locked(kind, config, pk)
        check_if_match(if_match, record.etag)
        return kind.patch(config, record, body)


def delete(
    kind: ResourceType, config: SCIMTeamConfig, pk: str, *, if_match: str | None = None
) -> None:
    """``DELETE /{type}/{pk}``: what deleting means for the type (a user keeps their account)."""
    with recording_refusals(), transaction.atomic():
        record = _locked(kind, config, pk)
        check_if_match(if_match, record.etag)
        kind.delete(config, record)
