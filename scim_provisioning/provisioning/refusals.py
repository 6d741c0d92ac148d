"""Refused people, kept where the team's managers and the staff can see them, and signalled.

A refusal (an account the team may not claim, a seat the host refused, a
membership change the host's rules refused) is
recorded after the refused write's transaction rolled back (the write changed
nothing), as one row per team and address and an entry in the person's
timeline, then the ``user_refused`` signal is sent so that the host can tell
the team's owners.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .. import host_rows, signals, timeline
from ..exceptions import HostRefused, Refused
from ..models import SCIMLinkRefusal, SCIMLinkRefusalReason, SCIMUser
from ..reads import Delete
from ..scope import TeamScope
from ..signals import EventType, SCIMEvent

#: ``SCIMLinkRefusal.detail``'s length.
_MAX_DETAIL = 500


@contextmanager
def recording_refusals() -> Iterator[None]:
    """Record a :class:`~.exceptions.Refused` raised inside, then let it through.

    Wraps a write's transaction, outside it: the refusal outlives the rollback.
    """
    try:
        yield
    except Refused as refused:
        record_refusal(refused)
        raise


@contextmanager
def host_refusals(
    scope: TeamScope, *, email: str, user_name: str = "", resource_id: str = "", user_id: Any = None
) -> Iterator[None]:
    """Turn the host's refusal of a membership change, raised inside, into a :class:`HostRefused`.

    Around a write to the host's membership rows (its ``save()``, ``delete()``
    and receivers run, see :mod:`~scim_provisioning.host_rows`): an exception
    the host raises to refuse (``host_rows.refusal_exceptions``) becomes a 409
    with the host's message about this person, recorded once the write's
    transaction rolled back (:func:`recording_refusals`), which undoes what
    was written before it.
    """
    try:
        yield
    except host_rows.refusal_exceptions() as error:
        raise HostRefused(
            host_rows.refusal_message(error),
            team_id=scope.team_id,
            email=email,
            reason=SCIMLinkRefusalReason.HOST,
            user_name=user_name,
            resource_id=resource_id,
            user_id=user_id,
        ) from error


def record_refusal(refused: Refused) -> None:
    """Record ``refused`` (a new row, or one more attempt on the team's row for the
    address), then send ``user_refused``."""
    now = timezone.now()
    scope = TeamScope(refused.team_id)
    rows = scope.filter(SCIMLinkRefusal.objects.filter(email=refused.email))
    detail = str(refused.detail)[:_MAX_DETAIL]
    fields = {"reason": refused.reason, "detail": detail, "last_attempt": now}
    if not rows.update(attempts=F("attempts") + 1, **fields):
        try:
            with transaction.atomic():
                SCIMLinkRefusal.objects.create(team_id=scope.team_id, email=refused.email, **fields)
        except IntegrityError:  # a concurrent retry created it first
            rows.update(attempts=F("attempts") + 1, **fields)
    timeline.record([timeline.refused_entry(refused, detail)])
    event = SCIMEvent(
        action=EventType.USER_REFUSED,
        team_id=refused.team_id,
        resource_type="User",
        resource_id=refused.resource_id,
        user_id=refused.user_id,
        display=refused.user_name or refused.email,
        reason=refused.reason,
        detail=detail,
    )
    signals.send_event(SCIMUser, event)


def clear_refusals(scope: TeamScope, email: str) -> None:
    """The address is now linked or seated: it is no longer refused.

    Every reactivation asks: compiled once (:class:`~..reads.Delete`, 1 ms of
    the ORM's collector less per reactivation, issue 27).
    """
    _CLEAR_REFUSALS.run(team=scope.team_id, email=email)


def _refusals_of(team: Any, email: str) -> Any:
    return TeamScope(team).filter(SCIMLinkRefusal.objects.filter(email=email))


_CLEAR_REFUSALS = Delete(
    SCIMLinkRefusal,
    _refusals_of,
    {
        "team": SCIMLinkRefusal._meta.get_field("team"),
        "email": SCIMLinkRefusal._meta.get_field("email"),
    },
)
