"""Attribute paths (RFC 7644 §3.10), read one way everywhere.

A PATCH ``path``, a ``sortBy``, each entry of ``attributes`` and
``excludedAttributes``, and each attribute a filter compares all name an
attribute as ``[schema URN:]attribute[.subAttribute]``; a PATCH path may also
narrow a multi-valued attribute with a value filter,
``emails[type eq "work"].value``. This module knows that grammar and nothing
of any schema's attributes: what a path means (does the attribute exist, may
it be written) is for the caller, which knows the schema.

Names are case-insensitive (RFC 7643 §2.1), and so are schema URNs: the
resource type's core URN means "no prefix", a known extension's URN is given
back as the extension spells it, and an unknown URN is kept as written, so a
caller can ignore or refuse what it does not support.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .casefold import has_insensitive, key_insensitive
from .exceptions import InvalidPath

#: A name: ``ATTRNAME`` of RFC 7644 §3.10 (``$ref`` included), in any letters ``\\w`` allows.
_NAME = r"[A-Za-z$][\w$-]*"
_GRAMMAR = re.compile(
    rf"^(?P<attribute>{_NAME})(?:\[(?P<filter>.+)\])?(?:\.(?P<sub>{_NAME}))?$", re.DOTALL
)

#: ``(schema URN or None, attribute, sub-attribute or None)``, lower case: how maps of
#: attributes (filters, ``sortBy``) are keyed.
Key = tuple["str | None", str, "str | None"]


@dataclass(frozen=True)
class SchemaURNs:
    """The schema URNs that may prefix a resource type's attribute paths."""

    core: str
    extensions: tuple[str, ...] = ()

    def resolve(self, urn: str) -> str | None:
        """``None`` for the core schema, a known extension's own spelling, else ``urn`` itself."""
        if urn.lower() == self.core.lower():
            return None
        return key_insensitive(self.extensions, urn) or urn

    def is_known(self, urn: str | None) -> bool:
        """Whether ``urn`` (as :meth:`resolve` gives it) is the core schema or a known extension."""
        return urn is None or has_insensitive(self.extensions, urn)


@dataclass(frozen=True)
class AttributePath:
    """One attribute path, split into its parts as written (case is folded by :attr:`key`)."""

    #: ``None`` for the core schema, else an extension's URN (see :meth:`SchemaURNs.resolve`).
    schema: str | None
    #: ``None`` when the path is a schema URN alone: the whole schema.
    attribute: str | None
    sub_attribute: str | None = None
    #: The text between the brackets, not yet parsed (see :func:`.filters.parse_filter`).
    value_filter: str | None = None

    @property
    def key(self) -> Key:
        """The path folded to lower case, without its value filter.

        Only a path naming an attribute has a key; a URN alone raises ``ValueError``.
        """
        if self.attribute is None:
            raise ValueError("A schema URN alone names no attribute.")
        return (
            self.schema.lower() if self.schema is not None else None,
            self.attribute.lower(),
            self.sub_attribute.lower() if self.sub_attribute is not None else None,
        )


def parse_path(text: str, urns: SchemaURNs, *, value_filter: bool = False) -> AttributePath:
    """``text`` read as an attribute path of a resource type whose schemas are ``urns``.

    ``value_filter`` admits a bracketed filter (a PATCH target). A path that does
    not fit the grammar is a 400 ``invalidPath``, except under a schema URN we do
    not know: its attribute is returned as written, since only its schema could
    say what is valid there, and callers ignore or refuse unknown schemas anyway.
    """
    schema, rest, known = _split_schema(text.strip(), urns)
    if rest is None:
        return AttributePath(schema, None)
    match = _GRAMMAR.match(rest)
    if match is None or (match["filter"] is not None and not value_filter):
        if not known:
            return AttributePath(schema, rest)
        raise InvalidPath(f"'{text}' is not a valid attribute path.")
    return AttributePath(schema, match["attribute"], match["sub"], match["filter"])


def _split_schema(path: str, urns: SchemaURNs) -> tuple[str | None, str | None, bool]:
    """``(schema, rest, known)``: the URN prefix resolved, and what follows it or ``None``."""
    folded = path.lower()
    # Longest first: one URN may be the start of another.
    for urn in sorted((urns.core, *urns.extensions), key=len, reverse=True):
        prefix = urn.lower()
        if folded == prefix:
            return urns.resolve(urn), None, True
        if folded.startswith(prefix + ":"):
            return urns.resolve(urn), path[len(prefix) + 1 :], True
    if folded.startswith("urn:"):
        # An attribute name holds no colon, a value filter may: the URN ends at the
        # last colon before the brackets.
        urn = path.split("[", 1)[0].rpartition(":")[0]
        return urn, path[len(urn) + 1 :], False
    return None, path, True
