"""Value filters read in memory (RFC 7644 §3.5.2): a filter tree against values in hand.

:mod:`.filters` turns a filter into SQL for lists and searches; this module
reads the same trees (from :func:`.filters.parse_filter`) where no query is
involved. A PATCH's ``emails[type eq "work"]`` picks the items of a document
that :func:`matches`; when none does, the filter's :func:`equalities`
describe the item to add. A group's ``members[value eq "<id>"]`` names
members without loading them, read with :func:`equality_terms` too.

A filter means here what it means in SQL: each sub-attribute compares as its
schema says (:func:`.filters.kind_of`), the compValue is read by the same
:func:`.filters.comparison_value`, so numbers order as numbers, dateTimes as
moments, strings per caseExact (RFC 7644 §3.4.2.2), booleans as booleans, and
a value or operator that does not fit the type is the same 400
``invalidFilter``. An item's value mirrors what its database row holds: an
absent boolean is false (RFC 7643 §2.4: ``primary`` defaults to false), an
empty string is no value. A comparison through a value path inside the
brackets (``emails[type eq "x"].value eq "y"``) is refused.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from scim2_filter_parser import ast

from .casefold import get_insensitive
from .exceptions import InvalidPath
from .filters import FilterField, comparison_value, schema_field
from .resources.values import parse_moment
from .schemas import Attribute

#: ``attribute eq "value"`` comparisons joined by ``and``, as ``(attribute, value)`` pairs.
Conjunction = list[tuple[str, str]]

#: A sub-attribute the schema does not name compares as a string that is not caseExact.
_UNKNOWN = Attribute("?")


def matches(node: Any, item: dict[str, Any], attribute: Attribute | None = None) -> bool:
    """Whether the complex value ``item`` of ``attribute`` satisfies the filter ``node``.

    Each sub-attribute compares as ``attribute``'s schema types it (without
    ``attribute``, or for a sub-attribute it does not name: a string that is
    not caseExact). Every comparison is evaluated (no short cut), so a filter
    that is not supported is refused whatever the item: a 400.
    """
    if isinstance(node, ast.Filter):
        result = matches(node.expr, item, attribute)
        return not result if node.negated else result
    if isinstance(node, ast.LogExpr):
        left, right = matches(node.expr1, item, attribute), matches(node.expr2, item, attribute)
        return (left and right) if node.op.lower() == "and" else (left or right)
    if isinstance(node, ast.AttrExpr) and isinstance(node.attr_path.attr_name, str):
        name = node.attr_path.attr_name
        sub = attribute.sub_attribute(name) if attribute is not None else None
        field = schema_field(sub or _UNKNOWN)
        actual = _as_kind(field, get_insensitive(item, name))
        operator = node.value.lower()
        if operator == "pr":
            return actual is not None
        raw = node.comp_value.value if node.comp_value is not None else None
        return _compare(field, actual, operator, comparison_value(field, operator, raw, name))
    raise InvalidPath("The value filter is not supported.")


def _as_kind(field: FilterField, value: Any) -> Any:
    """An item's value as its row holds it: ``None`` for no value (or none of the kind)."""
    if field.kind == "boolean":
        # The row of a value without ``primary`` says false (RFC 7643 §2.4).
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if value is None or value == "" or isinstance(value, (dict, list)):
        return None
    if field.kind == "number":
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    if field.kind == "datetime":
        return parse_moment(value)
    text = str(value)
    return text.lower() if field.folded else text


def _compare(field: FilterField, actual: Any, operator: str, expected: Any) -> bool:
    if actual is None:
        return operator == "ne"  # no value is not equal to any (SQL: ``IS NULL``)
    if operator == "eq":
        return bool(actual == expected)
    if operator == "ne":
        return bool(actual != expected)
    if operator == "co":  # co, sw, ew: strings only (comparison_value refused the rest)
        return bool(expected in actual)
    if operator == "sw":
        return bool(actual.startswith(expected))
    if operator == "ew":
        return bool(actual.endswith(expected))
    return {
        "gt": actual > expected,
        "ge": actual >= expected,
        "lt": actual < expected,
        "le": actual <= expected,
    }[operator]


def equality_terms(node: Any) -> list[Conjunction] | None:
    """The filter as ``eq`` comparisons joined by ``and``, those joined by ``or``; else ``None``.

    ``type eq "work" and primary eq true`` → ``[[("type", "work"), ("primary", "true")]]``;
    ``value eq "a" or value eq "b"`` → ``[[("value", "a")], [("value", "b")]]``. A ``not``,
    another operator, or an ``or`` inside an ``and`` is not of that form.
    """
    if isinstance(node, ast.Filter):
        return None if node.negated else equality_terms(node.expr)
    if isinstance(node, ast.LogExpr):
        left, right = equality_terms(node.expr1), equality_terms(node.expr2)
        if left is None or right is None:
            return None
        if node.op.lower() == "or":
            return left + right
        if len(left) == 1 and len(right) == 1:
            return [left[0] + right[0]]
        return None
    if (
        isinstance(node, ast.AttrExpr)
        and node.value.lower() == "eq"
        and isinstance(node.attr_path.attr_name, str)
        and node.comp_value is not None
    ):
        return [[(node.attr_path.attr_name, node.comp_value.value)]]
    return None


def equalities(node: Any) -> dict[str, Any] | None:
    """The one value the filter describes: ``type eq "work" and primary eq true`` →
    ``{"type": "work", "primary": "true"}``; ``None`` unless it is one ``and`` of ``eq``.

    An attribute compared twice keeps its last value.
    """
    terms = equality_terms(node)
    if terms is None or len(terms) != 1:
        return None
    return dict(terms[0])
