"""``{% load scim_dates %}`` then ``{{ value|moment }}``: see :mod:`scim_provisioning.dates`."""

from __future__ import annotations

from datetime import date, datetime

from django import template

from ..dates import format_moment

register = template.Library()


@register.filter
def moment(value: datetime | date | None) -> str:
    """The app's one date format with its time zone; ``""`` for ``None`` (chain ``|default``)."""
    return format_moment(value)
