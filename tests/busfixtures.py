"""Booked parcels and vendor status events for bus tests, written straight to the store (no vendor needed)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from lockerhub.model import ParcelStatus
from lockerhub.runtime.hub import Hub
from lockerhub.store import EventRow, OutboxRow, ParcelRow

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
# Lifecycles a parcel can follow after booking; the last status is where it ends when every event is applied.
PATHS: tuple[tuple[str, ...], ...] = (
    ("HANDED_OVER", "IN_TRANSIT", "DEPOSITED", "REMINDER_SENT", "COLLECTED"),
    ("IN_TRANSIT", "REDIRECTED", "IN_TRANSIT", "DEPOSITED", "COLLECTED"),
    ("IN_TRANSIT", "DEPOSITED", "REDIRECTED", "IN_TRANSIT"),
    ("HANDED_OVER", "IN_TRANSIT", "DEPOSITED", "PICKUP_EXPIRED", "RETURNING"),
)


@dataclass(frozen=True)
class Seeded:
    parcels: int
    events: list[dict]  # outbox payloads, in occurrence order
    final: dict[str, str]  # reservation id -> final status when all events are applied


def seed_booked(hub: Hub, n: int, *, partner: str = "acme-tms", seed: int = 1) -> Seeded:
    """``n`` parcels BOOKED with reservations ``r-000001``...; and the vendor events each would receive."""
    rng = random.Random(seed)
    events: list[dict] = []
    final: dict[str, str] = {}
    with hub.store.transaction() as s:
        for i in range(1, n + 1):
            rid = f"r-{i:06d}"
            row = ParcelRow(key=f"k{i}", partner=partner, shipment_ref=f"S{i}", parcel_id=f"P{i}",
                            status="BOOKED", vendor=hub.vendor_id(), locker_id="WAW-001", size_class="A",
                            reservation_id=rid, parcel={})
            s.add(row)
            s.flush()
            s.add(EventRow(parcel_pk=row.id, status="BOOKED", outcome="applied", occurred_at=T0, source="hub",
                           source_event_id=f"book:{rid}"))
            path = PATHS[rng.randrange(len(PATHS))]
            for step, status in enumerate(path, 1):
                events.append({"vendor": hub.vendor_name, "reservation_id": rid, "delivery_id": f"d-{rid}-{step}",
                               "event": {"status": ParcelStatus(status).value, "source": hub.vendor_id(),
                                         "occurred_at": (T0 + timedelta(minutes=10 * step)).isoformat(),
                                         "event_id": f"{rid}-e{step}"}})
            final[rid] = path[-1]
    return Seeded(n, events, final)


def enqueue(hub: Hub, payloads: list[dict]) -> None:
    """Put vendor events in the outbox as the webhook ingress does (one row each, dedup by delivery id)."""
    with hub.store.transaction() as s:
        for p in payloads:
            s.add(OutboxRow(destination="events", kind="vendor_event", payload=p,
                            dedup_key=f"{p['vendor']}:{p['delivery_id']}"))


def final_states(hub: Hub) -> dict[str, str]:
    with hub.store.transaction() as s:
        return {r.reservation_id: r.status for r in s.query(ParcelRow) if r.reservation_id}
