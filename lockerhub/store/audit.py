"""The audit log table (:mod:`lockerhub.security.audit` writes and verifies it).

Entries are numbered (``seq``, the primary key, assigned by the writer as the last number + 1, so two writers
cannot both extend the chain from the same entry) and each holds the hash of the entry before it. The table is
append-only: on SQLite and PostgreSQL a trigger refuses UPDATE and DELETE. The hash chain is what proves it was
not changed by someone able to drop the triggers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, JSON, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from lockerhub.store.tables import Base, UTCDateTime


class AuditRow(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(128))  # a key id, a quarantine id, a pseudonym: never PII
    details: Mapped[dict] = mapped_column(JSON)  # counts and ids, never PII
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"""
    for verb in ("UPDATE", "DELETE")
]
_PG_TRIGGER = [
    """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
]
for _statement in _SQLITE_TRIGGERS:
    event.listen(AuditRow.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in _PG_TRIGGER:
    event.listen(AuditRow.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
