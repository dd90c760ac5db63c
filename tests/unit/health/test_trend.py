"""Least squares and threshold crossing, against values worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lockerhub.health.trend import Trend, days_to_cross, fit, least_squares

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def test_least_squares_by_hand() -> None:
    # x = 0, 1, 2, 3; y = 1, 3, 2, 5: mean x 1.5, mean y 2.75, sxx = 5, sxy = 5.5 -> slope 1.1, intercept 1.1
    slope, intercept = least_squares([(0, 1), (1, 3), (2, 2), (3, 5)])
    assert slope == pytest.approx(1.1)
    assert intercept == pytest.approx(1.1)


def test_least_squares_exact_line_and_degenerate_input() -> None:
    assert least_squares([(-2, 7), (-1, 5), (0, 3)]) == pytest.approx((-2.0, 3.0))
    with pytest.raises(ValueError, match="two points"):
        least_squares([(0, 1)])
    with pytest.raises(ValueError, match="distinct"):
        least_squares([(1, 1), (1, 2)])


def test_fit_measures_days_back_from_as_of() -> None:
    # 60 -> 50 -> 40 over the last two days: -10 per day, 40 now
    series = [(NOW - timedelta(days=2), 60.0), (NOW - timedelta(days=1), 50.0), (NOW, 40.0)]
    trend = fit(series, NOW, min_points=3, min_span=timedelta(days=2))
    assert trend is not None
    assert trend.slope_per_day == pytest.approx(-10.0)
    assert trend.value_now == pytest.approx(40.0)
    assert (trend.points, trend.span_days) == (3, pytest.approx(2.0))


def test_fit_needs_enough_points_and_span() -> None:
    series = [(NOW - timedelta(hours=h), 50.0 - h) for h in range(10)]
    assert fit(series, NOW, min_points=11, min_span=timedelta(hours=1)) is None
    assert fit(series, NOW, min_points=3, min_span=timedelta(hours=10)) is None  # spans 9 h
    assert fit(series, NOW, min_points=10, min_span=timedelta(hours=9)) is not None


def test_days_to_cross() -> None:
    falling = Trend(slope_per_day=-4.0, value_now=46.0, points=100, span_days=7)
    assert days_to_cross(falling, 30.0, "below") == pytest.approx(4.0)  # (30 - 46) / -4
    assert days_to_cross(falling, 30.0, "above") is None  # heading away
    past = Trend(slope_per_day=-4.0, value_now=25.0, points=100, span_days=7)
    assert days_to_cross(past, 30.0, "below") == 0.0  # already past and still going
    warming = Trend(slope_per_day=0.25, value_now=6.5, points=100, span_days=7)
    assert days_to_cross(warming, 8.0, "above") == pytest.approx(6.0)
    flat = Trend(slope_per_day=0.0, value_now=6.5, points=100, span_days=7)
    assert days_to_cross(flat, 8.0, "above") is None
