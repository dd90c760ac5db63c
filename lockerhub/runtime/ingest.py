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
    archived_to: str | None = None
    error: str | None = None


def _create_parcels(hub: Hub, record: SourceRecord, shipment: Shipment, source_id: str, report: IngestReport,
                    origin: str) -> None:
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


def ingest_file(hub: Hub, partner: str, path: Path) -> IngestReport:
    """Ingest one file for ``partner`` and archive it to done/ (or failed/ when unreadable)."""
    source = hub.partner(partner)
    source_id = hub.config.hub.partners[partner].connector
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    report = IngestReport(file=str(path))
    acknowledges = Capability.WRITE_ACK in type(source).capabilities
    outcomes: list[RecordOutcome] = []

    def keep(record: SourceRecord, stage: str, errors: list[LockerhubError]) -> None:
        with hub.store.transaction() as s:
            quarantine.put(s, hub.cipher, source=str(path), partner=partner, location=str(record.location),
                           stage=stage, errors=errors, payload=record.raw)
        report.quarantined += 1

    try:
        for n, record in enumerate(source.read(path, partner=partner)):
            report.records += 1
            if record.errors or record.shipment is None:
                keep(record, "map", list(record.errors))
                outcomes.append(RecordOutcome(record.ack_key, False, errors=record.errors))
                continue
            shipment, origin = record.shipment, f"{sha}#{n}"
            refused = admission.check(hub, partner, record, shipment, origin) if acknowledges else []
            if refused:
                keep(record, "admit", list(refused))
                report.refused += 1
                outcomes.append(RecordOutcome(record.ack_key, False, shipment.reference, tuple(refused),
                                              tuple(dict.fromkeys(r.reason for r in refused))))
                continue
            _create_parcels(hub, record, shipment, source_id, report, origin)
            outcomes.append(RecordOutcome(record.ack_key, True, shipment.reference))
    except (ParseError, LockerhubError) as exc:  # the file as a whole could not be read
        with hub.store.transaction() as s:
            quarantine.put(s, hub.cipher, source=str(path), partner=partner,
                           location=str(exc.location or path), stage="read", errors=[exc],
                           payload=data.decode("utf-8", errors="replace"))
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
    report.archived_to = str(source.archive(path, failed=report.error is not None))
    return report


def ingest_inbox(hub: Hub, partner: str) -> list[IngestReport]:
    """Ingest every pending file of a partner's inbox, oldest name first."""
    return [ingest_file(hub, partner, p) for p in hub.partner(partner).pending()]


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
