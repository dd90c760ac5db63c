"""Relational schema (SQLAlchemy 2). SQLite by default, PostgreSQL in production.

Personal data and access codes are stored only as ciphertext (``*_enc`` columns, see
:mod:`lockerhub.security.crypto`). Events are append-only; the outbox row for a status change is written in the
same transaction as the change.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend (SQLite stores naive UTC; values come back aware)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


class ParcelRow(Base):
    __tablename__ = "parcels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # domain idempotency key
    partner: Mapped[str] = mapped_column(String(64), index=True)
    shipment_ref: Mapped[str] = mapped_column(String(64))
    parcel_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24), index=True)
    interrupted: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(48))
    vendor: Mapped[str | None] = mapped_column(String(64))
    locker_id: Mapped[str | None] = mapped_column(String(64))
    size_class: Mapped[str | None] = mapped_column(String(16))
    reservation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    compartment_id: Mapped[str | None] = mapped_column(String(64))
    parcel: Mapped[dict] = mapped_column(JSON)  # canonical Parcel (no PII) + requested locker
    recipient_enc: Mapped[str | None] = mapped_column(Text)  # canonical Party as JSON, encrypted
    access_code_enc: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    origin: Mapped[str | None] = mapped_column(String(80))  # file sha256 + record number it was first read from
    pii_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # retention or an erasure request
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class EventRow(Base):
    """Every status observation, applied or not (outcome: applied | stale | duplicate)."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("parcel_pk", "source", "source_event_id", name="uq_event_source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parcel_pk: Mapped[int] = mapped_column(ForeignKey("parcels.id"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(48))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(64))
    source_event_id: Mapped[str | None] = mapped_column(String(128))
    raw_code: Mapped[str | None] = mapped_column(String(64))
    locker_id: Mapped[str | None] = mapped_column(String(64))


class OutboxRow(Base):
    """Messages to send, committed with the state change that caused them; a relay publishes them."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "destination", "published_at"),
        # what the bus relay scans: only the unpublished rows, by id
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL"),
              sqlite_where=text("published_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(String(64))  # partner id (TMS) for "status"; "events" for "vendor_event"
    kind: Mapped[str] = mapped_column(String(32))  # "status" | "vendor_event" (a webhook received at the ingress)
    payload: Mapped[dict] = mapped_column(JSON)
    dedup_key: Mapped[str | None] = mapped_column(String(160), unique=True)  # e.g. "<vendor>:<delivery id>"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_to: Mapped[str | None] = mapped_column(Text)


class OutboxDoneRow(Base):
    """An outbox message whose effect a bus consumer committed. A table of its own, without a foreign key: marking
    a message done never waits for the relay, which holds the outbox rows it is publishing locked."""

    __tablename__ = "outbox_done"

    outbox_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuarantineRow(Base):
    """Input that could not be processed: the original (encrypted), where and why, and what was tried."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(255))  # file path or connector id
    partner: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(255))
    stage: Mapped[str] = mapped_column(String(32))  # read | map | book | status
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)  # same problem again -> attempts += 1
    errors: Mapped[list] = mapped_column(JSON)  # rendered one-line errors, no PII
    payload_enc: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | replayed | discarded
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # retention: the original is gone

    @property
    def qid(self) -> str:
        return f"q-{self.id:06d}"


class IngestedFileRow(Base):
    """One row per file content received (sha256), so a re-sent file is recognised."""

    __tablename__ = "ingested_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    times_seen: Mapped[int] = mapped_column(Integer, default=1)
    records: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
