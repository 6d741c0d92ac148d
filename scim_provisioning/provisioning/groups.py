"""Groups: documents applied to SCIMGroup rows, members applied as set operations.

Membership changes never load a group's members: adds are one lookup of the
named users (scoped to the team) and one bulk insert that ignores existing
rows, removes one DELETE, so a PATCH adding 1,000 members runs a fixed number
of statements. Group membership never touches ``active``: adding a
deactivated user to a group does not give them their seat back.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models.functions import Lower

from .. import signals, timeline
from ..adapters import DefaultAdapter, get_adapter
from ..conf import app_settings
from ..exceptions import InvalidValue, Uniqueness
from ..models import SCIMGroup, SCIMGroupMembership, SCIMTeamConfig, SCIMUser
from ..resources.documents import Document
from ..resources.groups import state_from_group_document
from ..scope import TeamScope
from ..signals import EventType, SCIMEvent
from .common import save_unique
from .roles import apply_team_roles
from .users import team_users

logger = logging.getLogger("scim_provisioning")

JOINED, LEFT = timeline.TimelineAction.JOINED_GROUP, timeline.TimelineAction.LEFT_GROUP


def team_groups(scope: TeamScope) -> Any:
    """Every SCIM group of the team: the scope every group query starts from."""
    return scope.filter(SCIMGroup.objects.all())


@dataclass
class MembershipChange:
    """The member operations of one request, in order, reduced to one set change."""

    clear: bool = False
    added: dict[str, None] = field(default_factory=dict)  # an ordered set
    removed: set[str] = field(default_factory=set)

    def add(self, values: Iterable[str]) -> None:
        for value in values:
            self.removed.discard(value)
            self.added[value] = None
        self._check_size()

    def remove(self, values: Iterable[str]) -> None:
        for value in values:
            self.added.pop(value, None)
            self.removed.add(value)
        self._check_size()

    def _check_size(self) -> None:
        """One request names at most ``MAX_MEMBERS_PER_REQUEST`` members, in all its operations."""
        named = len(self.added) + len(self.removed)
        if named > app_settings.MAX_MEMBERS_PER_REQUEST:
            raise InvalidValue(
                f"The request names {named} group members; at most "
                f"{app_settings.MAX_MEMBERS_PER_REQUEST} are accepted. Send them in batches."
            )

    def remove_all(self) -> None:
        self.clear, self.added, self.removed = True, {}, set()

    def replace(self, values: Iterable[str]) -> None:
        self.remove_all()
        self.add(values)


def _uuids(values: Iterable[str]) -> set[uuid.UUID]:
    keys = set()
    for value in values:
        try:
            keys.add(uuid.UUID(str(value)))
        except ValueError:
            logger.warning("SCIM group member %r is not a user id of this server: ignored", value)
    return keys


@dataclass(frozen=True)
class MembersDelta:
    """The SCIM user ids that really joined or left a group, and who they are (the timeline)."""

    added: frozenset[Any] = frozenset()
    removed: frozenset[Any] = frozenset()
    people: dict[Any, timeline.Person] = field(default_factory=dict)

    @property
    def affected(self) -> set[Any]:
        return set(self.added | self.removed)


def _apply_members(scope: TeamScope, group: SCIMGroup, change: MembershipChange) -> MembersDelta:
    """Apply ``change`` in a fixed number of statements; returns what really changed."""
    memberships = SCIMGroupMembership.objects.filter(group=group)
    removed: set[Any] = set()
    people: dict[Any, timeline.Person] = {}
    if change.clear:
        people.update(_people(memberships))
        removed = set(people)
        memberships.delete()
        # Worth a trace: a misbehaving client can empty a group this way.
        logger.info(
            "SCIM group %s: members replaced (%d removed, %d named)",
            group.pk,
            len(removed),
            len(change.added),
        )
    elif change.removed:
        leaving = memberships.filter(user_id__in=_uuids(change.removed))
        people.update(_people(leaving))
        removed = set(people)
        leaving.delete()
    added: set[Any] = set()
    if change.added:
        wanted = _uuids(change.added)
        # Scoped to the team: an id from another team is unknown here.
        named = {
            pk: timeline.Person(pk, name, account)
            for pk, name, account in team_users(scope)
            .filter(pk__in=wanted)
            .values_list("pk", "user_name", "user_id")
        }
        people.update(named)
        found = set(named)
        if len(found) < len(wanted):
            logger.warning(
                "SCIM group %s: %d member value(s) name no user of this team: ignored",
                group.pk,
                len(wanted) - len(found),
            )
        present = (
            set()
            if change.clear
            else set(memberships.filter(user_id__in=found).values_list("user_id", flat=True))
        )
        added = found - present
        SCIMGroupMembership.objects.bulk_create(
            [SCIMGroupMembership(group=group, user_id=user_id) for user_id in added],
            ignore_conflicts=True,
        )
    return MembersDelta(
        added=frozenset(added - removed), removed=frozenset(removed - added), people=people
    )


def _people(memberships: Any) -> dict[Any, timeline.Person]:
    """Who holds ``memberships``, by SCIM user id (read with the ids: no extra query)."""
    rows = memberships.values_list("user_id", "user__user_name", "user__user_id")
    return {pk: timeline.Person(pk, name, account) for pk, name, account in rows}


def _sorted(people: Iterable[timeline.Person]) -> list[timeline.Person]:
    return sorted(people, key=lambda person: (person.user_name.lower(), str(person.scim_user_id)))


def _check_name_free(scope: TeamScope, name: str, record: SCIMGroup | None) -> None:
    taken = team_groups(scope).alias(name_ci=Lower("display_name")).filter(name_ci=name.lower())
    if record is not None:
        taken = taken.exclude(pk=record.pk)
    if taken.exists():
        raise Uniqueness(f"A group named '{name}' already exists in this team.")


def create_group(config: SCIMTeamConfig, document: Document) -> SCIMGroup:
    """POST /Groups. An existing ``displayName`` is a 409, never an upsert."""
    state = state_from_group_document(document)
    _check_name_free(config.scope, state.display_name, None)
    record = SCIMGroup(
        team_id=config.team_id, display_name=state.display_name, external_id=state.external_id
    )
    save_unique(record, f"A group named '{state.display_name}' already exists in this team.")
    _send(EventType.GROUP_CREATED, record)
    if state.member_ids:
        change = MembershipChange()
        change.add(state.member_ids)
        _members_changed(config, record, _apply_members(config.scope, record, change))
    return record


def update_group(
    config: SCIMTeamConfig,
    record: SCIMGroup,
    document: Document,
    change: MembershipChange | None,
) -> SCIMGroup:
    """PUT or PATCH /Groups/{id}: ``document`` is the new state of the group's own attributes.

    ``change`` carries the member operations; ``None`` leaves the members as
    they are (a PUT without ``members``).
    """
    state = state_from_group_document(document)
    renamed = state.display_name != record.display_name
    if state.display_name.lower() != record.display_name.lower():
        _check_name_free(config.scope, state.display_name, record)
    record.display_name = state.display_name
    record.external_id = state.external_id
    record.touch()
    save_unique(record, f"A group named '{state.display_name}' already exists in this team.")
    _send(EventType.GROUP_UPDATED, record)
    delta = _apply_members(config.scope, record, change) if change is not None else MembersDelta()
    _members_changed(config, record, delta)
    if renamed:
        # A name can carry a role (SCIMTeamConfig.group_roles): every member may be affected.
        _groups_changed(config, set(record.memberships.values_list("user_id", flat=True)))
    return record


def delete_group(config: SCIMTeamConfig, record: SCIMGroup) -> None:
    """DELETE /Groups/{id}: the group and its memberships go; its users stay."""
    people = _people(record.memberships.all())
    members = set(people)
    event = _event(EventType.GROUP_DELETED, record)
    timeline.record(timeline.group_entries(record, LEFT, _sorted(people.values())))
    record.delete()
    signals.send_event(SCIMGroup, event)
    if members:
        _groups_changed(config, members)


def _event(action: EventType, record: SCIMGroup, delta: MembersDelta | None = None) -> SCIMEvent:
    return SCIMEvent(
        action=action,
        team_id=record.team_id,
        resource_type="Group",
        resource_id=str(record.pk),
        display=record.display_name,
        added=signals.ids(delta.added) if delta else (),
        removed=signals.ids(delta.removed) if delta else (),
    )


def _send(action: EventType, record: SCIMGroup) -> None:
    signals.send_event(SCIMGroup, _event(action, record))


def _members_changed(config: SCIMTeamConfig, record: SCIMGroup, delta: MembersDelta) -> None:
    if not delta.affected:
        return
    timeline.record(
        timeline.group_entries(record, LEFT, _sorted(delta.people[pk] for pk in delta.removed))
        + timeline.group_entries(record, JOINED, _sorted(delta.people[pk] for pk in delta.added))
    )
    _groups_changed(config, delta.affected)
    signals.send_event(SCIMGroup, _event(EventType.GROUP_MEMBERS_CHANGED, record, delta))


def _groups_changed(config: SCIMTeamConfig, user_ids: set[Any]) -> None:
    """Apply the team's group roles to these users, then tell the adapter, one request at a
    time per user.

    The role rule (``provisioning/roles.py``) reads all of a user's groups to
    decide their role. Two requests adding one person to two groups at once
    would each miss the other's uncommitted membership, and the last to commit
    would drop the role the other granted. Locking the users' records first serialises them: the
    second waits for the first to commit, then reads both memberships. ``NO KEY
    UPDATE`` because inserting a membership holds ``KEY SHARE`` on the user,
    which a plain ``FOR UPDATE`` would wait on (a deadlock between the two).
    """
    if not user_ids:
        return
    adapter = get_adapter()
    # A team without group roles and an adapter without a hook of its own: no lock, no statement.
    hook = type(adapter).group_members_changed
    if config.group_roles or hook is not DefaultAdapter.group_members_changed:
        locked = SCIMUser.objects.select_for_update(no_key=True).filter(pk__in=user_ids)
        list(locked.order_by("pk").values_list("pk", flat=True))
    if config.group_roles:
        apply_team_roles(config, user_ids)
    adapter.group_members_changed(config, user_ids)
