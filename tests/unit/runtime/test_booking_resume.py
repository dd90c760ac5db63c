"""A confirm whose answer was lost is resumed, never re-routed: no orphan booking, no double booking.

The gap this closes: a hard-book (confirm) POST times out after the simulator applied it, every retry of that run
times out too, and by the next run the chosen locker has no free compartment of that size left. Booking used to
move to another locker, where the reused book key was refused (``idempotency_key_reused``): the parcel was
REJECTED while the first booking stayed confirmed at the vendor. Now the soft reservation is on record before the
confirm, and the next run confirms that same reservation again with the same key.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lockerhub.model import Dimensions, ParcelStatus
from lockerhub.reconcile import reconcile
from lockerhub.runtime.booking import ACCESS_CODE_CONTEXT, book_pending, booking_round
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import ingest_inbox
from lockerhub.runtime.retry import RetryPolicy
from lockerhub.runtime.sync import sync_statuses
from lockerhub.settings import Settings
from lockerhub.simulator import SimulatorServer, World
from lockerhub.simulator.faults import FaultKind, FaultRate
from lockerhub.simulator.state import SimError
from lockerhub.simulator.tms_drops import render, rows
from lockerhub.store import ParcelRow

CLIENT_TIMEOUT_S = 0.2  # the connector's read timeout
SERVER_DELAY_S = 0.5  # how late the simulator answers a "timeout" fault, after applying the request
SMALL_BOX = Dimensions(length_mm=300, width_mm=200, height_mm=50)  # the parcel below: 30 x 20 x 5 cm, 1.5 kg


@pytest.fixture
def open_hub(pilot: Path, sim: SimulatorServer, network, settings: Settings,  # type: ignore[no-untyped-def]
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Hub]]:
    """One parcel (small enough for class A) for the first locker; hubs with quick, sleepless retries."""
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_TIMEOUT_S", str(CLIENT_TIMEOUT_S))
    locker = network[0]
    [row] = rows(1, network, seed=5)
    row[6:9] = [locker.postal_code, locker.city, locker.locker_id]
    row[9:13] = ["30", "20", "5", "1.5"]
    (pilot.parent / "inbox" / "acme-tms" / "drop.csv").write_bytes(render([row]))
    hubs: list[Hub] = []

    def open_() -> Hub:
        hubs.append(Hub.open(pilot, settings=settings,
                             retry=RetryPolicy(sleep=lambda _: None, rng=random.Random(0))))
        return hubs[-1]

    yield open_
    for hub in hubs:
        hub.close()


def the_parcel(hub: Hub) -> ParcelRow:
    with hub.store.transaction() as s:
        [row] = s.scalars(select(ParcelRow)).all()
        return row


def fault_on_first_confirm(hub: Hub, monkeypatch: pytest.MonkeyPatch, world: World, fault: FaultRate) -> None:
    """From the first confirm on, every simulator request meets ``fault`` (until the test clears it)."""
    vendor = hub.vendor()
    real_book = vendor.book

    def book(reservation_id: str, *, idempotency_key: str) -> Any:
        world.inject_fault_rate(fault)
        return real_book(reservation_id, idempotency_key=idempotency_key)

    monkeypatch.setattr(vendor, "book", book)


def fill(world: World, locker_id: str, size_class: str) -> None:
    """Other parcels take every free compartment of ``size_class`` at ``locker_id`` (soft holds)."""
    while True:
        try:
            world.reserve(locker_id, size_class)
        except SimError:
            return


def hard_reservations(world: World) -> dict[str, Any]:
    items, _ = world.reservations_page(limit=1000)
    return {r.reservation_id: r for r in items if r.kind == "hard"}


def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.csv"
    path.write_text("partner,shipment_ref,parcel_id\nacme-tms,ACME-000001,P0000001\n", "utf-8")
    return path


def test_a_lost_confirm_answer_is_resumed_not_rerouted(  # type: ignore[no-untyped-def]
        open_hub, world: World, network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = open_hub()
    assert ingest_inbox(hub, "acme-tms")[0].accepted == 1
    # (1) the confirm is applied at the vendor, its answer comes too late; (2) so does every retry of this run
    fault_on_first_confirm(hub, monkeypatch, world, FaultRate(1.0, (FaultKind.TIMEOUT,), timeout_s=SERVER_DELAY_S))
    first = book_pending(hub)
    world.inject_fault_rate(None)
    assert (first.booked, first.deferred, first.rejected) == (0, 1, 0)

    pending = the_parcel(hub)
    assert (pending.status, pending.vendor, pending.access_code_enc) == (ParcelStatus.CREATED.value, None, None)
    assert pending.reservation_id is not None and pending.locker_id == network[0].locker_id
    confirmed = world.reservation(pending.reservation_id)
    assert (confirmed.state, confirmed.kind) == ("booked", "hard")  # the vendor did apply it
    # a pending soft reservation belongs to booking: status polling and reconciliation leave it alone
    assert sync_statuses(hub).polled == 0
    assert reconcile(hub, manifest(tmp_path), out_dir=tmp_path / "r1", dry_run=True).discrepancies == []

    # (3) by the next run the chosen locker has no free compartment of that size left
    fill(world, pending.locker_id, pending.size_class)
    assert pending.size_class not in world.precheck(pending.locker_id, SMALL_BOX, 1500)

    second = book_pending(open_hub())  # a new process: nothing but the database remembers the first run
    assert (second.booked, second.rejected) == (1, 0)

    booked = the_parcel(hub)
    assert booked.status == ParcelStatus.BOOKED.value
    assert (booked.reservation_id, booked.locker_id, booked.compartment_id) == (
        confirmed.reservation_id, confirmed.locker_id, confirmed.compartment_id)
    assert booked.vendor == "simlocker"
    assert hub.cipher.decrypt(booked.access_code_enc, context=ACCESS_CODE_CONTEXT)  # the replayed answer's code
    assert set(hard_reservations(world)) == {booked.reservation_id}  # exactly one confirmed reservation
    result = reconcile(hub, manifest(tmp_path), out_dir=tmp_path / "r2", dry_run=True)
    assert result.discrepancies == []  # no orphan_booking


def test_an_expired_pending_reservation_is_forgotten_and_booked_again_with_fresh_keys(  # type: ignore[no-untyped-def]
        open_hub, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = open_hub()
    assert ingest_inbox(hub, "acme-tms")[0].accepted == 1
    # the confirm and its retries are refused with a 503 (not applied), then the soft hold expires
    fault_on_first_confirm(hub, monkeypatch, world, FaultRate(1.0, (FaultKind.HTTP_503,)))
    assert book_pending(hub).deferred == 1
    world.inject_fault_rate(None)
    expired = the_parcel(hub).reservation_id
    assert expired is not None
    world.advance(16 * 60)
    assert world.reservation(expired).state == "expired"

    again = book_pending(open_hub())
    assert (again.booked, again.rejected) == (1, 0)
    booked = the_parcel(hub)
    assert booked.status == ParcelStatus.BOOKED.value and booked.reservation_id != expired
    assert booking_round(booked.parcel) == 1  # round 0's reserve key would have replayed the expired hold
    assert set(hard_reservations(world)) == {booked.reservation_id}
    assert world.reservation(booked.reservation_id).locker_id == booked.locker_id
