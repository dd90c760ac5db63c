"""Re-routing: a parcel booked at a locker that went out of service before the courier deposited it is booked
again at the next candidate locker (at any routed vendor), its old reservation is cancelled, and it records
REDIRECTED with its new locker.

Which parcels: BOOKED or LABELLED (nothing is in the locker yet) whose locker the vendor now lists as offline or
in maintenance in the hub's catalog (listed by this run's booking, at most ``Hub.catalog_max_age_s`` old).
Candidates are booking's: the recipient's requested locker if it is back in service, else neighbours, the
preferred vendor's first.

Order of work, so nothing is lost or booked twice: the new locker is reserved and confirmed first, with idempotency
keys of the next booking round (a run that dies in between gets the same booking back next time); then the
parcel's row takes the new booking, its access code and the round, with the REDIRECTED event, in one transaction;
then the old reservation is cancelled. A cancel the vendor refuses or cannot take now is quarantined (stage
``reroute``, with the old reservation id) and tried again at the start of the next runs (up to ``AUTO_RETRIES``
times, then it waits for a person); the parcel stays re-routed. The old reservation is kept in the parcel's
``released`` list, so the vendor's late events about it (its cancellation) are recognised and not applied. A
parcel with no candidate in service stays where it is (``stuck``), and is tried again on the next run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from lockerhub.errors import AllocationError, LockerhubError, RejectedError, TransientError
from lockerhub.model import LockerState, Parcel, ParcelEvent, ParcelStatus, Party
from lockerhub.runtime import quarantine
from lockerhub.runtime.booking import (
    HUB_FIELDS,
    RELEASED_FIELD,
    ROUND_FIELD,
    _confirm,
    _reserve,
    booking_round,
    holder,
    record_booking,
)
from lockerhub.runtime.events import record_event
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import RECIPIENT_CONTEXT
from lockerhub.runtime.quarantine import QuarantineItem
from lockerhub.runtime.replay import Done, ReplayContext
from lockerhub.store import ParcelRow, QuarantineRow

NOT_YET_DEPOSITED = (ParcelStatus.BOOKED.value, ParcelStatus.LABELLED.value)
AUTO_RETRIES = 5  # an old reservation the vendor keeps refusing to cancel is left to a person after this


def _cancel_leftovers(hub: Hub) -> int:
    """Replay the open ``reroute`` items (each cancels one old reservation), as an operator would; returns how many
    went through."""
    with hub.store.transaction() as s:
        qids = [row.qid for row in s.scalars(select(QuarantineRow).where(
            QuarantineRow.stage == "reroute", QuarantineRow.state == "open", QuarantineRow.attempts < AUTO_RETRIES))]
    if not qids:
        return 0
    from lockerhub.runtime.replay import replay

    report = replay(hub, qids, dry_run=False, actor="lockerhub reroute")
    return sum(r.outcome == "replayed" for r in report.results)


@dataclass(slots=True)
class RerouteReport:
    redirected: int = 0
    stuck: int = 0  # no candidate locker in service now: tried again next run
    deferred: int = 0  # a vendor could not be reached: tried again next run
    cancel_quarantined: int = 0  # re-routed, but the old reservation could not be cancelled
    cancelled_later: int = 0  # old reservations of earlier runs cancelled now (their quarantine items replayed)


def reroute_offline(hub: Hub) -> RerouteReport:
    """Re-route every parcel booked at a locker now out of service (see the module docstring); first, cancel the
    old reservations earlier runs could not (their open ``reroute`` items, up to :data:`AUTO_RETRIES` tries each)."""
    report = RerouteReport()
    report.cancelled_later = _cancel_leftovers(hub)
    with hub.store.transaction() as s:
        rows = list(s.scalars(select(ParcelRow).where(ParcelRow.status.in_(NOT_YET_DEPOSITED),
                                                      ParcelRow.locker_id.is_not(None)).order_by(ParcelRow.id)))
    if not rows:
        return report
    try:
        catalog = hub.catalog()  # as booking listed it this run (or within the hub's catalog_max_age_s)
    except TransientError:
        report.deferred = len(rows)
        return report
    for row in rows:
        locker = catalog.lockers.get(row.locker_id or "")
        if locker is not None and locker.state != LockerState.ONLINE:
            _reroute(hub, row, report)
    return report


def _reroute(hub: Hub, row: ParcelRow, report: RerouteReport) -> None:
    parcel = Parcel.model_validate({k: v for k, v in row.parcel.items() if k not in HUB_FIELDS})
    recipient = Party.model_validate_json(hub.cipher.decrypt(row.recipient_enc, context=RECIPIENT_CONTEXT) or "{}")
    round_ = booking_round(row.parcel) + 1
    try:
        name, soft = _reserve(hub, row, parcel, recipient, round_)
        booked = _confirm(hub, row, name, soft.reservation_id, round_)
    except (AllocationError, RejectedError):
        report.stuck += 1
        return
    except TransientError:
        report.deferred += 1
        return
    old_vendor, old_reservation, old_locker = holder(hub, row), row.reservation_id, row.locker_id
    with hub.store.transaction() as s:
        fresh = s.get(ParcelRow, row.id)
        assert fresh is not None
        record_booking(hub, fresh, name, booked)
        released = [*(fresh.parcel.get(RELEASED_FIELD) or []),
                    *([{"vendor": old_vendor, "reservation_id": old_reservation}] if old_reservation else [])]
        fresh.parcel = {**fresh.parcel, ROUND_FIELD: round_, RELEASED_FIELD: released}
        record_event(s, fresh, ParcelEvent(status=ParcelStatus.REDIRECTED, occurred_at=hub.clock(), source="hub",
                                           raw_code=f"locker_out_of_service:{old_locker}",
                                           event_id=f"redirect:{booked.reservation_id}", locker_id=booked.locker_id))
    report.redirected += 1
    if old_reservation is None:
        return
    vendor = hub.vendor(old_vendor)
    try:
        hub.call_vendor("cancel", lambda: vendor.cancel(old_reservation), vendor=old_vendor)
    except LockerhubError as exc:
        with hub.store.transaction() as s:
            quarantine.put(s, hub.cipher, source=hub.vendor_id(old_vendor), partner=row.partner,
                           location=quarantine.parcel_location(row), stage="reroute", errors=[exc],
                           payload=json.dumps({"vendor": old_vendor, "reservation_id": old_reservation}))
        report.cancel_quarantined += 1


def replay_reroute(ctx: ReplayContext, item: QuarantineItem) -> Done:
    """The old reservation of a re-routed parcel that could not be cancelled (payload: its vendor and id): cancel
    it now. The ``lockerhub.replayers`` entry point ``reroute`` registers this."""
    old = json.loads(item.payload or "{}")
    name, reservation = old.get("vendor"), old.get("reservation_id")
    if name not in ctx.hub.config.hub.vendors or not reservation:
        raise LockerhubError(f"{item.location}: the item names no configured vendor and reservation",
                             expected="a payload {vendor, reservation_id}", hint="discard the item")
    vendor = ctx.hub.vendor(name)
    ctx.hub.call_vendor("cancel", lambda: vendor.cancel(reservation), vendor=name)
    return Done("cancelled", f"old reservation {reservation} cancelled at {name}")
