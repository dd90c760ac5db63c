"""A locker that goes out of service before the courier deposits: its parcels are re-routed (REDIRECTED) to a
neighbour, booked there once, and the old reservation is cancelled; with no neighbour in service they stay."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from lockerhub.model import LockerState, ParcelStatus
from lockerhub.runtime.booking import ACCESS_CODE_CONTEXT
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.pipeline import run_hub
from lockerhub.runtime.replay import replay
from lockerhub.runtime.retry import RetryPolicy
from lockerhub.settings import Settings
from lockerhub.simulator import BookingState, SimError, SimulatorServer, World
from lockerhub.simulator.tms_drops import render, rows
from lockerhub.store import EventRow, ParcelRow, QuarantineRow


@pytest.fixture
def open_hub(pilot: Path, sim: SimulatorServer, network, world: World,  # type: ignore[no-untyped-def]
             settings: Settings) -> Iterator[Callable[[], Hub]]:
    """Three small parcels for the first locker; hubs on the simulated clock (events of both sides in one time
    line) with sleepless retries."""
    locker = network[0]
    drop = rows(3, network, seed=5)
    for row in drop:
        row[6:9] = [locker.postal_code, locker.city, locker.locker_id]
        row[9:13] = ["30", "20", "5", "1.5"]
    (pilot.parent / "inbox" / "acme-tms" / "drop.csv").write_bytes(render(drop))
    hubs: list[Hub] = []

    def open_() -> Hub:
        hubs.append(Hub.open(pilot, settings=settings, clock=lambda: world.now,
                             retry=RetryPolicy(sleep=lambda _: None, rng=random.Random(0))))
        return hubs[-1]

    yield open_
    for hub in hubs:
        hub.close()


def refuse(reservation_id: str) -> None:
    """The vendor's cancel, refusing (its state says the reservation can no longer be cancelled)."""
    raise SimError(409, "invalid_state")


def parcels(hub: Hub) -> list[ParcelRow]:
    with hub.store.transaction() as s:
        return list(s.scalars(select(ParcelRow).order_by(ParcelRow.id)))


def test_parcels_at_a_locker_gone_offline_are_redirected_once(open_hub, world: World, network) -> None:  # type: ignore[no-untyped-def]
    first = open_hub()
    run_hub(first)
    booked = parcels(first)
    assert [p.status for p in booked] == [ParcelStatus.BOOKED.value] * 3
    assert {p.locker_id for p in booked} == {network[0].locker_id}
    old = {p.id: (p.reservation_id, first.cipher.decrypt(p.access_code_enc, context=ACCESS_CODE_CONTEXT))
           for p in booked}

    world.set_locker_state(network[0].locker_id, LockerState.OFFLINE)
    hub = open_hub()  # a new run lists the network again
    result = run_hub(hub)
    assert (result.reroute.redirected, result.reroute.stuck, result.reroute.cancel_quarantined) == (3, 0, 0)
    moved = parcels(hub)
    for p in moved:
        assert p.status == ParcelStatus.REDIRECTED.value
        assert p.locker_id != network[0].locker_id
        now = world.locker(p.locker_id)  # a neighbour: the same postal area or city
        assert (now.postal_code or "")[:2] == (network[0].postal_code or "")[:2] or now.city == network[0].city
        old_reservation, old_code = old[p.id]
        assert p.reservation_id != old_reservation
        assert world.reservation(old_reservation).state == BookingState.CANCELLED  # released at the vendor
        assert world.reservation(p.reservation_id).state == BookingState.BOOKED
        assert hub.cipher.decrypt(p.access_code_enc, context=ACCESS_CODE_CONTEXT) not in (None, old_code)
    with hub.store.transaction() as s:
        redirects = list(s.scalars(select(EventRow).where(EventRow.status == ParcelStatus.REDIRECTED.value)))
    assert len(redirects) == 3 and {e.locker_id for e in redirects} == {p.locker_id for p in moved}

    again = run_hub(open_hub())  # nothing left at an offline locker: no second booking
    assert (again.reroute.redirected, again.reroute.stuck) == (0, 0)
    assert [(p.reservation_id, p.locker_id) for p in parcels(hub)] == [(p.reservation_id, p.locker_id) for p in moved]

    world.advance(3600)
    for p in moved:  # the courier deposits at the new locker: the parcel goes on from REDIRECTED
        world.deposit(p.reservation_id)
    run_hub(open_hub())
    assert {p.status for p in parcels(hub)} == {ParcelStatus.DEPOSITED.value}


def test_no_neighbour_in_service_leaves_the_parcel_where_it_is(open_hub, world: World, network) -> None:  # type: ignore[no-untyped-def]
    run_hub(open_hub())
    area = (network[0].postal_code or "")[:2]
    for locker in network:
        if (locker.postal_code or "")[:2] == area or locker.city == network[0].city:
            world.set_locker_state(locker.locker_id, LockerState.MAINTENANCE)
    hub = open_hub()
    result = run_hub(hub)
    assert (result.reroute.redirected, result.reroute.stuck) == (0, 3)
    assert {(p.status, p.locker_id) for p in parcels(hub)} == {(ParcelStatus.BOOKED.value, network[0].locker_id)}


def test_an_old_reservation_the_vendor_will_not_cancel_is_quarantined_and_replayed(  # type: ignore[no-untyped-def]
        open_hub, world: World, network, monkeypatch: pytest.MonkeyPatch) -> None:
    first = open_hub()
    run_hub(first)
    old = [p.reservation_id for p in parcels(first)]
    world.set_locker_state(network[0].locker_id, LockerState.OFFLINE)

    with monkeypatch.context() as patch:
        patch.setattr(world, "cancel", refuse)
        hub = open_hub()
        result = run_hub(hub)
    assert (result.reroute.redirected, result.reroute.cancel_quarantined) == (3, 3)
    assert {world.reservation(rid).state for rid in old} == {BookingState.BOOKED}  # still held at the vendor
    with hub.store.transaction() as s:
        items = list(s.scalars(select(QuarantineRow).where(QuarantineRow.stage == "reroute")))
    assert len(items) == 3 and all("invalid_state" in " ".join(i.errors) for i in items)
    again = run_hub(open_hub())  # the vendor cancels again: the next run retries the items by itself
    assert again.reroute.cancelled_later == 3
    assert {world.reservation(rid).state for rid in old} == {BookingState.CANCELLED}
    with hub.store.transaction() as s:
        assert {i.state for i in s.scalars(select(QuarantineRow).where(QuarantineRow.stage == "reroute"))} == {
            "replayed"}
    assert run_hub(open_hub()).reroute.cancelled_later == 0


def test_an_item_can_also_be_replayed_by_hand(open_hub, world: World, network,  # type: ignore[no-untyped-def]
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    first = open_hub()
    run_hub(first)
    old = [p.reservation_id for p in parcels(first)]
    world.set_locker_state(network[0].locker_id, LockerState.OFFLINE)
    with monkeypatch.context() as patch:
        patch.setattr(world, "cancel", refuse)
        hub = open_hub()
        run_hub(hub)
    with hub.store.transaction() as s:
        qids = [i.qid for i in s.scalars(select(QuarantineRow).where(QuarantineRow.stage == "reroute"))]
    report = replay(hub, qids, dry_run=False, actor="test")
    assert [r.outcome for r in report.results] == ["replayed"] * 3, [r.errors for r in report.results]
    assert {world.reservation(rid).state for rid in old} == {BookingState.CANCELLED}
