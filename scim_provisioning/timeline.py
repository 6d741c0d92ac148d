"""A person's provisioning timeline: every change SCIM made to a team's member.

Support's first question is "why did Jane lose access?". The request log says
what the IdP sent; the timeline says what it did to Jane: created or linked,
which fields changed (old → new), deactivated, reactivated, joined or left a
group, which role a group gave her, removed. Each entry names its request
(the request log's ``request_id``) and token (:mod:`.request_context`).

Entries are written by the provisioning functions in the transaction of the
change they describe, with one ``bulk_create`` per change (a group PATCH of
10,000 members is one statement on PostgreSQL): an entry exists exactly when
its change was committed. Values pass the request log's redaction, so no
secret reaches the table (an IdP's ``password`` is never stored in the first
place; anything named like a secret is recorded as ``[redacted]``).

Reading always starts from the team: :func:`team_timeline` filters by team
before any other condition.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from . import request_context
from .adapters import get_adapter
from .emails import canonical_email
from .exceptions import Refused
from .models import SCIMGroup, SCIMPersonName, SCIMUser, SCIMUserEvent, TimelineAction
from .reads import TIMELINE_ENTRIES
from .redaction import REDACTED, is_secret_name
from .request_log import redact
from .scope import TeamScope
from .storable_text import clean

__all__ = [
    "Person",
    "TimelineAction",
    "created_entry",
    "field_changes",
    "failed_entry",
    "matching_people",
    "group_entries",
    "person_entry",
    "person_timeline",
    "record",
    "refused_entry",
    "role_entry",
    "snapshot",
    "TimelinePage",
    "team_timeline",
    "timeline_page",
    "update_entries",
    "user_entry",
]

#: Entries a page shows at most (newest first).
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class Person:
    """Who an entry is about: the SCIM record's id, its userName then, the host account."""

    scim_user_id: Any
    user_name: str
    account_id: Any = None

    @classmethod
    def of(cls, record: SCIMUser) -> Person:
        return cls(record.pk, record.user_name, record.user_id)


# -- what changed -----------------------------------------------------------------------


def snapshot(record: SCIMUser) -> dict[str, Any]:
    """The record's SCIM attributes as ``{path: value}`` (``name.givenName``), ``active`` apart.

    Complex attributes are flattened to their sub-attributes; multi-valued ones
    (``emails``) stay whole lists. The enterprise extension's attributes are
    ``enterprise.<name>``; the manager is ``manager`` (a SCIM user id).
    """
    flat: dict[str, Any] = {"userName": record.user_name, "externalId": record.external_id}
    for key, value in (record.attributes or {}).items():
        _flatten(str(key), value, flat)
    flat["manager"] = str(record.manager_id) if record.manager_id is not None else None
    flat[ACCOUNT_EMAIL] = _account_email(record)
    return {path: value for path, value in flat.items() if value not in (None, "", [], {})}


#: The host account's sign-in address in a :func:`snapshot`: a rename that moves it
#: is an account change, one that does not is a change of the SCIM record only.
ACCOUNT_EMAIL = "account.email"
#: The paths whose values name a person: kept on the entry (``names``), searched there.
NAME_PATHS = frozenset(
    {
        "userName",
        "externalId",
        "displayName",
        "nickName",
        "name.givenName",
        "name.familyName",
        "name.middleName",
        "name.formatted",
        "emails",
        ACCOUNT_EMAIL,
    }
)
#: Paths whose change is a change of identity (:func:`update_entries` says whether
#: the account's sign-in address followed).
IDENTITY_PATHS = ("userName", "emails")


def _account_email(record: SCIMUser) -> Any:
    """The account's sign-in address, read from the account the write already loaded.

    Read, never re-derived: when the login moves is the write path's rule
    (:mod:`.provisioning.users`); the timeline records what came of it. An
    account not loaded by the write is not fetched (no extra query).
    """
    if record.user_id is None or not SCIMUser._meta.get_field("user").is_cached(record):
        return None
    return getattr(record.user, get_adapter().email_field, None) or None


def _flatten(path: str, value: Any, into: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{path}.{key}", item, into)
    else:
        into[path] = value


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{path: [old, new]}`` for every path whose value differs; secrets redacted.

    A path named like a secret keeps only the fact that it changed; any other
    value is redacted as the request log's summary is (tokens replaced, long
    strings and lists cut).
    """
    changes: dict[str, list[Any]] = {}
    for path in sorted(before.keys() | after.keys()):
        old, new = before.get(path), after.get(path)
        if old != new:
            changes[path] = [_safe(path, old), _safe(path, new)]
    return changes


def _safe(path: str, value: Any) -> Any:
    if value is None:
        return None
    if is_secret_name(path):
        return REDACTED
    return redact(value, path.rsplit(".", 1)[-1])


# -- entries ----------------------------------------------------------------------------


def _entry(
    scope: TeamScope, person: Person, action: TimelineAction, **fields: Any
) -> SCIMUserEvent:
    facts = request_context.current()
    return SCIMUserEvent(
        team_id=scope.team_id,
        scim_user_id=person.scim_user_id,
        user_name=person.user_name[:255],
        account_id=person.account_id,
        action=action,
        token_id=facts.token_id if facts else None,
        token_prefix=facts.token_prefix if facts else "",
        request_id=facts.request_id if facts else None,
        **fields,
    )


def user_entry(
    record: SCIMUser, action: TimelineAction, changes: dict[str, list[Any]] | None = None
) -> SCIMUserEvent:
    """An entry about ``record`` (unsaved): created, linked, updated, (de/re)activated, removed."""
    return _entry(TeamScope(record.team_id), Person.of(record), action, changes=changes or {})


def created_entry(record: SCIMUser) -> SCIMUserEvent:
    """The entry of a record just created: every attribute it was given, and ``active``."""
    action = TimelineAction.CREATED if record.created_account else TimelineAction.LINKED
    changes = field_changes({}, snapshot(record))
    changes["active"] = [None, record.active]
    return user_entry(record, action, changes)


def update_entries(
    record: SCIMUser, before: dict[str, Any], was_active: bool
) -> list[SCIMUserEvent]:
    """The entries of an update of ``record`` whose :func:`snapshot` was ``before``.

    The fields that changed, if any; then the deactivation or reactivation, if any.
    """
    entries = []
    after = snapshot(record)
    changes = field_changes(before, after)
    if changes:
        entry = user_entry(record, TimelineAction.UPDATED, changes)
        renamed = [path for path in IDENTITY_PATHS if path in changes]
        if renamed and record.user_id is not None:
            entry.outcome = {
                "fields": renamed,
                "login": after.get(ACCOUNT_EMAIL) or "",
                "login_changed": ACCOUNT_EMAIL in changes,
            }
        entries.append(entry)
    if record.active != was_active:
        action = TimelineAction.REACTIVATED if record.active else TimelineAction.DEACTIVATED
        entries.append(user_entry(record, action))
    return entries


def group_entries(
    group: SCIMGroup, action: TimelineAction, people: Iterable[Person]
) -> list[SCIMUserEvent]:
    """One entry per person who joined or left ``group`` (unsaved)."""
    scope = TeamScope(group.team_id)
    return [
        _entry(scope, person, action, group_id=group.pk, group_name=group.display_name)
        for person in people
    ]


def role_entry(team_id: Any, person: Person, old: Any, new: Any) -> SCIMUserEvent:
    """``person`` was given the team role ``new`` (was ``old``) through their groups (unsaved).

    ``team_id`` is the team's key or its :class:`~scim_provisioning.scope.TeamScope`.
    A role is a value of the host's role field (text, a boolean, a level: see
    ``role_values``); the entry keeps it as JSON, and as text in ``role``.
    """
    return _entry(
        TeamScope.of(team_id),
        person,
        TimelineAction.ROLE_GRANTED,
        role=str(new)[:64],
        changes={"role": [_as_json(old), _as_json(new)]},
    )


def _as_json(role: Any) -> Any:
    return role if role is None or isinstance(role, (str, bool, int, float)) else str(role)


def refused_entry(refused: Refused, detail: str) -> SCIMUserEvent:
    """The site refused the person a link or a seat (unsaved; written after the rollback).

    A refused create has no SCIM record: the entry has no SCIM id and is found
    by the userName the IdP sent.
    """
    person = Person(
        uuid.UUID(refused.resource_id) if refused.resource_id else None,
        refused.user_name or refused.email,
        refused.user_id,
    )
    return _entry(
        TeamScope(refused.team_id),
        person,
        TimelineAction.REFUSED,
        changes={"refused": [None, detail]},
    )


def failed_entry(scope: TeamScope, person: Person, outcome: dict[str, Any]) -> SCIMUserEvent:
    """A write of the IdP about ``person`` that failed: what it got (unsaved).

    ``outcome`` holds the status, ``scimType`` and detail of the SCIM error and
    the hint (:mod:`.failed_writes`). Written after the write's transaction
    rolled back, like a refusal.
    """
    return _entry(scope, person, TimelineAction.WRITE_FAILED, outcome=outcome)


def person_entry(
    scope: TeamScope,
    person: Person,
    action: TimelineAction,
    changes: dict[str, Any] | None = None,
) -> SCIMUserEvent:
    """An entry about ``person``, who may have no SCIM record any more (a held DELETE)."""
    return _entry(scope, person, action, changes=changes or {})


def record(entries: Iterable[SCIMUserEvent]) -> None:
    """Save ``entries`` in the current transaction: one INSERT (per backend batch), none if empty.

    All entries of one change share one time, so they list in the order given.
    Each entry keeps the names its changes gave the person (``names``, one per
    line): :func:`matching_people` finds people by them, at no statement of
    their own (issue 27: a separate INSERT of each new name was one of a
    create's eleven statements).
    """
    rows = list(entries)
    if not rows:
        return
    now = timezone.now()
    for row in rows:
        row.created = now
        row.names = NAME_SEPARATOR.join(sorted(_names(row)))
    TIMELINE_ENTRIES.run(rows)  # compiled once for a few rows (the usual one)


#: Between the names of an entry (``SCIMUserEvent.names``). :func:`fold` takes it out of
#: every name and every searched text, so a search never spans two names.
NAME_SEPARATOR = "\n"


def _names(row: SCIMUserEvent) -> set[str]:
    """Every name (folded) that the entry's changes mention, if it is about a SCIM record."""
    names: set[str] = set()
    if row.scim_user_id is None:
        return names
    for path, values in (row.changes or {}).items():
        if path in NAME_PATHS and isinstance(values, list):
            _add_texts(values, names)
    return names


def _add_texts(value: Any, names: set[str]) -> None:
    """Add to ``names`` the strings in a change's value: a string, or the ``value`` of a
    list's items. Added as found, not yielded: a generator per value and per item was
    most of what naming a create's entry cost."""
    if isinstance(value, str):
        folded = fold(value)
        if folded and folded != _FOLDED_REDACTED:
            names.add(folded)
    elif isinstance(value, list):
        for item in value:
            _add_texts(item.get("value") if isinstance(item, dict) else item, names)


def fold(text: str) -> str:
    """``text`` as names are kept and searched: stripped, case-folded, storable, ≤ 255."""
    return clean(text).replace(NAME_SEPARATOR, " ").strip().casefold()[:255]


#: A redacted value, folded: never a name (folded once, not per value).
_FOLDED_REDACTED = fold(REDACTED)


# -- reading ----------------------------------------------------------------------------


def team_timeline(
    team: Any, *, person: str = "", action: str = "", limit: int = DEFAULT_LIMIT
) -> QuerySet[SCIMUserEvent]:
    """The team's entries, newest first, at most ``limit``: the team scope before any filter.

    ``person`` is a SCIM user id, or a userName or email matched case-insensitively:
    the entries of whoever has it now (also those from before a rename) and the
    entries recorded under it (also of a record since deleted). ``action`` is a
    :class:`TimelineAction` value; an unknown one matches nothing. ``team`` is a
    host team, its key or its :class:`~scim_provisioning.scope.TeamScope`.
    """
    scope = TeamScope.of(team)
    entries = scope.filter(SCIMUserEvent.objects.all())
    if action:
        entries = entries.filter(action=action)
    person = person.strip()
    if person:
        entries = entries.filter(_person(scope, person))
    return entries[:limit]


def matching_people(scope: TeamScope, text: str) -> Q:
    """A filter of the team's SCIM users: whoever ever had a name containing ``text``.

    Case-insensitive substring of any userName, email, name or externalId they
    had (:class:`SCIMPersonName`), or have now (people provisioned before names
    were kept). ``%`` and ``_`` are literal (Django escapes ``LIKE``). The
    caller filters by team first; this adds one subquery.
    """
    text = clean(text)  # a NUL reached PostgreSQL's LIKE (issue 21): U+FFFD matches nobody
    return (
        _had_name(scope, text, "pk")
        | Q(user_name__icontains=text)
        | Q(email__icontains=text)
        | Q(external_id__icontains=text)
    )


def _had_name(scope: TeamScope, text: str, field: str) -> Q:
    """``field`` is the SCIM id of someone of the team given a name containing ``text``: on
    a timeline entry (``SCIMUserEvent.names``), or on one pruned since (:class:`SCIMPersonName`).
    """
    folded = fold(text)
    pruned = scope.filter(SCIMPersonName.objects.filter(folded__contains=folded))
    kept = scope.filter(SCIMUserEvent.objects.filter(names__contains=folded))
    return Q(**{f"{field}__in": pruned.values("scim_user_id")}) | Q(
        **{f"{field}__in": kept.exclude(scim_user_id=None).values("scim_user_id")}
    )


def _person(scope: TeamScope, person: str) -> Q:
    try:
        return Q(scim_user_id=uuid.UUID(person))
    except ValueError:
        pass
    person = clean(person)
    current = scope.filter(SCIMUser.objects.all()).filter(
        Q(user_name__icontains=person) | Q(email__icontains=canonical_email(person) or person)
    )
    return (
        _had_name(scope, person, "scim_user_id")
        | Q(scim_user_id__in=current.values("pk"))
        | Q(user_name__icontains=person)
    )


@dataclass(frozen=True)
class TimelinePage:
    """A team's timeline as a page shows it: the entries and the filter that chose them."""

    entries: list[SCIMUserEvent]
    person: str = ""
    action: str = ""
    limit: int = DEFAULT_LIMIT
    actions: tuple[tuple[str, str], ...] = tuple(TimelineAction.choices)

    @property
    def filtered(self) -> bool:
        return bool(self.person or self.action)


def timeline_page(team: Any, *, person: str = "", action: str = "") -> TimelinePage:
    """The newest entries of ``team`` (a host team, its key or its scope) matching ``person``
    and ``action`` (:func:`team_timeline`)."""
    person, action = person.strip()[:255], action.strip()[:32]
    entries = list(team_timeline(team, person=person, action=action))
    return TimelinePage(entries=entries, person=person, action=action)


def person_timeline(record: SCIMUser, *, limit: int = DEFAULT_LIMIT) -> QuerySet[SCIMUserEvent]:
    """``record``'s own entries, newest first."""
    scope = TeamScope(record.team_id)
    return scope.filter(SCIMUserEvent.objects.filter(scim_user_id=record.pk))[:limit]
