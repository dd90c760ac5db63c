"""One pass of the whole pipeline, as ``lockerhub run CONFIG`` and the DAGs call it."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from lockerhub.runtime.booking import BookingReport, book_pending
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import IngestReport, ingest_inbox
from lockerhub.runtime.relay import RelayReport, relay_outbox
from lockerhub.runtime.reroute import RerouteReport, reroute_offline
from lockerhub.runtime.sync import SyncReport, sync_statuses


@dataclass(slots=True)
class RunResult:
    ingested: list[IngestReport] = field(default_factory=list)
    booking: BookingReport = field(default_factory=BookingReport)
    reroute: RerouteReport = field(default_factory=RerouteReport)
    sync: SyncReport = field(default_factory=SyncReport)
    relay: RelayReport = field(default_factory=RelayReport)

    def as_dict(self) -> dict[str, Any]:
        return {"ingested": [asdict(r) for r in self.ingested], "booking": asdict(self.booking),
                "reroute": asdict(self.reroute),
                "sync": asdict(self.sync),
                "relay": {"published": self.relay.published, "files": [str(p) for p in self.relay.files],
                          "waiting": self.relay.waiting}}

    def print(self, console: Console) -> None:
        table = Table(title="lockerhub run")
        table.add_column("stage")
        table.add_column("result")
        files = len(self.ingested)
        accepted = sum(r.accepted for r in self.ingested)
        quarantined = sum(r.quarantined for r in self.ingested)
        table.add_row("ingest", f"{files} file(s), {accepted} parcel(s) accepted, {quarantined} quarantined")
        b = self.booking
        table.add_row("book", f"{b.booked} booked, {b.rejected} rejected, {b.deferred} deferred, "
                              f"{b.quarantined} quarantined")
        r = self.reroute
        if r.redirected or r.stuck or r.cancel_quarantined:
            table.add_row("re-route", f"{r.redirected} redirected from lockers out of service, {r.stuck} without a "
                                      f"locker in service, {r.cancel_quarantined} old reservation(s) quarantined")
        s = self.sync
        table.add_row("sync", f"{s.polled} polled, {s.applied} applied, {s.stale} stale, {s.quarantined} quarantined")
        waiting = ", ".join(f"{p}: {n}" for p, n in sorted(self.relay.waiting.items()))
        table.add_row("relay", f"{self.relay.published} message(s) in {len(self.relay.files)} file(s)"
                               + (f"; kept for partners without a status sink ({waiting})" if waiting else ""))
        console.print(table)


def run_hub(hub: Hub) -> RunResult:
    result = RunResult()
    for partner in hub.config.hub.partners:
        result.ingested.extend(ingest_inbox(hub, partner))
    result.booking = book_pending(hub)
    result.reroute = reroute_offline(hub)
    result.sync = sync_statuses(hub)
    result.relay = relay_outbox(hub)
    return result


def run_once(config: str | Path) -> RunResult:
    hub = Hub.open(config)
    try:
        return run_hub(hub)
    finally:
        hub.close()


def watch(config: str | Path, *, interval: float, passes: int | None) -> Iterator[RunResult]:
    """Run the pipeline every ``interval`` seconds (``passes`` times, or until interrupted); one hub throughout.

    SIGTERM ends the loop after the pass in progress, so an orchestrator can stop it cleanly.
    """
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if _main_thread() else None
    hub = Hub.open(config)
    try:
        done = 0
        while not stop.is_set():
            yield run_hub(hub)
            done += 1
            if passes is not None and done >= passes:
                return
            stop.wait(interval)
    finally:
        hub.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
