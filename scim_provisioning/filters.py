"""SCIM filters (RFC 7644 §3.4.2.2) → Django ``Q`` objects.

The grammar comes from scim2-filter-parser's lexer and parser; the walk from
its tree to ``Q`` is ours, because its own transpiler silently drops the
attributes it has no mapping for inside ``and``/``or`` (a filter that should
match nobody then matches everybody). Here every attribute is looked up in a
:class:`FilterMap`; an unknown one, an unsupported operator or a malformed
value is a 400 ``invalidFilter``. The resulting ``Q`` is always applied to a
queryset that is already scoped to the token's team.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from scim2_filter_parser import ast
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser

from .conf import app_settings
from .exceptions import InvalidFilter

MAX_DEPTH = 32

_STRING_LOOKUPS = {
    "eq": "exact",
    "ne": "exact",
    "co": "contains",
    "sw": "startswith",
    "ew": "endswith",
}
_ORDER_LOOKUPS = {"gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}
#: A comparison value that no stored value can equal (e.g. an id that is no UUID).
_NOTHING = object()


@dataclass(frozen=True)
class FilterField:
    """How one SCIM attribute path is found in the database.

    ``kind`` is ``string``, ``boolean``, ``datetime`` or ``uuid``. A string
    field that is ``folded`` is stored lower-cased (or compared through a
    ``Lower()`` alias), so the value is lower-cased and compared exactly,
    which keeps the comparison on an index.
    """

    lookup: str
    kind: str = "string"
    case_exact: bool = False
    folded: bool = False
    empty: Any = None  # the stored value meaning "absent", for ``pr``


#: (schema URN or None, attribute, sub-attribute) → field, all lower case.
FilterMap = dict[tuple[str | None, str, str | None], FilterField]


def parse_filter(text: str) -> ast.Filter:
    """The syntax tree of ``text``; any failure is a 400 ``invalidFilter``."""
    if len(text) > app_settings.MAX_FILTER_LENGTH:
        raise InvalidFilter(
            f"The filter is longer than {app_settings.MAX_FILTER_LENGTH} characters."
        )
    try:
        return SCIMParser().parse(SCIMLexer().tokenize(text))
    except Exception as exc:  # the lexer raises ValueError, the parser its own error
        raise InvalidFilter(f"The filter could not be parsed: {exc}") from exc


def filter_to_q(text: str, fields: FilterMap, core_schema: str) -> Q:
    """The ``Q`` that selects what the filter ``text`` selects."""
    tree = parse_filter(text)
    return _Walker(fields, core_schema.lower()).visit(tree, namespace=None, depth=0)


class _Walker:
    def __init__(self, fields: FilterMap, core_schema: str) -> None:
        self.fields = fields
        self.core_schema = core_schema

    def visit(self, node: Any, namespace: ast.AttrPath | None, depth: int) -> Q:
        if depth > MAX_DEPTH:
            raise InvalidFilter(f"The filter is nested deeper than {MAX_DEPTH} levels.")
        if isinstance(node, ast.Filter):
            inner_namespace = node.namespace or namespace
            query = self.visit(node.expr, inner_namespace, depth + 1)
            return ~query if node.negated else query
        if isinstance(node, ast.LogExpr):
            left = self.visit(node.expr1, namespace, depth + 1)
            right = self.visit(node.expr2, namespace, depth + 1)
            return left & right if node.op.lower() == "and" else left | right
        if isinstance(node, ast.AttrExpr):
            return self.comparison(node, namespace, depth)
        raise InvalidFilter("The filter is not supported.")

    def comparison(self, node: ast.AttrExpr, namespace: ast.AttrPath | None, depth: int) -> Q:
        path = node.attr_path
        extra = Q()
        if isinstance(path.attr_name, ast.Filter):
            # emails[type eq "work"].value eq "x": the bracket filter narrows the
            # multi-valued attribute and the comparison applies to its sub-attribute.
            value_path = path.attr_name
            extra = self.visit(value_path.expr, value_path.namespace, depth + 1)
            path = value_path.namespace
            namespace = None
        field = self.resolve(path, namespace)
        operator = node.value.lower()
        raw = node.comp_value.value if node.comp_value is not None else None
        return extra & self.compare(field, operator, raw, _path_text(path, namespace))

    def resolve(self, path: ast.AttrPath, namespace: ast.AttrPath | None) -> FilterField:
        uri = (path.uri or "").lower() or None
        if uri == self.core_schema:
            uri = None
        name = path.attr_name.lower()
        sub = path.sub_attr.value.lower() if path.sub_attr else None
        if namespace is not None:
            # Inside brackets, names are sub-attributes of the bracketed attribute.
            uri = (namespace.uri or "").lower() or None
            if uri == self.core_schema:
                uri = None
            name, sub = namespace.attr_name.lower(), name
        field = self.fields.get((uri, name, sub))
        if field is None:
            raise InvalidFilter(f"Filtering on '{_path_text(path, namespace)}' is not supported.")
        return field

    def compare(self, field: FilterField, operator: str, raw: str | None, path: str) -> Q:
        if operator == "pr":
            present = ~Q(**{f"{field.lookup}__isnull": True})
            if field.empty is not None:
                present &= ~Q(**{field.lookup: field.empty})
            return present
        if raw is None:
            raise InvalidFilter(f"The operator '{operator}' needs a value.")
        value = self.value(field, operator, raw, path)
        if value is _NOTHING:
            return Q(pk__in=[]) if operator == "eq" else ~Q(pk__in=[])
        if field.kind == "string" and operator in _STRING_LOOKUPS:
            lookup = _STRING_LOOKUPS[operator]
            if not (field.case_exact or field.folded):
                lookup = "i" + lookup
            query = Q(**{f"{field.lookup}__{lookup}": value})
            return ~query if operator == "ne" else query
        if field.kind in ("string", "datetime") and operator in _ORDER_LOOKUPS:
            return Q(**{f"{field.lookup}__{_ORDER_LOOKUPS[operator]}": value})
        if operator in ("eq", "ne") and field.kind in ("boolean", "datetime", "uuid"):
            query = Q(**{field.lookup: value})
            return ~query if operator == "ne" else query
        raise InvalidFilter(f"The operator '{operator}' cannot be used on '{path}'.")

    def value(self, field: FilterField, operator: str, raw: str, path: str) -> Any:
        if field.kind == "boolean":
            if raw.lower() not in ("true", "false"):
                raise InvalidFilter(f"'{path}' is compared with true or false.")
            return raw.lower() == "true"
        if field.kind == "datetime":
            try:
                parsed = parse_datetime(raw)
            except ValueError:
                parsed = None
            if parsed is None:
                raise InvalidFilter(f"'{raw}' is not a date and time (ISO 8601) for '{path}'.")
            return parsed
        if field.kind == "uuid":
            if operator not in ("eq", "ne"):
                raise InvalidFilter(f"The operator '{operator}' cannot be used on '{path}'.")
            try:
                return uuid.UUID(raw)
            except ValueError:
                return _NOTHING  # no id of ours looks like this: matches nothing
        return raw.lower() if field.folded else raw


def _path_text(path: ast.AttrPath, namespace: ast.AttrPath | None) -> str:
    text = path.attr_name if isinstance(path.attr_name, str) else "?"
    if path.sub_attr:
        text += "." + path.sub_attr.value
    if namespace is not None:
        text = f"{namespace.attr_name}[{text}]"
    return text
