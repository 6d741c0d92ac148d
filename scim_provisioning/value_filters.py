"""Value filters read in memory (RFC 7644 §3.5.2): a filter tree against values in hand.

:mod:`.filters` turns a filter into SQL for lists and searches; this module
reads the same trees (from :func:`.filters.parse_filter`) where no query is
involved. A PATCH's ``emails[type eq "work"]`` picks the items of a document
that :func:`matches`; when none does, the filter's :func:`equalities`
describe the item to add. A group's ``members[value eq "<id>"]`` names
members without loading them, read with :func:`equality_terms` too.

Comparisons are case-insensitive and on text (booleans compare as ``"true"``
and ``"false"``); a comparison through a value path inside the brackets
(``emails[type eq "x"].value eq "y"``) is refused.
"""

from __future__ import annotations

from typing import Any

from scim2_filter_parser import ast

from .casefold import get_insensitive
from .exceptions import InvalidPath

#: ``attribute eq "value"`` comparisons joined by ``and``, as ``(attribute, value)`` pairs.
Conjunction = list[tuple[str, str]]


def matches(node: Any, item: dict[str, Any]) -> bool:
    """Whether the complex value ``item`` satisfies the filter ``node``.

    Every comparison is evaluated (no short cut), so a filter that is not
    supported is refused whatever the item: a 400 ``invalidPath``.
    """
    if isinstance(node, ast.Filter):
        result = matches(node.expr, item)
        return not result if node.negated else result
    if isinstance(node, ast.LogExpr):
        left, right = matches(node.expr1, item), matches(node.expr2, item)
        return (left and right) if node.op.lower() == "and" else (left or right)
    if isinstance(node, ast.AttrExpr) and isinstance(node.attr_path.attr_name, str):
        name = node.attr_path.attr_name.lower()
        actual = get_insensitive(item, name)
        operator = node.value.lower()
        if operator == "pr":
            return actual not in (None, "", [])
        expected = node.comp_value.value if node.comp_value is not None else None
        return _compare(actual, operator, expected)
    raise InvalidPath("The value filter is not supported.")


def _compare(actual: Any, operator: str, expected: str | None) -> bool:
    if actual is None or expected is None:
        return operator == "ne" and actual != expected
    left, right = str(actual).lower(), expected.lower()  # booleans compare as "true"/"false"
    return {
        "eq": left == right,
        "ne": left != right,
        "co": right in left,
        "sw": left.startswith(right),
        "ew": left.endswith(right),
        "gt": left > right,
        "ge": left >= right,
        "lt": left < right,
        "le": left <= right,
    }.get(operator, False)


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
