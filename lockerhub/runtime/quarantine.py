"""Quarantine: input that could not be processed is kept with where and why, never dropped.

The original payload is encrypted (it usually holds recipient PII). Error texts are positions and reasons only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lockerhub.errors import LockerhubError
from lockerhub.security.crypto import FieldCipher
from lockerhub.store import ParcelRow, QuarantineRow, Store

PAYLOAD_CONTEXT = "quarantine.payload"


def put(session: Session, cipher: FieldCipher, *, source: str, partner: str | None, location: str, stage: str,
        errors: Sequence[LockerhubError | str], payload: str) -> QuarantineRow:
    """Keep ``payload`` with its errors. The same payload from the same partner and stage, still open, is one
    item whose attempt count grows: a re-sent file does not fill the quarantine twice."""
    fingerprint = hashlib.sha256(f"{partner}\x1f{stage}\x1f{payload}".encode()).hexdigest()
    existing = session.scalar(select(QuarantineRow).where(
        QuarantineRow.fingerprint == fingerprint, QuarantineRow.state == "open"))
    if existing is not None:
        existing.attempts += 1
        return existing
    row = QuarantineRow(
        source=source, partner=partner, location=location, stage=stage, fingerprint=fingerprint,
        errors=[e.render() if isinstance(e, LockerhubError) else str(e) for e in errors],
        payload_enc=cipher.encrypt(payload, context=PAYLOAD_CONTEXT) or "",
    )
    session.add(row)
    session.flush()
    return row


def parcel_location(row: ParcelRow) -> str:
    """How a parcel-level item (booking, status) names its place: ``parcel partner/shipment/parcel``."""
    return f"parcel {row.partner}/{row.shipment_ref}/{row.parcel_id}"


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    qid: str
    source: str
    partner: str | None
    location: str
    stage: str
    errors: list[str]
    state: str
    attempts: int
    created_at: datetime
    payload: str | None = None  # only when revealed


def _item(row: QuarantineRow, payload: str | None = None) -> QuarantineItem:
    return QuarantineItem(row.qid, row.source, row.partner, row.location, row.stage, list(row.errors), row.state,
                          row.attempts, row.created_at, payload)


def list_items(store: Store, *, state: str | None = "open") -> list[QuarantineItem]:
    with store.transaction() as s:
        query = select(QuarantineRow).order_by(QuarantineRow.id)
        if state:
            query = query.where(QuarantineRow.state == state)
        return [_item(r) for r in s.scalars(query)]


def parse_qid(qid: str) -> int:
    try:
        return int(qid.removeprefix("q-"))
    except ValueError:
        raise LockerhubError("quarantine id", expected="q-NNNNNN", found=repr(qid)) from None


def show(store: Store, qid: str, *, cipher: FieldCipher | None = None, actor: str | None = None) -> QuarantineItem:
    """One item; the original payload is decrypted only when a cipher is given (an explicit reveal, recorded in the
    audit log as ``quarantine.reveal``)."""
    with store.transaction() as s:
        row = s.get(QuarantineRow, parse_qid(qid))
        if row is None:
            raise LockerhubError(f"no quarantine item {qid}")
        payload = cipher.decrypt(row.payload_enc or None, context=PAYLOAD_CONTEXT) if cipher else None
        if cipher is not None:
            from lockerhub.security import audit

            audit.record(s, "quarantine.reveal", subject=row.qid, actor=actor,
                         details={"stage": row.stage, "partner": row.partner, "payload": payload is not None})
        return _item(row, payload)
