"""`lockerhub serve` as a real uvicorn server, with the simulator as a real HTTP server sending it signed webhooks.

A parcel booked through the pipeline and deposited at the simulator arrives as outbox rows; a run where the
simulator sends every delivery twice (and shuffles) still writes one row per event.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from sqlalchemy import select

from lockerhub.settings import Settings
from lockerhub.simulator import SimulatorServer
from lockerhub.simulator.tms_drops import render, rows
from lockerhub.store import OutboxRow, ParcelRow, Store

SECRET = "test-webhook-secret"  # not a credential
T = TypeVar("T")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockerhub.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120, check=False)


@contextmanager
def serving(config: Path) -> Iterator[str]:
    """`lockerhub serve CONFIG --port 0` in a subprocess; yields its base URL, stops it with SIGTERM."""
    proc = subprocess.Popen([sys.executable, "-m", "lockerhub.cli", "serve", str(config), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("lockerhub ingress listening on http://127.0.0.1:"), first + proc.stderr.read()
        url = first.rsplit(" ", 1)[1].strip()
        assert proc.stdout.readline().strip() == f"POST {url}/webhooks/simlocker"
        assert requests.get(f"{url}/healthz", timeout=10).json() == {"status": "ok"}
        yield url
    finally:
        proc.terminate()  # uvicorn finishes the requests in flight, then the hub closes
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def wait_for(check: Callable[[], T], what: str, timeout_s: float = 60) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def store(pilot: Path) -> Iterator[Store]:
    """The hub's database, as `lockerhub serve` and `lockerhub run` (subprocesses) find it."""
    opened = Store(Settings().resolved_database_url())
    yield opened
    opened.dispose()


def outbox(store: Store) -> list[OutboxRow]:
    with store.transaction() as s:
        return list(s.scalars(select(OutboxRow).where(OutboxRow.kind == "vendor_event").order_by(OutboxRow.id)))


def subscribe(sim: SimulatorServer, url: str, **options: Any) -> str:
    response = requests.post(f"{sim.url}/sim/webhooks", json={"url": url, **options},
                             headers={"X-API-Key": sim.api_key}, timeout=10)
    assert response.status_code == 201, response.text
    assert "secret" not in response.json()
    return response.json()["subscription_id"]  # type: ignore[no-any-return]


def subscription(sim: SimulatorServer, subscription_id: str) -> dict[str, Any]:
    items = requests.get(f"{sim.url}/sim/webhooks", headers={"X-API-Key": sim.api_key}, timeout=10).json()["items"]
    return next(i for i in items if i["subscription_id"] == subscription_id)


def test_a_booked_and_deposited_parcel_arrives_by_webhook(
    pilot: Path, sim: SimulatorServer, network, store: Store, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_WEBHOOK_SECRET", SECRET)
    with serving(pilot) as ingress:
        sub = subscribe(sim, f"{ingress}/webhooks/simlocker", secret=SECRET)
        data = rows(1, [lk for lk in network if lk.region == "WAW"], seed=11)
        data[0][9:13] = ["30", "20", "5", "1.5"]  # fits the smallest class everywhere
        (pilot.parent / "inbox" / "acme-tms" / "one.csv").write_bytes(render(data))
        booked = cli("run", str(pilot), "--json")
        assert booked.returncode == 0, booked.stderr
        with store.transaction() as s:
            reservation_id = s.scalar(select(ParcelRow.reservation_id).where(ParcelRow.reservation_id.is_not(None)))
        assert reservation_id is not None

        deposited = requests.post(f"{sim.url}/sim/deposit", json={"reservation_id": reservation_id},
                                  headers={"X-API-Key": sim.api_key}, timeout=10)
        assert deposited.status_code == 200, deposited.text
        codes = {"RESERVATION_CREATED", "BOOKING_CONFIRMED", "COURIER_DEPOSITED"}
        arrived = wait_for(lambda: (r := outbox(store)) and {x.payload["event"]["raw_code"] for x in r} == codes and r,
                           "the reservation's three events in the outbox")
        assert subscription(sim, sub)["failed"] == 0

    expected = {e.event_id: e for e in sim.world.events(reservation_id)}
    assert len(arrived) == 3
    for row in arrived:
        assert (row.destination, row.kind) == ("events", "vendor_event")
        payload = row.payload
        assert set(payload) == {"vendor", "reservation_id", "event", "delivery_id", "received_at"}
        assert (payload["vendor"], payload["reservation_id"]) == ("simlocker", reservation_id)
        assert row.dedup_key is not None and row.dedup_key.startswith(f"simlocker:{payload['delivery_id']}:")
        sim_event = expected[payload["event"]["event_id"]]
        assert payload["event"]["raw_code"] == str(sim_event.code)
        assert payload["event"]["source"] == "simlocker" and payload["event"]["locker_id"] == sim_event.locker_id
    deposit = next(r for r in arrived if r.payload["event"]["raw_code"] == "COURIER_DEPOSITED")
    assert deposit.payload["event"]["status"] == "DEPOSITED"


def test_duplicated_and_shuffled_deliveries_write_each_event_once(
    pilot: Path, sim: SimulatorServer, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("LOCKERHUB_SIMULATOR_WEBHOOK_SECRET", SECRET)  # the subscription names no secret
    world = sim.world
    locker = world.lockers(per_page=1)[0][0]
    size = locker.compartments()[0].size_class
    with serving(pilot) as ingress:
        sub = subscribe(sim, f"{ingress}/webhooks/simlocker", duplicate_rate=1.0, shuffle=True, seed=5)
        for _ in range(3):  # 3 x (created, confirmed, deposited) = 9 events
            rid = world.reserve(locker.locker_id, size).reservation_id
            world.confirm(rid)
            world.deposit(rid)
        state = wait_for(lambda: (s := subscription(sim, sub))["events"] == 9 and s["pending"] == 0 and s,
                         "every delivery and its duplicate to be answered")
    assert state["failed"] == 0
    assert state["duplicates"] == state["acknowledged"] == state["deliveries"] > 0
    assert state["responses"].get("200") == state["duplicates"]  # the ingress answered each duplicate "duplicate"
    assert state["responses"].get("202") == state["deliveries"]
    written = outbox(store)
    event_ids = [r.payload["event"]["event_id"] for r in written]
    assert len(written) == 9 and len(set(event_ids)) == 9
    assert len({r.dedup_key for r in written}) == 9
