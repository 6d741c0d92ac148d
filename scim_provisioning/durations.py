"""Token lifetimes as people write them: ``90d``, ``12h``, ``2w``, ``never``."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: Words that mean "this token does not expire".
NEVER = ("never", "none", "0")
#: The longest lifetime accepted (ten years): anything longer is a typo.
MAX_LIFETIME = timedelta(days=3650)


def parse_lifetime(value: str | int | timedelta | None) -> timedelta | None:
    """A lifetime: ``None`` for "never"; raises ``ValueError`` with a message for people.

    Accepts a :class:`~datetime.timedelta`, a number of seconds, or text such
    as ``90d``, ``12h``, ``30m``, ``2w`` and ``never``.
    """
    if value is None or isinstance(value, timedelta):
        lifetime = value
    elif isinstance(value, int) and not isinstance(value, bool):
        lifetime = _bounded(seconds=value) if value else None
    elif isinstance(value, str):
        if value.strip().lower() in NEVER:
            return None
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(
                f"'{value}' is not a lifetime: write a number and a unit "
                "(90d, 12h, 30m, 2w) or 'never'."
            )
        lifetime = _bounded(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
    else:
        raise ValueError(f"{value!r} is not a lifetime.")
    if lifetime is not None and (lifetime <= timedelta(0) or lifetime > MAX_LIFETIME):
        raise ValueError(_TOO_LONG)
    return lifetime


_TOO_LONG = "A token's lifetime must be positive and at most ten years."


def _bounded(**amount: int) -> timedelta:
    """``timedelta(**amount)``; past what a timedelta holds (``99999999999d``: an
    OverflowError, a 500 of the team API) it is simply too long."""
    try:
        return timedelta(**amount)
    except OverflowError:
        raise ValueError(_TOO_LONG) from None


def describe(lifetime: timedelta | None) -> str:
    """``90d``, ``12h``, … or ``never``: how a lifetime is shown."""
    if lifetime is None:
        return "never"
    seconds = int(lifetime.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
