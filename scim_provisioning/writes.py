"""The four writes of a resource, each one transaction: what a request and a bulk operation run.

``POST /Users`` and a ``POST`` operation of ``/Bulk`` are the same write, and so
on for PUT, PATCH and DELETE: the views of single requests and the bulk runner
both call these functions, so the team scope, the identity rules, the bounds,
the signals and the locking cannot differ between them.

Each write runs in a transaction of its own that locks the one record it
changes (``SELECT … FOR UPDATE``), checks ``If-Match`` against the locked
version, and commits before the function returns (signals are sent then).
A request whose remembered token is not checked yet has it checked by that
locked read, or by a create's first read, which brings the team's config too
(:data:`~.authentication.Acting`).
A write that fails changes nothing; no lock outlives the write. A write the
site refuses (an account the team may not claim, a seat the host refuses) is
recorded for the team's managers once its transaction has rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction

from .authentication import Acting, confirmed, unchecked
from .exceptions import Uniqueness
from .models import SCIMTeamConfig
from .preconditions import check_if_match
from .provisioning.common import RunAgain
from .provisioning.refusals import recording_refusals
from .reads import Found
from .resource_types import ResourceType


def _locked(
    kind: ResourceType,
    acting: Acting,
    pk: str,
    *,
    answered: bool,
    deleting: bool = False,
    ask: bool = True,
) -> tuple[Found, SCIMTeamConfig]:
    """The team's record ``pk``, locked until the transaction ends, and the team's config;
    else a 401 or 403 (the token may no longer be used), else a 404.

    ``answered``: the write answers with the record, whose links (a user's
    groups, which the write does not change) are read in the same query. The
    type's questions of an update, or of a DELETE when ``deleting``, are answered
    in it too (:class:`~.reads.Question`), unless not ``ask``: then every
    statement they would spare runs.
    """
    if not ask:
        questions: tuple = ()
    else:
        questions = kind.asked_before_delete if deleting else kind.asked_before_update
    scope, digest = unchecked(acting)
    found = kind.lock(scope, pk, linked=answered, token_digest=digest, questions=questions)
    config = confirmed(acting, found)  # a 401 or 403 before a 404 says anything
    if found.record is None:
        raise kind.not_found(pk)
    return found, config


@contextmanager
def _races_lost_as_409() -> Iterator[None]:
    """A write that lost a race on a unique constraint: a 409 ``uniqueness``, not a 500.

    The write's own checks ran before a concurrent request committed (four
    renames onto one free login email at once, issue 21): the database's
    constraint decided, the write's transaction rolled back whole, and the
    IdP may retry it. Other integrity errors (a broken host constraint) stay
    errors. Wraps the transaction, so it sees the error after the rollback.
    """
    try:
        yield
    except IntegrityError as exc:
        if not _is_unique_violation(exc):
            raise
        raise Uniqueness(
            "Another request changed the same value at the same time; nothing was changed. "
            "Retry the request."
        ) from exc


def _is_unique_violation(exc: IntegrityError) -> bool:
    # psycopg's SQLSTATE, SQLite's message, MySQL's error number (ER_DUP_ENTRY).
    cause = exc.__cause__
    return (
        getattr(cause, "sqlstate", None) == "23505"
        or "UNIQUE constraint failed" in str(exc)
        or bool(exc.args and exc.args[0] == 1062)
    )


def create(kind: ResourceType, acting: Acting, body: Any) -> Any:
    """``POST /{type}``: a new record of ``acting``'s team from the SCIM document ``body``.

    A token not checked yet is checked by the create's first read (the type's
    :meth:`~.resource_types.ResourceType.create`), inside the transaction: a 401 or
    403 then writes nothing. A create that lost a race a second run resolves
    (:class:`~.provisioning.common.RunAgain`: the account it was inserting appeared
    meanwhile) rolls back and runs once more (its token checked by then);
    losing again is the database's error, as any other lost race.
    """
    with recording_refusals(), _races_lost_as_409():
        try:
            with transaction.atomic():
                return kind.create(acting, body)
        except RunAgain:
            pass
        try:
            with transaction.atomic():
                return kind.create(acting, body)
        except RunAgain as again:
            error = again.__cause__  # the database's own, with its cause (_is_unique_violation)
            assert error is not None
            raise error  # noqa: B904  # not "from": that would replace the error's own cause


def _rewrite(
    write: Any,
    kind: ResourceType,
    acting: Acting,
    pk: str,
    body: Any,
    if_match: str | None,
    answered: bool,
) -> Found:
    """PUT's and PATCH's one shape: lock the record, check ``If-Match``, ``write`` it."""
    with recording_refusals(), _races_lost_as_409(), transaction.atomic():
        found, config = _locked(kind, acting, pk, answered=answered)
        record: Any = found.record
        check_if_match(if_match, record.etag)
        return Found(write(config, record, body, locked=found), groups=found.groups)


def replace(
    kind: ResourceType,
    acting: Acting,
    pk: str,
    body: Any,
    *,
    if_match: str | None = None,
    answered: bool = True,
) -> Found:
    """``PUT /{type}/{pk}``: the attributes ``body`` sends replace the record's.

    The written record as a :class:`~.reads.Found`, with the groups it links to
    when ``answered`` (a response that shows it; /Bulk's shows only its version).
    """
    return _rewrite(kind.replace, kind, acting, pk, body, if_match, answered)


def patch(
    kind: ResourceType,
    acting: Acting,
    pk: str,
    body: Any,
    *,
    if_match: str | None = None,
    answered: bool = True,
) -> Found:
    """``PATCH /{type}/{pk}``: the ``PatchOp`` ``body``, all its operations or none.

    The written record as a :class:`~.reads.Found`, with the groups it links to
    when ``answered`` (a response that shows it; /Bulk's shows only its version).
    """
    return _rewrite(kind.patch, kind, acting, pk, body, if_match, answered)


def delete(kind: ResourceType, acting: Acting, pk: str, *, if_match: str | None = None) -> None:
    """``DELETE /{type}/{pk}``: what deleting means for the type (a user keeps their account).

    The locked read asks whether rows point at the record (a user's groups, the
    people who report to them), and the DELETE spends their statements only then.
    Its answer is its statement's snapshot: on PostgreSQL a row committed while
    the read waited for the record's lock (a group PATCH adding the person) is not
    seen, and the record's DELETE fails the deferred foreign key at COMMIT. When
    that COMMIT is this write's own (no caller's transaction around it), the write
    runs again asking nothing: it then deletes what points at the record by its
    own statements, which see what committed. Inside a caller's transaction (a
    host's ``ATOMIC_REQUESTS``) the COMMIT is the caller's: a 500, as before.
    """
    outermost = not transaction.get_connection().in_atomic_block
    with recording_refusals():
        try:
            _delete_once(kind, acting, pk, if_match, ask=True)
        except IntegrityError:
            if not outermost:
                raise
            _delete_once(kind, acting, pk, if_match, ask=False)


def _delete_once(
    kind: ResourceType, acting: Acting, pk: str, if_match: str | None, *, ask: bool
) -> None:
    with transaction.atomic():
        found, config = _locked(kind, acting, pk, answered=False, deleting=True, ask=ask)
        record: Any = found.record
        check_if_match(if_match, record.etag)
        kind.delete(config, record, locked=found)
