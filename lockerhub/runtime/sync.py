"""Status sync by polling: ask the vendor for each open booking's events and apply them forward-only.

Polling is the source of truth for vendors without webhooks, and the fallback for those whose webhooks fall
silent: while a webhook vendor's webhooks arrive (one within ``LOCKERHUB_WEBHOOK_SILENCE_S``, default 15 min),
only parcels quiet for longer than that are polled (a webhook may have been lost); once they stop, every open
booking is polled again. A status code the connector's crosswalk does not know (or a reservation the vendor
denies) is never guessed: the poll is quarantined (stage ``poll``, with the code in its error) and replayed once the
crosswalk knows it. Events the vendor repeats are
dropped by their event id; late events are recorded as stale; a forbidden transition (e.g. a cancellation after
pickup) goes to quarantine with the event, and the parcel keeps its state.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from lockerhub.errors import LockerhubError, MappingError, RejectedError, TransientError
from lockerhub.model import Outcome, ParcelStatus, lifecycle
from lockerhub.plugins.protocols import Capability
from lockerhub.runtime import quarantine
from lockerhub.runtime.events import record_event
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.quarantine import QuarantineItem
from lockerhub.runtime.replay import Done, ReplayContext
from lockerhub.store import ParcelRow


@dataclass(slots=True)
class SyncReport:
    polled: int = 0
    applied: int = 0
    stale: int = 0
    duplicates: int = 0
    quarantined: int = 0
    unreachable: int = 0
    mode: str = "polling"  # polling (no webhooks) | webhooks (live: stragglers only) | fallback (webhooks silent)


def sync_statuses(hub: Hub, *, lockers: Collection[str] | None = None, budget: int | None = None,
                  vendors: Collection[str] | None = None, progress=None) -> SyncReport:  # type: ignore[no-untyped-def]
    """Poll every parcel booked with a vendor and not yet in a terminal status (nor still CREATED).

    Every configured vendor holding open bookings is polled (``vendors`` names a subset), a vendor no longer routed
    too. ``lockers`` limits the poll to parcels in those lockers (one region's, for a task per region); ``budget``
    caps the number of parcels polled per vendor (its API budget for this run): the least recently changed go
    first, so the ones left over are first in line next time. ``mode`` is the first vendor's."""
    report = SyncReport()
    for index, name in enumerate(vendors if vendors is not None else hub.config.hub.vendors):
        mode = _sync_vendor(hub, name, report, lockers=lockers, budget=budget, progress=progress)
        if index == 0:
            report.mode = mode
    return report


def _sync_vendor(hub: Hub, name: str, report: SyncReport, *, lockers: Collection[str] | None, budget: int | None,
                 progress) -> str:  # type: ignore[no-untyped-def]
    terminal = [s.value for s in lifecycle().terminal]
    vendor, vendor_id = hub.vendor(name), hub.vendor_id(name)
    mode = "polling"
    # A CREATED parcel's reservation is a soft hold whose confirm is pending: booking resumes it (and records the
    # access code, which only the confirm's answer carries), so it is not polled; its vendor is unset until then.
    query = select(ParcelRow).where(ParcelRow.vendor == name, ParcelRow.reservation_id.is_not(None),
                                    ParcelRow.status.not_in([*terminal, ParcelStatus.CREATED.value]))
    if lockers is not None:
        query = query.where(ParcelRow.locker_id.in_(list(lockers)))
    if hub.vendor_can(Capability.WEBHOOKS, name):
        from lockerhub.ingress.store import last_webhook_at

        quiet = hub.clock() - timedelta(seconds=hub.settings.webhook_silence_s)
        with hub.store.transaction() as s:
            last = last_webhook_at(s, name)
        mode = "webhooks" if last is not None and last >= quiet else "fallback"
        if mode == "webhooks":
            query = query.where(ParcelRow.updated_at < quiet)
    query = (query.order_by(ParcelRow.id) if budget is None
             else query.order_by(ParcelRow.updated_at, ParcelRow.id).limit(budget))
    with hub.store.transaction() as s:
        rows = list(s.scalars(query))
    for row in rows:
        report.polled += 1
        try:
            events = hub.call_vendor("get_status", lambda: vendor.get_status(row.reservation_id), vendor=name)
        except TransientError:
            report.unreachable += 1
            continue
        except (MappingError, RejectedError) as exc:  # a status code not in the crosswalk; a reservation it denies
            with hub.store.transaction() as s:
                quarantine.put(s, hub.cipher, source=vendor_id, partner=row.partner,
                               location=quarantine.parcel_location(row), stage="poll", errors=[exc],
                               payload=json.dumps({"vendor": name, "reservation_id": row.reservation_id}))
            report.quarantined += 1
            continue
        for vendor_event in sorted(events, key=lambda v: v.event.occurred_at):
            with hub.store.transaction() as s:
                fresh = s.get(ParcelRow, row.id)
                assert fresh is not None
                try:
                    outcome = record_event(s, fresh, vendor_event.event)
                except LockerhubError as exc:  # forbidden transition, or an event without a required reason
                    quarantine.put(s, hub.cipher, source=vendor_id, partner=row.partner,
                                   location=quarantine.parcel_location(row),
                                   stage="status", errors=[exc], payload=vendor_event.event.model_dump_json())
                    report.quarantined += 1
                    continue
            if outcome is Outcome.APPLIED:
                report.applied += 1
            elif outcome in (Outcome.STALE, Outcome.HELD):
                report.stale += 1
            else:
                report.duplicates += 1
        if progress:
            progress()
    return mode


def replay_poll(ctx: ReplayContext, item: QuarantineItem) -> Done:
    """A poll that could not be read (payload: the vendor and reservation): poll again and apply what the vendor
    reports, forward-only. The ``lockerhub.replayers`` entry point ``poll`` registers this."""
    wanted = json.loads(item.payload or "{}")
    name, reservation = wanted.get("vendor"), wanted.get("reservation_id")
    hub = ctx.hub
    if name not in hub.config.hub.vendors or not reservation:
        raise LockerhubError(f"{item.location}: the item names no configured vendor and reservation",
                             expected="a payload {vendor, reservation_id}", hint="discard the item")
    vendor = hub.vendor(name)
    events = hub.call_vendor("get_status", lambda: vendor.get_status(reservation), vendor=name)
    outcomes = []
    with hub.store.transaction() as s:
        row = s.scalar(select(ParcelRow).where(ParcelRow.vendor == name, ParcelRow.reservation_id == reservation))
        if row is None:
            raise LockerhubError(f"{item.location}: no parcel holds reservation {reservation} at {name}",
                                 hint="discard the item")
        for vendor_event in sorted(events, key=lambda v: v.event.occurred_at):
            outcomes.append(record_event(s, row, vendor_event.event))
        status = row.status
    applied = sum(o is Outcome.APPLIED for o in outcomes)
    return Done("applied", f"{len(outcomes)} event(s) read, {applied} applied: parcel is {status}")
