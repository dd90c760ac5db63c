"""Status sync by polling: ask the vendor for each open booking's events and apply them forward-only.

Polling is the source of truth for vendors without (or with unreliable) webhooks. Events the vendor repeats are
dropped by their event id; late events are recorded as stale; a forbidden transition (e.g. a cancellation after
pickup) goes to quarantine with the event, and the parcel keeps its state.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select

from lockerhub.errors import LockerhubError, TransientError
from lockerhub.model import Outcome, lifecycle
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


def sync_statuses(hub: Hub, *, lockers: Collection[str] | None = None, budget: int | None = None,
                  progress=None) -> SyncReport:  # type: ignore[no-untyped-def]
    """Poll every parcel booked with the routing vendor and not yet in a terminal status.

    ``lockers`` limits the poll to parcels in those lockers (one region's, for a task per region); ``budget`` caps
    the number of parcels polled (the vendor's API budget for this run): the least recently changed go first, so
    the ones left over are first in line next time."""
    terminal = [s.value for s in lifecycle().terminal]
    vendor, vendor_id = hub.vendor(), hub.vendor_id()
    report = SyncReport()
    query = select(ParcelRow).where(ParcelRow.vendor == vendor_id, ParcelRow.reservation_id.is_not(None),
                                    ParcelRow.status.not_in(terminal))
    if lockers is not None:
        query = query.where(ParcelRow.locker_id.in_(list(lockers)))
    query = (query.order_by(ParcelRow.id) if budget is None
             else query.order_by(ParcelRow.updated_at, ParcelRow.id).limit(budget))
    with hub.store.transaction() as s:
        rows = list(s.scalars(query))
    for row in rows:
        report.polled += 1
        try:
            events = hub.call_vendor("get_status", lambda: vendor.get_status(row.reservation_id))
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
    return report
