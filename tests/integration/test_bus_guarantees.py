"""The runtime's promises on the production stack (PostgreSQL + RabbitMQ): nothing lost, nothing twice.

1. Workers killed with SIGKILL at random moments while 10,000 events flow: after a restart every event's effect
   is applied exactly once (event rows, status messages and final states checked).
2. RabbitMQ restarted mid-run: nothing lost, nothing doubled.
3. Duplicated and shuffled webhooks (through the real ingress) give the same final state as the same webhooks in
   order.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lockerhub.bus import Topology, Worker
from lockerhub.runtime import quarantine
from lockerhub.runtime.hub import Hub
from lockerhub.store import EventRow, OutboxDoneRow, OutboxRow, ParcelRow
from tests.busfixtures import T0, Seeded, enqueue, final_states, seed_booked
from tests.integration.conftest import service_missing

pytestmark = pytest.mark.integration

AMQP_URL = os.environ.get("LOCKERHUB_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
SECRET = "test-webhook-secret"  # not a credential


@pytest.fixture
def amqp_prefix() -> Iterator[str]:
    """A RabbitMQ reachable on 127.0.0.1 and a queue prefix of this test's own; its queues are deleted after."""
    from kombu import Connection

    try:
        with Connection(AMQP_URL, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001
        service_missing("RabbitMQ", exc)
    prefix = f"lhtest{uuid.uuid4().hex[:10]}"
    yield prefix
    topology = Topology(AMQP_URL, prefix=prefix)
    with topology.connect() as conn:
        conn.ensure_connection(max_retries=10, interval_start=1)
        for queue in topology.queues:
            queue.bind(conn.default_channel).delete()
        topology.exchange.bind(conn.default_channel).delete()


@pytest.fixture
def env(pilot: Path, pg_url: str, amqp_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"LOCKERHUB_DATABASE_URL": pg_url, "LOCKERHUB_BROKER_URL": AMQP_URL, "LOCKERHUB_BUS_PREFIX": amqp_prefix,
              "LOCKERHUB_DATA_DIR": str(tmp_path / "data"), "LOCKERHUB_SIMLOCKER_BASE_URL": "http://127.0.0.1:9",
              "LOCKERHUB_SIMLOCKER_API_KEY": "test-only-key", "LOCKERHUB_SIMLOCKER_WEBHOOK_SECRET": SECRET}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def hub(pilot: Path, env: dict[str, str]) -> Iterator[Hub]:
    opened = Hub.open(pilot)
    yield opened
    opened.close()


class Workers:
    """``lockerhub worker`` processes, started and killed as the test says."""

    def __init__(self, config: Path, env: dict[str, str], logs: Path) -> None:
        self.config, self.env, self.logs = config, {**os.environ, **env}, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        with (self.logs / f"worker-{len(self.procs)}.log").open("wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "lockerhub", "worker", str(self.config)], env=self.env,
                                    stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def ready(self, proc: subprocess.Popen[bytes]) -> bool:
        """The worker has its SIGTERM handler in place (it says so once it has)."""
        return "worker: consuming" in (self.logs / f"worker-{self.procs.index(proc)}.log").read_text()

    def stop_all(self) -> list[int]:
        """SIGTERM to the workers still running, once they are up; their exit codes."""
        running = [proc for proc in self.procs if proc.poll() is None]
        wait_until(lambda: all(self.ready(p) for p in running), timeout=120, what="the workers to start")
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        return [proc.wait(timeout=60) for proc in running]


@pytest.fixture
def workers(pilot: Path, env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(pilot, env, tmp_path)
    yield pool
    for proc in pool.procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _scalar(hub: Hub, query) -> int:  # type: ignore[no-untyped-def]
    with hub.store.transaction() as s:
        return int(s.scalar(query) or 0)


def _undone(hub: Hub) -> int:
    done = select(OutboxDoneRow.outbox_id).where(OutboxDoneRow.outbox_id == OutboxRow.id)
    return _scalar(hub, select(func.count()).select_from(OutboxRow).where(~done.exists()))


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.25)


def feed(hub: Hub, events: list[dict], *, chunk: int = 500, pause: float = 0.2) -> threading.Thread:
    """Events arrive over time, as from the webhook ingress, while workers run (and die)."""

    def run() -> None:
        for start in range(0, len(events), chunk):
            enqueue(hub, events[start:start + chunk])
            time.sleep(pause)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def assert_exactly_once(hub: Hub, seeded: Seeded) -> None:
    vendor = EventRow.source != "hub"
    recorded = _scalar(hub, select(func.count()).select_from(EventRow).where(vendor))
    distinct = _scalar(hub, select(func.count(func.distinct(EventRow.source_event_id))).where(vendor))
    assert recorded == distinct == len(seeded.events), "every vendor event recorded exactly once"
    applied = _scalar(hub, select(func.count()).select_from(EventRow).where(vendor, EventRow.outcome == "applied"))
    messages = _scalar(hub, select(func.count()).select_from(OutboxRow).where(OutboxRow.kind == "status"))
    assert messages == applied, "one status message per applied change, none lost, none doubled"
    assert final_states(hub) == seeded.final
    assert _undone(hub) == 0
    assert quarantine.list_items(hub.store) == []


def test_kill_9_at_random_moments_while_10000_events_flow(hub: Hub, workers: Workers) -> None:
    seeded = seed_booked(hub, 2150, seed=11)
    assert len(seeded.events) >= 10_000
    feeder = feed(hub, seeded.events)
    rng = random.Random(5)
    pool = [workers.start(), workers.start()]  # competing consumers on the same queues
    mid_run = 0
    for _ in range(8):
        time.sleep(rng.uniform(1.5, 4.0))
        mid_run += _undone(hub) > 0
        victim = rng.randrange(len(pool))
        pool[victim].kill()  # SIGKILL: no chance to finish or acknowledge anything
        pool[victim].wait()
        pool[victim] = workers.start()
    feeder.join()
    assert mid_run >= 4, "most kills hit workers with work in hand"
    wait_until(lambda: _undone(hub) == 0, timeout=600, what="every message to take effect after the kills")
    assert workers.stop_all() == [0, 0], "the last workers stop gracefully on SIGTERM"
    assert_exactly_once(hub, seeded)


def test_rabbitmq_restart_mid_run_loses_nothing(hub: Hub, workers: Workers) -> None:
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        service_missing("rabbitmqctl", FileNotFoundError("rabbitmqctl"))
    seeded = seed_booked(hub, 600, seed=12)
    workers.start()
    feeder = feed(hub, seeded.events, chunk=200, pause=0.2)
    wait_until(lambda: _scalar(hub, select(func.count()).select_from(EventRow).where(EventRow.source != "hub")) > 200,
               timeout=120, what="the run to get going")
    try:
        subprocess.run([rabbitmqctl, "stop_app"], check=True, capture_output=True, timeout=120)
        time.sleep(2)
    finally:
        subprocess.run([rabbitmqctl, "start_app"], check=True, capture_output=True, timeout=120)
    feeder.join()
    wait_until(lambda: _undone(hub) == 0, timeout=300, what="every message to take effect after the restart")
    assert workers.stop_all() == [0]
    assert_exactly_once(hub, seeded)


# --------------------------------------------------------------------------- shuffled and duplicated webhooks

# simulator event codes (the simlocker crosswalk) along lifecycles where order matters
WEBHOOK_PATHS = (
    ("COURIER_DEPOSITED", "CONSIGNEE_PICKED_UP"),
    ("COURIER_DEPOSITED", "DOOR_FAULT", "CONSIGNEE_PICKED_UP"),
    ("COURIER_DEPOSITED", "DOOR_FAULT"),
    ("COURIER_DEPOSITED", "PICKUP_EXPIRED", "COURIER_COLLECTED_RETURN"),
    ("COURIER_DEPOSITED", "PICKUP_EXPIRED", "CONSIGNEE_PICKED_UP"),
    ("BOOKING_CANCELLED",),
)


def _deliveries(rids: list[str], tag: str, rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    for n, rid in enumerate(rids):
        for step, code in enumerate(WEBHOOK_PATHS[n % len(WEBHOOK_PATHS)], 1):
            event = {"event_id": f"{tag}-{rid}-{step}", "code": code, "reservation_id": rid,
                     "occurred_at": (T0 + timedelta(minutes=10 * step)).isoformat(), "locker_id": "WAW-001"}
            delivery_id = f"{tag}-{rid}-{step}"
            out.append((delivery_id, json.dumps({"delivery_id": delivery_id, "events": [event]}).encode()))
    return out


def _state(hub: Hub) -> dict[str, tuple[str, str | None, str | None]]:
    with hub.store.transaction() as s:
        return {r.reservation_id: (r.status, r.interrupted, r.reason) for r in s.scalars(select(ParcelRow))}


def test_duplicated_and_shuffled_webhooks_end_as_in_order(hub: Hub) -> None:
    from lockerhub.ingress import create_app
    from lockerhub.simulator.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
        from fastapi.testclient import TestClient

    seed_booked(hub, 240, seed=13)
    rids = [f"r-{i:06d}" for i in range(1, 241)]
    rng = random.Random(17)
    in_order = _deliveries(rids[:120], "a", rng)
    shuffled = _deliveries(rids[120:], "b", rng)
    shuffled += rng.sample(shuffled, len(shuffled) // 2)  # half of them delivered twice
    rng.shuffle(shuffled)
    worker = Worker(hub, Topology(AMQP_URL, prefix=hub.settings.bus_prefix))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        with TestClient(create_app(hub)) as client:
            answers = []
            for delivery_id, body in in_order + shuffled:
                headers = {"Content-Type": "application/json", DELIVERY_HEADER: delivery_id,
                           SIGNATURE_HEADER: sign(SECRET, int(datetime.now(UTC).timestamp()), body)}
                answers.append(client.post("/webhooks/simlocker", content=body, headers=headers).status_code)
        assert answers.count(202) == len(in_order) + len(shuffled) * 2 // 3 and set(answers) == {200, 202}
        wait_until(lambda: _undone(hub) == 0, timeout=300, what="every webhook to take effect")
    finally:
        worker.stop()
        thread.join(timeout=60)
    state = _state(hub)
    first = [state[rid] for rid in rids[:120]]
    second = [state[rid] for rid in rids[120:]]
    assert first == second  # parcel i of each half followed the same lifecycle
    assert {s[0] for s in first} >= {"COLLECTED", "EXCEPTION", "RETURNING", "CANCELLED"}
    assert quarantine.list_items(hub.store) == []
