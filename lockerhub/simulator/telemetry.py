"""Simulated locker telemetry: what each locker's sensors report, hour by hour, over simulated time.

Every locker reports ``online`` once per slot (one hour by default). Lockers on battery (solar-backed) also
report ``battery``; lockers with a chilled bank report its ``temperature``. Door faults, failed openings and
failed vendor commands (``api_error``) are events at random moments within a slot. While a locker is offline it
reports only ``online = 0``.

A few lockers degrade, one way each (:class:`Degradation`), so that health monitoring has something to find:

- ``battery``: the charge trends down a few percent a day (a failing cell or panel); at about 3 % the locker
  dies and goes offline;
- ``cooling``: the chilled bank warms a fraction of a degree a day (a failing compressor);
- ``door``: door faults and failed openings become more frequent every day (a worn latch);
- ``connectivity``: two outages of 2-4 hours a day and failed commands (a bad modem or antenna).

Deterministic for a seed, whatever the queries: the profile of each locker comes from ``Random(seed)`` over
the sorted locker ids, and each slot's values from ``Random("<seed>|<locker>|<slot>")``, so asking for one day
or for each hour of it gives the same readings. History starts ``history`` (ten days) before the world's
start, so a fresh world already has a past to judge. Readings never come from the future: the world's clock
caps every query.

Outages here are telemetry only: a generated outage does not make the booking API refuse the locker. Setting a
locker's state through the control API (``POST /sim/lockers/{id}/state``) does both.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from lockerhub.model.telemetry import TelemetryKind

DEFAULT_HISTORY = timedelta(days=10)
DEFAULT_CADENCE = timedelta(hours=1)
_DAY = timedelta(days=1)

# Base event rates per day for a healthy locker.
_DOOR_FAULTS_PER_DAY = 0.03
_OPEN_FAILED_PER_DAY = 0.03
_API_ERRORS_PER_DAY = 0.1
_OUTAGE_CHANCE_PER_DAY = 0.04
_MAX_EVENTS_PER_DAY = 12.0
_BATTERY_DEAD = 3.0


class Degradation(StrEnum):
    BATTERY = "battery"
    COOLING = "cooling"
    DOOR = "door"
    CONNECTIVITY = "connectivity"


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """How one simulated locker is equipped and whether (and how fast) it degrades."""

    locker_id: str
    battery: bool  # runs on battery with a solar panel
    chilled: bool  # has a chilled bank with a temperature sensor
    degradation: Degradation | None = None
    rate: float = 0.0  # per day: battery -%, cooling +deg C, door +faults/day
    battery_mean: float = 78.0
    cooling_setpoint: float = 4.0

    def to_json(self) -> dict[str, Any]:
        return {"locker_id": self.locker_id, "battery": self.battery, "chilled": self.chilled,
                "degradation": str(self.degradation) if self.degradation else None, "rate": self.rate}


@dataclass(frozen=True, slots=True)
class SimReading:
    locker_id: str
    kind: TelemetryKind
    observed_at: datetime
    value: float

    def to_json(self) -> dict[str, Any]:
        return {"locker_id": self.locker_id, "kind": str(self.kind), "observed_at": self.observed_at.isoformat(),
                "value": self.value}


def assign_profiles(locker_ids: Iterable[str], *, seed: int) -> dict[str, DeviceProfile]:
    """About a third of the lockers on battery, a quarter chilled; one in ~25 per degradation (at least one each
    from four lockers up), drawn from those it can apply to."""
    ids = sorted(locker_ids)
    n = len(ids)
    rng = random.Random(f"telemetry-profiles|{seed}")
    battery = set(rng.sample(ids, max(1, round(n * 0.35)))) if n else set()
    chilled = set(rng.sample(ids, max(1, round(n * 0.25)))) if n else set()
    per_kind = max(1, round(n / 25)) if n >= 4 else 0
    degrading: dict[str, tuple[Degradation, float]] = {}
    rates = {Degradation.BATTERY: (3.5, 4.5), Degradation.COOLING: (0.25, 0.35), Degradation.DOOR: (0.25, 0.35),
             Degradation.CONNECTIVITY: (1.0, 1.0)}
    for kind, pool in ((Degradation.BATTERY, battery), (Degradation.COOLING, chilled),
                       (Degradation.DOOR, set(ids)), (Degradation.CONNECTIVITY, set(ids))):
        free = sorted(pool - set(degrading))
        for locker_id in rng.sample(free, min(per_kind, len(free))):
            degrading[locker_id] = (kind, round(rng.uniform(*rates[kind]), 3))
    profiles = {}
    for locker_id in ids:
        kind, rate = degrading.get(locker_id, (None, 0.0))
        profiles[locker_id] = DeviceProfile(
            locker_id, battery=locker_id in battery, chilled=locker_id in chilled, degradation=kind, rate=rate,
            battery_mean=round(rng.uniform(72, 84), 1), cooling_setpoint=round(rng.uniform(3.5, 4.5), 1))
    return profiles


@dataclass
class TelemetryModel:
    """Generates the readings of a set of lockers between two moments; see the module docstring."""

    locker_ids: tuple[str, ...]
    seed: int
    start: datetime
    history: timedelta = DEFAULT_HISTORY
    cadence: timedelta = DEFAULT_CADENCE
    profiles: dict[str, DeviceProfile] = field(init=False)
    _manual: dict[str, list[tuple[datetime, bool]]] = field(init=False, default_factory=dict)
    _slots: dict[tuple[str, int], list[SimReading]] = field(init=False, default_factory=dict)  # pure: cached

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if self.cadence <= timedelta(0):
            raise ValueError("cadence must be positive")
        self.profiles = assign_profiles(self.locker_ids, seed=self.seed)

    @property
    def epoch(self) -> datetime:
        """The first slot: ``history`` before the world's start."""
        return self.start - self.history

    def set_online(self, locker_id: str, when: datetime, online: bool) -> None:
        """Record a state change made through the control API; slots from ``when`` on report it."""
        changes = self._manual.setdefault(locker_id, [])
        changes.append((when, online))
        changes.sort(key=lambda c: c[0])
        self._slots.clear()

    def readings(self, since: datetime | None, until: datetime) -> list[SimReading]:
        """Every reading with ``since <= observed_at <= until``, ordered by (time, locker, kind)."""
        since = self.epoch if since is None or since < self.epoch else since
        if until < since:
            return []
        first = (since - self.epoch) // self.cadence
        last = (until - self.epoch) // self.cadence
        out = [r for locker_id in sorted(self.profiles) for k in range(first, last + 1)
               for r in self._slot(self.profiles[locker_id], k) if since <= r.observed_at <= until]
        out.sort(key=lambda r: (r.observed_at, r.locker_id, r.kind.value))
        return out

    # --- one slot of one locker ---------------------------------------------------------------------------

    def _slot(self, p: DeviceProfile, k: int) -> list[SimReading]:
        cached = self._slots.get((p.locker_id, k))
        if cached is None:
            cached = self._slots[(p.locker_id, k)] = self._generate(p, k)
        return cached

    def _generate(self, p: DeviceProfile, k: int) -> list[SimReading]:
        t = self.epoch + k * self.cadence
        days = (t - self.epoch) / _DAY
        rng = random.Random(f"{self.seed}|{p.locker_id}|{k}")
        if not self._online(p, t, days):
            return [SimReading(p.locker_id, TelemetryKind.ONLINE, t, 0.0)]
        out = [SimReading(p.locker_id, TelemetryKind.ONLINE, t, 1.0)]
        hour = t.hour + t.minute / 60
        if p.battery:
            solar = 8.0 * math.sin(2 * math.pi * (hour - 9) / 24)
            level = self._battery_mean(p, days) + solar + rng.uniform(-1, 1)
            out.append(SimReading(p.locker_id, TelemetryKind.BATTERY, t, round(min(100.0, max(0.0, level)), 1)))
        if p.chilled:
            warming = p.rate * days if p.degradation is Degradation.COOLING else 0.0
            spike = 1.0 if rng.random() < 0.1 else 0.0  # a door left open for a while
            temp = p.cooling_setpoint + warming + 0.3 * math.sin(2 * math.pi * (hour - 15) / 24) + spike
            out.append(SimReading(p.locker_id, TelemetryKind.TEMPERATURE, t, round(temp + rng.uniform(-0.3, 0.3), 2)))
        door = _DOOR_FAULTS_PER_DAY + (0.5 + p.rate * days if p.degradation is Degradation.DOOR else 0.0)
        failed = _OPEN_FAILED_PER_DAY + (0.4 * door if p.degradation is Degradation.DOOR else 0.0)
        api = _API_ERRORS_PER_DAY + (2.0 if p.degradation is Degradation.CONNECTIVITY else 0.0)
        for kind, per_day in ((TelemetryKind.DOOR_FAULT, door), (TelemetryKind.OPEN_FAILED, failed),
                              (TelemetryKind.API_ERROR, api)):
            chance = min(_MAX_EVENTS_PER_DAY, per_day) * (self.cadence / _DAY)
            if rng.random() < chance:
                offset = timedelta(seconds=int(rng.random() * self.cadence.total_seconds()))
                out.append(SimReading(p.locker_id, kind, t + offset, 1.0))
        return out

    def _battery_mean(self, p: DeviceProfile, days: float) -> float:
        if p.degradation is Degradation.BATTERY:
            return 88.0 - p.rate * days
        return p.battery_mean

    def _online(self, p: DeviceProfile, t: datetime, days: float) -> bool:
        changes = self._manual.get(p.locker_id)
        if changes:
            i = bisect_right([c[0] for c in changes], t)
            if i and not changes[i - 1][1]:
                return False
        if p.battery and self._battery_mean(p, days) <= _BATTERY_DEAD:
            return False
        day = int(days)
        return not any(start <= t < end for d in (day - 1, day) for start, end in self._outages(p, d))

    def _outages(self, p: DeviceProfile, day: int) -> list[tuple[datetime, datetime]]:
        rng = random.Random(f"{self.seed}|{p.locker_id}|outage|{day}")
        day_start = self.epoch + day * _DAY
        if p.degradation is Degradation.CONNECTIVITY:
            spans = [(rng.uniform(0, 24), rng.uniform(2, 4)) for _ in range(2)]
        elif rng.random() < _OUTAGE_CHANCE_PER_DAY:
            spans = [(rng.uniform(0, 24), rng.uniform(1, 2))]
        else:
            spans = []
        return [(day_start + timedelta(hours=h), day_start + timedelta(hours=h + length)) for h, length in spans]
