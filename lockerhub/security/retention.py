"""GDPR retention: erase recipient PII the hub no longer needs, keep anonymised records.

A parcel in a terminal status (COLLECTED, RETURNED, CANCELLED, REJECTED, ...) whose last change is older than
``privacy.retention_days`` loses its recipient (name, phone, e-mail, address) and its access code; its status,
events, dimensions, locker and timestamps stay, so reports and reconciliation still add up. A quarantine item older
than the retention period loses its original payload (which usually holds recipient data); its location and
error texts (positions and reasons, never PII) stay. Each erased row records when (``pii_erased_at`` /
``payload_erased_at``), so a second run erases nothing more. Parcels still moving are never touched, whatever their
age. Each run that is not a dry run is recorded in the audit log (``retention.erase``, with the counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from lockerhub.model import lifecycle
from lockerhub.runtime.hub import Hub
from lockerhub.security import audit
from lockerhub.store import ParcelRow, QuarantineRow


@dataclass(slots=True)
class RetentionReport:
    cutoff: datetime
    parcels_erased: int = 0
    quarantine_payloads_erased: int = 0


def erase_expired(hub: Hub, *, now: datetime | None = None, retention_days: int | None = None,
                  dry_run: bool = False, actor: str | None = None) -> RetentionReport:
    """Erase PII older than the retention period (config ``privacy.retention_days`` unless given)."""
    days = retention_days if retention_days is not None else hub.config.hub.privacy.retention_days
    moment = now or hub.clock()
    report = RetentionReport(cutoff=moment - timedelta(days=days))
    terminal = [s.value for s in lifecycle().terminal]
    parcels = (ParcelRow.status.in_(terminal), ParcelRow.updated_at < report.cutoff, ParcelRow.pii_erased_at.is_(None))
    items = (QuarantineRow.created_at < report.cutoff, QuarantineRow.payload_erased_at.is_(None))
    with hub.store.transaction() as s:
        if dry_run:
            report.parcels_erased = int(s.scalar(select(func.count()).select_from(ParcelRow).where(*parcels)) or 0)
            report.quarantine_payloads_erased = int(
                s.scalar(select(func.count()).select_from(QuarantineRow).where(*items)) or 0)
            return report
        report.parcels_erased = s.execute(
            update(ParcelRow).where(*parcels).values(recipient_enc=None, access_code_enc=None, pii_erased_at=moment)
            .execution_options(synchronize_session=False)).rowcount
        report.quarantine_payloads_erased = s.execute(
            update(QuarantineRow).where(*items).values(payload_enc="", payload_erased_at=moment)
            .execution_options(synchronize_session=False)).rowcount
        audit.record(s, "retention.erase", actor=actor, at=moment,
                     details={"retention_days": days, "cutoff": report.cutoff.isoformat(),
                              "parcels": report.parcels_erased,
                              "quarantine_payloads": report.quarantine_payloads_erased})
    return report
