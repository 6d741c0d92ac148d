"""Which IdP request a change belongs to, for the changes it makes (the timeline).

A SCIM request gets an id when it begins (its request-log row carries it,
though the row is saved later by the writer thread). The view binds the
request's facts, the id and the token, in a :class:`~contextvars.ContextVar`
for as long as its handler runs; the write path reads them from there. A
context variable, not an attribute of a shared object: threads and
coroutines each see their own request, and the facts cannot outlive it.

A bulk request binds its facts once: each of its operations is a change of
that one request.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestFacts:
    """The IdP request in progress: its id and the token it came with."""

    request_id: uuid.UUID
    token_id: Any = None
    token_prefix: str = ""


_current: ContextVar[RequestFacts | None] = ContextVar("scim_request_facts", default=None)


def new_request_id() -> uuid.UUID:
    """A fresh request id (random: it is known before anything is saved)."""
    return uuid.uuid4()


def current() -> RequestFacts | None:
    """The facts of the request being handled; ``None`` outside a SCIM request."""
    return _current.get()


def bind(facts: RequestFacts) -> Token[RequestFacts | None]:
    """Make ``facts`` current; pass the result to :func:`unbind` when the request ends."""
    return _current.set(facts)


def unbind(token: Token[RequestFacts | None]) -> None:
    """Restore what was current before :func:`bind` returned ``token``."""
    _current.reset(token)
