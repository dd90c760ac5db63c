"""From stored readings to each locker's signals over the window: offline share, event counts, current levels
and level trends. Pure functions over readings, plus one loader that reads the window from the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from lockerhub.health.policy import HealthPolicy
from lockerhub.health.trend import Trend, fit
from lockerhub.model.telemetry import EVENT_KINDS, TelemetryKind
from lockerhub.store import Store, TelemetryRow

Sample = tuple[datetime, float]
LEVELS = (TelemetryKind.BATTERY, TelemetryKind.TEMPERATURE)


@dataclass(slots=True)
class Signals:
    """What one locker's telemetry says over the window ending at ``as_of``."""

    locker_id: str
    as_of: datetime
    offline_share: float | None = None  # None: the locker never reported `online`
    counts: dict[str, int] = field(default_factory=dict)  # event kind -> events in the window
    levels: dict[str, float] = field(default_factory=dict)  # level kind -> current value
    trends: dict[str, Trend] = field(default_factory=dict)  # level kind -> trend over the window
    last_seen: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "offline_share": None if self.offline_share is None else round(self.offline_share, 4),
            "counts": dict(self.counts),
            "levels": {k: round(v, 3) for k, v in self.levels.items()},
            "trends": {k: t.as_dict() for k, t in self.trends.items()},
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
        }


def offline_share(samples: Sequence[Sample], start: datetime, end: datetime, *, hold: timedelta,
                  first_contact: datetime | None) -> float | None:
    """Share of ``[max(start, first_contact), end)`` not covered by an ``online = 1`` sample.

    Each sample stands for the time until the next one, but for at most ``hold``: time after that with no newer
    sample counts as offline (no contact), as does time covered by an ``online = 0`` sample. ``samples`` are
    (time, value) sorted by time and may start before ``start``. None before the first contact ever.
    """
    if first_contact is None:
        return None
    begin = max(start, first_contact)
    if begin >= end:
        return None
    online = timedelta(0)
    for i, (t, value) in enumerate(samples):
        following = samples[i + 1][0] if i + 1 < len(samples) else end
        seg_start, seg_end = max(t, begin), min(following, t + hold, end)
        if value >= 0.5 and seg_end > seg_start:
            online += seg_end - seg_start
    return 1.0 - online / (end - begin)


def current_level(samples: Sequence[Sample], as_of: datetime, recent: timedelta) -> float | None:
    """Mean of the samples in ``(as_of - recent, as_of]``; the newest sample when none is that recent."""
    recent_values = [v for t, v in samples if as_of - recent < t <= as_of]
    if recent_values:
        return sum(recent_values) / len(recent_values)
    return samples[-1][1] if samples else None


def compute_signals(locker_id: str, readings: Iterable[tuple[str, datetime, float]], policy: HealthPolicy, *,
                    as_of: datetime, first_contact: datetime | None) -> Signals:
    """Signals of one locker from its (kind, time, value) readings; readings outside the window (and up to
    ``hold_hours`` before it, for the offline share) are ignored."""
    window = timedelta(days=policy.window_days)
    start = as_of - window
    lookback = start - timedelta(hours=policy.offline.hold_hours)
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    last_seen = None
    for kind, t, value in readings:
        if lookback <= t <= as_of:
            by_kind[kind].append((t, value))
            last_seen = t if last_seen is None or t > last_seen else last_seen
    for series in by_kind.values():
        series.sort()
    signals = Signals(locker_id, as_of, last_seen=last_seen)
    signals.offline_share = offline_share(by_kind.get(TelemetryKind.ONLINE.value, []), start, as_of,
                                          hold=timedelta(hours=policy.offline.hold_hours),
                                          first_contact=first_contact)
    for kind in sorted(EVENT_KINDS):
        signals.counts[kind.value] = round(sum(v for t, v in by_kind.get(kind.value, []) if t > start))
    for kind in LEVELS:
        series = [(t, v) for t, v in by_kind.get(kind.value, []) if t > start]
        level = current_level(series, as_of, timedelta(hours=policy.recent_hours))
        if level is None:
            continue
        signals.levels[kind.value] = level
        trend = fit(series, as_of, min_points=policy.min_trend_points,
                    min_span=timedelta(hours=policy.min_trend_span_hours))
        if trend is not None:
            signals.trends[kind.value] = trend
    return signals


def load_signals(store: Store, policy: HealthPolicy, *, as_of: datetime) -> list[Signals]:
    """Signals of every locker that has reported anything up to ``as_of``, ordered by locker id.

    A locker silent for longer than the window still appears (its offline share is 1).
    """
    start = as_of - timedelta(days=policy.window_days) - timedelta(hours=policy.offline.hold_hours)
    readings: dict[str, list[tuple[str, datetime, float]]] = defaultdict(list)
    with store.transaction() as s:
        first_contact = {lid: t for lid, t in s.execute(
            select(TelemetryRow.locker_id, func.min(TelemetryRow.observed_at))
            .where(TelemetryRow.kind == TelemetryKind.ONLINE.value, TelemetryRow.observed_at <= as_of)
            .group_by(TelemetryRow.locker_id))}
        lockers = set(first_contact) | set(s.scalars(
            select(TelemetryRow.locker_id).where(TelemetryRow.observed_at <= as_of).distinct()))
        rows = s.execute(select(TelemetryRow.locker_id, TelemetryRow.kind, TelemetryRow.observed_at,
                                TelemetryRow.value)
                         .where(TelemetryRow.observed_at > start, TelemetryRow.observed_at <= as_of))
        for locker_id, kind, t, value in rows:
            readings[locker_id].append((kind, t, value))
    return [compute_signals(lid, readings.get(lid, []), policy, as_of=as_of, first_contact=first_contact.get(lid))
            for lid in sorted(lockers)]


def latest_reading_time(store: Store, *, source: str | None = None) -> datetime | None:
    """When the newest stored reading was observed (of one source, if given)."""
    query = select(func.max(TelemetryRow.observed_at))
    if source is not None:
        query = query.where(TelemetryRow.source == source)
    with store.transaction() as s:
        return s.scalar(query)
