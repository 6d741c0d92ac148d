"""The last 14 days of a team's IdP requests as a small bar chart: inline SVG, no script.

"It stopped on Tuesday" is seen, not read: one bar per day, its failed part
drawn over it. The geometry is computed here (templates do no arithmetic);
the template gives the chart a text alternative (a title, a description and
a table of the same numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .health import DayCount, daily_requests

__all__ = ["Bar", "Chart", "health_chart"]

BAR_WIDTH, GAP, HEIGHT = 16, 4, 60


@dataclass(frozen=True)
class Bar:
    day: date
    requests: int
    failed: int
    x: int
    #: Top and height of the whole bar and of its failed part, in SVG units.
    y: int
    height: int
    failed_y: int
    failed_height: int


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    most: int

    @property
    def requests(self) -> int:
        return sum(bar.requests for bar in self.bars)

    @property
    def failed(self) -> int:
        return sum(bar.failed for bar in self.bars)

    @property
    def description(self) -> str:
        """The chart in one sentence (its text alternative's summary)."""
        first, last = self.bars[0].day, self.bars[-1].day
        quiet = [bar.day for bar in self.bars if not bar.requests]
        text = (
            f"{self.requests} requests, {self.failed} failed, from {first:%Y-%m-%d} "
            f"to {last:%Y-%m-%d}."
        )
        if quiet and len(quiet) < len(self.bars):
            text += f" No requests on {len(quiet)} of the {len(self.bars)} days."
        return text


def _scaled(count: int, most: int) -> int:
    if not count:
        return 0
    return max(1, round(HEIGHT * count / most))


def chart_of(days: list[DayCount]) -> Chart:
    """The chart of ``days`` (:func:`~.health.daily_requests`)."""
    most = max((day.requests for day in days), default=0) or 1
    bars = []
    for index, day in enumerate(days):
        height = _scaled(day.requests, most)
        failed_height = _scaled(day.failed, most)
        bars.append(
            Bar(
                day=day.day,
                requests=day.requests,
                failed=day.failed,
                x=index * (BAR_WIDTH + GAP),
                y=HEIGHT - height,
                height=height,
                failed_y=HEIGHT - failed_height,
                failed_height=failed_height,
            )
        )
    return Chart(bars=bars, width=len(days) * (BAR_WIDTH + GAP), height=HEIGHT, most=most)


def health_chart(team: Any) -> Chart:
    """``team``'s chart of the last 14 days (one aggregate query)."""
    return chart_of(daily_requests(team))
