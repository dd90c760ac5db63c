"""Persistence: SQLAlchemy 2 tables and the Store facade."""

from lockerhub.store.audit import AuditRow
from lockerhub.store.db import Store, make_engine
from lockerhub.store.health import AlertRow, LockerHealthRow, TelemetryRow
from lockerhub.store.tables import Base, EventRow, IngestedFileRow, OutboxRow, ParcelRow, QuarantineRow

__all__ = [
    "AlertRow", "AuditRow", "Base", "EventRow", "IngestedFileRow", "LockerHealthRow", "OutboxRow", "ParcelRow",
    "QuarantineRow", "Store", "TelemetryRow", "make_engine",
]
