"""Signals a host can receive when SCIM changes its team's people and groups.

Every signal is sent with ``sender`` set to the SCIM model class
(:class:`~scim_provisioning.models.SCIMUser` or ``SCIMGroup``) and one keyword
argument, ``event``: a :class:`SCIMEvent`. Signals are sent **after the
transaction commits**, so a receiver never sees a change that was rolled back,
and a failing receiver cannot undo the IdP's request nor fail it: its error is
logged (``django.dispatch``) and the other receivers still hear.

``user_provisioned``
    POST /Users created a SCIM record (a new or linked account, an active or
    inactive seat).
``user_updated``
    PUT or PATCH changed a user (sent for every successful write).
``user_deactivated`` / ``user_reactivated``
    ``active`` went from true to false / false to true; the seat followed.
``user_deprovisioned``
    DELETE removed the team's membership and SCIM record (the account stays).
``user_refused``
    The site refused the IdP a person and the request changed nothing: an
    existing account the team may not claim (``event.reason`` ``"unverified"``
    or ``"staff"``), or a seat the adapter's ``claim_seat`` refused
    (``"seat"``). ``event.detail`` is what the IdP was told (for a seat, the
    host's message); ``event.display`` the ``userName`` (or the address);
    ``event.resource_id`` the SCIM id when the person has a record already (a
    refused reactivation), else ``""``; ``event.user_id`` the account, when
    there is one. Sent once the refusal is recorded (``SCIMLinkRefusal``), so
    that the host can tell the team's owners, e.g. by e-mail.
``user_held``
    The deprovisioning guard held a deactivation or a DELETE (docs/deprovision-guard.md):
    the IdP got its usual answer, the membership stays until a team manager
    releases or discards the change. ``event.reason`` is ``"deactivate"`` or
    ``"delete"``; ``event.resource_id`` the SCIM id; ``event.user_id`` the
    account; ``event.display`` the ``userName``; ``event.detail`` says how many
    changes of the team are held now. Sent once per held change, so that the
    host can page the team's owners. A released change then sends
    ``user_deactivated`` / ``user_deprovisioned`` as any other.
``group_created`` / ``group_updated`` / ``group_deleted``
    A group was created, changed (name, externalId or members) or deleted.
``group_members_changed``
    Members were added to or removed from a group (``event.added``,
    ``event.removed``: SCIM user ids).

``team_health_changed``
    Not a SCIM change: sent by :func:`scim_provisioning.health.record_health`
    (``manage.py scim_health``) when a team's sync health differs from what the
    previous run recorded, with ``sender`` :class:`~scim_provisioning.models.SCIMTeamHealth`,
    ``health`` (a :class:`~scim_provisioning.health.TeamHealth`) and ``previous``
    (the :class:`~scim_provisioning.models.HealthState` recorded before, ``None``
    the first time; a team seen for the first time is signalled only when
    unhealthy). A team *turned unhealthy* when ``health.state`` is
    ``HealthState.UNHEALTHY``. The command is what notices, so the signal comes as
    often as cron runs it.

Example::

    from django.dispatch import receiver
    from scim_provisioning import signals

    @receiver(signals.user_deactivated)
    def stop_billing(sender, event, **kwargs):
        billing.release_seat(team_id=event.team_id, user_id=event.user_id)

``event.action`` names what happened: an :class:`EventType`, which is also a
``str`` equal to its value (``"user.deactivated"``), one per signal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import Any

from django.db import transaction
from django.dispatch import Signal

user_provisioned = Signal()
user_updated = Signal()
user_deactivated = Signal()
user_reactivated = Signal()
user_deprovisioned = Signal()
user_refused = Signal()
user_held = Signal()
group_created = Signal()
group_updated = Signal()
group_deleted = Signal()
group_members_changed = Signal()
team_health_changed = Signal()


class EventType(str, Enum):
    """What a :class:`SCIMEvent` reports; each value has its own signal (:attr:`signal`)."""

    USER_PROVISIONED = "user.provisioned"
    USER_UPDATED = "user.updated"
    USER_DEACTIVATED = "user.deactivated"
    USER_REACTIVATED = "user.reactivated"
    USER_DEPROVISIONED = "user.deprovisioned"
    USER_REFUSED = "user.refused"
    USER_HELD = "user.held"
    GROUP_CREATED = "group.created"
    GROUP_UPDATED = "group.updated"
    GROUP_DELETED = "group.deleted"
    GROUP_MEMBERS_CHANGED = "group.members_changed"

    def __str__(self) -> str:
        # The plain value in logs and f-strings, as when actions were strings.
        return self.value

    @property
    def signal(self) -> Signal:
        """The signal sent for this event."""
        return _SIGNALS[self]


_SIGNALS = {
    EventType.USER_PROVISIONED: user_provisioned,
    EventType.USER_UPDATED: user_updated,
    EventType.USER_DEACTIVATED: user_deactivated,
    EventType.USER_REACTIVATED: user_reactivated,
    EventType.USER_DEPROVISIONED: user_deprovisioned,
    EventType.USER_REFUSED: user_refused,
    EventType.USER_HELD: user_held,
    EventType.GROUP_CREATED: group_created,
    EventType.GROUP_UPDATED: group_updated,
    EventType.GROUP_DELETED: group_deleted,
    EventType.GROUP_MEMBERS_CHANGED: group_members_changed,
}


@dataclass(frozen=True)
class SCIMEvent:
    """What happened, in the same shape for every signal.

    ``resource_id`` is the SCIM id the IdP knows; ``user_id`` the host
    account's primary key for user events (``None`` for groups); ``added`` and
    ``removed`` the SCIM ids of users whose group membership changed. ``action``
    given as a string becomes its :class:`EventType` (an unknown one is a ``ValueError``).
    """

    action: EventType
    team_id: Any
    resource_type: str
    resource_id: str
    user_id: Any = None
    display: str = ""
    added: tuple[str, ...] = field(default_factory=tuple)
    removed: tuple[str, ...] = field(default_factory=tuple)
    reason: str = ""
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", EventType(self.action))


def send_after_commit(
    signal: Signal, sender: type, event: SCIMEvent | None = None, **arguments: Any
) -> None:
    """Send ``signal`` with ``event`` (or other ``arguments``) once the current transaction
    commits (at once outside one).

    The one way this package sends a signal: a write that rolls back (its
    savepoint or its transaction) drops the send with it, so a receiver never
    hears of a change that did not happen. Every receiver is called even when one
    raises (``send_robust``; Django logs the error on the ``django.dispatch``
    logger): the change is committed by then, and a 500 would make the IdP
    retry what it already did.
    """
    if event is not None:
        arguments["event"] = event
    transaction.on_commit(partial(signal.send_robust, sender=sender, **arguments))


def send_event(sender: type, event: SCIMEvent) -> None:
    """Send the signal of ``event.action`` once the current transaction commits."""
    send_after_commit(event.action.signal, sender, event)


def ids(values: Iterable[Any]) -> tuple[str, ...]:
    return tuple(sorted(str(v) for v in values))
