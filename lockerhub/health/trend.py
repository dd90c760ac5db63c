"""Least-squares trends of a level over the window, and when a trend crosses a threshold.

Time is measured in days relative to ``as_of`` (so every x is <= 0), which makes the intercept the fitted
value now. A trend needs enough readings over a long enough span (``min_trend_points``,
``min_trend_span_hours``): a short span would take a daily cycle (solar charging, a cooling cycle) for a trend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Trend:
    slope_per_day: float  # unit of the level per day
    value_now: float  # the fitted line at as_of
    points: int
    span_days: float

    def as_dict(self) -> dict[str, float]:
        return {"slope_per_day": round(self.slope_per_day, 4), "value_now": round(self.value_now, 3),
                "points": self.points, "span_days": round(self.span_days, 3)}


def least_squares(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Slope and intercept of the ordinary least-squares line through ``(x, y)`` points (at least two distinct
    x values)."""
    n = len(points)
    if n < 2:
        raise ValueError("a line needs at least two points")
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        raise ValueError("a line needs at least two distinct x values")
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    slope = sxy / sxx
    return slope, mean_y - slope * mean_x


def fit(series: Sequence[tuple[datetime, float]], as_of: datetime, *, min_points: int,
        min_span: timedelta) -> Trend | None:
    """The trend of ``series`` (time, value), or None when it has too few points or too short a span."""
    if len(series) < min_points:
        return None
    first, last = min(t for t, _ in series), max(t for t, _ in series)
    if last - first < min_span:
        return None
    slope, intercept = least_squares([((t - as_of) / _DAY, v) for t, v in series])
    return Trend(slope, intercept, len(series), (last - first) / _DAY)


def days_to_cross(trend: Trend, threshold: float, direction: Literal["below", "above"]) -> float | None:
    """Days from as_of until the fitted line goes past ``threshold`` in ``direction``; 0 when it already has
    and keeps going; None when the line heads away from the threshold (or is flat)."""
    toward = trend.slope_per_day < 0 if direction == "below" else trend.slope_per_day > 0
    if not toward:
        return None
    return max(0.0, (threshold - trend.value_now) / trend.slope_per_day)
