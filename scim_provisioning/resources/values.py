"""Reading SCIM values the way IdPs really send them, driven by the schema.

Postel's law, with the schema as the judge: names match case-insensitively,
unknown names are ignored, booleans may arrive as ``"True"``/``"false"``/``"1"``
strings, a single value may come wrapped in a one-item list, a bare scalar
given for a complex attribute with a ``value`` sub-attribute means
``{"value": scalar}`` (and a ``value`` that is the JSON text of such an
object means that object), and a multi-valued attribute may come as one object.
What cannot be read as the schema's type is a 400 ``invalidValue``, and so
is a value past the bounds every input has (items per multi-valued
attribute, characters per string): refused before any work is done on it.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone
from typing import Any

from django.conf import settings
from django.utils import timezone as django_timezone
from django.utils.dateparse import parse_date, parse_datetime

from ..casefold import get_insensitive, has_insensitive
from ..conf import app_settings
from ..exceptions import InvalidValue
from ..json_text import loads_bounded
from ..schemas import Attribute

#: A UTF-16 surrogate on its own: Python strings can hold one, UTF-8 cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")


def coerce(attribute: Attribute, value: Any, *, path: str | None = None) -> Any:
    """``value`` read as ``attribute``'s type; ``None`` stays ``None`` (a clear)."""
    path = path or attribute.name
    if value is None:
        return None
    if attribute.multi_valued:
        items = value if isinstance(value, list) else [value]
        check_item_count(attribute, len(items), path)
        single = attribute.single
        coerced = [coerce(single, item, path=path) for item in items]
        return [item for item in coerced if item not in (None, {})]
    if isinstance(value, list):
        if len(value) != 1:
            raise InvalidValue(f"'{path}' takes a single value, not a list of {len(value)}.")
        value = value[0]
    if attribute.type == "complex":
        return _coerce_complex(attribute, value, path)
    if attribute.type == "boolean":
        return _coerce_boolean(value, path)
    if attribute.type in ("integer", "decimal"):
        return _coerce_number(attribute.type, value, path)
    if attribute.type == "dateTime" and parse_moment(value) is None:
        raise InvalidValue(
            f"'{path}' must be a date and time (ISO 8601) in years 1 to 9999 UTC, not {value!r}."
        )
    if attribute.type in ("string", "reference", "dateTime", "binary"):
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            raise InvalidValue(f"'{path}' must be a string.")
        text = str(value) if not isinstance(value, str) else value
        # NUL and lone surrogates never get this far: the body's parser refuses them.
        if len(text) > app_settings.MAX_STRING_LENGTH:
            raise InvalidValue(
                f"'{path}' is longer than {app_settings.MAX_STRING_LENGTH} characters."
            )
        return text
    return value


def check_item_count(attribute: Attribute, count: int, path: str | None = None) -> None:
    """A 400 ``invalidValue`` when a multi-valued attribute would hold too many values.

    A group's members are bounded per request instead (``MAX_MEMBERS_PER_REQUEST``):
    they are rows of their own and a group may hold many.
    """
    limit = (
        app_settings.MAX_MEMBERS_PER_REQUEST
        if attribute.stored_as_rows
        else app_settings.MAX_ITEMS_PER_ATTRIBUTE
    )
    if count > limit:
        raise InvalidValue(
            f"'{path or attribute.name}' has {count} values; at most {limit} are accepted."
        )


def parse_moment(value: Any) -> datetime | None:
    """An ISO 8601 date and time (or a date, meaning its midnight), as the database takes it.

    Without an offset the time is UTC. The result is the moment in UTC, aware;
    with ``USE_TZ = False`` it is naive, in the site's time zone, as Django's
    own forms give it (an aware value is a ValueError on SQLite and MySQL
    then). ``None`` when ``value`` is neither a date nor a date and time, or
    when the moment lies outside years 1 to 9999 once in UTC or in the site's
    zone (``9999-12-31T23:59:59-14:00`` is in year 10000 UTC: no database
    column holds it, and converting it raised OverflowError, a 500).
    """
    written = _as_written(value)
    if written is None:
        return None
    try:
        moment = written.astimezone(timezone.utc)
        if not settings.USE_TZ:
            moment = django_timezone.make_naive(moment)
    except (OverflowError, ValueError):
        return None
    return moment


def parse_day(value: Any) -> date | None:
    """The calendar date of an ISO 8601 date or date and time, as written (its own offset).

    ``2026-03-01T00:00:00+02:00`` is the 1st of March, though it is the 28th of
    February in UTC: a start date means the day the IdP's admin typed. ``None``
    where :func:`parse_moment` gives ``None``, so a value is storable or not
    whatever the host field it goes to.
    """
    if parse_moment(value) is None:
        return None
    written = _as_written(value)
    return written.date() if written is not None else None


def _as_written(value: Any) -> datetime | None:
    """``value`` read as an aware datetime in the offset it was written with (UTC if none)."""
    if not isinstance(value, str):
        return None
    try:
        moment = parse_datetime(value.strip())
        if moment is None:
            day = parse_date(value.strip())
            moment = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def _coerce_number(kind: str, value: Any, path: str) -> int | float:
    """An ``integer`` or ``decimal``; a numeric string is read as its number (templated IdPs)."""
    number: Any = value
    if isinstance(value, str):
        try:
            number = int(value.strip()) if kind == "integer" else float(value.strip())
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise InvalidValue(f"'{path}' must be a{'n' if kind == 'integer' else ''} {kind}.")
    if kind == "integer":
        if isinstance(number, float) and not number.is_integer():
            raise InvalidValue(f"'{path}' must be an integer.")
        return int(number)
    if not math.isfinite(number):
        raise InvalidValue(f"'{path}' must be a finite decimal.")
    return number


_TRUE, _FALSE = ("true", "1"), ("false", "0")


def _coerce_boolean(value: Any, path: str) -> bool:
    """Entra sends ``"True"``/``"False"``; OneLogin templates ``"true"``, ``"1"`` or ``"0"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidValue(f"'{path}' must be a boolean (true or false).")


def _coerce_complex(attribute: Attribute, value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        if attribute.sub_attribute("value") is not None and not isinstance(value, (dict, list)):
            value = {"value": value}
        else:
            raise InvalidValue(f"'{path}' must be an object.")
    value = _unwrap_json_value(value, path)
    result: dict[str, Any] = {}
    for key, sub_value in value.items():
        sub = attribute.sub_attribute(key)
        if sub is None or not sub.writable:
            continue
        coerced = coerce(sub, sub_value, path=f"{path}.{sub.name}")
        if coerced is not None:
            result[sub.name] = coerced
    return result


def _unwrap_json_value(item: dict[str, Any], path: str) -> dict[str, Any]:
    """An item whose ``value`` is the JSON text of an object with a ``value``: that object.

    Entra's PATCH of app roles sends ``{"value": "{\"id\":…,\"value\":\"Admin\",…}"}``
    (its POST sends the object itself). No ``value`` of ours is JSON text, so
    reading it as the object it encodes loses nothing. The text is parsed under
    the body's bounds (:func:`~scim_provisioning.json_text.loads_bounded`).
    """
    text = get_insensitive(item, "value")
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        return item
    try:
        decoded = loads_bounded(text, f"{path}.value")
    except ValueError:
        return item
    if not isinstance(decoded, dict) or not has_insensitive(decoded, "value"):
        return item
    rest = {k: v for k, v in item.items() if k.lower() != "value"}
    return {**decoded, **rest}
