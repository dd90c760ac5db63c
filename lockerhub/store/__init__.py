"""Persistence: SQLAlchemy 2 tables and the Store facade."""

from lockerhub.store.db import Store, make_engine
from lockerhub.store.tables import Base, EventRow, IngestedFileRow, OutboxRow, ParcelRow, QuarantineRow

__all__ = ["Base", "EventRow", "IngestedFileRow", "OutboxRow", "ParcelRow", "QuarantineRow", "Store", "make_engine"]
