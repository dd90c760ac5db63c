"""The shipment desk: what a TMS that pushes work to the hub (an inbound SOAP call) can ask of it, for one partner.

Capabilities:
    ``submit`` takes one pushed shipment as ingest takes a record of a file (:func:`~lockerhub.runtime.ingest.
    take_record`): mapping errors and business refusals (``duplicate_shipment``, ``unknown_locker``,
    ``no_compartment_fits``) are quarantined with the request's text and answered at once, the parcels of a good
    one are created idempotently. The same delivery (the same request sent again after a lost answer) is
    ``already`` received; another shipment under a reference already used is refused as a duplicate.
    ``cancel`` cancels every parcel of a shipment that the lifecycle still lets be cancelled, releasing the vendor
    reservations first; all or nothing. ``status`` reads the parcels' current states.

Limits/Pitfalls:
    - A cancel racing a booking of the same parcel (a booking run between its reserve and its commit) can leave a
      vendor reservation that the hub no longer tracks; reconciliation (``lockerhub reconcile``) finds and
      releases such orphans.
"""

from __future__ import annotations

from sqlalchemy import select

from lockerhub.errors import BusinessRejection
from lockerhub.model import ParcelEvent, ParcelStatus, lifecycle
from lockerhub.plugins.protocols import ParcelView, SourceRecord, Submission
from lockerhub.runtime.booking import holder
from lockerhub.runtime.events import record_events, state_of
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import IngestReport, take_record
from lockerhub.store import ParcelRow


def view(row: ParcelRow) -> ParcelView:
    return ParcelView(parcel_id=row.parcel_id, status=row.status, updated_at=row.updated_at, reason=row.reason,
                      locker_id=row.locker_id)


class Desk:
    """The :class:`~lockerhub.plugins.protocols.ShipmentDesk` of ``partner`` over an open hub."""

    def __init__(self, hub: Hub, partner: str, *, source: str) -> None:
        self.hub, self.partner, self.source = hub, partner, source

    def _rows(self, reference: str, parcel_id: str | None = None, *, lock: bool = False) -> list[ParcelRow]:
        with self.hub.store.transaction() as s:
            query = select(ParcelRow).where(ParcelRow.partner == self.partner, ParcelRow.shipment_ref == reference)
            if parcel_id is not None:
                query = query.where(ParcelRow.parcel_id == parcel_id)
            rows = list(s.scalars(query.order_by(ParcelRow.id)))
            s.expunge_all()
        if not rows:
            what = f"shipment {reference!r}" + (f" parcel {parcel_id!r}" if parcel_id else "")
            raise BusinessRejection("unknown_shipment", "unknown shipment", expected="a shipment this partner sent",
                                    found=what)
        return rows

    def submit(self, record: SourceRecord, *, delivery: str, stage: str) -> Submission:
        report = IngestReport(file=self.source)
        outcome = take_record(self.hub, self.partner, record, source=self.source, origin=delivery, admit=True,
                              report=report, stages=(stage, stage))
        qid = report.kept[0] if report.kept else None
        if not outcome.accepted:
            return Submission(outcome.shipment_reference, False, reasons=outcome.reasons, errors=outcome.errors,
                              quarantine_id=qid)
        reference = outcome.shipment_reference or ""
        return Submission(reference, True, already=report.accepted == 0,
                          parcels=tuple(view(r) for r in self._rows(reference)))

    def status(self, reference: str, parcel_id: str | None = None) -> tuple[ParcelView, ...]:
        return tuple(view(r) for r in self._rows(reference, parcel_id))

    def cancel(self, reference: str) -> tuple[ParcelView, ...]:
        rows = self._rows(reference)
        rules = lifecycle()
        stuck = [r for r in rows if r.status != ParcelStatus.CANCELLED.value
                 and ParcelStatus.CANCELLED not in rules.allowed(state_of(r))]
        if stuck:
            raise BusinessRejection(
                "not_cancellable", "shipment can no longer be cancelled",
                expected="parcels not yet handed to a courier",
                found=", ".join(f"parcel {r.parcel_id} {r.status}" for r in stuck))
        hub = self.hub
        for row in rows:
            if row.reservation_id and row.status != ParcelStatus.CANCELLED.value:
                # a vendor outage raises TransientError: nothing changed here
                name = holder(hub, row)
                vendor, reservation = hub.vendor(name), row.reservation_id
                hub.call_vendor("cancel", lambda v=vendor, r=reservation: v.cancel(r), vendor=name)
        with hub.store.transaction() as s:
            fresh = list(s.scalars(select(ParcelRow).where(ParcelRow.id.in_([r.id for r in rows]))
                                   .order_by(ParcelRow.id).with_for_update()))
            now = hub.clock()
            record_events(s, [(row, ParcelEvent(status=ParcelStatus.CANCELLED, occurred_at=now, source="hub",
                                                 raw_code="cancelShipment", event_id=f"cancel:{row.key}"))
                              for row in fresh if row.status != ParcelStatus.CANCELLED.value])
            s.flush()
            return tuple(view(r) for r in fresh)
