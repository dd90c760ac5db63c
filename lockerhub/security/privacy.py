"""GDPR requests for one recipient: export everything the hub holds on them, or erase it.

A subject is named by an e-mail address or a phone number. Recipients are stored encrypted, so finding theirs means
decrypting every recipient and comparing: parcels are read in batches by primary key (bounded memory), and so are
quarantine payloads, which are searched for the address or number as text. E-mail addresses compare without case;
phone numbers compare by their digits, ``+48`` and ``0048`` being the same prefix (in a payload, a number of 9
digits or more also matches inside a longer run of digits and separators).

Export (:func:`export_subject`): each of their parcels (recipient, access code, status, locker, times), its status
events and the status messages sent for it, and every quarantine item whose original payload mentions them.

Erase (:func:`erase_subject`): their parcels lose the recipient and the access code (``pii_erased_at`` is set;
status, locker, dimensions and events stay, anonymised); any event or status message that holds one of their
values has it replaced by ``[erased]``; every quarantine item whose payload mentions them loses the payload
(``payload_erased_at``; where and why stay). A payload is erased whole, because a record that failed to parse cannot
be split reliably into one person's data and the rest; when it was a whole file, the partner re-sends it. On SQLite
the database is then vacuumed and its write-ahead log truncated, so no old copy of a page keeps the ciphertext.

Both are recorded in the audit log under the subject's pseudonym (:meth:`FieldCipher.pseudonym`), never the subject.

Limits/Pitfalls:
    - Files outside the store are not touched: archived drops (``inbox/done``) and partner status files. Their
      retention is the file system's (see docs/security.md).
    - On PostgreSQL the old row versions stay in the table files until VACUUM reuses the space; a dump (``pg_dump``)
      never shows them. Backups keep what they held.
    - A parcel still moving is erased too when asked; the report counts these (``active``), since the vendor still
      holds the booking.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, text, update

from lockerhub.errors import LockerhubError
from lockerhub.model import lifecycle
from lockerhub.runtime.booking import ACCESS_CODE_CONTEXT
from lockerhub.runtime.ingest import RECIPIENT_CONTEXT
from lockerhub.runtime.quarantine import PAYLOAD_CONTEXT
from lockerhub.security import audit
from lockerhub.security.crypto import FieldCipher
from lockerhub.store import EventRow, OutboxRow, ParcelRow, QuarantineRow, Store

ERASED = "[erased]"
SUBJECT_CONTEXT = "privacy.subject"
DEFAULT_BATCH = 500
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RUN = re.compile(r"\+?\d(?:[ ().-]{0,2}\d){5,}")


def _phone_digits(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return digits.removeprefix("00")


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a request is about: ``kind`` is ``email`` or ``phone``; ``key`` is the form compared."""

    kind: str
    key: str

    @classmethod
    def parse(cls, text: str) -> Subject:
        value = text.strip()
        if _EMAIL.match(value):
            return cls("email", value.lower())
        if re.fullmatch(r"\(?\+?\d[\d ().-]*", value) and 6 <= len(_phone_digits(value)) <= 15:
            return cls("phone", _phone_digits(value))
        raise LockerhubError("privacy subject", expected="an e-mail address or a phone number (+48 600 000 001)",
                             found="neither")  # the value itself is personal data: not repeated

    def is_party(self, party: dict[str, Any]) -> bool:
        if self.kind == "email":
            return str(party.get("email") or "").strip().lower() == self.key
        phone = party.get("phone")
        return bool(phone) and _phone_digits(str(phone)) == self.key

    def mentioned_in(self, content: str) -> bool:
        if self.kind == "email":
            return self.key in content.lower()
        for run in _PHONE_RUN.finditer(content):
            digits = _phone_digits(run.group())
            # a run may carry a neighbouring number ("+48 600 000 001 12"): a long enough number is found inside it
            if digits == self.key or (len(self.key) >= 9 and self.key in digits):
                return True
        return False


def _batches(store: Store, row: type[Any], where: Any, batch: int) -> Iterator[list[Any]]:
    """Rows of ``row`` matching ``where``, in primary key order, one short transaction per batch."""
    pk = row.__mapper__.primary_key[0]
    last = None
    while True:
        with store.transaction() as s:
            query = select(row).where(where).order_by(pk).limit(batch)
            rows = list(s.scalars(query if last is None else query.where(pk > last)))
        if not rows:
            return
        yield rows
        last = getattr(rows[-1], pk.key)


@dataclass(slots=True)
class _Found:
    parcels: list[tuple[ParcelRow, dict[str, Any]]] = field(default_factory=list)
    items: list[tuple[QuarantineRow, str]] = field(default_factory=list)
    scanned_parcels: int = 0
    scanned_items: int = 0

    def values(self, subject_text: str) -> set[str]:
        """Every personal value of theirs we know: what they were named by and their recipients' fields."""
        found = {subject_text.strip()}
        for _, party in self.parcels:
            for key in ("name", "phone", "email"):
                if party.get(key):
                    found.add(str(party[key]))
            street = (party.get("address") or {}).get("street")
            if street:
                found.add(str(street))
        return {v for v in found if len(v) >= 3}


def _find(store: Store, cipher: FieldCipher, subject: Subject, batch: int) -> _Found:
    found = _Found()
    for rows in _batches(store, ParcelRow, ParcelRow.recipient_enc.is_not(None), batch):
        for row in rows:
            found.scanned_parcels += 1
            party = json.loads(cipher.decrypt(row.recipient_enc, context=RECIPIENT_CONTEXT) or "{}")
            if subject.is_party(party):
                found.parcels.append((row, party))
    for rows in _batches(store, QuarantineRow, QuarantineRow.payload_enc != "", batch):
        for item in rows:
            found.scanned_items += 1
            payload = cipher.decrypt(item.payload_enc, context=PAYLOAD_CONTEXT) or ""
            if subject.mentioned_in(payload):
                found.items.append((item, payload))
    return found


def _messages(store: Store, parcels: list[ParcelRow], batch: int) -> Iterator[OutboxRow]:
    """Status messages sent for these parcels (matched by partner, shipment reference and parcel id)."""
    keys = {(p.partner, p.shipment_ref, p.parcel_id) for p in parcels}
    partners = {p.partner for p in parcels}
    if not keys:
        return
    for rows in _batches(store, OutboxRow, OutboxRow.destination.in_(partners), batch):
        for msg in rows:
            payload = msg.payload or {}
            if (msg.destination, payload.get("shipment_reference"), payload.get("parcel_id")) in keys:
                yield msg


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass(slots=True)
class SubjectExport:
    kind: str
    parcels: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    scanned: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def export_subject(store: Store, cipher: FieldCipher, subject_text: str, *, batch: int = DEFAULT_BATCH,
                   actor: str | None = None) -> SubjectExport:
    """Everything the hub holds on one recipient (see the module docstring). Records ``privacy.export``."""
    subject = Subject.parse(subject_text)
    found = _find(store, cipher, subject, batch)
    out = SubjectExport(kind=subject.kind, scanned={"parcels": found.scanned_parcels,
                                                    "quarantine_items": found.scanned_items})
    sent: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for msg in _messages(store, [p for p, _ in found.parcels], batch):
        key = (msg.destination, msg.payload.get("shipment_reference"), msg.payload.get("parcel_id"))
        sent.setdefault(key, []).append({"kind": msg.kind, "created_at": _iso(msg.created_at),  # type: ignore[arg-type]
                                         "published_at": _iso(msg.published_at), "payload": msg.payload})
    with store.transaction() as s:
        for row, party in found.parcels:
            events = s.scalars(select(EventRow).where(EventRow.parcel_pk == row.id).order_by(EventRow.id))
            out.parcels.append({
                "partner": row.partner, "shipment_reference": row.shipment_ref, "parcel_id": row.parcel_id,
                "status": row.status, "reason": row.reason, "locker_id": row.locker_id,
                "reservation_id": row.reservation_id, "recipient": party,
                "access_code": cipher.decrypt(row.access_code_enc, context=ACCESS_CODE_CONTEXT),
                "parcel": row.parcel, "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at),
                "events": [{"status": e.status, "outcome": e.outcome, "reason": e.reason, "locker_id": e.locker_id,
                            "occurred_at": _iso(e.occurred_at), "source": e.source} for e in events],
                "status_messages": sent.get((row.partner, row.shipment_ref, row.parcel_id), []),
            })
        out.quarantine = [{"id": item.qid, "partner": item.partner, "stage": item.stage, "location": item.location,
                           "state": item.state, "created_at": _iso(item.created_at), "errors": list(item.errors),
                           "payload": payload} for item, payload in found.items]
        audit.record(s, "privacy.export", subject=cipher.pseudonym(subject.key, context=SUBJECT_CONTEXT),
                     actor=actor, details={"kind": subject.kind, "parcels": len(out.parcels),
                                           "quarantine_items": len(out.quarantine)})
    return out


@dataclass(slots=True)
class ErasureReport:
    kind: str
    dry_run: bool
    parcels: int = 0
    active: int = 0  # of ``parcels``: not yet in a terminal status
    quarantine_payloads: int = 0
    events_redacted: int = 0
    messages_redacted: int = 0
    compacted: bool = False  # SQLite: vacuumed and write-ahead log truncated
    audit_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _scrub(value: Any, replace: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, dict):
        return {k: _scrub(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, replace) for v in value]
    return value


def _replacer(values: set[str]) -> Callable[[str], str]:
    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)), re.IGNORECASE)
    return lambda text: pattern.sub(ERASED, text)


def erase_subject(store: Store, cipher: FieldCipher, subject_text: str, *, dry_run: bool = False,
                  now: datetime | None = None, batch: int = DEFAULT_BATCH, actor: str | None = None) -> ErasureReport:
    """Erase one recipient's personal data (see the module docstring); ``dry_run`` only counts."""
    subject = Subject.parse(subject_text)
    found = _find(store, cipher, subject, batch)
    terminal = {s.value for s in lifecycle().terminal}
    report = ErasureReport(kind=subject.kind, dry_run=dry_run, parcels=len(found.parcels),
                           active=sum(row.status not in terminal for row, _ in found.parcels),
                           quarantine_payloads=len(found.items))
    parcels = [row for row, _ in found.parcels]
    replace = _replacer(found.values(subject_text))
    messages = list(_messages(store, parcels, batch))
    moment = now or datetime.now(timezone.utc)
    with store.transaction() as s:
        for msg in messages:
            scrubbed = _scrub(msg.payload, replace)
            if scrubbed != msg.payload:
                report.messages_redacted += 1
                if not dry_run:
                    s.execute(update(OutboxRow).where(OutboxRow.id == msg.id).values(payload=scrubbed))
        columns = ("reason", "source", "source_event_id", "raw_code", "locker_id")
        for event in s.scalars(select(EventRow).where(EventRow.parcel_pk.in_([p.id for p in parcels]))):
            changed = {c: replace(getattr(event, c)) for c in columns
                       if getattr(event, c) and replace(getattr(event, c)) != getattr(event, c)}
            if changed:
                report.events_redacted += 1
                if not dry_run:
                    s.execute(update(EventRow).where(EventRow.id == event.id).values(**changed))
        if dry_run:
            return report
        if parcels:
            s.execute(update(ParcelRow).where(ParcelRow.id.in_([p.id for p in parcels]))
                      .values(recipient_enc=None, access_code_enc=None, pii_erased_at=moment)
                      .execution_options(synchronize_session=False))
        if found.items:
            s.execute(update(QuarantineRow).where(QuarantineRow.id.in_([i.id for i, _ in found.items]))
                      .values(payload_enc="", payload_erased_at=moment).execution_options(synchronize_session=False))
        entry = audit.record(s, "privacy.erase", subject=cipher.pseudonym(subject.key, context=SUBJECT_CONTEXT),
                             actor=actor, at=moment,
                             details={"kind": subject.kind, "parcels": report.parcels, "active": report.active,
                                      "quarantine_payloads": report.quarantine_payloads,
                                      "events_redacted": report.events_redacted,
                                      "messages_redacted": report.messages_redacted})
        report.audit_seq = entry.seq
    report.compacted = compact(store)
    return report


def compact(store: Store) -> bool:
    """SQLite: rewrite the database file and empty the write-ahead log, so freed pages and old page versions (which
    may still hold erased ciphertexts) are gone. Other backends: nothing (returns False)."""
    if store.engine.dialect.name != "sqlite":
        return False
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM"))
        busy = conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).first()
    return bool(busy is not None and busy[0] == 0)


__all__ = ["ERASED", "ErasureReport", "Subject", "SubjectExport", "compact", "erase_subject", "export_subject"]
