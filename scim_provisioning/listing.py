"""Lists and searches (RFC 7644 §3.4.2, §3.4.3): one request shape, GET or ``.search``.

A list request is read the same way from query parameters or from a
``SearchRequest`` body. Over one resource type it runs one query for the
page, its total and what the page's rows link to (a user's groups; on
PostgreSQL a page past the first is read by its ids first, see
:func:`.reads._deferred`); over several (the root ``.search``), one COUNT
and one page query per type. Neither grows with the
team. The commonest shapes (no filter, one exact comparison) are compiled
once per process (:mod:`.reads`, the seam of compiled reads).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db.models import Q, QuerySet

from .authentication import TokenGuard
from .casefold import fold_keys
from .conf import app_settings
from .exceptions import InvalidFilter, InvalidSyntax, InvalidValue
from .filters import exact_equality, filter_to_q, parse_filter, sort_field, sort_key
from .reads import Matching, Page, list_page
from .resource_types import ResourceType
from .resources.projection import Selection
from .scope import TeamScope
from .urns import LIST_RESPONSE_SCHEMA

_PARAMETERS = (
    "filter",
    "startIndex",
    "count",
    "attributes",
    "excludedAttributes",
    "sortBy",
    "sortOrder",
)


@dataclass(frozen=True)
class ListRequest:
    """What a list or search asks for; ``count`` is already clamped to the configured maximum."""

    filter: str | None
    start_index: int
    count: int
    attributes: Any
    excluded_attributes: Any
    sort_by: str | None
    descending: bool

    @property
    def offset(self) -> int:
        return self.start_index - 1

    @classmethod
    def from_parameters(cls, get: Callable[[str], Any]) -> ListRequest:
        """From a lookup of the request's parameters (query string or search body)."""
        start = _integer("startIndex", get("startIndex"))
        size = _integer("count", get("count"))
        start = 1 if start is None or start < 1 else start
        size = app_settings.DEFAULT_PAGE_SIZE if size is None else size
        order = get("sortOrder") or "ascending"
        if not isinstance(order, str):
            raise InvalidValue("'sortOrder' is 'ascending' or 'descending'.")
        order = order.strip().lower()
        if order not in ("ascending", "descending"):
            raise InvalidValue("'sortOrder' is 'ascending' or 'descending'.")
        text = get("filter")
        if text is not None and not isinstance(text, str):
            raise InvalidFilter("'filter' must be a string.")
        sort_by = get("sortBy")
        if sort_by is not None and not isinstance(sort_by, str):
            raise InvalidValue("'sortBy' must be a string.")
        return cls(
            filter=text or None,
            start_index=start,
            count=max(0, min(size, app_settings.MAX_PAGE_SIZE)),
            attributes=get("attributes"),
            excluded_attributes=get("excludedAttributes"),
            sort_by=sort_by or None,
            descending=order == "descending",
        )

    @classmethod
    def from_body(cls, body: Any) -> ListRequest:
        """From a ``POST .search`` body (its parameter names matched case-insensitively)."""
        if not isinstance(body, dict):
            raise InvalidSyntax("The search body must be a JSON object.")
        fields = fold_keys(body)
        return cls.from_parameters(lambda name: fields.get(name.lower()))


def _integer(name: str, raw: Any) -> int | None:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    if isinstance(raw, bool):
        raise InvalidValue(f"'{name}' must be an integer, not {raw!r}.")
    try:
        return int(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError) as exc:
        raise InvalidValue(f"'{name}' must be an integer, not {raw!r}.") from exc


def matching(
    kind: ResourceType,
    scope: TeamScope,
    request: ListRequest,
    *,
    strict_sort: bool = True,
    where: Q | None = None,
) -> Any:
    """The team's records of ``kind`` that the request's filter selects, in a stable order.

    With ``strict_sort`` off (a search over several types), a ``sortBy`` that
    this type cannot sort on leaves it in its default order. ``where`` stands
    for the filter, already translated.
    """
    records = kind.queryset(scope)
    if where is None and request.filter:
        where = filter_to_q(request.filter, kind.filters, kind.schema_urns)
    if where is not None:
        records = records.filter(where)
    order: list[Any] = ["created", "id"]
    sort_by = request.sort_by
    if sort_by and not strict_sort and (sort_key(sort_by, kind.schema_urns) not in kind.sorts):
        sort_by = None
    if sort_by:
        field = sort_field(sort_by, kind.sorts, kind.schema_urns)
        # RFC 7644 §3.4.2.3: resources without the value come last ascending and first
        # descending, on every database (SQLite and PostgreSQL order NULLs oppositely).
        order.insert(
            0, field.desc(nulls_first=True) if request.descending else field.asc(nulls_last=True)
        )
    elif request.descending:
        order = ["-created", "-id"]
    return records.order_by(*order)


def list_resources(
    kinds: list[ResourceType],
    scope: TeamScope,
    request: ListRequest,
    base_url: str,
    *,
    guard: TokenGuard | None = None,
) -> dict[str, Any]:
    """A ListResponse over one or several resource types (the root ``.search``).

    Over several types, results run type after type; a filter naming an
    attribute that one type lacks selects nothing of that type, and is an
    error only when no type knows it.

    Over one type (a GET list or a ``.search``: one path), the page and its
    total come in one query (the count as a scalar subquery the database runs
    once), and ``guard`` checks the request's token in that same query.
    """
    selections = {
        k.name: k.selection(request.attributes, request.excluded_attributes) for k in kinds
    }
    selected: list[tuple[ResourceType, Any, int]] = []
    errors: list[InvalidFilter] = []
    sort_by = request.sort_by
    if sort_by and not any(sort_key(sort_by, k.schema_urns) in k.sorts for k in kinds):
        raise InvalidValue(f"Sorting by '{sort_by}' is not supported.")
    if len(kinds) == 1:
        kind = kinds[0]
        return _one_kind_page(kind, scope, request, base_url, selections[kind.name], guard)
    for kind in kinds:
        try:
            records = matching(kind, scope, request, strict_sort=len(kinds) == 1)
        except InvalidFilter as exc:
            errors.append(exc)
            continue
        selected.append((kind, records, records.count()))
    if not selected:
        raise errors[0]

    total = sum(count for _, _, count in selected)
    resources: list[dict[str, Any]] = []
    offset, room = request.offset, request.count
    for kind, records, count in selected:
        if room <= 0:
            break
        if offset >= count:
            offset -= count
            continue
        page = list(records[offset : offset + room])
        resources += kind.represent(page, base_url, selections[kind.name])
        room -= len(page)
        offset = 0
    return list_response(resources, total=total, start_index=request.start_index)


def _one_kind_page(
    kind: ResourceType,
    scope: TeamScope,
    request: ListRequest,
    base_url: str,
    selection: Selection,
    guard: TokenGuard | None,
) -> dict[str, Any]:
    """A list of one type, GET or ``.search``: the page with its total in one query."""
    digest = guard.unchecked_digest if guard is not None else None
    page = Page([], None)
    if request.count > 0 and request.offset < _PAST_ANY_TEAM:
        page = _page(kind, scope, request, digest, links=selection.returns("groups"))
    if guard is not None:
        guard.confirm(page.token_ok)  # no row vouched for the token: the full check
    total = page.total
    if total is None:
        # No row carried the total: zero, unless the page lies past the end (or none was asked).
        total = 0
        if request.offset > 0 or request.count == 0:
            total = matching(kind, scope, request).count()
    resources = kind.represent(page.records, base_url, selection, groups=page.groups)
    return list_response(resources, total=total, start_index=request.start_index)


def _page(
    kind: ResourceType,
    scope: TeamScope,
    request: ListRequest,
    digest: str | None,
    *,
    links: bool,
) -> Page:
    """The page's records and their total (and, with ``digest``, the token's validity).

    With ``links``, what the records link to, in the same query (:func:`.reads.list_page`).

    A list with no filter, or with one exact comparison (how IdPs look people
    and groups up), runs SQL compiled once per process for its shape
    (:func:`.reads.list_page`); any other filter is built by the ORM.
    """
    rows = slice(request.offset, request.offset + request.count)
    order = _ordering(request.sort_by, request.descending)
    equality = None
    if request.filter:
        tree = parse_filter(request.filter)
        equality = exact_equality(tree, kind.filters, kind.schema_urns)
        if equality is None:
            where = filter_to_q(tree, kind.filters, kind.schema_urns)
            return list_page(kind, scope.team_id, rows, digest, order, where=where, links=links)
    if equality is None:
        return list_page(kind, scope.team_id, rows, digest, order, links=links)
    return list_page(
        kind,
        scope.team_id,
        rows,
        digest,
        order,
        lookup=equality.lookup,
        value=equality.value,
        links=links,
    )


@lru_cache(maxsize=256)
def _ordering(sort_by: str | None, descending: bool) -> Matching:
    """:func:`matching` in one order: one object per order (it keys the compiled pages)."""
    request = ListRequest(None, 1, 0, None, None, sort_by, descending)

    def ordered(kind: Any, scope: TeamScope, where: Q | None) -> QuerySet:
        return matching(kind, scope, request, where=where)

    return ordered


#: An offset beyond any team's records (and within every database's integers).
_PAST_ANY_TEAM = 2**31


def list_response(
    resources: list[dict[str, Any]], *, total: int | None = None, start_index: int = 1
) -> dict[str, Any]:
    """A ListResponse of ``resources``; without ``total``, complete and unpaged (discovery)."""
    return {
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": len(resources) if total is None else total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }
