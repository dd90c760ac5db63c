"""Tables of locker health monitoring (:mod:`lockerhub.health`): telemetry readings, alerts, latest scores.

Readings are keyed by (locker, kind, observed time), so a reading delivered twice is stored once. At most one
alert per (locker, kind) is open at a time: a partial unique index (``closed_at IS NULL``, SQLite and
PostgreSQL) holds that even if two health runs overlap.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from lockerhub.store.tables import Base, UTCDateTime, utcnow


class TelemetryRow(Base):
    __tablename__ = "telemetry"
    __table_args__ = (
        UniqueConstraint("locker_id", "kind", "observed_at", name="uq_telemetry_reading"),
        Index("ix_telemetry_time", "observed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    locker_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(64))  # connector id or "mqtt"
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertRow(Base):
    """A condition at a locker, open from ``opened_at`` until it clears (``closed_at``).

    Times are data times (the health run's ``as_of``), not wall-clock times. ``checked_at`` is the ``as_of`` of
    the last run that saw the condition; a run older than that leaves the alert alone (a backfill).
    """

    __tablename__ = "alerts"
    __table_args__ = (
        Index("uq_alerts_open", "locker_id", "kind", unique=True,
              sqlite_where=text("closed_at IS NULL"), postgresql_where=text("closed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    locker_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(16))  # warning | critical
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(Text)


class LockerHealthRow(Base):
    """The latest health assessment of each locker (replaced by every run that is not older)."""

    __tablename__ = "locker_health"

    locker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    flags: Mapped[list] = mapped_column(JSON)  # [{kind, severity, message, predicted_at}]
    signals: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
