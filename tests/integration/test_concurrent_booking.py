"""Several booking workers at once on one PostgreSQL: no compartment is booked twice, no parcel holds two bookings.

Four threads, each with its own hub (own connection pool and HTTP session), run the booking stage over the same
parcels at the same moment: more parcels than the recipients' lockers have compartments of their size, so workers
race for the last compartments and for the same parcels. The vendor's idempotency keys make two workers' booking
of one parcel the same booking, and the vendor hands a compartment to one reservation at a time.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from lockerhub.model import ParcelStatus
from lockerhub.runtime.booking import book_pending
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import ingest_inbox
from lockerhub.settings import Settings
from lockerhub.simulator import BookingState, World
from lockerhub.simulator.tms_drops import render, rows
from lockerhub.store import EventRow, ParcelRow

pytestmark = pytest.mark.integration

WORKERS = 4


def every_reservation(world: World) -> list:  # type: ignore[type-arg]
    out, cursor = [], None
    while True:
        page, cursor = world.reservations_page(cursor, limit=500)
        out.extend(page)
        if cursor is None:
            return out


def test_concurrent_workers_never_double_book(pilot: Path, sim, network, world: World,  # type: ignore[no-untyped-def]
                                              pg_url: str, tmp_path: Path) -> None:
    target = network[0]
    near = [lk for lk in network if lk.city == target.city or (lk.postal_code or "")[:2] == target.postal_code[:2]]
    capacity = sum(len(lk.compartments()) for lk in near)  # a small parcel fits every size class
    data = rows(capacity + 8, network, seed=11)  # more parcels than the area has compartments
    for r in data:
        r[6:9] = [target.postal_code, target.city, target.locker_id]
        r[9:13] = ["30", "20", "5", "1.5"]
    (pilot.parent / "inbox" / "acme-tms" / "race.csv").write_bytes(render(data))
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url)
    first = Hub.open(pilot, settings=settings)
    try:
        assert ingest_inbox(first, "acme-tms")[0].accepted == len(data)
    finally:
        first.close()

    hubs = [Hub.open(pilot, settings=settings) for _ in range(WORKERS)]
    start, errors = threading.Barrier(WORKERS), []

    def work(hub: Hub) -> None:
        try:
            start.wait()
            book_pending(hub)
        except BaseException as exc:  # reported below, with the worker's failure
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(hub,)) for hub in hubs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert not errors, errors
        with hubs[0].store.transaction() as s:
            parcels = list(s.scalars(select(ParcelRow)))
            booked_events = Counter(s.scalars(select(EventRow.parcel_pk).where(
                EventRow.status == ParcelStatus.BOOKED.value, EventRow.outcome == "applied")))
    finally:
        for hub in hubs:
            hub.close()

    held = [r for r in every_reservation(world) if r.state == BookingState.BOOKED]
    per_compartment = Counter((r.locker_id, r.compartment_id) for r in held)
    assert per_compartment and max(per_compartment.values()) == 1  # no compartment booked twice
    booked = [p for p in parcels if p.status == ParcelStatus.BOOKED.value]
    states = {r.reservation_id: str(r.state) for r in every_reservation(world)}
    assert {p.reservation_id for p in booked} == {r.reservation_id for r in held}, {  # no orphan, no second booking
        p.reservation_id: states.get(p.reservation_id) for p in booked if states.get(p.reservation_id) != "booked"}
    assert len({p.reservation_id for p in booked}) == len(booked)
    assert all(n == 1 for n in booked_events.values())  # one BOOKED event per parcel, whoever booked it
    assert 0 < len(booked) <= capacity
    rejected = [p for p in parcels if p.status == ParcelStatus.REJECTED.value]
    assert len(booked) + len(rejected) == len(data)  # every parcel decided: booked, or refused with a reason
    assert {p.reason for p in rejected} <= {"no_compartment_fits"}
