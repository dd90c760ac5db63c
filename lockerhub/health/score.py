"""The health score (0-100) of a locker and the conditions (flags) its signals show.

    score = max(0, 100 - offline - door_faults - failed_openings - api_errors - battery - temperature)

with each penalty bounded by its rule's ``weight``:

- offline: ``weight * min(1, offline_share / full_at)``;
- counts: ``min(weight, points_each * events in the window)``;
- levels: ``weight * clamp((warning - current) / (warning - critical), 0, 1)`` for a level that is bad below
  (battery), and the mirror image for one that is bad above (temperature).

A flag is raised for each condition past its threshold (``warning``, or ``critical`` past the critical one),
and ``<level alert>_predicted`` when a level is not past its warning threshold yet but its trend crosses it
within ``horizon_days``. Each flag kind becomes one alert (``lockerhub.health.alerts``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lockerhub.health.policy import COUNT_ALERTS, LEVEL_ALERTS, CountRule, HealthPolicy, LevelRule
from lockerhub.health.signals import Signals
from lockerhub.health.trend import days_to_cross
from lockerhub.model.telemetry import TelemetryKind

SEVERITIES = ("warning", "critical")
# Count alert -> the event kind it counts, and how a message names one event.
_COUNTED: dict[str, tuple[TelemetryKind, str]] = {
    "door_faults": (TelemetryKind.DOOR_FAULT, "door fault"),
    "failed_openings": (TelemetryKind.OPEN_FAILED, "failed opening"),
    "api_errors": (TelemetryKind.API_ERROR, "API error"),
}
_UNITS = {"battery": "%", "temperature": " C"}
assert set(_COUNTED) == set(COUNT_ALERTS)


@dataclass(frozen=True, slots=True)
class Flag:
    kind: str  # an alert kind (lockerhub.health.policy.ALERT_KINDS)
    severity: str  # warning | critical
    message: str
    predicted_at: datetime | None = None  # *_predicted: when the trend crosses the threshold

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "message": self.message,
                "predicted_at": self.predicted_at.isoformat() if self.predicted_at else None}


@dataclass(slots=True)
class LockerHealth:
    locker_id: str
    as_of: datetime
    score: float
    penalties: dict[str, float] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    signals: Signals | None = None

    @property
    def severity(self) -> str | None:
        """The worst severity among the flags, or None when the locker is healthy."""
        ranks = [SEVERITIES.index(f.severity) for f in self.flags]
        return SEVERITIES[max(ranks)] if ranks else None

    @property
    def predicted_at(self) -> datetime | None:
        """The earliest predicted crossing, if any."""
        return min((f.predicted_at for f in self.flags if f.predicted_at), default=None)

    def as_dict(self) -> dict[str, Any]:
        return {"locker_id": self.locker_id, "as_of": self.as_of.isoformat(), "score": self.score,
                "severity": self.severity, "penalties": dict(self.penalties),
                "flags": [f.as_dict() for f in self.flags],
                "predicted_at": self.predicted_at.isoformat() if self.predicted_at else None,
                "signals": self.signals.as_dict() if self.signals else None}


def _graded(value: float, warning: float, critical: float, past: Callable[[float, float], bool]) -> str | None:
    if past(value, critical) or value == critical:
        return "critical"
    if past(value, warning) or value == warning:
        return "warning"
    return None


def _offline(signals: Signals, policy: HealthPolicy, days: str) -> tuple[float, Flag | None]:
    rule, share = policy.offline, signals.offline_share
    if share is None:
        return 0.0, None
    penalty = rule.weight * min(1.0, share / rule.full_at)
    severity = _graded(share, rule.warning_at, rule.critical_at, lambda v, t: v > t)
    flag = Flag("offline", severity, f"offline {share:.1%} of the last {days}") if severity else None
    return penalty, flag


def _count(kind: str, rule: CountRule, signals: Signals, days: str) -> tuple[float, Flag | None]:
    event, noun = _COUNTED[kind]
    n = signals.counts.get(event.value, 0)
    penalty = min(rule.weight, rule.points_each * n)
    severity = _graded(n, rule.warning_at, rule.critical_at, lambda v, t: v > t)
    flag = Flag(kind, severity, f"{n} {noun}{'s' if n != 1 else ''} in the last {days}") if severity else None
    return penalty, flag


def _level(name: str, rule: LevelRule, signals: Signals, policy: HealthPolicy) -> tuple[float, list[Flag]]:
    value = signals.levels.get(name)
    if value is None:
        return 0.0, []
    unit, alert = _UNITS[name], LEVEL_ALERTS[name]
    bad = (rule.warning - value) if rule.direction == "below" else (value - rule.warning)
    penalty = rule.weight * min(1.0, max(0.0, bad / abs(rule.warning - rule.critical)))
    severity = _graded(value, rule.warning, rule.critical, rule.past)
    if severity:
        return penalty, [Flag(alert, severity, f"{name} {value:.1f}{unit} ({rule.direction} {rule.warning:g}{unit})")]
    trend = signals.trends.get(name)
    days = days_to_cross(trend, rule.warning, rule.direction) if trend else None
    if trend is None or days is None or days > policy.horizon_days:
        return penalty, []
    when = (signals.as_of + timedelta(days=days)).replace(second=0, microsecond=0)
    message = (f"{name} {value:.1f}{unit}, trending {trend.slope_per_day:+.2f}{unit}/day: "
               f"{rule.direction} {rule.warning:g}{unit} in about {days:.1f} days ({when:%Y-%m-%d %H:%M})")
    return penalty, [Flag(f"{alert}_predicted", "warning", message, predicted_at=when)]


def _days(policy: HealthPolicy) -> str:
    return f"{policy.window_days:g} day{'s' if policy.window_days != 1 else ''}"


def score_locker(signals: Signals, policy: HealthPolicy) -> LockerHealth:
    """Score and flags of one locker; see the module docstring for the formula."""
    window = _days(policy)
    penalties: dict[str, float] = {}
    flags: list[Flag] = []
    penalties["offline"], flag = _offline(signals, policy, window)
    flags += [flag] if flag else []
    for kind in COUNT_ALERTS:
        penalties[kind], flag = _count(kind, getattr(policy, kind), signals, window)
        flags += [flag] if flag else []
    for name in LEVEL_ALERTS:
        penalties[name], level_flags = _level(name, getattr(policy, name), signals, policy)
        flags += level_flags
    penalties = {k: round(v, 2) for k, v in penalties.items()}
    score = round(max(0.0, 100.0 - sum(penalties.values())), 1)
    return LockerHealth(signals.locker_id, signals.as_of, score, penalties, flags, signals)
