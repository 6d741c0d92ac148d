"""Argument types the management commands share (argparse ``type=`` callables)."""

from __future__ import annotations

import argparse
from datetime import timedelta

from ..durations import parse_duration, parse_lifetime


def duration(text: str) -> timedelta:
    """``--stale-after``: a duration in the one duration grammar (``2d``, ``36h``, ``90m``)."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def lifetime(text: str) -> timedelta | None:
    """``--expires-in``: a lifetime in the one duration grammar (``90d``, ``12h``), or
    ``None`` for ``never``; anything else is argparse's usage error, not a traceback."""
    try:
        return parse_lifetime(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def finite_lifetime(text: str) -> timedelta:
    """:func:`lifetime` for what always expires (a setup link): ``never`` is refused."""
    value = lifetime(text)
    if value is None:
        raise argparse.ArgumentTypeError("A setup link always expires: give a lifetime (7d).")
    return value
