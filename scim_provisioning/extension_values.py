"""The host extension's values, mirrored into typed, indexed rows for filters and ``sortBy``.

``SCIMUser.attributes`` keeps what the IdP sent under the extension's URN (it is
what GET returns); :class:`~.models.SCIMUserValue` rows, as for ``emails``,
copy each value into the column of its type, keyed by the attribute's name in
lower case, so ``urn:…:costCode eq "x"`` and ``sortBy=urn:…:startDate`` run on
an index whatever attributes the host declares. The system checks keep those
names apart from ``emails`` and ``phoneNumbers``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Subquery

from .filters import FilterField, FilterMap, MultiValued
from .models import SCIMUser, SCIMUserValue
from .paths import Key
from .resources.values import parse_moment
from .schemas import Attribute, UserExtension

_COLUMNS = {"integer": "number", "decimal": "number", "dateTime": "moment"}
_KINDS = {"number": "number", "moment": "datetime", "value": "string"}


def column(attribute: Attribute) -> str:
    """The column of :class:`~.models.SCIMUserValue` holding ``attribute``'s values."""
    return _COLUMNS.get(attribute.type, "value")


def extension_values(extension: UserExtension, record: SCIMUser) -> dict[str, Any]:
    """The record's values of the extension, by attribute name (absent ones left out)."""
    stored = record.attributes.get(extension.urn) or {}
    return {a.name: stored[a.name] for a in extension.schema.attributes if a.name in stored}


def value_rows(extension: UserExtension, record: SCIMUser) -> list[SCIMUserValue]:
    """The rows mirroring the record's extension values."""
    rows = []
    for attribute in extension.schema.attributes:
        value = (record.attributes.get(extension.urn) or {}).get(attribute.name)
        for item in value if isinstance(value, list) else [value]:
            if item is None or item == "":
                continue
            row = SCIMUserValue(user=record, attribute=attribute.name.lower())
            setattr(row, column(attribute), _stored(attribute, item))
            rows.append(row)
    return rows


def _stored(attribute: Attribute, value: Any) -> Any:
    if attribute.type in ("integer", "decimal"):
        return Decimal(str(value))
    if attribute.type == "dateTime":
        return parse_moment(value)
    if attribute.type == "boolean":
        return "true" if value else "false"
    text = str(value)[:255]
    return text if attribute.case_exact else text.lower()


def write_rows(extension: UserExtension, record: SCIMUser, *, replace: bool) -> None:
    """Store the record's rows (one DELETE when replacing, one INSERT when there are any)."""
    if replace:
        names = [a.name.lower() for a in extension.schema.attributes]
        SCIMUserValue.objects.filter(user=record, attribute__in=names).delete()
    rows = value_rows(extension, record)
    if rows:
        SCIMUserValue.objects.bulk_create(rows)


def filter_map(extension: UserExtension) -> FilterMap:
    """Filter paths of the extension's attributes: each an ``EXISTS`` on its rows."""
    urn = extension.urn.lower()
    found: FilterMap = {}
    for attribute in extension.schema.attributes:
        name = column(attribute)
        field = FilterField(
            name,
            kind=_KINDS[name],
            case_exact=attribute.case_exact,
            folded=name == "value" and not attribute.case_exact,
        )
        found[(urn, attribute.name.lower(), None)] = MultiValued(
            SCIMUserValue,
            link="user",
            where={"attribute": attribute.name.lower()},
            fields={"value": field},
        )
    return found


def sort_map(extension: UserExtension) -> dict[Key, Subquery]:
    """Per attribute, what ``sortBy`` orders by: the user's smallest value of it.

    The expressions are built when a request sorts, never on a read that does not:
    resolving a subquery into a queryset costs more Python than the read itself.
    """
    urn = extension.urn.lower()
    found: dict[Key, Subquery] = {}
    for attribute in extension.schema.attributes:
        name = column(attribute)
        rows = SCIMUserValue.objects.filter(user=OuterRef("pk"), attribute=attribute.name.lower())
        found[(urn, attribute.name.lower(), None)] = Subquery(rows.order_by(name).values(name)[:1])
    return found
