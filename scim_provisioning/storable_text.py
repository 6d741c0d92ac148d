"""Text a database can store: no NUL character, no lone surrogate (issue 21).

Both arrive legally: JSON escapes them (``"\\u0000"``, ``"\\udc00"``) and a URL
carries a NUL as ``%00``. Neither can be kept: PostgreSQL refuses NUL in any
``text`` or ``jsonb`` value, and no UTF-8 encoder (SQLite's, psycopg's, the
response renderer's) takes a lone surrogate, so each was a 500 that also
cost the request log its whole batch. A surrogate *pair* is one character
beyond the BMP once decoded (what ``json.dumps`` and Java encoders send for
an emoji) and is kept.

The rule, applied once where text enters a request and never per field: a
request whose URL path, query string or JSON body holds either is refused
with a 400 before any row is built (the views check the URL, the parsers the
body, :func:`~scim_provisioning.parsers.loads_bounded` JSON text inside a
value). What is *recorded* about a request that was refused (the request
log) passes through :func:`clean` instead.

No database, no settings: functions of their arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .exceptions import InvalidFilter, InvalidSyntax, InvalidValue

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: In raw JSON bytes: an escape that may decode to a NUL or a surrogate (a pair too).
_ESCAPED = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
REPLACEMENT = "\ufffd"


def unstorable(text: str) -> str | None:
    """What in ``text`` no database stores, said for people (``a NUL character (\\x00)``);
    ``None`` when there is nothing."""
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "a NUL character (\\x00)"
    return f"a lone surrogate (\\u{ord(match.group()):04x})"


def clean(text: str) -> str:
    """``text`` with every character no database stores replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT, text) if _UNSTORABLE.search(text) else text


def may_hold_unstorable(raw: bytes) -> bool:
    """Whether the JSON text ``raw`` (UTF-8) can decode to a NUL or a surrogate at all.

    Raw NUL and control bytes are invalid inside JSON strings and UTF-8 has no
    surrogates, so only a ``\\u`` escape can produce one: a body without such
    an escape (nearly every body) needs no walk.
    """
    return _ESCAPED.search(raw) is not None


@dataclass(frozen=True)
class Found:
    """An unstorable character in a document: where it is and what it is."""

    #: The JSON location of the value, or of the object whose key holds it
    #: (``name.givenName``, ``Operations[0].value``; ``""``: the document itself).
    where: str
    what: str
    #: A key (an attribute name), not a value.
    in_key: bool

    def detail(self) -> str:
        """The sentence an error gives the IdP (it names no character it cannot render)."""
        if self.in_key:
            place = f"'{self.where}'" if self.where else "the body"
            return f"An attribute name in {place} contains {self.what}."
        return f"'{self.where or 'the body'}' contains {self.what}."


def find_in_document(document: Any) -> Found | None:
    """The first string (key or value) of the parsed JSON ``document`` no database stores.

    Walked with a stack, not recursion: the document may nest as deeply as the
    body's bound allows, and a form's ``QueryDict`` is read as lists of values.
    """
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            what = unstorable(value)
            if what is not None:
                return Found(where, what, in_key=False)
        elif isinstance(value, dict) or hasattr(value, "lists"):
            items: Iterable[tuple[Any, Any]] = (
                value.lists() if hasattr(value, "lists") else value.items()
            )
            children = []
            for key, item in items:
                name = str(key)
                what = unstorable(name)
                if what is not None:
                    return Found(where, what, in_key=True)
                children.append((f"{where}.{name}" if where else name, item))
            stack.extend(reversed(children))  # in the document's order
        elif isinstance(value, (list, tuple)):
            stack.extend(reversed([(f"{where}[{i}]", item) for i, item in enumerate(value)]))
    return None


def refuse_unstorable(document: Any) -> None:
    """A 400 when the parsed ``document`` holds text no database stores (see
    :mod:`.storable_text`): ``invalidSyntax`` in an attribute name, else ``invalidValue``."""
    found = find_in_document(document)
    if found is None:
        return
    raise (InvalidSyntax if found.in_key else InvalidValue)(found.detail())


def refuse_unstorable_url(request: Any) -> None:
    """A 400 when the URL path or a query parameter holds text no database stores.

    The URL's half of the one rule of :mod:`~scim_provisioning.storable_text`
    (the parsers apply it to the body): ``GET /Users/%00`` reached a text
    column on PostgreSQL, a 500. A name (the path, a parameter's name) is
    ``invalidSyntax``; a parameter's value ``invalidValue``, or ``invalidFilter``
    for ``filter``, the scimType RFC 7644 §3.4.2.2 gives a filter refused.
    Runs once the token is known: a caller without one is answered 401 first.
    """
    what = unstorable(request.path)
    if what is not None:
        raise InvalidSyntax(f"The URL path contains {what}.")
    if not request.META.get("QUERY_STRING"):
        return  # nothing to parse: most requests
    for name, values in request.query_params.lists():
        what = unstorable(name)
        if what is not None:
            raise InvalidSyntax(f"A query parameter name contains {what}.")
        for value in values:
            what = unstorable(value)
            if what is not None:
                refusal = InvalidFilter if name.lower() == "filter" else InvalidValue
                raise refusal(f"The query parameter '{name}' contains {what}.")
