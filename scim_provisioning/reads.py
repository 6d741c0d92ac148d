"""The one seam for compiled reads: every query that compiles its SQL once lives here.

The hottest reads have a fixed shape: a record by id, a page of a list (no
filter, or one exact comparison), a token by digest, what a create reads before
it writes, a user's groups, a group's members; so have a few writes: the
deprovisioning guard's conditional ``UPDATE`` (:class:`Update`), the clearing of
an address's refusals (:class:`Delete`), the rows every create inserts into this
app's own tables, the timeline entry and the record's values (:class:`Insert`:
the same rows and one statement either way, without ``RETURNING`` when
compiled), the SCIM record itself (:class:`InsertRecord`: the ``INSERT`` its
``save()`` sends, which sends it instead when a save receiver listens), and the
record every PUT and PATCH saves (:class:`Save`).
Each read is a :class:`Read`: a function that builds its queryset with the
ORM, and the same function compiled once per process and database
(:class:`~.prepared.PreparedQuery`, which reuses Django's compiler internals).
``SCIM_PROVISIONING_COMPILED_QUERIES`` chooses: on (the default), the compiled
SQL runs; off, the ORM builds each query every time and no compiler internal
is touched. Both give the same SQL, so the same rows and the same number of
statements; the compiled one saves the building.

What a read finds beyond its records comes back in a typed result, never as
an attribute set on the records: :class:`Found` (a record by id), :class:`Page`
(a list page), :class:`TokenCheck` (a token by digest) and :class:`BeforeCreate`
(what a create reads first). The columns a query adds for them (``_scim_*``)
are taken off the instances before they leave this module.

There is one token rule, :func:`token_rule` (not revoked, not expired, the
team's SCIM on): a read, a write's locked read and a create's first read check
a remembered token by it inside their own query (an uncorrelated EXISTS), and
the full lookup (:func:`token_by_digest`) reads the same two conditions as columns.

Nothing but this module imports :mod:`.prepared`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.signals import setting_changed
from django.db import connections, models
from django.db.models import (
    Aggregate,
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.dispatch import receiver
from django.utils import timezone

from .conf import app_settings
from .filters import Equality
from .models import (
    SCIMGroupMembership,
    SCIMLinkRefusal,
    SCIMTeamConfig,
    SCIMTeamDomain,
    SCIMToken,
    SCIMUser,
    SCIMUserEvent,
    SCIMUserValue,
)
from .prepared import (
    PreparedDelete,
    PreparedInsert,
    PreparedQuery,
    PreparedSave,
    PreparedUpdate,
    delete_receivers,
    save_receivers,
)
from .scope import TeamScope

if TYPE_CHECKING:
    from .resource_types import ResourceType

__all__ = [
    "BeforeCreate",
    "Delete",
    "Found",
    "GroupRow",
    "HostRow",
    "Insert",
    "InsertRecord",
    "Page",
    "Question",
    "Read",
    "Save",
    "TokenCheck",
    "TIMELINE_ENTRIES",
    "TokenRule",
    "USER_RECORD_INSERT",
    "USER_RECORD_SAVE",
    "USER_VALUES",
    "Update",
    "before_create",
    "compiled_queries",
    "delete_receivers",
    "groups_of_user",
    "groups_of_users",
    "list_page",
    "locked_by_id",
    "members_of_group",
    "members_of_groups",
    "record_by_id",
    "record_by_legacy_id",
    "token_by_digest",
    "token_rule",
    "token_still_valid",
]

# -- the setting ----------------------------------------------------------------------------


def compiled_queries() -> bool:
    """Whether the compiled SQL runs (``SCIM_PROVISIONING_COMPILED_QUERIES``)."""
    return app_settings.COMPILED_QUERIES


class Read:
    """One read of a fixed shape: ``build(**values)`` is its queryset.

    ``parameters`` names each value and the model field that prepares it for the
    database (see :class:`~.prepared.PreparedQuery`). :meth:`all` and :meth:`rows`
    run the compiled SQL when compiled queries are on, the ORM's queryset otherwise.
    """

    def __init__(
        self,
        model: type[models.Model],
        build: Callable[..., QuerySet],
        parameters: dict[str, models.Field],
    ) -> None:
        self.build = build
        self.compiled = PreparedQuery(model, build, parameters)

    def all(self, **values: Any) -> list[Any]:
        """Model instances (with their annotations: this module reads them)."""
        if compiled_queries():
            return self.compiled.all(**values)
        return list(self.build(**values))

    def rows(self, **values: Any) -> list[tuple]:
        """The rows of a ``values_list()`` query."""
        if compiled_queries():
            return self.compiled.rows(**values)
        return list(self.build(**values))


class Update:
    """One ``UPDATE`` of a fixed shape: ``build(**values)`` is its queryset and its changes.

    What ``queryset.update(**changes)`` takes; :meth:`run` gives how many rows
    matched, by the compiled SQL (:class:`~.prepared.PreparedUpdate`) when
    compiled queries are on, by the ORM otherwise.
    """

    def __init__(
        self,
        model: type[models.Model],
        build: Callable[..., tuple[QuerySet, dict[str, Any]]],
        parameters: dict[str, models.Field],
    ) -> None:
        self.build = build
        self.compiled = PreparedUpdate(model, build, parameters)

    def run(self, **values: Any) -> int:
        """Update the rows for ``values`` in the caller's transaction; how many matched."""
        if compiled_queries():
            return self.compiled.run(**values)
        queryset, changes = self.build(**values)
        return int(queryset.update(**changes))


class Insert:
    """``INSERT`` of a few new rows of one model, for a write that makes them on every request.

    :meth:`run` writes the rows by the compiled SQL (:class:`~.prepared.PreparedInsert`)
    when compiled queries are on and there are at most ``max_rows``, by
    ``bulk_create`` otherwise: one statement either way, the same rows. The new
    rows' keys are not read back (the compiled one has no ``RETURNING``).
    """

    def __init__(self, model: type[models.Model], max_rows: int = 4) -> None:
        self.model = model
        self.compiled = PreparedInsert(model, max_rows)

    def run(self, rows: list[Any]) -> None:
        """Insert ``rows`` in the caller's transaction."""
        if compiled_queries() and self.compiled.run(rows):
            return
        self.model._default_manager.bulk_create(rows)


#: A user's values (:meth:`~.models.SCIMUser.write_values`): a create writes one to three.
USER_VALUES = Insert(SCIMUserValue)
#: Timeline entries (:func:`~.timeline.record`): one per user write, many per group change.
TIMELINE_ENTRIES = Insert(SCIMUserEvent)


class InsertRecord:
    """``INSERT`` of one new record of this app, as ``record.save(force_insert=True)`` writes it.

    For a record whose key is made in Python (a UUID): ``save()`` then sends no
    ``RETURNING``, and its ``INSERT`` is the one :class:`~.prepared.PreparedInsert`
    compiles once (the same columns, each value by the field's ``pre_save`` and
    ``get_db_prep_save``), where Django compiles it on every create (half of the
    record's insert, issue 27). :meth:`run` takes the compiled SQL only when
    nothing of ``save()`` would be skipped: compiled queries on, and no
    ``pre_save``/``post_save`` receiver of the model (none is promised: the app's
    own signals, :mod:`.signals`, are what a host receives; a receiver connected
    later sends the record back to ``save()``). Otherwise, ``save()``.
    """

    def __init__(self, model: type[models.Model]) -> None:
        meta = model._meta
        self.model = model
        self.compiled = PreparedInsert(model, max_rows=1)
        # Whether save()'s machinery does no more than one INSERT of every concrete field
        # (a model that would make it do more, or read a key back, is always saved); a
        # save() of the model's own and its receivers are asked on each run.
        self._one_insert = (
            model.save_base is models.Model.save_base
            and not meta.parents
            and not meta.db_returning_fields
            and not meta.order_with_respect_to
            and not any(field.generated for field in meta.concrete_fields)
        )

    def run(self, record: models.Model) -> None:
        """Insert ``record`` in the caller's transaction (no savepoint, as ``save()``)."""
        if not (
            self._one_insert
            and compiled_queries()
            and not save_receivers(self.model)
            and self.compiled.run([record])
        ):
            record.save(force_insert=True)


#: A new SCIM user (:func:`~.provisioning.users.create_user`): every create inserts one.
USER_RECORD_INSERT = InsertRecord(SCIMUser)


class Save:
    """``Model.save()`` of an instance that exists, for a write that saves one on every request.

    :meth:`run` writes the row by the compiled ``UPDATE`` (:class:`~.prepared.PreparedSave`:
    the statement ``save()`` runs, without the ORM's building of it) when compiled
    queries are on and ``save()`` would do nothing more (no ``save()`` of the
    model's own, no ``pre_save``/``post_save`` receiver), by ``save()`` otherwise:
    one statement either way, the same row.
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.compiled = PreparedSave(model)

    def run(self, row: models.Model) -> None:
        """Save ``row`` (every field) in the caller's transaction."""
        if compiled_queries() and not save_receivers(self.model) and self.compiled.run(row):
            return
        row.save()


#: A user's record, saved by every PUT and PATCH (:func:`~.provisioning.users.update_user`).
USER_RECORD_SAVE = Save(SCIMUser)


class Delete:
    """One ``DELETE`` of a fixed shape: ``build(**values)`` is the queryset it deletes.

    :meth:`run` gives how many rows went, by the compiled SQL
    (:class:`~.prepared.PreparedDelete`: only what the ORM deletes in one
    statement, with no receiver) when compiled queries are on, by
    ``QuerySet.delete()`` otherwise. ``related_deleted_first``: the caller dealt
    with every row that points at the rows before, so either way, with no delete
    receiver, the rows go by their one ``DELETE``: the same statements.
    """

    def __init__(
        self,
        model: type[models.Model],
        build: Callable[..., QuerySet],
        parameters: dict[str, models.Field],
        *,
        related_deleted_first: bool = False,
    ) -> None:
        self.build = build
        self.model = model
        self.related_deleted_first = related_deleted_first
        self.compiled = PreparedDelete(
            model, build, parameters, related_deleted_first=related_deleted_first
        )

    def run(self, **values: Any) -> int:
        """Delete the rows for ``values`` in the caller's transaction; how many there were."""
        if compiled_queries():
            return self.compiled.run(**values)
        rows = self.build(**values)
        if self.related_deleted_first and not delete_receivers(self.model):
            # The collector would look again at what the caller dealt with (a statement
            # per relation): the rows' own DELETE, as the compiled one runs.
            return int(rows._raw_delete(rows.db))
        return int(rows.delete()[0])


# -- the token rule -------------------------------------------------------------------------


class TokenRule(NamedTuple):
    """Conditions on a :class:`~.models.SCIMToken` row; a token may be used when both hold."""

    #: Not revoked, not expired.
    live: Q
    #: Its team's SCIM switch is on (a team without a config row is off).
    team_on: Exists


def token_rule(now: datetime) -> TokenRule:
    """The one rule of a usable token at ``now``: every check of a token applies it."""
    # The team's config by the token's team id, not through the team's table: one table
    # fewer for PostgreSQL to plan in every GET's EXISTS (issue 27: 0.17 -> 0.14 ms).
    switched_on = SCIMTeamConfig.objects.filter(team_id=OuterRef("team_id"), enabled=True)
    return TokenRule(
        live=Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now)),
        team_on=Exists(switched_on),
    )


def token_still_valid(token_digest: str, now: datetime | None = None) -> Exists:
    """True in SQL while the token may be used (:func:`token_rule`), as a read's EXISTS."""
    rule = token_rule(now or timezone.now())
    return Exists(SCIMToken.objects.filter(rule.live, rule.team_on, digest=token_digest))


def _with_token_check(records: QuerySet, token_digest: str | None, now: Any) -> QuerySet:
    if token_digest is None:
        return records
    return records.annotate(_scim_token_ok=token_still_valid(token_digest, now))


@dataclass(frozen=True)
class TokenCheck:
    """A token looked up by digest: the row (with its team and config), and the rule's verdict.

    ``token`` is ``None`` when no token has the digest.
    """

    token: SCIMToken | None
    live: bool = False
    team_on: bool = False


def _token_by_digest(digest: str, now: Any) -> QuerySet:
    rule = token_rule(now)
    return (
        SCIMToken.objects.select_related("team__scim_config")
        .filter(digest=digest)
        .annotate(
            _scim_live=ExpressionWrapper(rule.live, output_field=BooleanField()),
            _scim_team_on=rule.team_on,
        )
    )


_TOKEN_BY_DIGEST = Read(
    SCIMToken,
    _token_by_digest,
    {"digest": SCIMToken._meta.get_field("digest"), "now": SCIMToken._meta.get_field("expires_at")},
)


def token_by_digest(digest: str) -> TokenCheck:
    """The token whose digest is ``digest``, its team and config, judged by :func:`token_rule`."""
    found = _TOKEN_BY_DIGEST.all(digest=digest, now=timezone.now())  # unique: one row or none
    if not found:
        return TokenCheck(None)
    token = found[0]
    live, team_on = _take(token, "_scim_live"), _take(token, "_scim_team_on")
    return TokenCheck(token, live=bool(live), team_on=bool(team_on))


# -- what a create reads before it writes ---------------------------------------------------


@dataclass(frozen=True)
class BeforeCreate:
    """What a create must know before it writes, read in its first statement (issue 27).

    ``proven_domains``: the domains the team proved (DNS TXT; the staff-set ones are
    a column of its config). ``refused``: whether the address has a refusal to clear
    once the person is seated. ``token_ok`` and ``config``: whether the request's
    token may still be used and the team's :class:`~.models.SCIMTeamConfig` (``None``:
    none), when the read checked the token (``None``: not checked, the config not
    read). ``found``: whether the team's row was there at all.
    """

    found: bool
    proven_domains: frozenset[str] = frozenset()
    refused: bool = False
    token_ok: bool | None = None
    config: Any | None = None


#: The columns of :func:`before_create`'s row.
_PROVEN = "_scim_proven"
_REFUSED = "_scim_refused"


@cache
def _before_create_read(checked: bool) -> Read:
    """:func:`before_create`'s query: the team's row, the token's rule and the config when
    ``checked``; the team, the address (and the token) are parameters."""
    team_model = SCIMTeamConfig._meta.get_field("team").related_model
    parameters = {
        "team_id": team_model._meta.pk,
        "email": SCIMLinkRefusal._meta.get_field("email"),
    }
    if checked:
        parameters["digest"] = SCIMToken._meta.get_field("digest")
        parameters["now"] = SCIMToken._meta.get_field("expires_at")

    def build(team_id: Any, email: Any, digest: Any = None, now: Any = None) -> QuerySet:
        # The team's own row, whatever its default manager hides (the token names it),
        # in no order (a host's Meta.ordering would sort the one row).
        team = team_model._base_manager.filter(pk=team_id).order_by()
        refusals = SCIMLinkRefusal.objects.filter(team_id=OuterRef("pk"), email=email)
        team = team.annotate(**{_REFUSED: Exists(refusals)})
        if connections[team.db].vendor in _JSONRows.VENDORS:
            proven = (
                SCIMTeamDomain.objects.filter(team_id=OuterRef("pk"), verified_at__isnull=False)
                .order_by()
                .values("team_id")
                .annotate(domains=_JSONRows("domain"))
                .values("domains")
            )
            team = team.annotate(**{_PROVEN: Subquery(proven, output_field=TextField())})
        if not checked:
            # The answers alone: no instance of the team to make (/Bulk, a token looked up).
            return team.values_list(*team.query.annotations)
        # Outer-joined: a team without a config reads None (its SCIM is off).
        return _with_token_check(team.select_related("scim_config"), digest, now)

    return Read(team_model, build, parameters)


def before_create(team_id: Any, email: str, digest: str | None) -> BeforeCreate:
    """What a create of ``email`` for the team must know before it writes, in one query:
    the domains the team proved and whether ``email`` has a refusal; with ``digest``, the
    token checked (:func:`token_rule`) and the team's config read too (issue 27: the
    token's full lookup is then not run). Compiled once per process.
    """
    read = _before_create_read(digest is not None)
    if digest is None:
        rows = read.rows(team_id=team_id, email=email)
        if not rows:
            return BeforeCreate(found=False)
        refused, *proven = rows[0]
        return BeforeCreate(True, _proven(team_id, proven), bool(refused))
    teams = read.all(team_id=team_id, email=email, digest=digest, now=timezone.now())
    if not teams:
        return BeforeCreate(found=False)
    team = teams[0]
    proven = [_take(team, _PROVEN)] if _PROVEN in team.__dict__ else []
    return BeforeCreate(
        True,
        _proven(team_id, proven),
        bool(_take(team, _REFUSED)),
        token_ok=bool(_take(team, "_scim_token_ok")),
        config=_config_of(team),
    )


def _proven(team_id: Any, read: list[Any]) -> frozenset[str]:
    """The domains the team proved: as :func:`before_create` read them (``[text]``, JSON),
    or, on a database without JSON aggregates (``[]``), by a query of their own."""
    if read:
        return frozenset(domain for (domain,) in json.loads(read[0] or "[]"))
    return frozenset(
        SCIMTeamDomain.objects.filter(team_id=team_id, verified_at__isnull=False)
        .order_by()
        .values_list("domain", flat=True)
    )


# -- records by id --------------------------------------------------------------------------


class GroupRow(NamedTuple):
    """One group of a user: (user id, group id, the group's displayName)."""

    user_id: Any
    group_id: uuid.UUID
    display: str | None


@dataclass(frozen=True)
class HostRow:
    """A host's row a write reads with the record it locks (issue 27: one statement fewer).

    ``rows(team, user)`` is the host's rows of the record's team and account (the
    two given as expressions of the record's ``team_id`` and ``user_id``), first
    row first; the first is read, each column by a subquery of the locked read,
    and comes back as an instance of ``model`` (:attr:`Found.host_row`) with the
    annotations ``keep`` names set on it. Hashable: the query is compiled once
    per shape, so a shape is made once per process (its maker cached).
    """

    model: type[models.Model]
    rows: Callable[[Any, Any], QuerySet]
    keep: tuple[str, ...] = ()


@dataclass(frozen=True)
class Found:
    """A record read by id (or ``None``), and what came with it.

    ``token_ok``: whether the request's token may still be used, when the read
    checked it (``None``: not checked). ``groups``: a user's groups, when they
    were read in the same query (``None``: not read). ``host_row``: the
    :class:`HostRow` a locked read was asked for (``None`` when there is none),
    when ``host_row_read``. ``config``: the team's :class:`~.models.SCIMTeamConfig`,
    when a locked read checked the token (a write needs the team's policy:
    ``None`` for a team without one, or when not read). ``asked``: the names of
    the :class:`Question` s a locked read answered; ``existing``: those whose rows exist.
    """

    record: Any | None
    token_ok: bool | None = None
    groups: tuple[GroupRow, ...] | None = None
    host_row: Any | None = None
    host_row_read: bool = False
    config: Any | None = None
    asked: frozenset[str] = frozenset()
    existing: frozenset[str] = frozenset()

    def may_have(self, name: str) -> bool:
        """Whether the rows of the question ``name`` may exist: ``False`` only when the
        read asked and found none (a write then spends no statement on them)."""
        return name not in self.asked or name in self.existing


@dataclass(frozen=True)
class Question:
    """Whether rows exist that a write changes by a statement of its own, asked by the
    write's locked read as an ``EXISTS`` (issue 27: the statement spent only when they do).

    ``rows()`` is a queryset of them whose values are ``OuterRef`` s of the record's
    columns (an index lookup). Hashable, made once per process: the locked read is
    compiled once per shape.
    """

    name: str
    rows: Callable[[], QuerySet]


@cache
def _by_id(
    kind: ResourceType,
    checked: bool,
    locked: bool,
    linked: bool = True,
    host_row: HostRow | None = None,
    questions: tuple[Question, ...] = (),
) -> Read:
    """The record-by-id query of ``kind``; the team, id (and token) are parameters.

    With the token's validity when ``checked``; locked, for a write, when
    ``locked``; with what an answer links to (a user's groups) when ``linked``:
    a write that answers with the record it locked reads them in the same query
    (a user's write never changes their groups; issue 27), a DELETE does not.
    A locked read brings the ``host_row`` too, when given (:func:`_with_host_row`),
    and, when ``checked``, the team's config row, which the write needs
    (:func:`_with_team_config`): the token's full lookup is then not run at all;
    and the answers to ``questions`` (each an ``EXISTS``).
    """
    model = kind.model
    parameters = {"team_id": model._meta.get_field("team"), "pk": model._meta.pk}
    if checked:
        parameters["digest"] = SCIMToken._meta.get_field("digest")
        parameters["now"] = SCIMToken._meta.get_field("expires_at")

    def build(team_id: Any, pk: Any, digest: Any = None, now: Any = None) -> QuerySet:
        if locked:
            records = kind.for_update(TeamScope(team_id)).filter(pk=pk)
            records = _with_links(kind, records) if linked else records
            records = records.annotate(
                **{f"{_ASKED}{question.name}": Exists(question.rows()) for question in questions}
            )
            records = _with_host_row(records, host_row) if host_row is not None else records
            if checked:
                records = _with_token_check(_with_team_config(records), digest, now)
            return records
        records = _with_links(kind, kind.queryset(TeamScope(team_id)).filter(pk=pk))
        return _with_token_check(records, digest, now)

    return Read(model, build, parameters)


def record_by_id(kind: ResourceType, team_id: Any, pk: uuid.UUID, digest: str | None) -> Found:
    """The team's record ``pk`` of ``kind`` in one query; with ``digest``, the token checked too."""
    values: dict[str, Any] = {"team_id": team_id, "pk": pk}
    if digest is not None:
        values.update(digest=digest, now=timezone.now())
    rows = _by_id(kind, digest is not None, False).all(**values)
    return _found(rows[0] if rows else None, checked=digest is not None)


def locked_by_id(
    kind: ResourceType,
    team_id: Any,
    pk: uuid.UUID,
    *,
    linked: bool,
    host_row: HostRow | None = None,
    digest: str | None = None,
    questions: tuple[Question, ...] = (),
) -> Found:
    """The team's record ``pk`` locked for a read-modify-write.

    ``linked``: with what the write's answer links to (:attr:`Found.groups`);
    ``host_row``: with that row of the host (:attr:`Found.host_row`); ``digest``:
    the token is checked in the same statement (:attr:`Found.token_ok`), and the
    team's config read with it (:attr:`Found.config`), for a token not checked
    before (``None``: it was); ``questions``: answered (:meth:`Found.may_have`).
    Under the record's lock.
    """
    values: dict[str, Any] = {"team_id": team_id, "pk": pk}
    if digest is not None:
        values.update(digest=digest, now=timezone.now())
    rows = _by_id(kind, digest is not None, True, linked, host_row, questions).all(**values)
    found = _found(rows[0] if rows else None, checked=digest is not None)
    if found.record is None:
        return found
    if digest is not None:
        found = replace(found, config=_team_config_read_with(found.record))
    if questions:
        names = [question.name for question in questions]
        existing = [name for name in names if _take(found.record, f"{_ASKED}{name}")]
        found = replace(found, asked=frozenset(names), existing=frozenset(existing))
    if host_row is None:
        return found
    return replace(found, host_row=_host_row_read_with(found.record, host_row), host_row_read=True)


def _with_team_config(records: QuerySet) -> QuerySet:
    """``records`` with their team's config row: through the team's primary key (the
    config's own), outer-joined (a team without one reads ``None``). The lock stays
    the record's own (``FOR UPDATE OF`` the record): the config is read, not locked,
    as the token's lookup read it (the guard changes it by a conditional UPDATE)."""
    return records.select_related("team__scim_config")


def _team_config_read_with(record: Any) -> SCIMTeamConfig | None:
    """The team's config :func:`_with_team_config` read with ``record`` (``None``: none).

    The config keeps its team (as the token's lookup left it); the record does not:
    its ``team`` stays what it was without the fold, read when asked for.
    """
    team_field = record._meta.get_field("team")
    team = team_field.get_cached_value(record)
    team_field.delete_cached_value(record)
    return _config_of(team)


def _config_of(team: Any) -> SCIMTeamConfig | None:
    """The config a query read with ``team`` (``select_related``); ``None``: the team has none."""
    try:
        config: SCIMTeamConfig = team.scim_config
    except SCIMTeamConfig.DoesNotExist:
        return None
    return config


#: The columns of a locked read answering its questions (:class:`Question`).
_ASKED = "_scim_asked_"


#: The columns of a host's row read with a locked record (:func:`_with_host_row`).
_HOST_ROW = "_scim_row_"


def _with_host_row(records: QuerySet, host_row: HostRow) -> QuerySet:
    """``records`` each with the first of the host's rows of its team and account, one
    subquery per column (each an index lookup on the host's (team, user) key): no join,
    so a host with several rows per person still gives one record, and the lock stays
    the record's own (``FOR UPDATE OF`` the record)."""
    rows = host_row.rows(OuterRef("team_id"), OuterRef("user_id"))
    columns = {
        f"{_HOST_ROW}{field.attname}": Subquery(rows.values(field.attname)[:1])
        for field in host_row.model._meta.concrete_fields
    }
    columns.update(
        {f"_scim_kept{i}": Subquery(rows.values(name)[:1]) for i, name in enumerate(host_row.keep)}
    )
    return records.annotate(**columns)


def _host_row_read_with(record: Any, host_row: HostRow) -> Any | None:
    """The host's row read with ``record`` (an instance of its model), or ``None`` if none."""
    fields = host_row.model._meta.concrete_fields
    values = [_take(record, f"{_HOST_ROW}{field.attname}") for field in fields]
    kept = {name: _take(record, f"_scim_kept{i}") for i, name in enumerate(host_row.keep)}
    pk_index = fields.index(host_row.model._meta.pk)
    if values[pk_index] is None:
        return None
    row = host_row.model.from_db(record._state.db, [f.attname for f in fields], values)
    for name, value in kept.items():
        setattr(row, name, value)
    return row


def record_by_legacy_id(
    kind: ResourceType,
    team_id: Any,
    legacy_id: str,
    digest: str | None,
    *,
    locked: bool,
    linked: bool = False,
) -> Found:
    """The team's record another SCIM server named ``legacy_id`` (rare: built by the ORM)."""
    assert kind.legacy_id_field is not None
    if locked:
        records = kind.for_update(TeamScope(team_id))
        if linked:
            records = _with_links(kind, records)
    else:
        records = _with_token_check(kind.queryset(TeamScope(team_id)), digest, timezone.now())
    try:
        # get(), not first(): no ORDER BY to compile or run.
        record = records.get(**{kind.legacy_id_field: legacy_id})
    except records.model.DoesNotExist:
        record = None
    return _found(record, checked=digest is not None and not locked)


def _found(record: Any | None, *, checked: bool) -> Found:
    if record is None:
        return Found(None)
    return Found(
        record,
        token_ok=bool(_take(record, "_scim_token_ok")) if checked else None,
        groups=_groups_read_with(record),
    )


# -- list pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of a list, and what came with it.

    ``total``: the number of records the list selects, carried by the page's rows
    (``None`` when the page is empty: no row carried it). ``token_ok`` as in
    :class:`Found`. ``groups``: each user's groups by id, when they were read in the
    page's query (a lookup by one exact value; ``None``: not read).
    """

    records: list[Any]
    total: int | None
    token_ok: bool | None = None
    groups: Mapping[Any, tuple[GroupRow, ...]] | None = None


#: The team's records of a kind that ``where`` selects, in the list's order:
#: ``matching(kind, scope, where)``. One object per order (it keys compiled shapes).
Matching = Callable[[Any, TeamScope, "Q | None"], QuerySet]


def list_page(
    kind: ResourceType,
    team_id: Any,
    page: slice,
    digest: str | None,
    matching: Matching,
    *,
    where: Q | None = None,
    lookup: str | None = None,
    value: Any = None,
    links: bool = True,
) -> Page:
    """A page of the team's records that ``matching`` orders, in one query.

    Each row carries the total (a scalar subquery the database runs once), with
    ``digest`` the token's validity and, with ``links``, what it links to (a
    user's groups; see :func:`_page_query` for when they come in the same query).
    A list with no filter, or with one exact comparison (``lookup`` with ``value``:
    how IdPs look people and groups up), has the same SQL every time but for its
    values: it runs compiled once per process for its shape. Any other filter
    (``where``) is built by the ORM.
    """
    now = timezone.now()
    if where is not None:
        query = _page_query(kind, TeamScope(team_id), where, page, matching, links=links)
        rows = list(_with_token_check(query, digest, now))
    else:
        read = _page_read(kind, lookup, matching, page.start, page.stop, digest is not None, links)
        values: dict[str, Any] = {"team_id": team_id}
        if lookup is not None:
            values["value"] = value
        if digest is not None:
            values.update(digest=digest, now=now)
        rows = read.all(**values)
    totals = [_take(row, "_scim_total") for row in rows]
    checks = [_take(row, "_scim_token_ok") for row in rows]
    groups = None
    if rows and all(_GROUPS in row.__dict__ for row in rows):
        decoded: dict[Any, list[tuple[uuid.UUID, Any]]] = {}
        groups = {row.pk: _groups_read_with(row, decoded) or () for row in rows}
    return Page(
        rows,
        total=int(totals[0]) if rows else None,
        token_ok=bool(checks[0]) if rows and digest is not None else None,
        groups=groups,
    )


def _page_query(
    kind: ResourceType,
    scope: TeamScope,
    where: Q | None,
    page: slice,
    matching: Matching,
    *,
    links: bool,
) -> QuerySet:
    """The page's query: its records, their total, and with ``links`` (when it pays) their links.

    What the records link to (a user's groups) comes as a subquery per row, which
    the database runs for the rows it returns; PostgreSQL also runs it for each
    row an ``OFFSET`` skips, so there an offset page with links is read by its ids
    first (:func:`_deferred`). On another database (MySQL) only a first page reads
    them in the same query: the others leave them to a query of their own.
    """
    records = matching(kind, scope, where)
    vendor = connections[records.db].vendor
    links = links and kind.links_groups and (vendor in ("sqlite", "postgresql") or not page.start)
    if _deferred(vendor, page, links=links):
        # The page's ids first, then its records by id (a "deferred join"): the
        # offset is walked in the ordering index alone, not row by row in the table.
        ids = records.values("pk")[page.start : page.stop]
        paged = matching(kind, scope, None).filter(pk__in=ids)
    else:
        paged = records[page.start : page.stop]
    paged = paged.annotate(_scim_total=_count_of(records))
    if links:
        paged = _with_links(kind, paged)
    return paged


#: The offset from which PostgreSQL reads a page by its ids first (:func:`_deferred`).
DEFERRED_FROM = 2_000


def _deferred(vendor: str, page: slice, *, links: bool) -> bool:
    """Whether a page is read as its ids first, then its records by id.

    On PostgreSQL, from an offset of :data:`DEFERRED_FROM`, or from the second
    row when the page reads what its records link to (a subquery PostgreSQL would
    run for every skipped row: 40 ms for an offset of 1,000). An ``OFFSET`` over
    the records reads each skipped row from the table; over their ids it walks
    the ordering index only (index-only scan), and the page's rows are then
    read by primary key. At 100,000 people (benchmarks' database, COUNT apart)
    the last page takes 14-19 ms instead of 49-64 ms; below an offset of about
    3,000 the plain page is as fast or faster (offset 1,000: 1.0 ms against
    1.4 ms, the cost of the join).

    Not on SQLite: its ``OFFSET`` already steps the index without reading the
    skipped rows from the table, and it plans the outer query on the team's
    ordering index, walking the team a second time (measured 3-5 times slower).
    Not on MySQL, which refuses ``LIMIT`` in an ``IN`` subquery (a derived table
    would be needed): there a page past the first is read with its ``OFFSET``.
    """
    offset = page.start or 0
    if vendor != "postgresql" or offset == 0:
        return False
    return links or offset >= DEFERRED_FROM


#: Shapes of list query (per resource type, filtered attribute, order and page) kept compiled.
_PREPARED_SHAPES = 256


@lru_cache(maxsize=_PREPARED_SHAPES)
def _page_read(
    kind: ResourceType,
    lookup: str | None,
    matching: Matching,
    start: int,
    stop: int,
    checked: bool,
    links: bool,
) -> Read:
    """The page query of one shape; the team, the compared value and the token are parameters."""
    model = kind.model
    parameters: dict[str, Any] = {"team_id": model._meta.get_field("team")}
    if lookup is not None:
        parameters["value"] = models.TextField()
    if checked:
        parameters["digest"] = SCIMToken._meta.get_field("digest")
        parameters["now"] = SCIMToken._meta.get_field("expires_at")

    def build(team_id: Any, value: Any = None, digest: Any = None, now: Any = None) -> QuerySet:
        where = Equality(lookup, value).q() if lookup is not None else None
        query = _page_query(
            kind, TeamScope(team_id), where, slice(start, stop), matching, links=links
        )
        return _with_token_check(query, digest, now)

    return Read(model, build, parameters)


def _count_of(records: QuerySet) -> Subquery:
    """``COUNT(*)`` of ``records`` as a scalar subquery (uncorrelated: computed once)."""
    counted = (
        records.order_by()
        .annotate(_scim_group=Value(1))
        .values("_scim_group")
        .annotate(_scim_n=Count("pk"))
        .values("_scim_n")
    )
    return Subquery(counted, output_field=IntegerField())


@receiver(setting_changed)
def _forget_shapes(*, setting: str, **kwargs: Any) -> None:
    # A shape's SQL follows the site's extension (what sortBy orders by); tests change it.
    if setting.startswith("SCIM_PROVISIONING_"):
        _page_read.cache_clear()
        _by_id.cache_clear()
        _before_create_read.cache_clear()


# -- what records link to: a user's groups, a group's members -------------------------------

#: The column of a user read with its groups (:func:`_with_links`): the groups as JSON text.
_GROUPS = "_scim_groups"


class _JSONRows(Aggregate):
    """Each row's expressions as a JSON array, the rows' arrays as one JSON array, as text:
    ``(a, b)`` gives ``[[a, b], …]``."""

    output_field = TextField()
    VENDORS = ("sqlite", "postgresql", "mysql")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "JSON_GROUP_ARRAY(JSON_ARRAY(%(expressions)s))"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "(JSON_AGG(JSON_BUILD_ARRAY(%(expressions)s)))::text"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_mysql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "JSON_ARRAYAGG(JSON_ARRAY(%(expressions)s))"
        return self.as_sql(compiler, connection, template=template, **extra)


def _with_links(kind: ResourceType, records: QuerySet) -> QuerySet:
    """Users each carrying their groups, read in the same query (groups as they are).

    Their groups cost no second round trip: a GET by id, a lookup, a page (the
    subquery runs once per row returned, 100 index lookups for a page of 100:
    0.15-0.2 ms on SQLite, less than building and running a query of its own;
    :func:`_page_query` says when a page takes them). On a database without JSON
    aggregates the records come as they are, and their groups are read by a
    query of their own.
    """
    if not kind.links_groups or connections[records.db].vendor not in _JSONRows.VENDORS:
        return records
    pairs = (
        SCIMGroupMembership.objects.filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(pairs=_JSONRows("group_id", "group__display_name"))
        .values("pairs")
    )
    return records.annotate(**{_GROUPS: Subquery(pairs, output_field=TextField())})


def _groups_read_with(
    record: Any, decoded: dict[Any, list[tuple[uuid.UUID, Any]]] | None = None
) -> tuple[GroupRow, ...] | None:
    """The groups read with ``record``; ``decoded``: the texts a page has decoded already.

    People in the same groups carry the same text: a page decodes each text once.
    """
    if _GROUPS not in record.__dict__:
        return None
    text = _take(record, _GROUPS)
    pairs = decoded.get(text) if decoded is not None else None
    if pairs is None:
        # No membership: NULL (PostgreSQL, MySQL) or no row at all. Ids come as the
        # database keeps them (hex on SQLite, with dashes on PostgreSQL): made UUIDs.
        pairs = [(uuid.UUID(str(g)), name) for g, name in json.loads(text or "[]")]
        if decoded is not None:
            decoded[text] = pairs
    return tuple(GroupRow(record.pk, group, name) for group, name in pairs)


def _groups_of(memberships: QuerySet) -> QuerySet:
    """(user id, group id, group displayName) of ``memberships``, in no order."""
    return memberships.order_by().values_list("user_id", "group_id", "group__display_name")


def _members_of(memberships: QuerySet) -> QuerySet:
    """(group id, user id, userName, displayName) of ``memberships``, in the order they joined."""
    return (
        memberships.order_by("created", "id")
        # The text as stored: a values_list of a JSON key would decode
        # "42" into 42 on SQLite.
        .annotate(display_name=KeyTextTransform("displayName", "user__attributes"))
        .values_list("group_id", "user_id", "user__user_name", "display_name")
    )


_GROUPS_OF_USER = Read(
    SCIMGroupMembership,
    lambda user: _groups_of(SCIMGroupMembership.objects.filter(user=user)),
    {"user": SCIMGroupMembership._meta.get_field("user")},
)
_MEMBERS_OF_GROUP = Read(
    SCIMGroupMembership,
    lambda group: _members_of(SCIMGroupMembership.objects.filter(group=group)),
    {"group": SCIMGroupMembership._meta.get_field("group")},
)


def groups_of_user(user_id: Any) -> list[GroupRow]:
    """One user's groups (the answer to one written user): compiled once."""
    return [GroupRow(*row) for row in _GROUPS_OF_USER.rows(user=user_id)]


def groups_of_users(records: list[Any]) -> list[GroupRow]:
    """The groups of a page of users, in one query."""
    # By their ids: the ORM would turn each instance into its id itself, slower.
    memberships = SCIMGroupMembership.objects.filter(user_id__in=[r.pk for r in records])
    return [GroupRow(*row) for row in _groups_of(memberships)]


def members_of_group(group_id: Any) -> list[tuple]:
    """(group id, user id, userName, displayName) of one group's members: compiled once."""
    return _MEMBERS_OF_GROUP.rows(group=group_id)


def members_of_groups(records: list[Any]) -> list[tuple]:
    """The members of a page of groups, in one query."""
    ids = [r.pk for r in records]
    return list(_members_of(SCIMGroupMembership.objects.filter(group_id__in=ids)))


def _take(record: Any, name: str) -> Any:
    """A column a query of this module added, taken off the instance (not an interface)."""
    return record.__dict__.pop(name, None)
