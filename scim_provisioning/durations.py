"""The one duration grammar: ``90d``, ``12h``, ``30m``, ``45s``, ``2w`` (``never``: a lifetime).

Every duration a person writes goes through :func:`parse_duration`: token and
OAuth-client lifetimes, setup links, the deprovisioning guard's window, and
``scim_health --stale-after``. A whole number and one unit, case-insensitive;
``1.5h``, ``-1h``, ``1h30m`` and non-ASCII digits are refused (write ``90m``).
"""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"\s*(\d+)\s*([smhdw])\s*", re.IGNORECASE | re.ASCII)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: Words that mean "this token does not expire".
NEVER = ("never", "none", "0")
#: The longest duration accepted (ten years): anything longer is a typo.
MAX_LIFETIME = timedelta(days=3650)
#: More digits than any duration up to ten years needs (3650 days is 315,360,000 s):
#: refused before ``int()``, which would spend time on (or refuse) thousands of digits.
_MAX_DIGITS = 12


def parse_duration(value: str, *, noun: str = "duration") -> timedelta:
    """A positive duration of at most ten years; raises ``ValueError`` with a message for people.

    ``noun`` names the value in that message (``lifetime``, ``window``…).
    """
    return _parse(value, noun, "")


def parse_lifetime(value: str | int | timedelta | None) -> timedelta | None:
    """A lifetime: ``None`` for "never"; raises ``ValueError`` with a message for people.

    Accepts a :class:`~datetime.timedelta`, a number of seconds, or text in the
    grammar of :func:`parse_duration` (``90d``, ``12h``, ``30m``, ``2w``) or ``never``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if value.strip().lower() in NEVER:
            return None
        return _parse(value, "lifetime", " or 'never'")
    if isinstance(value, timedelta):
        return _within_range(value, "lifetime")
    if isinstance(value, int) and not isinstance(value, bool):
        return _bounded("lifetime", seconds=value) if value else None
    raise ValueError(f"{value!r} is not a lifetime.")


def _parse(value: str, noun: str, alternatives: str) -> timedelta:
    match = _DURATION.fullmatch(value)
    if match is None:
        raise ValueError(
            f"{value!r} is not a {noun}: write a whole number and a unit "
            f"(90d, 12h, 30m, 2w){alternatives}."
        )
    digits = match.group(1).lstrip("0")
    if len(digits) > _MAX_DIGITS:
        raise ValueError(_out_of_range(noun))
    return _bounded(noun, **{_UNITS[match.group(2).lower()]: int(digits or "0")})


def _out_of_range(noun: str) -> str:
    return f"A {noun} must be positive and at most ten years."


def _bounded(noun: str, **amount: int) -> timedelta:
    """``timedelta(**amount)`` within range; past what a timedelta holds (``99999999999d``:
    an OverflowError, a 500 of the team API) it is simply too long."""
    try:
        duration = timedelta(**amount)
    except OverflowError:
        raise ValueError(_out_of_range(noun)) from None
    return _within_range(duration, noun)


def _within_range(duration: timedelta, noun: str) -> timedelta:
    if not timedelta(0) < duration <= MAX_LIFETIME:
        raise ValueError(_out_of_range(noun))
    return duration


def describe(lifetime: timedelta | None) -> str:
    """``90d``, ``12h``, … or ``never``: how a lifetime is shown."""
    if lifetime is None:
        return "never"
    seconds = int(lifetime.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
