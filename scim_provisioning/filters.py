"""SCIM filters (RFC 7644 §3.4.2.2) → Django ``Q`` objects, and ``sortBy``.

The grammar comes from scim2-filter-parser's lexer and parser; the walk from
its tree to ``Q`` is ours, because its own transpiler silently drops the
attributes it has no mapping for inside ``and``/``or`` (a filter that should
match nobody then matches everybody). Here every attribute is looked up in a
:data:`FilterMap`; an unknown one, an unsupported operator or a malformed
value is a 400 ``invalidFilter``. The resulting ``Q`` is always applied to a
queryset that is already scoped to the token's team.

Multi-valued attributes (``emails``, ``groups``, ``members``) live in rows of
their own: a comparison on them, or a value path such as
``emails[type eq "work" and value co "@acme.com"]``, becomes one ``EXISTS``
subquery, so every condition inside brackets holds for the same value.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Left, Right, StrIndex
from django.db.models.lookups import Exact, GreaterThan
from scim2_filter_parser import ast
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser

from .conf import app_settings
from .exceptions import InvalidFilter, InvalidPath, InvalidValue
from .paths import AttributePath, Key, SchemaURNs, parse_path
from .resources.values import parse_moment

if TYPE_CHECKING:
    from .schemas import Attribute

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

    ``kind`` is ``string``, ``boolean``, ``datetime``, ``number`` or ``uuid``. A string
    field that is ``folded`` is stored lower-cased (or compared through a
    ``Lower()`` alias), so the value is lower-cased and compared exactly,
    which keeps the comparison on an index.
    """

    lookup: str
    kind: str = "string"
    case_exact: bool = False
    folded: bool = False
    empty: Any = None  # the stored value meaning "absent", for ``pr``


@dataclass(frozen=True)
class MultiValued:
    """A multi-valued attribute kept in rows of ``model``, linked by ``link`` to the resource.

    ``fields`` maps its sub-attributes (lower case) to fields of ``model``;
    ``default`` is the sub-attribute a bare ``emails eq "x"`` compares.
    """

    model: type[models.Model]
    link: str
    fields: dict[str, FilterField]
    where: dict[str, Any] = field(default_factory=dict)
    default: str = "value"

    def exists(self, condition: Q) -> Exists:
        rows = self.model._default_manager.filter(**{self.link: OuterRef("pk")}, **self.where)
        return Exists(rows.filter(condition))


#: (schema URN or None, attribute, sub-attribute) → where it lives, all lower case.
#: A :class:`MultiValued` entry is keyed with a ``None`` sub-attribute.
FilterMap = dict[Key, "FilterField | MultiValued"]


def parse_filter(text: str) -> ast.Filter:
    """The syntax tree of ``text``; any failure is a 400 ``invalidFilter``."""
    if len(text) > app_settings.MAX_FILTER_LENGTH:
        raise InvalidFilter(
            f"The filter is longer than {app_settings.MAX_FILTER_LENGTH} characters."
        )
    try:
        tree = SCIMParser().parse(SCIMLexer().tokenize(_fold_literals(text)))
    except RecursionError as exc:
        raise InvalidFilter(f"The filter is nested deeper than {MAX_DEPTH} levels.") from exc
    except Exception as exc:  # the lexer raises ValueError, the parser its own error
        raise InvalidFilter(f"The filter could not be parsed: {exc}") from exc
    # Every later walk of the tree (to a Q, over a PATCH target's values) recurses:
    # its depth is checked here, once, without recursion.
    if _depth(tree) > MAX_DEPTH:
        raise InvalidFilter(f"The filter is nested deeper than {MAX_DEPTH} levels.")
    return _precedence(tree)


def _children(node: Any) -> tuple[Any, ...]:
    if isinstance(node, ast.Filter):
        return (node.expr,)
    if isinstance(node, ast.LogExpr):
        return (node.expr1, node.expr2)
    if isinstance(node, ast.AttrExpr) and isinstance(node.attr_path.attr_name, ast.Filter):
        return (node.attr_path.attr_name,)
    return ()


def _depth(tree: Any) -> int:
    """How deep ``tree`` nests, counted with a stack (a deep tree would overflow recursion)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in _children(node))
    return deepest


_LITERAL_OR_STRING = re.compile(
    r'"(?:[^"\\]|\\.)*"'
    r"|\b(?:true|false|null)\b"
    # A number compared with (RFC 7644 §3.4.2.2: compValue is a JSON number too).
    r"|(?P<operator>\b(?:eq|ne|co|sw|ew|gt|ge|lt|le)\s+)"
    r"(?P<number>-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)(?![\w.])",
    re.IGNORECASE,
)


def _fold_literals(text: str) -> str:
    """The filter's literals as the lexer knows them, leaving quoted strings alone.

    ``TRUE``/``False``/``NULL`` are lower-cased. A number is quoted: the lexer of
    scim2-filter-parser 0.7 reads one digit as a number, so ``level gt 10`` did not
    parse; quoted, it is the text every comparison reads a number from.
    """

    def fold(match: re.Match[str]) -> str:
        if match.group("number") is not None:
            return f'{match.group("operator")}"{match.group("number")}"'
        literal = match.group(0)
        return literal if literal.startswith('"') else literal.lower()

    return _LITERAL_OR_STRING.sub(fold, text)


def _precedence(node: Any) -> Any:
    """Rebuild the tree so that ``and`` binds tighter than ``or`` (RFC 7644 §3.4.2.2).

    scim2-filter-parser 0.7 gives both the same precedence, so ``a or b and c``
    comes out as ``(a or b) and c``. A chain it built is a Filter wrapping a
    LogExpr once; a parenthesised group is wrapped twice and stays whole.
    """
    if isinstance(node, ast.Filter):
        if _is_chain(node):
            terms, operators = _flatten(node)
            groups: list[list[Any]] = [[terms[0]]]
            for operator, term in zip(operators, terms[1:], strict=True):
                if operator == "or":
                    groups.append([term])
                else:
                    groups[-1].append(term)
            return _join("or", [_join("and", group) for group in groups])
        return ast.Filter(_precedence(node.expr), node.negated, node.namespace)
    if isinstance(node, ast.AttrExpr) and isinstance(node.attr_path.attr_name, ast.Filter):
        path = node.attr_path
        inner = ast.AttrPath(_precedence(path.attr_name), path.sub_attr, path.uri)
        return ast.AttrExpr(node.value, inner, node.comp_value)
    return node


def _is_chain(node: Any) -> bool:
    return (
        isinstance(node, ast.Filter)
        and not node.negated
        and node.namespace is None
        and isinstance(node.expr, ast.LogExpr)
    )


def _flatten(node: ast.Filter) -> tuple[list[Any], list[str]]:
    expr = node.expr
    terms: list[Any] = []
    operators: list[str] = []
    for side in (expr.expr1, expr.expr2):
        if side is expr.expr2:
            operators.append(expr.op.lower())
        if _is_chain(side):
            more_terms, more_operators = _flatten(side)
            terms += more_terms
            operators += more_operators
        else:
            terms.append(_precedence(side))
    return terms, operators


def _join(operator: str, terms: list[Any]) -> Any:
    tree = terms[0]
    for term in terms[1:]:
        tree = ast.Filter(ast.LogExpr(operator, tree, term), False, None)
    return tree


def _tree(text: str | ast.Filter) -> ast.Filter:
    # A filter given as its text, or as parse_filter() gave it: a caller that asks both
    # exact_equality() and filter_to_q() parses it once.
    return parse_filter(text) if isinstance(text, str) else text


def filter_to_q(text: str | ast.Filter, fields: FilterMap, urns: SchemaURNs) -> Q:
    """The ``Q`` that selects what the filter ``text`` (or its parsed tree) selects."""
    return _Walker(fields, urns).visit(_tree(text), scope=None, depth=0)


@dataclass(frozen=True)
class Equality:
    """``attribute eq "text"`` where the database compares exactly: ``lookup = value``."""

    lookup: str
    value: str

    def q(self) -> Q:
        return Q(**{f"{self.lookup}__exact": self.value})


def exact_equality(text: str | ast.Filter, fields: FilterMap, urns: SchemaURNs) -> Equality | None:
    """The filter ``text`` as one exact comparison, or ``None`` when it is anything more.

    This is how IdPs look a person or group up before writing (``userName eq``,
    ``externalId eq``, ``displayName eq``), so lists can run it as a query of a
    fixed shape (:mod:`.listing`). It selects exactly what :func:`filter_to_q` does
    for the same text; anything that is not one ``eq`` on a string kept
    case-exact or folded is ``None``.
    """
    tree = _tree(text)
    while isinstance(tree, ast.Filter) and not tree.negated and tree.namespace is None:
        tree = tree.expr
    if not isinstance(tree, ast.AttrExpr) or tree.value.lower() != "eq":
        return None
    path, raw = tree.attr_path, tree.comp_value.value if tree.comp_value is not None else None
    if isinstance(path.attr_name, ast.Filter) or not isinstance(raw, str):
        return None
    walker = _Walker(fields, urns)
    found = fields.get(walker.key(path))
    if not isinstance(found, FilterField) or found.kind != "string":
        return None
    if not (found.case_exact or found.folded):
        return None
    return Equality(found.lookup, comparison_value(found, "eq", raw, _text(path)))


#: What ``sortBy`` may name: a field (or alias) to order by, or an expression.
SortMap = dict[Key, str | BaseExpression]


def sort_field(path: str, sorts: SortMap, urns: SchemaURNs) -> F | BaseExpression:
    """What to order by for ``sortBy=path``; an unsortable path is a 400 ``invalidValue``."""
    key = sort_key(path, urns)
    found = sorts.get(key) if key is not None else None
    if found is None:
        raise InvalidValue(f"Sorting by '{path}' is not supported.")
    return F(found) if isinstance(found, str) else found


def sort_key(path: str, urns: SchemaURNs) -> Key | None:
    """The key ``sortBy=path`` has in a map of sortable attributes; ``None`` for no attribute."""
    try:
        parsed = parse_path(path, urns)
    except InvalidPath:
        return None
    return parsed.key if parsed.attribute is not None else None


class _Walker:
    def __init__(self, fields: FilterMap, urns: SchemaURNs) -> None:
        self.fields = fields
        self.urns = urns

    def visit(self, node: Any, scope: MultiValued | None, depth: int) -> Q:
        if depth > MAX_DEPTH:
            raise InvalidFilter(f"The filter is nested deeper than {MAX_DEPTH} levels.")
        if isinstance(node, ast.Filter):
            if node.namespace is not None and scope is None:
                # A value path: emails[type eq "work"] selects resources that
                # have one email satisfying everything inside the brackets.
                multi = self.multi_valued(node.namespace)
                query: Q = Q(multi.exists(self.visit(node.expr, multi, depth + 1)))
            else:
                query = self.visit(node.expr, scope, depth + 1)
            return ~query if node.negated else query
        if isinstance(node, ast.LogExpr):
            left = self.visit(node.expr1, scope, depth + 1)
            right = self.visit(node.expr2, scope, depth + 1)
            return left & right if node.op.lower() == "and" else left | right
        if isinstance(node, ast.AttrExpr):
            return self.comparison(node, scope, depth)
        raise InvalidFilter("The filter is not supported.")

    def comparison(self, node: ast.AttrExpr, scope: MultiValued | None, depth: int) -> Q:
        path = node.attr_path
        operator = node.value.lower()
        raw = node.comp_value.value if node.comp_value is not None else None
        if isinstance(path.attr_name, ast.Filter):
            # emails[type eq "work"].value eq "x": both conditions on one email.
            value_path = path.attr_name
            multi = self.multi_valued(value_path.namespace)
            inner = self.visit(value_path.expr, multi, depth + 1)
            sub = value_path.namespace.sub_attr
            target = self.sub_field(multi, sub.value if sub else None, value_path.namespace)
            return Q(multi.exists(inner & self.compare(target, operator, raw, _text(path))))
        if scope is not None:
            if path.sub_attr is not None or path.uri:
                raise InvalidFilter(f"'{_text(path)}' cannot be used inside brackets.")
            target = self.sub_field(scope, path.attr_name, path)
            return self.compare(target, operator, raw, _text(path))
        uri, name, sub = self.key(path)
        found = self.fields.get((uri, name, None))
        if isinstance(found, MultiValued):
            target = self.sub_field(found, sub, path)
            return Q(found.exists(self.compare(target, operator, raw, _text(path))))
        found = self.fields.get((uri, name, sub))
        if not isinstance(found, FilterField):
            raise InvalidFilter(f"Filtering on '{_text(path)}' is not supported.")
        return self.compare(found, operator, raw, _text(path))

    def key(self, path: ast.AttrPath) -> Key:
        # The lexer has split the path; its schema is resolved as parse_path resolves one.
        schema = self.urns.resolve(path.uri) if path.uri else None
        sub = path.sub_attr.value if path.sub_attr else None
        return AttributePath(schema, path.attr_name, sub).key

    def multi_valued(self, path: ast.AttrPath) -> MultiValued:
        uri, name, _ = self.key(path)
        found = self.fields.get((uri, name, None))
        if not isinstance(found, MultiValued):
            raise InvalidFilter(f"'{_text(path)}' is not a multi-valued attribute.")
        return found

    def sub_field(self, multi: MultiValued, sub: str | None, path: ast.AttrPath) -> FilterField:
        found = multi.fields.get((sub or multi.default).lower())
        if found is None:
            raise InvalidFilter(f"Filtering on '{_text(path)}' is not supported.")
        return found

    def compare(self, field: FilterField, operator: str, raw: str | None, path: str) -> Q:
        if operator == "pr":
            present = ~Q(**{f"{field.lookup}__isnull": True})
            if field.empty is not None:
                present &= ~Q(**{field.lookup: field.empty})
            return present
        value = comparison_value(field, operator, raw, path)
        if value is _NOTHING:
            return Q(pk__in=[]) if operator == "eq" else ~Q(pk__in=[])
        if field.kind == "string" and operator in _STRING_LOOKUPS:
            if operator in ("eq", "ne") and (field.case_exact or field.folded):
                query = Equality(field.lookup, value).q()
            else:
                lookup = _STRING_LOOKUPS[operator]
                if not (field.case_exact or field.folded):
                    lookup = "i" + lookup
                query = Q(**{f"{field.lookup}__{lookup}": value})
                if field.case_exact and value:
                    query &= _same_case(field.lookup, operator, value)
            return _not_equal(query, field) if operator == "ne" else query
        if operator in _ORDER_LOOKUPS:
            query = Q(**{f"{field.lookup}__{_ORDER_LOOKUPS[operator]}": value})
            if field.empty is not None:
                # The value kept for "absent" (a row's type "") is no value to order.
                query &= ~Q(**{field.lookup: field.empty})
            return query
        query = Q(**{field.lookup: value})
        return _not_equal(query, field) if operator == "ne" else query


#: Attribute types (RFC 7643 §2.3) → the kind a filter compares them as; others are strings.
_KINDS = {"boolean": "boolean", "integer": "number", "decimal": "number", "dateTime": "datetime"}
#: The operators each kind takes (RFC 7644 §3.4.2.2); a string takes them all.
_OPERATORS = {
    "boolean": ("eq", "ne"),
    "uuid": ("eq", "ne"),
    "number": ("eq", "ne", "gt", "ge", "lt", "le"),
    "datetime": ("eq", "ne", "gt", "ge", "lt", "le"),
}


def kind_of(attribute: Attribute) -> str:
    """How a filter compares ``attribute``'s values: the one reading of its schema type.

    The SQL translation and the in-memory matcher (:mod:`.value_filters`) both
    compare per this kind, so ``"10"`` and ``"9"`` order as numbers in both.
    """
    return _KINDS.get(attribute.type, "string")


def schema_field(attribute: Attribute) -> FilterField:
    """How values of ``attribute`` in hand compare: its kind, and its caseExact for strings.

    A string that is not caseExact compares lower-cased on both sides, as the
    folded columns do (:class:`~.models.SCIMUserValue`).
    """
    kind = kind_of(attribute)
    case_exact = kind == "string" and attribute.case_exact
    return FilterField(
        attribute.name, kind=kind, case_exact=case_exact, folded=kind == "string" and not case_exact
    )


def comparison_value(field: FilterField, operator: str, raw: str | None, path: str) -> Any:
    """The compValue ``raw`` read as ``field``'s kind, for any ``operator`` but ``pr``.

    The one reading both evaluations of a filter use: a value not of the kind
    (``level gt "ten"``), an operator the kind does not take (``primary gt
    false``) or no value (``type eq null``) is a 400 ``invalidFilter``. A folded
    string is lower-cased; an id that is no UUID is :data:`_NOTHING`.
    """
    if raw is None:
        raise InvalidFilter(f"The operator '{operator}' needs a value.")
    value = _read_value(field, operator, raw, path)
    if operator not in _OPERATORS.get(field.kind, (*_STRING_LOOKUPS, *_ORDER_LOOKUPS)):
        raise InvalidFilter(f"The operator '{operator}' cannot be used on '{path}'.")
    return value


def _read_value(field: FilterField, operator: str, raw: str, path: str) -> Any:
    if field.kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise InvalidFilter(f"'{path}' is compared with true or false.")
        return raw.lower() == "true"
    if field.kind == "datetime":
        # The one reader of dates and times the values use too: an offset that puts
        # the moment outside years 1-9999 UTC, or a naive database, is no 500 here.
        parsed = parse_moment(raw)
        if parsed is None:
            raise InvalidFilter(
                f"'{raw}' is not a date and time (ISO 8601) in years 1 to 9999 UTC for '{path}'."
            )
        return parsed
    if field.kind == "number":
        try:
            number = Decimal(str(raw))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise InvalidFilter(f"'{raw}' is not a number for '{path}'.")
        return number
    if field.kind == "uuid":
        if operator not in ("eq", "ne"):
            raise InvalidFilter(f"The operator '{operator}' cannot be used on '{path}'.")
        try:
            return uuid.UUID(raw)
        except ValueError:
            return _NOTHING  # no id of ours looks like this: matches nothing
    return raw.lower() if field.folded else raw


def _same_case(lookup: str, operator: str, value: str) -> Q:
    """``co``, ``sw`` or ``ew`` of a caseExact string, confirmed case for case.

    Django's ``contains`` is a ``LIKE`` on SQLite, which ignores the case of ASCII
    letters (PostgreSQL's does not): ``externalId sw "ab"`` found ``"ABC"`` there
    only. ``instr``/``strpos`` and ``substr`` compare exactly on both; the ``LIKE``
    stays, for what an index can do with it.
    """
    column = F(lookup)
    if operator == "co":
        return Q(GreaterThan(StrIndex(column, Value(value)), 0))
    part = Left(column, len(value)) if operator == "sw" else Right(column, len(value))
    return Q(Exact(part, Value(value)))


def _not_equal(query: Q, field: FilterField) -> Q:
    """``ne`` matches a resource without the attribute too: no value is not equal."""
    return ~query | Q(**{f"{field.lookup}__isnull": True})


def _text(path: Any) -> str:
    if isinstance(path, ast.AttrPath) and isinstance(path.attr_name, ast.Filter):
        # emails[type eq "work"].primary: the lexer keeps the name on the bracket's filter.
        return _text(path.attr_name.namespace)
    if isinstance(path, ast.AttrPath):
        name = path.attr_name if isinstance(path.attr_name, str) else "?"
        text = f"{path.uri}:{name}" if path.uri else name
        return f"{text}.{path.sub_attr.value}" if path.sub_attr else text
    return "?"
