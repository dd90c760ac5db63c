"""The score formula, flags and predictions, against values worked out by hand (default policy unless said)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pydantic
import pytest

from lockerhub.config import HubConfig
from lockerhub.health import HealthPolicy, Signals, Trend, score_locker

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def signals(**kwargs: object) -> Signals:
    base: dict[str, object] = {"offline_share": 0.0, "counts": {}, "levels": {}, "trends": {}}
    return Signals("L-1", NOW, **{**base, **kwargs})  # type: ignore[arg-type]


def test_healthy_locker_scores_100_without_flags() -> None:
    health = score_locker(signals(levels={"battery": 80.0, "temperature": 4.0}), HealthPolicy())
    assert (health.score, health.flags, health.severity, health.predicted_at) == (100.0, [], None, None)


def test_each_penalty_by_hand() -> None:
    # offline 30 * 0.05/0.25 = 6; door min(20, 4*2) = 8; failed openings min(15, 3*4) = 12;
    # API errors min(10, 1*30) = 10; battery 15 * (30-20)/(30-10) = 7.5; temperature 25 * (10-8)/(12-8) = 12.5
    # score = 100 - 56 = 44
    health = score_locker(signals(offline_share=0.05, counts={"door_fault": 2, "open_failed": 4, "api_error": 30},
                                  levels={"battery": 20.0, "temperature": 10.0}), HealthPolicy())
    assert health.penalties == {"offline": 6.0, "door_faults": 8.0, "failed_openings": 12.0, "api_errors": 10.0,
                                "battery": 7.5, "temperature": 12.5}
    assert health.score == 44.0
    assert [(f.kind, f.severity) for f in health.flags] == [
        ("failed_openings", "warning"), ("api_errors", "critical"), ("battery_low", "warning"),
        ("temperature_high", "warning")]
    assert health.severity == "critical"
    assert health.flags[0].message == "4 failed openings in the last 7 days"
    assert health.flags[2].message == "battery 20.0% (below 30%)"


def test_thresholds_are_inclusive_and_penalties_capped() -> None:
    health = score_locker(signals(offline_share=0.30, counts={"door_fault": 10}, levels={"battery": 10.0,
                                                                                         "temperature": 12.0}),
                          HealthPolicy())
    assert {f.kind: f.severity for f in health.flags} == {"offline": "critical", "door_faults": "critical",
                                                          "battery_low": "critical", "temperature_high": "critical"}
    # offline 30 (capped at full_at 0.25), door 20 (capped), battery 15, temperature 25 -> 100 - 90
    assert health.score == 10.0
    worst = score_locker(signals(offline_share=1.0, counts={"door_fault": 99, "open_failed": 99, "api_error": 99},
                                 levels={"battery": 0.0, "temperature": 30.0}), HealthPolicy())
    assert worst.score == 0.0  # 115 points of penalties, clamped


def test_no_offline_signal_costs_nothing() -> None:
    assert score_locker(signals(offline_share=None), HealthPolicy()).score == 100.0


def test_predicted_crossing_within_the_horizon() -> None:
    # battery 46 now, fitted 46 and falling 4 a day: below 30 in (30 - 46) / -4 = 4 days
    falling = Trend(slope_per_day=-4.0, value_now=46.0, points=168, span_days=7)
    health = score_locker(signals(levels={"battery": 46.0}, trends={"battery": falling}), HealthPolicy())
    assert health.score == 100.0  # not a condition yet: no points lost
    [flag] = health.flags
    assert (flag.kind, flag.severity) == ("battery_low_predicted", "warning")
    assert flag.predicted_at == NOW + timedelta(days=4)
    assert health.predicted_at == flag.predicted_at
    assert "trending -4.00%/day" in flag.message and "in about 4.0 days" in flag.message


def test_no_prediction_beyond_the_horizon_or_when_heading_away() -> None:
    slow = Trend(slope_per_day=-1.0, value_now=46.0, points=168, span_days=7)  # 16 days > 14
    assert score_locker(signals(levels={"battery": 46.0}, trends={"battery": slow}), HealthPolicy()).flags == []
    longer = HealthPolicy(horizon_days=20)
    [flag] = score_locker(signals(levels={"battery": 46.0}, trends={"battery": slow}), longer).flags
    assert flag.kind == "battery_low_predicted"
    cooling = Trend(slope_per_day=-0.3, value_now=6.0, points=168, span_days=7)
    assert score_locker(signals(levels={"temperature": 6.0}, trends={"temperature": cooling}),
                        HealthPolicy()).flags == []


def test_a_present_condition_is_not_also_predicted() -> None:
    warming = Trend(slope_per_day=0.5, value_now=9.0, points=168, span_days=7)
    health = score_locker(signals(levels={"temperature": 9.0}, trends={"temperature": warming}), HealthPolicy())
    assert [f.kind for f in health.flags] == ["temperature_high"]


def test_policy_overrides_change_the_score() -> None:
    policy = HubConfig.model_validate({"routing": {"vendor": "v"},
                                       "health": {"door_faults": {"points_each": 10}, "battery": {"warning": 50}}}
                                      ).health
    assert policy.door_faults.weight == 20 and policy.battery.critical == 10  # untouched keys keep defaults
    health = score_locker(signals(counts={"door_fault": 1}, levels={"battery": 30.0}), policy)
    # door 10; battery 15 * (50 - 30) / (50 - 10) = 7.5
    assert health.score == 82.5


@pytest.mark.parametrize("health", [
    {"battery": {"critical": 40}},  # critical above warning for a level that is bad below
    {"temperature": {"critical": 5}},
    {"door_faults": {"warning_at": 5, "critical_at": 2}},
    {"offline": {"warning_at": 0.5, "critical_at": 0.2}},
    {"visit_for": ["door_fualts"]},
    {"window_dayz": 7},
])
def test_policy_rejects_inconsistent_or_unknown_settings(health: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        HubConfig.model_validate({"routing": {"vendor": "v"}, "health": health})
