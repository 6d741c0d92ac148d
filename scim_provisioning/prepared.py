"""ORM queries compiled once per process and database, run again with new values.

Building and compiling a queryset costs more than running it: on a GET by id,
about 1.5 ms of Python for a query SQLite answers in 0.05 ms. The hottest
reads have a fixed shape (the same filters every time, only the values
differ), so each is compiled once, by the ORM, and its SQL reused with the
request's values, which are prepared for the database by the same fields the
ORM would use. Rows become model instances as the ORM's own iterable makes
them (``Model.from_db``, then each annotation), with the ORM's converters.

A query is compiled from stand-in values made for it (a random UUID, a random
large integer, a random string, an odd date): each parameter's positions in
the SQL are where its stand-in appears, so no real value can be mistaken for
a constant of the query, or one parameter for another. A parameter whose
stand-in does not reach the SQL as it is (a lookup that rewrites its value,
such as a LIKE pattern's escaping) leaves the query uncached: it runs through
the ORM every time. Use it for comparisons that pass values through.

What is shared between threads is only immutable: a SQL string and the
positions of its parameters.

On SQLite a compiled statement names its parameters (``%(p0)s``): Django's SQLite
cursor rewrites a statement's placeholders on every execution, positional ones
(``%s``) with a regular expression over the whole text, named ones with ``%``:
for a GET by id's 2,000 characters, 18 µs against 2 µs, while SQLite answers
the query itself in about 15 µs (issue 27). Other drivers cache their rewriting
(psycopg): the positional form, as the ORM sends it.
"""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from datetime import datetime
from datetime import timezone as dt_timezone
from functools import cache, partial
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import connections, models, transaction
from django.db.models import Expression
from django.db.models.base import ModelState
from django.db.models.deletion import Collector
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import get_related_populators
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import (
    post_delete,
    post_init,
    post_save,
    pre_delete,
    pre_init,
    pre_save,
)
from django.db.models.sql import DeleteQuery, InsertQuery, UpdateQuery
from django.utils import timezone

#: How a named parameter's value is prepared for the database: the model field
#: the query compares it with.
Parameters = dict[str, models.Field]
#: For a query of model instances: where its fields start and end in a row, their
#: attribute names, each annotation's name and position, and what makes the
#: populators of the related models it selects.
Instances = tuple[int, int, tuple[str, ...], tuple[tuple[str, int], ...], Callable[[], list]]
#: SQL, the parameter each position takes (``None``: a constant), the constants,
#: the ORM's converters by column position, how rows become instances, and the
#: names the SQL gives its parameters (``None``: positional; see :func:`_for_cursor`).
Compiled = tuple[
    str, tuple["str | None", ...], tuple, dict, "Instances | None", "tuple[str, ...] | None"
]
#: Marks a query shape whose parameters cannot all be found in its SQL.
_UNCACHEABLE: Compiled = ("", (), (), {}, None, None)

_Made = TypeVar("_Made")


class _OncePerKey(Generic[_Made]):
    """What a statement compiles to, kept per key (database alias, vendor, shape) for the
    life of the process: every compiled statement's one cache.

    Made outside the lock: two threads compiling the same key at once make the same
    thing, and either one kept serves. ``clear()`` is for tests.
    """

    __slots__ = ("_kept", "_lock")

    def __init__(self) -> None:
        self._kept: dict[Hashable, _Made] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], _Made]) -> _Made:
        try:
            return self._kept[key]
        except KeyError:
            made = make()
            with self._lock:
                self._kept[key] = made
            return made

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)


class PreparedQuery:
    """One query shape over ``model``: ``build(**values)`` returns its queryset.

    ``parameters`` names each value ``build`` takes and the field that prepares it.
    """

    def __init__(
        self,
        model: type[models.Model],
        build: Callable[..., models.QuerySet],
        parameters: Parameters,
    ) -> None:
        self.model = model
        self._build = build
        self._parameters = parameters
        self._compiled: _OncePerKey[Compiled] = _OncePerKey()

    def all(self, using: str = "default", **values: Any) -> list[Any]:
        """The rows of a model query for ``values``, as model instances (annotations set)."""
        compiled = self._compiled_for(using)
        if compiled is None or compiled[4] is None:
            return list(self._build(**values))
        start, end, attnames, annotations, populators = compiled[4]
        # Made per query, as the ORM makes them: some fetch modes keep state in them.
        related = populators()
        records = []
        make = _maker(self.model, using, attnames)
        # As the ORM's own iterable makes instances: the fields' values, the related
        # models selected with them, then each annotation.
        for row in self._fetch(compiled, values, using):
            record = make(row[start:end])
            for populator in related:
                populator.populate(row, record)
            for name, position in annotations:
                setattr(record, name, row[position])
            records.append(record)
        return records

    def rows(self, using: str = "default", **values: Any) -> list[tuple]:
        """The rows of a ``values_list()`` query for ``values``, converted as the ORM does."""
        compiled = self._compiled_for(using)
        if compiled is None:
            return list(self._build(**values))
        return self._fetch(compiled, values, using)

    def _fetch(self, compiled: Compiled, values: dict[str, Any], using: str) -> list[tuple]:
        sql, names, constants, converters, _, keys = compiled
        params = _params(self._prepare(values, using), names, constants, keys)
        connection = connections[using]
        with _cursor(connection) as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        if not converters:
            return [tuple(row) for row in fetched]
        # Each column's converters in their order, as one flat list: a page of 100
        # rows makes about 1,000 of these calls.
        steps = [
            (position, function, expression)
            for position, (functions, expression) in converters.items()
            for function in functions
        ]
        result = []
        for row in fetched:
            row = list(row)
            for position, function, expression in steps:
                row[position] = function(row[position], expression, connection)
            result.append(tuple(row))
        return result

    def _compiled_for(self, using: str) -> Compiled | None:
        key = (using, connections[using].vendor)
        compiled = self._compiled.get(key, lambda: self._compile(using) or _UNCACHEABLE)
        return None if compiled is _UNCACHEABLE else compiled

    def _prepare(self, values: dict[str, Any], using: str) -> dict[str, Any]:
        return _prepare(self._parameters, values, using)

    def _compile(self, using: str) -> Compiled | None:
        stand_ins = {name: _stand_in(field) for name, field in self._parameters.items()}
        if any(value is None for value in stand_ins.values()):
            return None
        queryset = self._build(**stand_ins)
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        # The converters depend on the selected expressions only: kept with the SQL.
        converters = compiler.get_converters([column for column, _, _ in compiler.select])
        names = _owners(self._prepare(stand_ins, using), params)
        if names is None:
            return None
        fetch_mode = getattr(queryset, "_fetch_mode", None)  # Django 6.1 and newer
        instances = _instances(compiler, using, fetch_mode)
        sql, keys = _for_cursor(sql, len(params), using)
        return sql, names, tuple(params), converters, instances, keys


#: A write's compiled statement: SQL, the parameter each position takes (``None``: a
#: constant), the constants, the names the SQL gives its parameters (``None``: positional).
Statement = tuple[str, tuple["str | None", ...], tuple, "tuple[str, ...] | None"]


class _PreparedWrite:
    """What an ``UPDATE`` and a ``DELETE`` of a fixed shape share: the statement compiled
    once per database (:meth:`_compile`, ``None`` for a shape left to the ORM), run with
    the request's values in the caller's transaction."""

    def __init__(self, model: type[models.Model], build: Callable, parameters: Parameters) -> None:
        self.model = model
        self._build = build
        self._parameters = parameters
        self._compiled: _OncePerKey[Statement | None] = _OncePerKey()

    def _compile(self, using: str) -> Statement | None:
        raise NotImplementedError

    def _statement(self, using: str) -> Statement | None:
        return self._compiled.get((using, connections[using].vendor), lambda: self._compile(using))

    def _stand_ins(self) -> dict[str, Any] | None:
        stand_ins = {name: _stand_in(field) for name, field in self._parameters.items()}
        return None if any(value is None for value in stand_ins.values()) else stand_ins

    def _found_in(
        self, sql: str, params: Any, stand_ins: dict[str, Any], using: str
    ) -> Statement | None:
        names = _owners(_prepare(self._parameters, stand_ins, using), params)
        if names is None:
            return None
        sql, keys = _for_cursor(sql, len(params), using)
        return sql, names, tuple(params), keys

    def _execute(self, statement: Statement, values: dict[str, Any], using: str) -> int:
        sql, names, constants, keys = statement
        params = _params(_prepare(self._parameters, values, using), names, constants, keys)
        # As the ORM's update() and delete(): an error inside an atomic block marks it
        # for rollback.
        with transaction.mark_for_rollback_on_error(using), _cursor(connections[using]) as cursor:
            cursor.execute(sql, params)
            return int(cursor.rowcount)


class PreparedUpdate(_PreparedWrite):
    """One ``UPDATE`` shape over ``model``, compiled once like a :class:`PreparedQuery`.

    ``build(**values)`` returns the queryset to update and the field values to
    give its rows (what ``queryset.update(**changes)`` takes); :meth:`run`
    returns how many rows matched. A shape whose parameters cannot all be found
    in its SQL runs through the ORM every time.
    """

    def run(self, using: str = "default", **values: Any) -> int:
        """Update the rows for ``values``, in the caller's transaction; how many matched."""
        statement = self._statement(using)
        if statement is None:
            queryset, changes = self._build(**values)
            return int(queryset.using(using).update(**changes))
        return self._execute(statement, values, using)

    def _compile(self, using: str) -> Statement | None:
        stand_ins = self._stand_ins()
        if stand_ins is None:
            return None
        queryset, changes = self._build(**stand_ins)
        query: UpdateQuery = queryset.query.chain(UpdateQuery)
        query.add_update_values(changes)
        query.annotations = {}  # as QuerySet.update()
        if query.get_related_updates():
            return None  # more than one statement
        sql, params = query.get_compiler(using).as_sql()
        return self._found_in(sql, params, stand_ins, using)


class PreparedInsert:
    """``INSERT`` of a few new rows of ``model``, its SQL compiled once per database and row count.

    Every concrete field but an auto-generated primary key is written, from the
    rows' attributes, as ``bulk_create`` writes them (each field's ``pre_save``,
    then ``get_db_prep_save``). No ``RETURNING``: the caller does not read the
    new rows' keys. A value that is an expression, or more rows than
    ``max_rows``, is left to the ORM.
    """

    def __init__(self, model: type[models.Model], max_rows: int) -> None:
        self.model = model
        self.max_rows = max_rows
        meta = model._meta
        self._fields = tuple(
            field
            for field in meta.concrete_fields
            if not (field.primary_key and getattr(field, "db_returning", False))
        )
        self._converted = tuple((field, _unchanged_types(field)) for field in self._fields)
        #: The SQL by database and row count ("": left to the ORM), and its parameters' names.
        self._compiled: _OncePerKey[tuple[str, tuple[str, ...] | None]] = _OncePerKey()

    def run(self, rows: list[models.Model], using: str = "default") -> bool:
        """Insert ``rows`` in the caller's transaction; ``False`` if it left them to the ORM."""
        if not rows or len(rows) > self.max_rows:
            return False
        connection = connections[using]
        count = len(rows)
        sql, keys = self._compiled.get(
            (using, connection.vendor, count),
            lambda: _named(self._compile(using, count), count * len(self._fields), using),
        )
        if not sql:
            return False
        params: list[Any] = []
        for row in rows:
            if not _db_values(self._converted, row, True, connection, params):
                return False
        # As QuerySet.bulk_create(): an error inside an atomic block marks it for rollback.
        with transaction.mark_for_rollback_on_error(using), _cursor(connection) as cursor:
            cursor.execute(sql, _keyed(params, keys))
        for row in rows:
            row._state.adding = False
            row._state.db = using
        return True

    def _compile(self, using: str, count: int) -> str:
        """The ORM's INSERT of ``count`` rows (its placeholders: the fields'), without RETURNING.

        ``""`` when its parameters are not one per field and row: PostgreSQL's
        ``UNNEST`` form of several rows (Django 5.2) passes a list per column.
        """
        query = InsertQuery(self.model)
        query.insert_values(list(self._fields), [self.model() for _ in range(count)])
        compiler = query.get_compiler(using)
        compiler.returning_fields = None
        ((sql, params),) = compiler.as_sql()
        if len(params) != count * len(self._fields):
            return ""
        return str(sql)


class PreparedSave:
    """``Model.save()`` of a row that exists: its ``UPDATE`` by primary key, compiled once.

    The statement ``save()`` runs for a saved instance (every concrete field
    but the key set from the row, ``WHERE`` its key), compiled once per
    database by the ORM's own compiler with a placeholder per field, run
    with the values ``save()`` would write (each field's ``pre_save``, then
    ``get_db_prep_save``). Only the statement: the caller checks that
    nothing else of ``save()`` would run (a ``save()`` of the model's own, a
    ``pre_save``/``post_save`` receiver: :func:`save_receivers`). A value
    that is an expression, or no row matched, is left to ``save()``.
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self._fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
        self._converted = tuple((field, _unchanged_types(field)) for field in self._fields)
        self._compiled: _OncePerKey[tuple[str, tuple[str, ...] | None]] = _OncePerKey()

    def run(self, row: models.Model, using: str = "default") -> bool:
        """Write ``row``'s fields to its row, in the caller's transaction; ``False`` if it
        left the write to ``save()`` (nothing written then)."""
        connection = connections[using]
        sql, keys = self._compiled.get(
            (using, connection.vendor),
            lambda: _named(self._compile(using), len(self._fields) + 1, using),
        )
        if not sql:
            return False
        params: list[Any] = []
        if not _db_values(self._converted, row, False, connection, params):
            return False
        pk = self.model._meta.pk
        params.append(pk.get_db_prep_value(row.pk, connection, prepared=False))
        # As save()'s UPDATE: an error inside an atomic block marks it for rollback.
        with transaction.mark_for_rollback_on_error(using), _cursor(connection) as cursor:
            cursor.execute(sql, _keyed(params, keys))
            return bool(cursor.rowcount)

    def _compile(self, using: str) -> str:
        """The ORM's ``UPDATE`` of every field by key; ``""`` if its parameters are not
        one per field then the key (a field whose placeholder takes no parameter)."""
        pk = self.model._meta.pk
        stand_in = _stand_in(pk)
        if stand_in is None:
            return ""
        rows: Any = self.model._base_manager.filter(pk=stand_in)
        query: UpdateQuery = rows.query.chain(UpdateQuery)
        slots: Any = [(field, None, _Slot()) for field in self._fields]
        query.add_update_fields(slots)
        sql, params = query.get_compiler(using).as_sql()
        prepared = pk.get_db_prep_value(stand_in, connections[using], prepared=False)
        expected = (*(_SLOT for _ in self._fields), prepared)
        if len(params) != len(expected) or any(
            p is not e and p != e for p, e in zip(params, expected, strict=True)
        ):
            return ""
        return str(sql)


#: Where a field's value goes in a compiled ``SET`` clause (:class:`_Slot`).
_SLOT = object()


class _Slot(Expression):
    """A field's place in :class:`PreparedSave`'s ``SET`` clause: ``%s``, and a marker
    in the parameters that tells the compiler's own parameters from the fields'."""

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        return "%s", (_SLOT,)


#: Django's own conversions that give a value of these exact types back unchanged.
_TEXT = (models.CharField, models.TextField)
_NONE = type(None)


def _unchanged_types(field: models.Field) -> tuple[type, ...]:
    """The exact types of value that ``field.get_db_prep_save`` returns as they are.

    A text field's ``str`` or ``None`` and a boolean field's ``bool`` or ``None``,
    when the field keeps Django's conversions (a subclass that converts is asked
    every time): three calls per value that change nothing, ten of a create's
    record, skipped.
    """
    kind = type(field)
    if (
        kind.get_db_prep_save is not models.Field.get_db_prep_save
        or kind.get_db_prep_value is not models.Field.get_db_prep_value
    ):
        return ()
    for base in _TEXT:
        if kind.get_prep_value is base.get_prep_value and kind.to_python is base.to_python:
            return (str, _NONE)
    boolean = models.BooleanField
    if kind.get_prep_value is boolean.get_prep_value and kind.to_python is boolean.to_python:
        return (bool, _NONE)
    return ()


def _db_values(
    fields: tuple[tuple[models.Field, tuple[type, ...]], ...],
    row: models.Model,
    add: bool,
    connection: Any,
    into: list[Any],
) -> bool:
    """Append ``row``'s values of ``fields`` as ``save()`` writes them (each field's
    ``pre_save``, then ``get_db_prep_save``); ``False`` at a value that is an expression."""
    for field, unchanged in fields:
        value = field.pre_save(row, add)
        if type(value) in unchanged:
            into.append(value)
            continue
        if hasattr(value, "resolve_expression"):
            return False
        into.append(field.get_db_prep_save(value, connection=connection))
    return True


def save_receivers(model: type[models.Model]) -> bool:
    """Whether ``Model.save()`` of ``model`` does more than its ``UPDATE`` now: a ``save()``
    of the model's own, or a ``pre_save``/``post_save`` receiver."""
    return (
        model.save is not models.Model.save
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
    )


class PreparedDelete(_PreparedWrite):
    """One ``DELETE`` shape over ``model``, compiled once like a :class:`PreparedUpdate`.

    ``build(**values)`` returns the queryset to delete. Only for what the ORM
    itself deletes in one statement (``Collector.can_fast_delete``: no row of
    another model points at it, no delete receiver): a shape that is not, or a
    model that has a receiver when it runs, goes through ``QuerySet.delete()``.
    ``related_deleted_first``: the caller deleted or changed, before, every row
    that points at the rows (as the collector would have), so only receivers count.
    """

    def __init__(
        self,
        model: type[models.Model],
        build: Callable[..., models.QuerySet],
        parameters: Parameters,
        *,
        related_deleted_first: bool = False,
    ) -> None:
        super().__init__(model, build, parameters)
        self._related_deleted_first = related_deleted_first

    def run(self, using: str = "default", **values: Any) -> int:
        """Delete the rows for ``values``, in the caller's transaction; how many there were."""
        statement = self._statement(using)
        if statement is None or delete_receivers(self.model):
            return int(self._build(**values).using(using).delete()[0])
        return self._execute(statement, values, using)

    def _compile(self, using: str) -> Statement | None:
        stand_ins = self._stand_ins()
        if stand_ins is None:
            return None
        queryset = self._build(**stand_ins).using(using)
        if self._related_deleted_first:
            pass  # the caller changed what points at the rows first (and checks receivers)
        elif not Collector(using, origin=None).can_fast_delete(queryset):
            return None  # cascades or receivers: the ORM's collector runs them
        query: DeleteQuery = queryset.query.chain(DeleteQuery)
        sql, params = query.get_compiler(using).as_sql()
        return self._found_in(sql, params, stand_ins, using)


def delete_receivers(model: type[models.Model]) -> bool:
    """Whether a ``pre_delete`` or ``post_delete`` receiver listens to ``model`` now."""
    return pre_delete.has_listeners(model) or post_delete.has_listeners(model)


def _prepare(parameters: Parameters, values: dict[str, Any], using: str) -> dict[str, Any]:
    """``values`` prepared for the database by the fields ``parameters`` names."""
    connection = connections[using]
    return {
        name: field.get_db_prep_value(values[name], connection, prepared=False)
        for name, field in parameters.items()
    }


#: The attribute of a database connection (Django's, one per thread) holding its :class:`_Kept`.
_KEPT = "_scim_provisioning_cursor"


class _Kept:
    """A driver's cursor kept for compiled statements, and what it was made for."""

    __slots__ = ("busy", "cursor", "driver_connection", "timezone")

    def __init__(self, connection: Any) -> None:
        self.driver_connection = connection.connection
        self.timezone = connection.timezone
        with connection.wrap_database_errors:
            self.cursor = connection.create_cursor()
        self.busy = False

    def fits(self, connection: Any) -> bool:
        return (
            self.driver_connection is connection.connection
            and self.timezone == connection.timezone
            and not getattr(self.cursor, "closed", False)
        )


@contextmanager
def _cursor(connection: Any) -> Iterator[Any]:
    """A cursor of ``connection`` for one compiled statement, wrapped as ``connection.cursor()``
    wraps it (execute wrappers and the query log see the statement as they see the ORM's).

    The driver's cursor is kept and used again, one per connection (Django's are per
    thread), instead of made and closed for every statement: psycopg makes a new
    cursor's adapters anew, each column's loader and each parameter's dumper, and a
    GET by id's statement took ~25 µs more on a new cursor than on a used one, a
    quarter of its round trip to PostgreSQL (issue 27). A new connection (or time
    zone) gets a new cursor; a statement run while the kept cursor is in use (by an
    execute wrapper, say) runs on a cursor of its own, as the ORM's would.
    """
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    kept = connection.__dict__.get(_KEPT)
    if kept is not None and kept.busy:
        with connection.cursor() as cursor:
            yield cursor
        return
    if kept is None or not kept.fits(connection):
        kept = connection.__dict__[_KEPT] = _Kept(connection)
    kept.busy = True
    try:
        yield connection._prepare_cursor(kept.cursor)
    finally:
        kept.busy = False


#: A positional placeholder as Django's SQLite cursor finds it (``%%s`` is a literal ``%s``).
_POSITIONAL = re.compile(r"(?<!%)%s")


def _named(sql: str, count: int, using: str) -> tuple[str, tuple[str, ...] | None]:
    """:func:`_for_cursor` of a compiled write's ``sql`` (``""``: left to the ORM, kept so)."""
    return _for_cursor(sql, count, using) if sql else ("", None)


def _for_cursor(sql: str, count: int, using: str) -> tuple[str, tuple[str, ...] | None]:
    """``sql`` as the database's cursor runs it fastest, and the names of its ``count``
    parameters (``None``: positional, as compiled).

    On SQLite, named (``%(p0)s``, ``%(p1)s``…; see the module's docstring), when
    Django's SQLite cursor turns the named form into exactly the statement it
    makes of the positional one; positional otherwise, and on other databases.
    """
    if connections[using].vendor != "sqlite":
        return sql, None
    keys = tuple(f"p{i}" for i in range(count))
    numbered = iter(keys)
    named = _POSITIONAL.sub(lambda _: f"%({next(numbered)})s", sql)
    try:
        same = named % dict.fromkeys(keys, "?") == _POSITIONAL.sub("?", sql).replace("%%", "%")
    except (KeyError, StopIteration, TypeError, ValueError):  # not read as the ORM meant
        return sql, None
    return (named, keys) if same and next(numbered, None) is None else (sql, None)


def _params(
    prepared: dict[str, Any],
    names: tuple[str | None, ...],
    constants: tuple,
    keys: tuple[str, ...] | None,
) -> list[Any] | dict[str, Any]:
    """A compiled statement's parameters: each position's prepared value or constant,
    by position, or by the names ``keys`` when the SQL names them."""
    return _keyed([prepared[n] if n else c for n, c in zip(names, constants, strict=True)], keys)


def _keyed(params: list[Any], keys: tuple[str, ...] | None) -> list[Any] | dict[str, Any]:
    """``params`` as the compiled SQL takes them: by position, or by the names ``keys``."""
    return params if keys is None else dict(zip(keys, params, strict=True))


def _owners(prepared: dict[str, Any], params: Any) -> tuple[str | None, ...] | None:
    """The parameter each SQL parameter is (``None``: a constant); ``None`` if one is missing."""
    names: list[str | None] = []
    for param in params:
        owners = [
            name
            for name, value in prepared.items()
            if type(value) is type(param) and value == param
        ]
        names.append(owners[0] if owners else None)
    if set(names) - {None} != set(prepared):
        return None  # a value that does not reach the SQL as it is
    return tuple(names)


#: The descriptors whose ``__set__`` (if any) only stores the value on a new instance.
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)


def _maker(model: type[models.Model], using: str, attnames: tuple[str, ...]) -> Callable:
    """How a row's field values become an instance: what ``model.from_db`` makes.

    ``Model.__init__`` sets each field through its descriptor and sends
    ``pre_init``/``post_init``; when the model keeps Django's ``__init__`` and
    ``from_db``, every field of the row is one of its concrete fields in order,
    each field's descriptor only stores its value, and no receiver listens to
    either signal, nothing can tell an instance whose attributes are stored
    directly (a quarter of a page of 100 people's CPU, issue 27). Otherwise,
    ``from_db`` itself.
    """
    if not _plain_model(model, attnames) or (
        pre_init.has_listeners(model) or post_init.has_listeners(model)
    ):
        return partial(model.from_db, using, attnames)
    new = object.__new__

    def make(values: Any) -> models.Model:
        record = new(model)
        state = record.__dict__["_state"] = ModelState()
        state.adding = False
        state.db = using
        record.__dict__.update(zip(attnames, values, strict=True))
        return record

    return make


@cache
def _plain_model(model: type[models.Model], attnames: tuple[str, ...]) -> bool:
    # What a model class is made of does not change once it is made: asked once per
    # model and shape, not on every read (walking 19 fields' descriptors cost a GET by
    # id more than its row's converters). The signals' receivers are asked every time.
    return (
        model.__init__ is models.Model.__init__
        and model.from_db.__func__ is models.Model.from_db.__func__  # type: ignore[attr-defined]
        and attnames == tuple(f.attname for f in model._meta.concrete_fields)
        and all(
            type(model.__dict__.get(name)) in _PLAIN_DESCRIPTORS  # noqa: E721
            for name in attnames
        )
    )


def _instances(compiler: Any, using: str, fetch_mode: Any) -> Instances | None:
    """Where a row's model fields, related models and annotations are; ``None`` for ``values()``.

    The related models (``select_related``) are made by the ORM's own populators;
    what is kept here makes them for each query.
    """
    info = compiler.klass_info
    if info is None:
        return None
    fields = info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    attnames = tuple(column[0].target.attname for column in compiler.select[start:end])
    populators: Any = get_related_populators  # one more argument from Django 6.1 on
    arguments = (info, compiler.select, using) + (() if fetch_mode is None else (fetch_mode,))
    make = partial(populators, *arguments)
    return start, end, attnames, tuple(compiler.annotation_col_map.items()), make


def _stand_in(field: models.Field) -> Any:
    """A value of ``field``'s type that no real value or constant of a query will equal.

    Strings carry ``_``, which a LIKE lookup escapes: such a lookup then
    cannot find its parameter, and its query is left uncached.
    """
    target = getattr(field, "target_field", field)  # a foreign key: its target's type
    if isinstance(target, models.UUIDField):
        return uuid.uuid4()
    if isinstance(target, models.IntegerField):
        return 2**30 + secrets.randbelow(2**30)
    if isinstance(target, models.DateTimeField):
        moment = datetime(1901, 2, 3, 4, 5, 6, 1 + secrets.randbelow(999_998))
        return timezone.make_aware(moment, dt_timezone.utc) if settings.USE_TZ else moment
    if isinstance(target, models.CharField | models.TextField):
        return f"scim_stand_in_{secrets.token_hex(12)}"
    return None
