"""A hub on the pilot config with the embedded bus (kombu's SQLAlchemy transport on SQLite), no vendor needed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lockerhub.bus import Topology, Worker
from lockerhub.runtime.hub import Hub
from lockerhub.settings import Settings


@pytest.fixture
def hub(pilot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_BASE_URL", "http://127.0.0.1:9")  # never called: events come by bus
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_API_KEY", "test-only-key")
    hub = Hub.open(pilot, settings=Settings(data_dir=tmp_path / "data"))
    yield hub
    hub.close()


@pytest.fixture
def topology(hub: Hub) -> Topology:
    return Topology(hub.settings.resolved_broker_url())


RunWorker = Callable[..., tuple[Worker, threading.Thread]]


@pytest.fixture
def run_worker(hub: Hub, topology: Topology) -> Iterator[RunWorker]:
    """Start a worker thread; every worker started is stopped at the end of the test."""
    started: list[tuple[Worker, threading.Thread]] = []

    def start(**options: object) -> tuple[Worker, threading.Thread]:
        worker = Worker(hub, topology, **options)  # type: ignore[arg-type]
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        started.append((worker, thread))
        return worker, thread

    yield start
    for worker, thread in started:
        worker.stop()
        thread.join(timeout=30)


def wait_for(condition: Callable[[], bool], *, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
