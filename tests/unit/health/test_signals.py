"""Signals from readings: offline share, counts, current levels, trends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lockerhub.health import HealthPolicy, compute_signals, offline_share
from lockerhub.health.signals import current_level

T0 = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_offline_share_by_hand() -> None:
    # window 0-10 h, samples 0 h up, 2 h down, 5 h up, each holding at most 2 h:
    # up 0-2, down 2-4, no contact 4-5, up 5-7, no contact 7-10 -> online 4 h of 10 -> offline 0.6
    samples = [(h(0), 1.0), (h(2), 0.0), (h(5), 1.0)]
    share = offline_share(samples, h(0), h(10), hold=timedelta(hours=2), first_contact=h(0))
    assert share == pytest.approx(0.6)


def test_offline_share_uses_the_sample_before_the_window_and_starts_at_first_contact() -> None:
    # a sample 1 h before the window covers its first hour; hourly samples after that cover the rest
    samples = [(h(-1), 1.0)] + [(h(i), 1.0) for i in range(1, 10)]
    assert offline_share(samples, h(0), h(10), hold=timedelta(hours=2), first_contact=h(-100)) == pytest.approx(0)
    # a locker first heard of at 6 h is judged on 6-10 h only: up 6-8, nothing after -> offline half
    assert offline_share([(h(6), 1.0)], h(0), h(10), hold=timedelta(hours=2), first_contact=h(6)) == pytest.approx(
        0.5)
    assert offline_share([], h(0), h(10), hold=timedelta(hours=2), first_contact=None) is None
    # heard of once, long ago, and silent since: offline all the window
    assert offline_share([], h(0), h(10), hold=timedelta(hours=2), first_contact=h(-500)) == pytest.approx(1.0)


def test_current_level_is_the_recent_mean_or_the_newest_value() -> None:
    samples = [(h(0), 10.0), (h(5), 20.0), (h(6), 30.0), (h(7), 40.0)]
    assert current_level(samples, h(7), timedelta(hours=2)) == pytest.approx(35.0)  # (30 + 40) / 2; 5 h is not > 5 h
    assert current_level(samples[:1], h(7), timedelta(hours=2)) == 10.0
    assert current_level([], h(7), timedelta(hours=2)) is None


def test_compute_signals_counts_only_the_window() -> None:
    policy = HealthPolicy(window_days=1, recent_hours=6)
    as_of = h(24)
    readings = [
        ("door_fault", h(-1), 1.0),  # before the window
        ("door_fault", h(0), 1.0),  # on the window's start: excluded (the window is (start, as_of])
        ("door_fault", h(3), 1.0),
        ("door_fault", h(24), 1.0),  # at as_of: included
        ("open_failed", h(12), 2.0),  # one reading standing for two failures
        ("api_error", h(25), 1.0),  # after as_of
        *[("online", h(i), 1.0) for i in range(25)],
        *[("battery", h(i), 80.0 - i) for i in range(25)],
    ]
    signals = compute_signals("L-1", readings, policy, as_of=as_of, first_contact=h(-48))
    assert signals.counts == {"api_error": 0, "door_fault": 2, "open_failed": 2}
    assert signals.offline_share == pytest.approx(0.0)
    assert signals.levels["battery"] == pytest.approx((61 + 60 + 59 + 58 + 57 + 56) / 6)  # hours 19-24
    assert "temperature" not in signals.levels
    assert signals.trends == {}  # one day is shorter than the default 72 h a trend needs
    assert signals.last_seen == h(24)
