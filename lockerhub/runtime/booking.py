"""Booking: pick a locker and size class that fit, soft-reserve, then hard-book; re-route on refusal.

Outcomes per parcel: BOOKED (with locker, compartment and an encrypted access code), REJECTED with a reason
(no size class fits, no locker near the recipient, outside the pilot regions, vendor refused), or left CREATED
for the next run when the vendor is unreachable (bounded retries); after ``max_booking_attempts`` runs the parcel
goes to quarantine. A call refused by an open circuit breaker (``CircuitOpenError``) also leaves the parcel CREATED
but does not count as an attempt: nothing was sent, and an outage must not use up every parcel's attempts.
Idempotency keys derived from the parcel key make a retried reserve/book return the first result instead of booking
twice (also after a timed-out request the vendor did apply).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lockerhub.errors import AllocationError, CircuitOpenError, RejectedError, TransientError
from lockerhub.model import Parcel, ParcelEvent, ParcelStatus, Party, Reservation
from lockerhub.plugins.protocols import Capability
from lockerhub.runtime import quarantine
from lockerhub.runtime.allocation import fitting_classes
from lockerhub.runtime.events import record_event
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import RECIPIENT_CONTEXT
from lockerhub.store import ParcelRow

ACCESS_CODE_CONTEXT = "parcels.access_code"


@dataclass(slots=True)
class BookingReport:
    booked: int = 0
    rejected: int = 0
    deferred: int = 0
    quarantined: int = 0


def _try_lockers(hub: Hub, row: ParcelRow, parcel: Parcel, recipient: Party) -> Reservation:
    catalog = hub.catalog()
    classes = fitting_classes(parcel, catalog.size_classes)
    if not classes:
        raise AllocationError("no_compartment_fits", expected="a parcel within the largest size class",
                              found=f"{parcel.dimensions.length_mm}x{parcel.dimensions.width_mm}x"
                                    f"{parcel.dimensions.height_mm} mm, {parcel.weight_g} g")
    vendor = hub.vendor()
    prechecks = hub.vendor_can(Capability.PRECHECK)
    for locker in catalog.candidates(recipient, row.parcel.get("destination_locker"),
                                     hub.config.hub.routing.max_candidates):
        available = (hub.call_vendor("precheck", lambda: vendor.precheck(locker.locker_id, parcel)) if prechecks
                     else classes)
        size = next((c for c in classes if c in available), None)
        if size is None:
            continue
        try:
            soft = hub.call_vendor("reserve", lambda: vendor.reserve(
                locker.locker_id, size, idempotency_key=f"{row.key}:reserve:{locker.locker_id}"))
        except RejectedError:  # taken between precheck and reserve: try the next locker
            continue
        return hub.call_vendor("book", lambda: vendor.book(soft.reservation_id, idempotency_key=f"{row.key}:book"))
    raise AllocationError("no_compartment_fits", expected="a free compartment in a nearby locker", found="none")


def _reject(hub: Hub, row: ParcelRow, reason: str) -> None:
    with hub.store.transaction() as s:
        fresh = s.get(ParcelRow, row.id)
        assert fresh is not None
        record_event(s, fresh, ParcelEvent(status=ParcelStatus.REJECTED, reason=reason, occurred_at=hub.clock(),
                                           source="hub", event_id=f"reject:{reason}"))


def book_one(hub: Hub, row: ParcelRow, report: BookingReport) -> None:
    parcel = Parcel.model_validate({k: v for k, v in row.parcel.items() if k != "destination_locker"})
    recipient = Party.model_validate_json(hub.cipher.decrypt(row.recipient_enc, context=RECIPIENT_CONTEXT) or "{}")
    try:
        booked = _try_lockers(hub, row, parcel, recipient)
    except AllocationError as exc:
        _reject(hub, row, exc.message)
        report.rejected += 1
        return
    except RejectedError:
        _reject(hub, row, "vendor_rejected")
        report.rejected += 1
        return
    except CircuitOpenError:
        report.deferred += 1
        return
    except TransientError as exc:
        with hub.store.transaction() as s:
            fresh = s.get(ParcelRow, row.id)
            assert fresh is not None
            fresh.attempts += 1
            if fresh.attempts >= hub.max_booking_attempts:
                quarantine.put(s, hub.cipher, source=hub.vendor_id(), partner=row.partner,
                               location=quarantine.parcel_location(row), stage="book",
                               errors=[exc], payload=row.key)
                report.quarantined += 1
            else:
                report.deferred += 1
        return
    with hub.store.transaction() as s:
        fresh = s.get(ParcelRow, row.id)
        assert fresh is not None
        fresh.vendor, fresh.locker_id = hub.vendor_id(), booked.locker_id
        fresh.size_class, fresh.reservation_id, fresh.compartment_id = (
            booked.size_class, booked.reservation_id, booked.compartment_id)
        if booked.access_code is not None:
            fresh.access_code_enc = hub.cipher.encrypt(booked.access_code.reveal(), context=ACCESS_CODE_CONTEXT)
        record_event(s, fresh, ParcelEvent(status=ParcelStatus.BOOKED, occurred_at=hub.clock(), source="hub",
                                           event_id=f"book:{booked.reservation_id}", locker_id=booked.locker_id))
    report.booked += 1


def book_pending(hub: Hub, *, limit: int | None = None, progress=None) -> BookingReport:  # type: ignore[no-untyped-def]
    """Book every parcel still CREATED (oldest first)."""
    report = BookingReport()
    with hub.store.transaction() as s:
        query = select(ParcelRow).where(ParcelRow.status == ParcelStatus.CREATED.value).order_by(ParcelRow.id)
        rows = list(s.scalars(query.limit(limit) if limit else query))
    for row in rows:
        book_one(hub, row, report)
        if progress:
            progress()
    return report
