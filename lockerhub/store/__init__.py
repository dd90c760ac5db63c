"""Persistence: SQLAlchemy 2 tables and the Store facade."""

from lockerhub.store.access import LoginFailureRow, OpsTokenRow, OpsUserRow  # noqa: F401 - ops access tables on Base
from lockerhub.store.audit import AuditRow
from lockerhub.store.db import Store, make_engine
from lockerhub.store.health import AlertRow, LockerHealthRow, TelemetryRow
from lockerhub.store.tables import (
    Base,
    EventRow,
    IngestedFileRow,
    OutboxDoneRow,
    OutboxRow,
    ParcelRow,
    QuarantineRow,
)

__all__ = [
    "AlertRow", "AuditRow", "Base", "EventRow", "IngestedFileRow", "LockerHealthRow", "OutboxDoneRow", "OutboxRow",
    "ParcelRow", "QuarantineRow", "Store", "TelemetryRow", "make_engine",
]
