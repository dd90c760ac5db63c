"""Booking: pick a locker and size class that fit, soft-reserve, then hard-book; re-route on refusal.

Outcomes per parcel: BOOKED (with locker, compartment and an encrypted access code), REJECTED with a reason
(no size class fits, no locker near the recipient, outside the pilot regions, vendor refused), or left CREATED
for the next run when the vendor is unreachable (bounded retries); after ``max_booking_attempts`` runs the parcel
goes to quarantine. A call refused by an open circuit breaker (``CircuitOpenError``) also leaves the parcel CREATED
but does not count as an attempt: nothing was sent, and an outage must not use up every parcel's attempts.

The soft reservation is on record before the confirm
    The soft reservation (``reservation_id``, ``locker_id``, ``size_class``, ``compartment_id``) is written to the
    parcel in its own committed transaction before the confirm is sent. A parcel still CREATED with a
    ``reservation_id`` is soft-reserved with its confirm pending; ``vendor`` stays empty until the confirm's answer
    is recorded, so status polling, webhooks and reconciliation leave such a parcel to booking. The next run
    *resumes* it: the same reservation is confirmed again with the same idempotency key, so a confirm the vendor
    applied but whose answer was lost (a timeout) comes back with its access code. Booking never re-routes while a
    confirm may have succeeded: only when the vendor refuses the confirm (e.g. ``reservation_expired``), and its
    status for that reservation (where it can be polled) shows it was never confirmed or is gone, is the
    reservation forgotten and the parcel allocated again in the same run, with fresh keys. A refused confirm whose
    reservation the vendor nevertheless reports as booked is quarantined (stage ``book``) for a person to decide.

Several workers at once
    Every decision on a parcel (hold a soft reservation, forget it, book, reject) locks the parcel's row and keeps
    the first decision: a worker that finds the parcel decided, or held by another worker's reservation, releases
    its own (unless it is the same one: the same keys give the same reservation) and leaves the parcel. So no
    parcel holds two bookings and none is left orphaned at the vendor (four threads on PostgreSQL:
    ``tests/integration/test_concurrent_booking.py``); the vendor gives each compartment to one reservation.

Idempotency keys
    Derived from the parcel's domain key and its booking round (``ParcelRow.parcel["booking_round"]``, 0 until a
    reservation is forgotten, then counted up): ``<key>:reserve:<locker>`` and ``<key>:book`` in round 0,
    ``<key>:reserve:<locker>:r<n>`` and ``<key>:book:r<n>`` in round ``n``. A retried reserve or confirm, in the same
    run or the next, gets the first answer back instead of a second reservation; a new round never replays a
    forgotten (expired) reservation. The round is written in the same transaction that forgets the reservation.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lockerhub.errors import AllocationError, CircuitOpenError, LockerhubError, RejectedError, TransientError
from lockerhub.model import Parcel, ParcelEvent, ParcelStatus, Party, Reservation
from lockerhub.plugins.protocols import Capability
from lockerhub.runtime import quarantine
from lockerhub.runtime.allocation import fitting_classes
from lockerhub.runtime.events import record_event
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import RECIPIENT_CONTEXT
from lockerhub.store import ParcelRow

ACCESS_CODE_CONTEXT = "parcels.access_code"
ROUND_FIELD = "booking_round"  # hub bookkeeping in ParcelRow.parcel, beside the requested locker
HELD_FIELD = "held_with"  # the vendor (name) holding the pending soft reservation, until the confirm is answered
RELEASED_FIELD = "released"  # [{vendor, reservation_id}] a re-routed parcel no longer holds (their events are stale)
HUB_FIELDS = frozenset({"destination_locker", ROUND_FIELD, HELD_FIELD, RELEASED_FIELD})  # beside the Parcel
NOT_CONFIRMED = frozenset({ParcelStatus.CREATED, ParcelStatus.CANCELLED, ParcelStatus.REJECTED})


@dataclass(slots=True)
class BookingReport:
    booked: int = 0
    rejected: int = 0
    deferred: int = 0
    quarantined: int = 0


class ConfirmInDoubtError(LockerhubError):
    """The vendor refused to confirm the parcel's pending reservation but reports that reservation as booked."""


def idempotency_key_for(parcel_key: str, operation: str, booking_round: int = 0) -> str:
    """The idempotency key of ``operation`` (``reserve:<locker>`` or ``book``) in a booking round."""
    return f"{parcel_key}:{operation}" if booking_round == 0 else f"{parcel_key}:{operation}:r{booking_round}"


def holder(hub: Hub, row: ParcelRow) -> str:
    """The name of the vendor holding the parcel's reservation: the one it is booked with, else the one holding its
    pending soft reservation, else the first routed vendor."""
    return row.vendor or row.parcel.get(HELD_FIELD) or hub.vendor_name


def booking_round(parcel: dict[str, Any]) -> int:
    return int(parcel.get(ROUND_FIELD) or 0)


def _too_big(parcel: Parcel) -> AllocationError:
    return AllocationError("no_compartment_fits", expected="a parcel within the largest size class",
                           found=f"{parcel.dimensions.length_mm}x{parcel.dimensions.width_mm}x"
                                 f"{parcel.dimensions.height_mm} mm, {parcel.weight_g} g")


def _reserve(hub: Hub, row: ParcelRow, parcel: Parcel, recipient: Party, round_: int) -> tuple[str, Reservation]:
    """A soft reservation at the first candidate locker with a free compartment that fits, and its vendor."""
    catalog = hub.catalog()
    if not fitting_classes(parcel, catalog.size_classes):
        raise _too_big(parcel)
    for locker in catalog.candidates(recipient, row.parcel.get("destination_locker"),
                                     hub.config.hub.routing.max_candidates, parcel):
        name = catalog.owner(locker.locker_id) or hub.vendor_name
        vendor = hub.vendor(name)
        classes = fitting_classes(parcel, catalog.classes_of(name))
        if not classes:
            continue
        try:
            available = (hub.call_vendor("precheck", lambda: vendor.precheck(locker.locker_id, parcel), vendor=name)
                         if hub.vendor_can(Capability.PRECHECK, name) else classes)
        except RejectedError:  # e.g. out of service since the network was listed: try the next locker
            continue
        size = next((c for c in classes if c in available), None)
        if size is None:
            continue
        key = idempotency_key_for(row.key, f"reserve:{locker.locker_id}", round_)
        try:
            soft = hub.call_vendor(
                "reserve", lambda: vendor.reserve(locker.locker_id, size, idempotency_key=key), vendor=name)
        except RejectedError:  # taken between precheck and reserve: try the next locker
            catalog.taken(locker.locker_id, size)
            continue
        catalog.taken(locker.locker_id, soft.size_class or size)
        return name, soft
    raise AllocationError("no_compartment_fits", expected="a free compartment in a nearby locker", found="none")


def _confirm(hub: Hub, row: ParcelRow, name: str, reservation_id: str, round_: int) -> Reservation:
    """Hard-book ``reservation_id`` with vendor ``name``. A refusal is re-raised only once the reservation is known
    not to be booked."""
    vendor = hub.vendor(name)
    key = idempotency_key_for(row.key, "book", round_)
    try:
        return hub.call_vendor("book", lambda: vendor.book(reservation_id, idempotency_key=key), vendor=name)
    except RejectedError as refused:
        _require_unconfirmed(hub, row, name, reservation_id, refused)
        raise


def _require_unconfirmed(hub: Hub, row: ParcelRow, name: str, reservation_id: str, refused: RejectedError) -> None:
    """Raise ConfirmInDoubtError when the vendor's status says ``reservation_id`` is booked after all (a
    ``TransientError`` when it cannot be asked now). Without status polling the refusal itself is the evidence."""
    if not hub.vendor_can(Capability.POLL_STATUS, name):
        return
    vendor = hub.vendor(name)
    try:
        events = hub.call_vendor("get_status", lambda: vendor.get_status(reservation_id), vendor=name)
    except RejectedError:  # the vendor does not know the reservation: nothing is booked under it
        return
    if not events:
        return
    latest = max(events, key=lambda v: v.event.occurred_at).event.status
    if latest not in NOT_CONFIRMED:
        raise ConfirmInDoubtError(
            f"the vendor refused to confirm reservation {reservation_id} ({refused.message}) but reports it "
            f"{latest}", expected="a reservation that is soft, expired or cancelled",
            found=str(latest), hint=f"parcel {row.partner}/{row.shipment_ref}/{row.parcel_id} stays CREATED and is "
                                    "not re-routed; settle the booking with the vendor") from refused


class _TakenByAnotherWorker(Exception):
    """Another worker holds or decided this parcel since this run listed it: this run leaves it alone."""


def _hold(hub: Hub, row: ParcelRow, name: str, soft: Reservation) -> None:
    """Put the soft reservation (at vendor ``name``) on record (committed) before it is confirmed. When another
    worker got there first (the parcel is decided, or holds another reservation), this one is released instead and
    :class:`_TakenByAnotherWorker` raised."""
    with hub.store.transaction() as s:
        fresh = _decided(s, row)
        holds = s.scalar(select(ParcelRow.reservation_id).where(ParcelRow.id == row.id))
        if fresh is None or holds not in (None, soft.reservation_id):
            if holds != soft.reservation_id:  # the same reservation (the same keys) is the other worker's too
                _release(hub, name, soft.reservation_id)
            raise _TakenByAnotherWorker(row.key)
        fresh.locker_id, fresh.size_class = soft.locker_id, soft.size_class
        fresh.reservation_id, fresh.compartment_id = soft.reservation_id, soft.compartment_id
        fresh.parcel = {**fresh.parcel, HELD_FIELD: name}


def _forget(hub: Hub, row: ParcelRow) -> int:
    """Drop the pending reservation (the vendor refused to confirm it, and it is not booked); the next round."""
    with hub.store.transaction() as s:
        fresh = _decided(s, row)
        if fresh is None or fresh.reservation_id != row.reservation_id:
            raise _TakenByAnotherWorker(row.key)
        fresh.locker_id = fresh.size_class = fresh.reservation_id = fresh.compartment_id = None
        round_ = booking_round(fresh.parcel) + 1
        fresh.parcel = {**{k: v for k, v in fresh.parcel.items() if k != HELD_FIELD}, ROUND_FIELD: round_}
        return round_


def _book(hub: Hub, row: ParcelRow, parcel: Parcel, recipient: Party) -> tuple[str, Reservation]:
    """Resume the parcel's pending reservation, or (first, or after the vendor refused it) reserve and confirm;
    the booking and the name of the vendor that holds it."""
    round_ = booking_round(row.parcel)
    if row.reservation_id is not None:
        name = row.parcel.get(HELD_FIELD) or hub.vendor_name  # a hold recorded before vendors were named
        try:
            return name, _confirm(hub, row, name, row.reservation_id, round_)
        except RejectedError:  # e.g. reservation_expired, and the vendor's status agrees: allocate again
            round_ = _forget(hub, row)
    name, soft = _reserve(hub, row, parcel, recipient, round_)
    _hold(hub, row, name, soft)
    return name, _confirm(hub, row, name, soft.reservation_id, round_)


def _decided(s: Session, row: ParcelRow) -> ParcelRow | None:
    """The parcel's row locked for this decision, or None when another worker decided it meanwhile (it is no longer
    CREATED): the first decision stands, and the row lock makes the second one wait to see it."""
    fresh = s.get(ParcelRow, row.id, with_for_update=True, populate_existing=True)
    assert fresh is not None
    return fresh if fresh.status == ParcelStatus.CREATED.value else None


def _reject(hub: Hub, row: ParcelRow, reason: str) -> None:
    with hub.store.transaction() as s:
        fresh = _decided(s, row)
        if fresh is None:
            return
        fresh.locker_id = fresh.size_class = fresh.reservation_id = fresh.compartment_id = None  # a refused hold
        fresh.parcel = {k: v for k, v in fresh.parcel.items() if k != HELD_FIELD}
        record_event(s, fresh, ParcelEvent(status=ParcelStatus.REJECTED, reason=reason, occurred_at=hub.clock(),
                                           source="hub", event_id=f"reject:{reason}"))


def _quarantine(hub: Hub, s: Session, row: ParcelRow, exc: LockerhubError) -> None:
    """Quarantine the parcel (stage ``book``) under the connector of the vendor holding it (if any)."""
    quarantine.put(s, hub.cipher, source=hub.vendor_id(row.parcel.get(HELD_FIELD)), partner=row.partner,
                   location=quarantine.parcel_location(row), stage="book", errors=[exc], payload=row.key)


def book_one(hub: Hub, row: ParcelRow, report: BookingReport) -> None:
    with hub.store.transaction() as s:
        if s.scalar(select(ParcelRow.status).where(ParcelRow.id == row.id)) != ParcelStatus.CREATED.value:
            return  # another worker booked or refused it since this run listed it
    parcel = Parcel.model_validate({k: v for k, v in row.parcel.items() if k not in HUB_FIELDS})
    recipient = Party.model_validate_json(hub.cipher.decrypt(row.recipient_enc, context=RECIPIENT_CONTEXT) or "{}")
    try:
        name, booked = _book(hub, row, parcel, recipient)
    except _TakenByAnotherWorker:
        return
    except AllocationError as exc:
        _reject(hub, row, exc.message)
        report.rejected += 1
        return
    except RejectedError:
        _reject(hub, row, "vendor_rejected")
        report.rejected += 1
        return
    except ConfirmInDoubtError as exc:
        with hub.store.transaction() as s:
            fresh = s.get(ParcelRow, row.id)
            assert fresh is not None
            _quarantine(hub, s, fresh, exc)
        report.quarantined += 1
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
                _quarantine(hub, s, fresh, exc)
                report.quarantined += 1
            else:
                report.deferred += 1
        return
    with hub.store.transaction() as s:
        fresh = _decided(s, row)
        if fresh is None:
            other = s.scalar(select(ParcelRow.reservation_id).where(ParcelRow.id == row.id))
            if other != booked.reservation_id:  # another worker decided otherwise: release this booking
                _release(hub, name, booked.reservation_id)
            return
        record_booking(hub, fresh, name, booked)
        fresh.parcel = {k: v for k, v in fresh.parcel.items() if k != HELD_FIELD}
        record_event(s, fresh, ParcelEvent(status=ParcelStatus.BOOKED, occurred_at=hub.clock(), source="hub",
                                           event_id=f"book:{booked.reservation_id}", locker_id=booked.locker_id))
    report.booked += 1


def record_booking(hub: Hub, row: ParcelRow, name: str, booked: Reservation) -> None:
    """Write a confirmed booking at vendor ``name`` onto the parcel's row (its access code encrypted)."""
    row.vendor, row.locker_id = name, booked.locker_id
    row.size_class, row.reservation_id, row.compartment_id = (
        booked.size_class, booked.reservation_id, booked.compartment_id)
    row.access_code_enc = (hub.cipher.encrypt(booked.access_code.reveal(), context=ACCESS_CODE_CONTEXT)
                           if booked.access_code is not None else None)


def _release(hub: Hub, name: str, reservation_id: str) -> None:
    """Cancel a booking no parcel holds (best effort: reconciliation finds one this cannot cancel)."""
    vendor = hub.vendor(name)
    with contextlib.suppress(LockerhubError):
        hub.call_vendor("cancel", lambda: vendor.cancel(reservation_id), vendor=name)


def book_pending(hub: Hub, *, limit: int | None = None, progress=None) -> BookingReport:  # type: ignore[no-untyped-def]
    """Book every parcel still CREATED (oldest first); one with a pending soft reservation resumes it."""
    report = BookingReport()
    with hub.store.transaction() as s:
        query = select(ParcelRow).where(ParcelRow.status == ParcelStatus.CREATED.value).order_by(ParcelRow.id)
        rows = list(s.scalars(query.limit(limit) if limit else query))
    for row in rows:
        book_one(hub, row, report)
        if progress:
            progress()
    return report
