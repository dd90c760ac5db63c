"""Booking behind an open circuit: parcels stay CREATED (retryable, attempts untouched) and nothing is sent."""

from __future__ import annotations

import random
from pathlib import Path

import requests
from sqlalchemy import select

from lockerhub.model import ParcelStatus
from lockerhub.runtime.booking import book_pending
from lockerhub.runtime.breaker import Breakers, CircuitState
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import ingest_inbox
from lockerhub.runtime.retry import RetryPolicy
from lockerhub.settings import Settings
from lockerhub.simulator import SimulatorServer
from lockerhub.simulator.tms_drops import render, rows
from lockerhub.store import ParcelRow, QuarantineRow
from tests.conftest import TEST_API_KEY


class FakeClock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_open_circuit_defers_parcels_without_spending_attempts(  # type: ignore[no-untyped-def]
        pilot: Path, sim: SimulatorServer, network, settings: Settings) -> None:
    data = rows(5, network, seed=11)
    for r in data:
        r[9:13] = ["30", "20", "5", "1.5"]  # fits the smallest class everywhere
    (pilot.parent / "inbox" / "acme-tms" / "drop.csv").write_bytes(render(data))
    clock = FakeClock()
    hub = Hub.open(pilot, settings=settings, retry=RetryPolicy(sleep=lambda _: None, rng=random.Random(0)),
                   breakers=Breakers(failure_threshold=3, cooldown_s=30, clock=clock))
    try:
        assert ingest_inbox(hub, "acme-tms")[0].accepted == 5
        hub.catalog()  # the network is known; now the vendor goes down for exactly three requests
        requests.post(f"{sim.url}/sim/faults", json={"status": 503, "count": 3}, headers={"X-API-Key": TEST_API_KEY},
                      timeout=5).raise_for_status()

        down = book_pending(hub)
        assert (down.booked, down.rejected, down.quarantined, down.deferred) == (0, 0, 0, 5)
        assert hub.breakers.states() == {"simlocker.list_lockers": CircuitState.CLOSED,
                                         "simlocker.precheck": CircuitState.OPEN,
                                         "simlocker.size_classes": CircuitState.CLOSED}
        with hub.store.transaction() as s:
            assert {(r.status, r.attempts) for r in s.scalars(select(ParcelRow))} == {(ParcelStatus.CREATED.value, 0)}
            assert s.scalars(select(QuarantineRow)).all() == []

        still_open = book_pending(hub)  # the vendor is back, but the circuit has not cooled down: nothing is sent
        assert (still_open.booked, still_open.deferred) == (0, 5)
        assert sim.world.reservations_page()[0] == []

        clock.now += 30  # half-open: the first precheck is the probe, it succeeds and closes the circuit
        back = book_pending(hub)
        assert (back.booked, back.deferred) == (5, 0)
        assert hub.breakers.states()["simlocker.precheck"] is CircuitState.CLOSED
        with hub.store.transaction() as s:
            assert {r.status for r in s.scalars(select(ParcelRow))} == {ParcelStatus.BOOKED.value}
    finally:
        hub.close()
