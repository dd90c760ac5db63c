"""Ingest: read a TMS drop, create parcels idempotently, quarantine what cannot be read, archive the file.

A parcel's domain key (partner + shipment reference + parcel id) is unique in the store: the same parcel read
again is counted as a duplicate and changes nothing. Each record commits on its own, so one bad row never holds
back the good ones.

A partner whose connector acknowledges (``write_ack``) also gets the business checks of
:mod:`lockerhub.runtime.admission` per record (a refused record is quarantined at stage ``admit``, the others
proceed), then one acknowledgement of the whole file with every record's outcome, written before the file is
archived. Ingesting the same file again writes the same acknowledgement.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lockerhub.errors import Location, LockerhubError, ParseError
from lockerhub.model import ParcelEvent, ParcelStatus, Shipment, idempotency_key
from lockerhub.plugins.protocols import Capability, RecordOutcome, SourceRecord
from lockerhub.runtime import admission, quarantine
from lockerhub.runtime.hub import Hub
from lockerhub.store import EventRow, IngestedFileRow, ParcelRow

RECIPIENT_CONTEXT = "parcels.recipient"


@dataclass(slots=True)
class IngestReport:
    file: str
    records: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    refused: int = 0  # records quarantined by a business check (also counted in ``quarantined``)
    acknowledgements: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # quarantine ids of what could not be taken
    archived_to: str | None = None
    error: str | None = None


def _create_parcels(hub: Hub, record: SourceRecord, shipment: Shipment, source_id: str, report: IngestReport,
                    origin: str) -> None:
    """Create the shipment's parcels in CREATED, one transaction each; a known domain key is a duplicate."""
    recipient = shipment.recipient.model_dump_json()
    for parcel in shipment.parcels:
        key = idempotency_key(shipment.partner, shipment.reference, parcel.parcel_id)
        try:
            with hub.store.transaction() as s:
                if s.scalar(select(ParcelRow.id).where(ParcelRow.key == key)) is not None:
                    report.duplicates += 1
                    continue
                row = ParcelRow(
                    key=key, partner=shipment.partner, shipment_ref=shipment.reference,
                    parcel_id=parcel.parcel_id, status=ParcelStatus.CREATED.value,
                    parcel={**parcel.model_dump(mode="json"), "destination_locker": shipment.destination_locker},
                    recipient_enc=hub.cipher.encrypt(recipient, context=RECIPIENT_CONTEXT), origin=origin,
                )
                s.add(row)
                s.flush()
                # the record's origin (file hash + record number): stable, and short whatever the file's path
                event = ParcelEvent(status=ParcelStatus.CREATED, occurred_at=hub.clock(), source=source_id,
                                    event_id=origin)
                s.add(EventRow(parcel_pk=row.id, status=event.status.value, outcome="applied",
                               occurred_at=event.occurred_at, source=event.source, source_event_id=event.event_id))
                report.accepted += 1
        except IntegrityError:  # a concurrent ingest of the same parcel won the race
            report.duplicates += 1


def keep_record(hub: Hub, partner: str, source: str, record: SourceRecord, stage: str,
                errors: list[LockerhubError]) -> str:
    """Quarantine one record (its raw text) at ``stage``; returns the quarantine id."""
    with hub.store.transaction() as s:
        return quarantine.put(s, hub.cipher, source=source, partner=partner, location=str(record.location),
                              stage=stage, errors=errors, payload=record.raw).qid


def take_record(hub: Hub, partner: str, record: SourceRecord, *, source: str, origin: str, admit: bool,
                report: IngestReport, stages: tuple[str, str] = ("map", "admit")) -> RecordOutcome:
    """One record of a delivery: quarantined (mapping errors; business refusals when ``admit``) or its parcels
    created idempotently. ``origin`` names the delivery and record (the same origin again is not a duplicate
    shipment); ``stages`` are the quarantine stages of the two kinds of refusal."""
    report.records += 1
    if record.errors or record.shipment is None:
        report.kept.append(keep_record(hub, partner, source, record, stages[0], list(record.errors)))
        report.quarantined += 1
        return RecordOutcome(record.ack_key, False, errors=record.errors)
    shipment = record.shipment
    refused = admission.check(hub, partner, record, shipment, origin) if admit else []
    if refused:
        report.kept.append(keep_record(hub, partner, source, record, stages[1], list(refused)))
        report.quarantined += 1
        report.refused += 1
        return RecordOutcome(record.ack_key, False, shipment.reference, tuple(refused),
                             tuple(dict.fromkeys(r.reason for r in refused)))
    _create_parcels(hub, record, shipment, hub.config.hub.partners[partner].connector, report, origin)
    return RecordOutcome(record.ack_key, True, shipment.reference)


def ingest_file(hub: Hub, partner: str, path: Path) -> IngestReport:
    """Ingest one file for ``partner`` and archive it to done/ (or failed/ when unreadable)."""
    source = hub.partner(partner)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    report = IngestReport(file=str(path))
    acknowledges = Capability.WRITE_ACK in type(source).capabilities
    outcomes: list[RecordOutcome] = []
    try:
        for n, record in enumerate(source.read(path, partner=partner)):
            outcomes.append(take_record(hub, partner, record, source=str(path), origin=f"{sha}#{n}",
                                        admit=acknowledges, report=report))
    except (ParseError, LockerhubError) as exc:  # the file as a whole could not be read
        with hub.store.transaction() as s:
            report.kept.append(quarantine.put(
                s, hub.cipher, source=str(path), partner=partner, location=str(exc.location or path),
                stage="read", errors=[exc], payload=data.decode("utf-8", errors="replace")).qid)
        report.quarantined += 1
        report.error = exc.render()
    if acknowledges and report.error is None:
        report.acknowledgements = [str(p) for p in source.write_ack(path, outcomes, partner=partner)]
    with hub.store.transaction() as s:
        seen = s.get(IngestedFileRow, sha)
        if seen is None:
            s.add(IngestedFileRow(sha256=sha, partner=partner, name=path.name, records=report.records,
                                  accepted=report.accepted, duplicates=report.duplicates,
                                  quarantined=report.quarantined))
        else:
            seen.times_seen += 1
    if Capability.WATCH_INBOX in type(source).capabilities:  # a file given by hand to a push/fetch partner stays
        report.archived_to = str(source.archive(path, failed=report.error is not None))
    return report


def fetch_partner(hub: Hub, partner: str) -> IngestReport:
    """Ask a fetching partner's TMS for its new shipments and take them in as records of a file are. A shipment
    fetched again is a duplicate (same domain key); a failed call is reported and tried again on the next run
    (nothing was received, so nothing is lost)."""
    source = hub.partner(partner)
    report = IngestReport(file=f"fetch:{partner}")
    try:
        for record in source.fetch(partner=partner):
            origin = "fetch:" + hashlib.sha256(record.raw.encode("utf-8")).hexdigest()
            take_record(hub, partner, record, source=report.file, origin=origin, admit=False, report=report)
    except LockerhubError as exc:
        report.error = exc.render()
    return report


def ingest_inbox(hub: Hub, partner: str) -> list[IngestReport]:
    """Fetch a fetching partner's new shipments, then ingest every pending file of its inbox, oldest name first."""
    source = hub.partner(partner)
    capabilities = type(source).capabilities
    fetches = Capability.FETCH in capabilities and getattr(source, "fetches", True)
    reports = [fetch_partner(hub, partner)] if fetches else []
    if Capability.WATCH_INBOX in capabilities:
        reports += [ingest_file(hub, partner, p) for p in source.pending()]
    return reports


def partner_for(hub: Hub, path: Path) -> str:
    """The partner a file belongs to, from its EDI envelope's sender id and the partners' ``sender`` setting."""
    senders: dict[str, str] = {}
    for name, ref in hub.config.hub.partners.items():
        sender_of = getattr(type(hub.partner(name)), "sender_of", None)
        if ref.sender and sender_of is not None:
            senders[name] = ref.sender
            try:
                found = sender_of(path)
            except LockerhubError:
                continue  # not this connector's syntax
            if found == ref.sender:
                return name
    raise LockerhubError(
        "no partner for this file", location=Location(file=str(path)),
        expected="an EDI interchange whose sender is one of: "
                 + (", ".join(f"{v} ({k})" for k, v in senders.items()) or "no partner has a `sender` configured"),
        hint="or name the partner with --partner",
    )
