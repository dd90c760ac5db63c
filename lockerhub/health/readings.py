"""Storing telemetry readings: each (locker, kind, observed time) once, whoever delivers it and how often.

Vendors are polled with an inclusive ``since``, and MQTT delivers at least once, so the same reading arrives
again; :func:`record_readings` counts it as a duplicate instead of storing it twice (and an insert that races
another writer is ignored by the unique key).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from lockerhub.model.telemetry import TelemetryReading
from lockerhub.store import Store, TelemetryRow

_KEY = ("locker_id", "kind", "observed_at")


@dataclass(slots=True)
class RecordResult:
    received: int = 0
    stored: int = 0
    duplicates: int = 0

    def add(self, other: RecordResult) -> None:
        self.received += other.received
        self.stored += other.stored
        self.duplicates += other.duplicates


def _insert_ignoring_duplicates(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(TelemetryRow).on_conflict_do_nothing(index_elements=list(_KEY))
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(TelemetryRow).on_conflict_do_nothing(index_elements=list(_KEY))
    return insert(TelemetryRow)


def record_readings(store: Store, readings: Iterable[TelemetryReading], *, source: str | None = None,
                    batch: int = 1000) -> RecordResult:
    """Store readings not seen before; ``source`` fills in readings that do not name theirs."""
    result = RecordResult()
    unique: dict[tuple[str, str, datetime], TelemetryReading] = {}
    for reading in readings:
        result.received += 1
        unique.setdefault(reading.key, reading)
    pending = sorted(unique.values(), key=lambda r: (r.observed_at, r.locker_id, r.kind.value))
    for i in range(0, len(pending), batch):
        chunk = pending[i:i + batch]
        with store.transaction() as s:
            existing = {tuple(row) for row in s.execute(
                select(TelemetryRow.locker_id, TelemetryRow.kind, TelemetryRow.observed_at).where(
                    TelemetryRow.observed_at >= chunk[0].observed_at, TelemetryRow.observed_at <= chunk[-1].observed_at,
                    TelemetryRow.locker_id.in_({r.locker_id for r in chunk})))}
            new = [r for r in chunk if r.key not in existing]
            if new:
                s.execute(_insert_ignoring_duplicates(s), [
                    {"locker_id": r.locker_id, "kind": r.kind.value, "observed_at": r.observed_at, "value": r.value,
                     "source": r.source or source} for r in new])
            result.stored += len(new)
    result.duplicates = result.received - result.stored
    return result


def prune_readings(store: Store, *, before: datetime) -> int:
    """Delete readings observed before ``before`` (retention); returns how many."""
    with store.transaction() as s:
        return s.execute(delete(TelemetryRow).where(TelemetryRow.observed_at < before)).rowcount or 0  # type: ignore[attr-defined]
