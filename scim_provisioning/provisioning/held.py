"""Held deprovisionings: what the guard keeps from the host until a team manager decides.

A deactivation or DELETE beyond the team's threshold (:mod:`scim_provisioning.guard`)
is *held*: the IdP gets its usual answer (RFC 7644 §3.5.2: 200 with the
document, §3.6: 204), the SCIM record shows what the IdP asked (``active:
false``; a held DELETE's record is gone, so the IdP's next GET is the 404 of
§3.6), and the host membership stays as it was. A :class:`SCIMHeldChange`
row remembers the change.

- **Release** applies it through the same rules as any deprovisioning (the
  last manager, the host's ``may_remove_membership`` and model guards, the
  timeline, the signals). A refusal then is recorded like any refusal
  (``SCIMLinkRefusal``, the timeline, ``user_refused``) and on the held row,
  and the record returns to active, so that the IdP's next sync meets the
  refusal itself.
- **Discard** keeps the membership: a held deactivation's record returns to
  ``active: true`` with a new version, so the IdP's next sync (Entra's
  periodic cycle, Okta's push on the next change) sees the difference and
  sends the deactivation again, to be let through or held again; a held
  DELETE's record stays gone and the person stays a member the IdP does not
  manage, until the IdP provisions them again (the POST links the active
  member without proof).
- A reactivation by the IdP of a held person cancels the hold; any other
  update of a held record is applied to the record and the hold stays; a
  DELETE of a held person turns the held deactivation into a held DELETE.

Releasing and discarding are a manager's decision, recorded on the row and in
the timeline with who and when: the guard delays a deprovisioning, it cannot
quietly keep a person the team's IdP removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .. import guard, signals, timeline
from ..exceptions import Refused, SCIMError
from ..models import (
    HeldChangeKind,
    HeldChangeOutcome,
    SCIMHeldChange,
    SCIMTeamConfig,
    SCIMUser,
    TimelineAction,
)
from ..scope import TeamScope
from ..signals import EventType, SCIMEvent
from .refusals import record_refusal

#: ``SCIMHeldChange.detail``'s length.
_MAX_DETAIL = 500


def pending(team: Any) -> QuerySet[SCIMHeldChange]:
    """The team's held changes no manager has decided yet, oldest first.

    ``team`` is a host team, its key or its :class:`~scim_provisioning.scope.TeamScope`.
    """
    held = TeamScope.of(team).filter(SCIMHeldChange.objects.filter(resolved_at__isnull=True))
    return held.order_by("held_at", "id")


def hold(scope: TeamScope, record: SCIMUser, kind: HeldChangeKind) -> None:
    """Hold the deprovisioning of ``record`` (in the write's transaction); the caller skips
    the host's membership write.

    A DELETE of a person whose deactivation is held already turns that hold
    into a held DELETE (counted once).
    """
    held = pending(scope).filter(scim_user_id=record.pk).first()
    if held is None:
        SCIMHeldChange.objects.create(
            team_id=scope.team_id,
            kind=kind,
            scim_user_id=record.pk,
            user_id=record.user_id,
            user_name=record.user_name[:255],
            email=record.email[:254],
        )
        guard.note_held(scope, +1)
    elif held.kind != kind:
        held.kind = kind
        held.save(update_fields=["kind"])
    if kind == HeldChangeKind.DEACTIVATE:
        SCIMUser.objects.filter(pk=record.pk).update(deprovision_held=True)
        record.deprovision_held = True
    timeline.record([timeline.user_entry(record, TimelineAction.HELD, {"held": [None, str(kind)]})])
    count = pending(scope).count()
    signals.send_event(
        SCIMUser,
        SCIMEvent(
            action=EventType.USER_HELD,
            team_id=scope.team_id,
            resource_type="User",
            resource_id=str(record.pk),
            user_id=record.user_id,
            display=record.user_name,
            reason=str(kind),
            detail=f"{count} deprovisioning(s) of the team held",
        ),
    )


def cancel(scope: TeamScope, record: SCIMUser) -> None:
    """The IdP reactivated a held person: the hold ends, the membership never changed."""
    updated = (
        pending(scope)
        .filter(scim_user_id=record.pk)
        .update(
            outcome=HeldChangeOutcome.CANCELLED,
            resolved_at=timezone.now(),
            resolved_by_name="the IdP (reactivated)",
        )
    )
    if updated:
        guard.note_held(scope, -updated)
    record.deprovision_held = False


@dataclass(frozen=True)
class Decision:
    """What became of one held change: its row, and the site's refusal if any."""

    change: SCIMHeldChange
    refused: str = ""


def release(
    config: SCIMTeamConfig, changes: Iterable[SCIMHeldChange], *, by: Any = None, by_name: str = ""
) -> list[Decision]:
    """Apply each held change of ``config``'s team, each in its own transaction (one
    refusal stops no other); a change of another team is left alone."""
    return [_release_one(config, change, by, by_name) for change in changes]


def discard(
    config: SCIMTeamConfig, changes: Iterable[SCIMHeldChange], *, by: Any = None, by_name: str = ""
) -> list[Decision]:
    """Keep each held person's membership; a held deactivation's record turns active again.

    Only ``config``'s team's changes: one of another team is left alone.
    """
    scope = config.scope
    decisions = []
    for change in changes:
        with transaction.atomic():
            locked = _locked_pending(scope, change)
            if locked is None:
                continue
            record = _locked_record(locked)
            if record is not None and locked.kind == HeldChangeKind.DEACTIVATE:
                _back_to_active(record)
            _resolve(scope, locked, HeldChangeOutcome.DISCARDED, by, by_name)
            _decided_entry(scope, locked, record, TimelineAction.DISCARDED, by_name)
        decisions.append(Decision(locked))
    return decisions


def _release_one(config: SCIMTeamConfig, change: SCIMHeldChange, by: Any, by_name: str) -> Decision:
    from .users import deactivate_held, delete_held  # the users' write path

    scope = config.scope
    try:
        with transaction.atomic():
            locked = _locked_pending(scope, change)
            if locked is None:
                return Decision(change)
            record = _locked_record(locked)
            if locked.kind == HeldChangeKind.DELETE:
                delete_held(config, locked, record)
            elif record is not None:
                deactivate_held(config, record)
            _resolve(scope, locked, HeldChangeOutcome.RELEASED, by, by_name)
            _decided_entry(scope, locked, record, TimelineAction.RELEASED, by_name)
            return Decision(locked)
    except SCIMError as refusal:
        if isinstance(refusal, Refused):
            record_refusal(refusal)
        return _refused(scope, change, str(refusal.detail), by, by_name)


def _refused(
    scope: TeamScope, change: SCIMHeldChange, detail: str, by: Any, by_name: str
) -> Decision:
    """The site refused the release: recorded on the row; the person stays, the record says so."""
    with transaction.atomic():
        locked = _locked_pending(scope, change)
        if locked is None:
            return Decision(change)
        record = _locked_record(locked)
        if record is not None:
            _back_to_active(record)
        locked.detail = detail[:_MAX_DETAIL]
        _resolve(scope, locked, HeldChangeOutcome.REFUSED, by, by_name)
        _decided_entry(scope, locked, record, TimelineAction.RELEASED, by_name, refused=detail)
    return Decision(locked, refused=detail)


def _locked_pending(scope: TeamScope, change: SCIMHeldChange) -> SCIMHeldChange | None:
    """``change``, locked, if it is still pending and of the deciding team."""
    return pending(scope).select_for_update().filter(pk=change.pk).first()


def _locked_record(change: SCIMHeldChange) -> SCIMUser | None:
    return (
        SCIMUser.objects.select_for_update()
        .select_related("user")
        .filter(pk=change.scim_user_id, team_id=change.team_id)
        .first()
    )


def _back_to_active(record: SCIMUser) -> None:
    """The record says again what the host has: active (a new version, so the IdP notices)."""
    record.active = True
    record.deprovision_held = False
    record.touch()
    record.save(update_fields=["active", "deprovision_held", "version", "last_modified"])


def _resolve(scope: TeamScope, change: SCIMHeldChange, outcome: str, by: Any, by_name: str) -> None:
    change.outcome = outcome
    change.resolved_at = timezone.now()
    change.resolved_by = by if getattr(by, "pk", None) is not None else None
    change.resolved_by_name = (by_name or (str(by) if by is not None else ""))[:150]
    change.save(
        update_fields=["outcome", "resolved_at", "resolved_by", "resolved_by_name", "detail"]
    )
    guard.note_held(scope, -1)


def _decided_entry(
    scope: TeamScope,
    change: SCIMHeldChange,
    record: SCIMUser | None,
    action: TimelineAction,
    by_name: str,
    *,
    refused: str = "",
) -> None:
    person = timeline.Person(change.scim_user_id, change.user_name, change.user_id)
    changes: dict[str, Any] = {"by": [None, change.resolved_by_name or by_name]}
    changes["held"] = [None, change.kind]
    if refused:
        changes["refused"] = [None, refused[:_MAX_DETAIL]]
    timeline.record([timeline.person_entry(scope, person, action, changes)])
