"""Every failed write about a person, in their timeline: what the IdP got, and what it meant.

"Why did Jane lose access?" is often answered by a write that did *not* happen:
Okta's PATCH refused, Entra's PUT answered 400. The IdP shows its admin only
"error 409"; the request log keeps the request, not the answer. So a SCIM
``POST``, ``PUT``, ``PATCH`` or ``DELETE`` of a user that an authenticated IdP
got a 4xx or 5xx for is recorded in the person's timeline with the status, the
``scimType`` and the detail it was sent (RFC 7644 §3.12), and the most likely
meaning from :data:`HINTS` (keyed by status, ``scimType``, method and IdP).

Recorded by the view once the write's transaction has rolled back (the write
changed nothing; see :func:`.provisioning.refusals.recording_refusals`), in a
savepoint of its own, and never at the IdP's expense: a failure to record is
logged. A refusal (:class:`~.exceptions.Refused`) is recorded by the write path
already, a request without a valid token names no team, and a throttled one
(429) is the throttle protecting the database: none is recorded here. A
failed operation of ``/Bulk`` is recorded as its own write by the bulk runner.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from . import timeline
from .exceptions import Refused
from .models import IdentityProvider, SCIMUser
from .request_log import redact, request_idp
from .scope import TeamScope
from .storable_text import clean, unstorable

logger = logging.getLogger("scim_provisioning")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Length kept of the detail the IdP got (redacted as the request log's values).
MAX_DETAIL = 500
ANY = None


@dataclass(frozen=True)
class Hint:
    """What a failure most likely meant; ``None`` fields match anything."""

    text: str
    status: int | None = ANY
    scim_type: str | None = ANY
    method: str | None = ANY
    idp: str | None = ANY
    #: Match every status from ``status`` to ``status + span - 1`` (the 5xx).
    span: int = 1

    def matches(self, status: int, scim_type: str, method: str, idp: str) -> bool:
        return (
            (self.status is None or self.status <= status < self.status + self.span)
            and (self.scim_type is None or self.scim_type == scim_type)
            and (self.method is None or self.method == method)
            and (self.idp is None or self.idp == idp)
        )


#: The most specific first: the first hint that matches is the one given.
HINTS: tuple[Hint, ...] = (
    Hint(
        "Another person of this team already has this userName or email: the identity "
        "provider is creating a person twice, or its matching attribute differs from the "
        "site's (match on userName).",
        status=409,
        scim_type="uniqueness",
    ),
    Hint(
        "Okta sends this PATCH when the person is unassigned, suspended or deactivated in "
        "Okta: the site refused to apply it, so the person kept their access here.",
        status=409,
        method="PATCH",
        idp=IdentityProvider.OKTA,
    ),
    Hint(
        "Microsoft Entra ID sends this PATCH when the person left the app's scope or was "
        "disabled; after repeated failures Entra puts the job in quarantine.",
        status=409,
        method="PATCH",
        idp=IdentityProvider.ENTRA,
    ),
    Hint(
        "The write conflicts with the team's state (its last manager, a seat, an account "
        "another team manages): the detail names which.",
        status=409,
    ),
    Hint(
        "Okta sends this when it still holds an id the site no longer has (the person was "
        "removed here): re-push the person from Okta, or unassign and reassign the app.",
        status=404,
        idp=IdentityProvider.OKTA,
    ),
    Hint(
        "The person's SCIM record is not in this team (removed here, or an id the identity "
        "provider kept from another connection): re-provision the person.",
        status=404,
    ),
    Hint(
        "The identity provider tried to change an attribute that cannot change: check its "
        "attribute mappings.",
        status=400,
        scim_type="mutability",
    ),
    Hint(
        "A PATCH path the site does not understand or that matched nothing: check the "
        "identity provider's attribute mappings (custom attributes, the enterprise extension).",
        status=400,
        scim_type="invalidPath",
    ),
    Hint(
        "A PATCH path matched nothing on the record.",
        status=400,
        scim_type="noTarget",
    ),
    Hint(
        "A value the identity provider sent is not valid here (an email without @, a "
        "date out of range, a seat the team does not have): fix the mapping or the value.",
        status=400,
        scim_type="invalidValue",
    ),
    Hint(
        "The body was not a SCIM document the site could read: the identity provider's "
        "request was malformed or cut.",
        status=400,
    ),
    Hint(
        "The team's SCIM was switched off on the site, or the token may not do this: ask "
        "the site's staff; the identity provider keeps failing until it is on again.",
        status=403,
    ),
    Hint(
        "The record changed since the identity provider read it (If-Match): it re-reads and "
        "retries.",
        status=412,
    ),
    Hint("The request body was larger than the site accepts.", status=413),
    Hint(
        "The site failed to handle the write: its error log has the details; the identity "
        "provider retries later.",
        status=500,
        span=100,
    ),
)


def hint_for(status: int, scim_type: str, method: str, idp: str) -> str:
    """The first :data:`HINTS` text that matches, or ``""``."""
    return next((h.text for h in HINTS if h.matches(status, scim_type, method, idp)), "")


def record_failed_write(view: Any, request: Any, response: Any) -> None:
    """Record ``response`` in the person's timeline if it is a failed write of a user.

    Called by the SCIM view after the handler returned (its transaction is over).
    Never raises.
    """
    if not _is_failed_user_write(view, request, response):
        return
    client = request._user
    record_failure(
        FailedWrite(
            scope=client.scope,
            kind=getattr(view, "kind", None),
            pk=str((view.kwargs or {}).get("pk") or ""),
            body=getattr(request, "_full_data", None),
            method=request.method.upper(),
            path=request.path,
            status=response.status_code,
            error=response.data,
            idp=request_idp(request),
        ),
        getattr(view, "failure", None),
    )


@dataclass(frozen=True)
class FailedWrite:
    """A write of a SCIM resource and the SCIM error it was answered (a request or a bulk
    operation).

    ``scope`` is the request's team (where the record the URL names is looked for).
    """

    scope: TeamScope
    kind: Any
    pk: str
    body: Any
    method: str
    path: str
    status: int
    error: Any
    idp: str = ""


def record_failure(write: FailedWrite, exc: Exception | None = None) -> None:
    """Record ``write`` in the person's timeline if it is a failed write of a user the
    timeline keeps (not a 401, a 429 or a refusal); never raises."""
    if (
        write.method not in WRITE_METHODS
        or write.status < 400
        # 401: no team is known. 429: the throttle protects the database; an entry per
        # throttled request would undo it. A refusal is recorded by the write path.
        or write.status in (401, 429)
        or isinstance(exc, Refused)
        or write.kind is None
        or write.kind.name != "User"
    ):
        return
    try:
        with transaction.atomic():
            _record(write)
    except Exception:
        logger.exception("Could not record a failed SCIM write in the timeline")


def _is_failed_user_write(view: Any, request: Any, response: Any) -> bool:
    """Only an authenticated request names a team (``record_failure`` judges the rest)."""
    client = getattr(request, "_user", None)
    return (
        response.status_code >= 400
        and getattr(client, "token", None) is not None
        and bool(getattr(client, "verified", False))
    )


def _record(write: FailedWrite) -> None:
    data = write.error if isinstance(write.error, dict) else {}
    scim_type = str(data.get("scimType") or "")
    detail = redact(clean(str(data.get("detail") or "")))
    outcome = {
        "status": write.status,
        "scimType": scim_type,
        "detail": str(detail)[:MAX_DETAIL],
        "hint": hint_for(write.status, scim_type, write.method, write.idp),
        "request": clean(f"{write.method} {write.path}")[:300],
        "idp": write.idp,
    }
    timeline.record([timeline.failed_entry(write.scope, _person(write), outcome)])


def _person(write: FailedWrite) -> timeline.Person:
    """Who the write was about: the record the URL names, else the one with the body's userName."""
    body = write.body
    user_name = str(body.get("userName") or "") if isinstance(body, dict) else ""
    record = None
    if write.pk and unstorable(write.pk) is None:
        record = write.kind.find(write.scope, write.pk)  # a NUL would reach PostgreSQL
    elif user_name and unstorable(user_name) is None:
        records = write.scope.filter(SCIMUser.objects.filter(user_name__iexact=user_name))
        record = records.first()
    if record is not None:
        return timeline.Person.of(record)
    try:
        scim_user_id = uuid.UUID(write.pk) if write.pk else None
    except ValueError:
        scim_user_id = None
    return timeline.Person(scim_user_id, clean(user_name or write.pk)[:255])
