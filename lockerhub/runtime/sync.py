"""Status sync by polling: ask the vendor for each open booking's events and apply them forward-only.

Polling is the source of truth for vendors without webhooks, and the fallback for those whose webhooks fall
silent: while a webhook vendor's webhooks arrive (one within ``LOCKERHUB_WEBHOOK_SILENCE_S``, default 15 min),
only parcels quiet for longer than that are polled (a webhook may have been lost); once they stop, every open
booking is polled again. Events the vendor repeats are
dropped by their event id; late events are recorded as stale; a forbidden transition (e.g. a cancellation after
pickup) goes to quarantine with the event, and the parcel keeps its state.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from lockerhub.errors import LockerhubError, TransientError
from lockerhub.model import Outcome, ParcelStatus, lifecycle
from lockerhub.plugins.protocols import Capability
from lockerhub.runtime import quarantine
from lockerhub.runtime.events import record_event
from lockerhub.runtime.hub import Hub
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
