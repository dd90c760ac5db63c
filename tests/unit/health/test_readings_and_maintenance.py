"""Readings are stored once per (locker, kind, time); the maintenance list orders lockers by urgency."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lockerhub.health import (
    Flag,
    HealthPolicy,
    LockerHealth,
    assess,
    maintenance_list,
    prune_readings,
    record_readings,
    write_maintenance_csv,
)
from lockerhub.health.signals import latest_reading_time
from lockerhub.model import TelemetryKind, TelemetryReading
from lockerhub.store import Store, TelemetryRow

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def reading(locker: str, kind: str, hours: float, value: float = 1.0, source: str | None = None) -> TelemetryReading:
    return TelemetryReading(locker_id=locker, kind=TelemetryKind(kind), observed_at=T0 + timedelta(hours=hours),
                            value=value, source=source)


def stored(store: Store) -> int:
    with store.transaction() as s:
        return s.scalar(select(func.count()).select_from(TelemetryRow)) or 0


def test_each_reading_is_stored_once(store: Store) -> None:
    batch = [reading("L-1", "online", h) for h in range(5)] + [reading("L-1", "door_fault", 1.5)]
    first = record_readings(store, batch + batch[:2], source="vendor-a", batch=2)
    assert (first.received, first.stored, first.duplicates) == (8, 6, 2)
    again = record_readings(store, batch[3:] + [reading("L-2", "online", 0)], source="mqtt")
    assert (again.received, again.stored, again.duplicates) == (4, 1, 3)
    assert stored(store) == 7
    assert latest_reading_time(store) == T0 + timedelta(hours=4)
    assert latest_reading_time(store, source="mqtt") == T0
    assert latest_reading_time(store, source="nobody") is None
    # the same instant in another offset is the same reading
    shifted = TelemetryReading.model_validate({"locker_id": "L-1", "kind": "online", "value": 0,
                                               "observed_at": "2026-01-05T09:00:00+01:00"})
    assert record_readings(store, [shifted]).stored == 0


def test_prune_readings(store: Store) -> None:
    record_readings(store, [reading("L-1", "online", h) for h in range(10)])
    assert prune_readings(store, before=T0 + timedelta(hours=4)) == 4
    assert stored(store) == 6


def test_assess_scores_lockers_from_the_store(store: Store) -> None:
    policy = HealthPolicy(window_days=1)
    record_readings(store, [reading("L-1", "online", -h) for h in range(30)])
    record_readings(store, [reading("L-2", "online", -h) for h in range(10, 30)])  # silent for the last 10 hours
    record_readings(store, [reading("L-1", "door_fault", -h - 0.5) for h in range(3)])
    as_of, healths = assess(store, policy)
    assert as_of == T0
    by_id = {h.locker_id: h for h in healths}
    assert by_id["L-1"].signals is not None and by_id["L-1"].signals.counts["door_fault"] == 3
    assert [f.kind for f in by_id["L-1"].flags] == ["door_faults"]
    # L-2: the sample at -10 h holds 2 h, then 8 of 24 hours without contact
    assert by_id["L-2"].signals is not None and by_id["L-2"].signals.offline_share == pytest.approx(8 / 24)
    assert [f.kind for f in by_id["L-2"].flags] == ["offline"]
    assert assess(store, policy, as_of=T0 - timedelta(days=30)) == (T0 - timedelta(days=30), [])


def test_assess_with_nothing_stored(store: Store) -> None:
    assert assess(store, HealthPolicy()) == (None, [])


def test_maintenance_order_and_csv(tmp_path: Path) -> None:
    soon = T0 + timedelta(days=2)
    later = T0 + timedelta(days=9)
    healths = [
        LockerHealth("L-A", T0, 100.0, flags=[Flag("battery_low_predicted", "warning", "battery trending down",
                                                   predicted_at=later)]),
        LockerHealth("L-B", T0, 70.0, flags=[Flag("door_faults", "warning", "4 door faults")]),
        LockerHealth("L-C", T0, 90.0, flags=[Flag("api_errors", "warning", "6 API errors")]),  # no visit needed
        LockerHealth("L-D", T0, 40.0, flags=[Flag("offline", "critical", "offline 40%"),
                                             Flag("api_errors", "critical", "25 API errors")]),
        LockerHealth("L-E", T0, 100.0, flags=[Flag("temperature_high_predicted", "warning", "warming",
                                                   predicted_at=soon)]),
        LockerHealth("L-F", T0, 60.0, flags=[Flag("failed_openings", "warning", "3 failed openings")]),
        LockerHealth("L-G", T0, 100.0),
    ]
    items = maintenance_list(healths, HealthPolicy())
    # critical first; then due now (lowest score first), then by predicted crossing
    assert [(i.rank, i.locker_id) for i in items] == [(1, "L-D"), (2, "L-F"), (3, "L-B"), (4, "L-E"), (5, "L-A")]
    assert items[0].reasons == ("offline: offline 40%",) and items[0].due_by == T0
    assert items[3].due_by == soon
    path = write_maintenance_csv(items, tmp_path / "out" / "visits.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["locker_id"] for r in rows] == ["L-D", "L-F", "L-B", "L-E", "L-A"]
    assert rows[0] == {"rank": "1", "locker_id": "L-D", "severity": "critical", "score": "40",
                       "due_by": "2026-01-05T08:00:00+00:00", "reasons": "offline: offline 40%"}
    only_doors = HealthPolicy(visit_for=["door_faults"])
    assert [i.locker_id for i in maintenance_list(healths, only_doors)] == ["L-B"]
