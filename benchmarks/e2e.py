"""End to end: signed webhook -> ingress -> outbox -> bus -> worker -> parcel state -> outbound TMS status message.

``uv run --all-extras python -m benchmarks.e2e [--quick] [--stack embedded|production|both]``

Each stack runs the real parts as separate processes, as they are deployed: ``lockerhub serve`` (uvicorn) and
``lockerhub worker`` on the pilot config, with N parcels booked in the store beforehand. This process is the
vendor: it POSTs signed simlocker webhooks (10 events per delivery, as vendors batch them) at a fixed offered rate
from a pool of threads, open loop (a late request does not delay the next one's schedule).

Latency of an event = the moment the worker committed the partner's status message (its ``outbox_done`` row:
the CSV status file is written) minus the moment this process sent the webhook carrying it. Throughput = events /
(last status message done - first webhook sent).

Stacks: embedded (SQLite + kombu's SQLAlchemy transport, the defaults) and production (PostgreSQL + RabbitMQ on
127.0.0.1; skipped with a note when they are not reachable).

Baseline, measured in the same run on the same store: a hand-written loop applying the same events one per
transaction in one process (``record_event`` + commit; no HTTP, no bus). ``pipeline_ratio`` = pipeline events/s /
baseline events/s (above 1: the batching pipeline outruns the naive synchronous loop despite HTTP and the broker).

Target (production, 2 cores): >= 1,000 events/s sustained with p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from rich.console import Console
from rich.table import Table

SECRET = "bench-webhook-secret"  # not a credential: the ingress of this run only
PG_ADMIN = os.environ.get("LOCKERHUB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP = os.environ.get("LOCKERHUB_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
PER_DELIVERY = 10
console = Console()


@dataclass
class Outcome:
    stack: str
    events: int
    offered_per_s: float
    per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    baseline_per_s: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _postgres() -> Iterator[str]:
    import psycopg

    name = f"lockerhub_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _production_reachable() -> str | None:
    try:
        import psycopg
        from kombu import Connection

        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
        with Connection(AMQP, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


def _seed(hub, n: int, tag: str) -> list[str]:  # type: ignore[no-untyped-def]
    """``n`` booked parcels; returns their reservation ids."""
    from lockerhub.store import EventRow, ParcelRow

    rids = [f"{tag}-{i:07d}" for i in range(n)]
    with hub.store.transaction() as s:
        for rid in rids:
            row = ParcelRow(key=f"k-{rid}", partner="acme-tms", shipment_ref=f"S{rid}", parcel_id=f"P{rid}",
                            status="BOOKED", vendor=hub.vendor_id(), locker_id="WAW-001", size_class="A",
                            reservation_id=rid, parcel={})
            s.add(row)
            s.flush()
            s.add(EventRow(parcel_pk=row.id, status="BOOKED", outcome="applied", occurred_at=T0, source="hub",
                           source_event_id=f"book:{rid}"))
    return rids


def _baseline(hub, rids: list[str]) -> float:  # type: ignore[no-untyped-def]
    """The naive synchronous loop: one event, one transaction, no HTTP, no bus."""
    from sqlalchemy import select

    from lockerhub.model import ParcelEvent, ParcelStatus
    from lockerhub.runtime.events import record_event
    from lockerhub.store import ParcelRow

    start = time.perf_counter()
    for rid in rids:
        with hub.store.transaction() as s:
            row = s.scalars(select(ParcelRow).where(ParcelRow.reservation_id == rid).with_for_update()).one()
            record_event(s, row, ParcelEvent(status=ParcelStatus.DEPOSITED, occurred_at=T0 + timedelta(hours=1),
                                             source=hub.vendor_id(), event_id=f"base-{rid}"))
    return len(rids) / (time.perf_counter() - start)


def _deliveries(rids: list[str]) -> list[tuple[str, bytes, list[str]]]:
    out = []
    for start in range(0, len(rids), PER_DELIVERY):
        chunk = rids[start:start + PER_DELIVERY]
        delivery_id = f"d-{chunk[0]}"
        events = [{"event_id": f"e-{rid}", "code": "COURIER_DEPOSITED", "reservation_id": rid,
                   "occurred_at": (T0 + timedelta(hours=1)).isoformat(), "locker_id": "WAW-001"} for rid in chunk]
        out.append((delivery_id, json.dumps({"delivery_id": delivery_id, "events": events}).encode(),
                    [f"e-{rid}" for rid in chunk]))
    return out


def _send(url: str, deliveries: list[tuple[str, bytes, list[str]]], rate: float, threads: int) -> dict[str, float]:
    """POST the deliveries at ``rate`` events/s (open loop); returns event id -> send time (epoch seconds)."""
    from lockerhub.simulator.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign

    sent: dict[str, float] = {}
    interval = PER_DELIVERY / rate
    start = time.time() + 0.2
    lock = threading.Lock()
    cursor = iter(enumerate(deliveries))
    failures: list[str] = []

    def run() -> None:
        session = requests.Session()
        while True:
            with lock:
                item = next(cursor, None)
            if item is None:
                return
            index, (delivery_id, body, ids) = item
            due = start + index * interval
            pause = due - time.time()
            if pause > 0:
                time.sleep(pause)
            now = time.time()
            headers = {"Content-Type": "application/json", DELIVERY_HEADER: delivery_id,
                       SIGNATURE_HEADER: sign(SECRET, int(now), body)}
            response = session.post(url, data=body, headers=headers, timeout=30)
            if response.status_code != 202:
                failures.append(f"{response.status_code} {response.text[:120]}")
            with lock:
                for event_id in ids:
                    sent[event_id] = now

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if failures:
        raise SystemExit(f"{len(failures)} webhook(s) refused, first: {failures[0]}")
    return sent


def _wait_done(hub, expected: int, timeout: float) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from lockerhub.store import OutboxDoneRow, OutboxRow

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with hub.store.transaction() as s:
            done = s.scalar(select(func.count()).select_from(OutboxRow).join(
                OutboxDoneRow, OutboxDoneRow.outbox_id == OutboxRow.id).where(OutboxRow.kind == "status"))
        if done >= expected:
            return
        time.sleep(0.2)
    raise SystemExit(f"only {done} of {expected} status messages were written in {timeout:.0f} s")


def _latencies(hub, sent: dict[str, float]) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from lockerhub.store import OutboxDoneRow, OutboxRow

    with hub.store.transaction() as s:
        rows = s.execute(select(OutboxRow.payload, OutboxDoneRow.done_at).join(
            OutboxDoneRow, OutboxDoneRow.outbox_id == OutboxRow.id).where(OutboxRow.kind == "status")).all()
    ms, last = [], 0.0
    for payload, done_at in rows:
        event_id = payload["event"].get("event_id")
        if event_id in sent:
            ms.append((done_at.timestamp() - sent[event_id]) * 1000)
            last = max(last, done_at.timestamp())
    return ms, last


def run_stack(stack: str, n: int, rate: float, *, threads: int, workers: int = 1) -> Outcome:
    from lockerhub.demo import lay_out_pilot
    from lockerhub.runtime.hub import Hub

    work = Path(tempfile.mkdtemp(prefix="lockerhub-bench-"))
    with (_postgres() if stack == "production" else _nullctx(None)) as pg:
        env = {"LOCKERHUB_DATA_DIR": str(work / "data"), "LOCKERHUB_SIMLOCKER_BASE_URL": "http://127.0.0.1:9",
               "LOCKERHUB_SIMLOCKER_API_KEY": "bench-only", "LOCKERHUB_SIMLOCKER_WEBHOOK_SECRET": SECRET,
               "LOCKERHUB_BUS_PREFIX": f"lhbench{uuid.uuid4().hex[:8]}", "LOCKERHUB_LOG_LEVEL": "WARNING"}
        if pg:
            env |= {"LOCKERHUB_DATABASE_URL": pg, "LOCKERHUB_BROKER_URL": AMQP}
        os.environ.update(env)
        os.environ.pop("LOCKERHUB_DATABASE_URL", None) if not pg else None
        os.environ.pop("LOCKERHUB_BROKER_URL", None) if not pg else None
        config = lay_out_pilot(work / "pilot")
        hub = Hub.open(config)
        baseline_rids = _seed(hub, min(n, 2000), "base")
        baseline = _baseline(hub, baseline_rids)
        rids = _seed(hub, n, "r")
        port = _free_port()
        child_env = {**os.environ}
        logs = work / "logs"
        logs.mkdir()
        procs = []
        try:
            with (logs / "serve.log").open("wb") as log:
                procs.append(subprocess.Popen([sys.executable, "-m", "lockerhub", "serve", str(config), "--port",
                                               str(port)], env=child_env, stdout=log, stderr=subprocess.STDOUT))
            for index in range(workers):  # the first one runs the outbox relay
                with (logs / f"worker-{index}.log").open("wb") as log:
                    profile = os.environ.get("LOCKERHUB_BENCH_PROFILE")  # a file: the worker runs under cProfile
                    wrap = ["-m", "cProfile", "-o", profile] if profile and not index else []
                    procs.append(subprocess.Popen([sys.executable, *wrap, "-m", "lockerhub", "worker", str(config),
                                                   *(["--no-relay"] if index else [])],
                                                  env=child_env, stdout=log, stderr=subprocess.STDOUT))
            _await_http(f"http://127.0.0.1:{port}/healthz", procs[0])
            time.sleep(1.0)  # the worker connects and declares its queues
            expected_before = 2000 if n else 0
            sent = _send(f"http://127.0.0.1:{port}/webhooks/simlocker", _deliveries(rids), rate, threads)
            _wait_done(hub, len(baseline_rids) + len(rids) if expected_before else len(rids), timeout=600)
            ms, last = _latencies(hub, sent)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(timeout=60)
            hub.close()
            if not os.environ.get("LOCKERHUB_BENCH_KEEP"):  # keep the logs to look at
                shutil.rmtree(work, ignore_errors=True)
    ms.sort()
    first = min(sent.values())
    return Outcome(stack, len(ms), rate, len(ms) / (last - first), statistics.median(ms),
                   ms[min(len(ms) - 1, int(len(ms) * 0.99))], ms[-1], baseline)


@contextmanager
def _nullctx(value):  # type: ignore[no-untyped-def]
    yield value


def _await_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the ingress exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"the ingress did not answer {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 s of load per stack instead of 20 s")
    parser.add_argument("--stack", choices=("embedded", "production", "both"), default="both")
    parser.add_argument("--rate", type=float, default=1000.0, help="offered events/s on the production stack")
    parser.add_argument("--embedded-rate", type=float, default=200.0, help="offered events/s on the embedded stack")
    parser.add_argument("--threads", type=int, default=8, help="sender threads (concurrent webhook deliveries)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (competing consumers)")
    args = parser.parse_args()
    seconds = 5 if args.quick else 20
    outcomes = []
    stacks = ["embedded", "production"] if args.stack == "both" else [args.stack]
    for stack in stacks:
        if stack == "production" and (why := _production_reachable()):
            console.print(f"[yellow]production stack skipped: PostgreSQL or RabbitMQ not reachable ({why})")
            continue
        rate = args.rate if stack == "production" else args.embedded_rate
        n = int(rate * seconds) // PER_DELIVERY * PER_DELIVERY
        console.print(f"{stack}: {n:,} events at {rate:,.0f} events/s offered ...")
        outcomes.append(run_stack(stack, n, rate, threads=args.threads, workers=args.workers))
    table = Table(title="webhook -> state -> outbound TMS status message")
    for column in ("stack", "events", "offered/s", "achieved/s", "p50 ms", "p99 ms", "max ms", "baseline/s", "ratio"):
        table.add_column(column, justify="left" if column == "stack" else "right")
    result: dict[str, float | int | str] = {}
    for o in outcomes:
        table.add_row(o.stack, f"{o.events:,}", f"{o.offered_per_s:,.0f}", f"{o.per_s:,.0f}", f"{o.p50_ms:.1f}",
                      f"{o.p99_ms:.1f}", f"{o.max_ms:.1f}", f"{o.baseline_per_s:,.0f}",
                      f"{o.per_s / o.baseline_per_s:.2f}")
        result |= {f"{o.stack}_events_per_s": o.per_s, f"{o.stack}_p50_ms": o.p50_ms, f"{o.stack}_p99_ms": o.p99_ms,
                   f"{o.stack}_baseline_per_s": o.baseline_per_s, f"{o.stack}_pipeline_ratio": o.per_s /
                   o.baseline_per_s}
    console.print(table)
    print("RESULT " + " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
