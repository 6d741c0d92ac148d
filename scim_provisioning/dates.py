"""The one way the app writes a moment for people to read.

``2026-12-06 14:05:09 CET``: the date as ISO 8601 orders it (no "Dec. 6" against
"06/12" ambiguity between readers), seconds (an IdP's retries land seconds apart, and
the request log and the timeline are matched by them), and the time zone's name,
because an IT admin compares these times with the IdP's own logs, which are in UTC
(Okta's System Log, Entra's provisioning logs) or in their own zone. The moment is
shown in the current time zone (``TIME_ZONE``, or one activated for the request).
"""

from __future__ import annotations

from datetime import date, datetime
from datetime import timezone as dt_timezone

from django.utils import timezone
from django.utils.dateformat import format as django_format

#: Django's date format characters: ``T`` is the time zone's abbreviation (``UTC``, ``CET``).
MOMENT_FORMAT = "Y-m-d H:i:s T"
DAY_FORMAT = "Y-m-d"


def format_moment(value: datetime | date | None) -> str:
    """``value`` as people read it on every page of the app; ``""`` for no value.

    An aware datetime is shown in the current time zone; a naive one (``USE_TZ =
    False``) as it is, under the default time zone's name; a date as ``Y-m-d``.
    """
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return django_format(value, DAY_FORMAT)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    else:
        try:
            value = timezone.localtime(value)
        except OverflowError:
            # Within hours of year 1 or 9999 (a far "never"), the zone's offset leaves the
            # calendar: the moment is shown in UTC (as stored) rather than failing the page.
            value = value.astimezone(dt_timezone.utc)
    return django_format(value, MOMENT_FORMAT)
