"""Running a reconciliation: read the three sources, act on what differs, write the report.

    from lockerhub.reconcile import reconcile

    result = reconcile(hub, Path("exports/manifest-2026-01-05.csv"), out_dir=Path("reports/2026-01-05"))
    result.counts, result.html_path          # what an orchestrator publishes

:func:`reconcile_config` opens and closes the hub itself (the CLI uses it). :class:`Reconciler` takes its parts
explicitly (store, cipher, vendor connector), for callers without a hub config.

The vendor must declare ``list_reservations``. A vendor that cannot be read to the end (after bounded retries)
stops the run before anything is changed: a partial listing would make every booking look missing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from lockerhub.errors import ConfigError, VendorError, errors_sorted
from lockerhub.plugins.protocols import Capability, ReservationPage
from lockerhub.reconcile.actions import Actor
from lockerhub.reconcile.engine import compare
from lockerhub.reconcile.manifest import BadRow, Manifest
from lockerhub.reconcile.model import ReconcileResult
from lockerhub.reconcile.report import write_report
from lockerhub.runtime.breaker import VendorCall
from lockerhub.runtime.hub import Clock, Hub, utc_now
from lockerhub.runtime.retry import RetryPolicy
from lockerhub.security.crypto import FieldCipher
from lockerhub.settings import Settings
from lockerhub.store import Store

T = TypeVar("T")

DEFAULT_SOFT_TTL = timedelta(minutes=30)  # how long a soft hold without an expiry may stay unconfirmed


@dataclass
class Reconciler:
    """Three-way reconciliation over explicit parts; see :meth:`run`."""

    store: Store
    cipher: FieldCipher
    vendor: object  # a locker-vendor connector that declares Capability.LIST_RESERVATIONS
    vendor_id: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    call_vendor: VendorCall | None = None  # Hub.call_vendor (breakers + retries); None: ``retry`` alone
    clock: Clock = utc_now
    soft_ttl: timedelta = DEFAULT_SOFT_TTL
    partners: Collection[str] | None = None  # when given, a manifest row naming another partner is a bad row

    def run(self, manifest: str | Path, *, out_dir: Path, dry_run: bool = False,
            pages: Iterable[ReservationPage] | None = None) -> ReconcileResult:
        """Compare, act (unless ``dry_run``), write the report into ``out_dir``. ``pages`` replaces the vendor
        listing (tests)."""
        capabilities = getattr(type(self.vendor), "capabilities", frozenset())
        if pages is None and Capability.LIST_RESERVATIONS not in capabilities:
            raise ConfigError(f"vendor '{self.vendor_id}' cannot list its reservations",
                              expected="a connector with the list_reservations capability",
                              found=", ".join(sorted(capabilities)) or "no capabilities",
                              hint="reconciliation compares the vendor's reservations with the hub's bookings")
        started = self.clock()
        source = Manifest(manifest, partners=self.partners)
        comparison = compare(self.store, self.pages() if pages is None else pages, source, vendor_id=self.vendor_id,
                             now=started, soft_ttl=self.soft_ttl, can_cancel=Capability.CANCEL in capabilities)
        result = ReconcileResult(
            manifest=str(manifest), vendor=self.vendor_id, dry_run=dry_run, started_at=started,
            manifest_rows=comparison.manifest_rows, hub_parcels=comparison.hub_parcels,
            vendor_reservations=comparison.vendor_reservations, discrepancies=comparison.discrepancies,
            bad_rows=len(source.bad), out_dir=out_dir,
        )
        actor = Actor(self.store, self.cipher, self.vendor, self.vendor_id, self._call, self.clock, str(manifest))
        qids = [] if dry_run else actor.quarantine_bad_rows(source.bad)
        result.bad_rows_quarantined = qids
        result.manifest_errors = _bad_row_lines(source.bad, qids)
        actor.act(comparison.discrepancies, dry_run=dry_run)
        result.finished_at = self.clock()
        result.csv_path, result.html_path = write_report(result, out_dir)
        return result

    def pages(self) -> Iterator[ReservationPage]:
        """The vendor's reservations page by page; each page is retried on its own (bounded)."""
        cursor: str | None = None
        list_page = self.vendor.list_reservations  # type: ignore[attr-defined]
        while True:
            page: ReservationPage = self._call("list_reservations", lambda at=cursor: list_page(cursor=at))
            yield page
            if page.next_cursor is None:
                return
            if page.next_cursor == cursor:
                raise VendorError(f"vendor '{self.vendor_id}' listed the same page of reservations twice",
                                  expected="a new cursor for each page", found=repr(cursor))
            cursor = page.next_cursor

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        if self.call_vendor is None:
            return self.retry.call(fn)
        return self.call_vendor(operation, fn)  # type: ignore[no-any-return]


def _bad_row_lines(rows: list[BadRow], qids: list[str]) -> list[str]:
    lines: list[str] = []
    for n, bad in enumerate(rows):
        suffix = f"; row quarantined as {qids[n]}" if qids else "; row not compared"
        lines.extend(e.render() + suffix for e in errors_sorted(list(bad.errors)))
    return lines


def default_out_dir(started: datetime, settings: Settings | None = None) -> Path:
    """``<data dir>/reports/reconcile-<UTC time>``."""
    return (settings or Settings()).data_dir / "reports" / f"reconcile-{started.strftime('%Y%m%dT%H%M%SZ')}"


def reconcile(hub: Hub, manifest: str | Path, *, out_dir: Path | None = None, dry_run: bool = False,
              soft_ttl: timedelta = DEFAULT_SOFT_TTL, vendor: str | None = None) -> ReconcileResult:
    """Reconcile the TMS ``manifest``, the hub's parcels and a vendor's reservations (the first routed vendor's by
    default); see the package docstring. ``out_dir`` defaults to ``<data dir>/reports/reconcile-<UTC time>``."""
    name = vendor or hub.vendor_name
    reconciler = Reconciler(hub.store, hub.cipher, hub.vendor(name), name, retry=hub.retry, clock=hub.clock,
                            call_vendor=functools.partial(hub.call_vendor, vendor=name),
                            soft_ttl=soft_ttl, partners=list(hub.config.hub.partners))
    return reconciler.run(manifest, out_dir=out_dir or default_out_dir(hub.clock()), dry_run=dry_run)


def reconcile_config(config: str | Path, manifest: str | Path, *, out_dir: Path | None = None,
                     dry_run: bool = False, settings: Settings | None = None,
                     soft_ttl: timedelta = DEFAULT_SOFT_TTL) -> ReconcileResult:
    """:func:`reconcile` with a hub opened from ``config`` (and closed again)."""
    settings = settings or Settings()
    hub = Hub.open(config, settings=settings)
    try:
        return reconcile(hub, manifest, out_dir=out_dir or default_out_dir(hub.clock(), settings), dry_run=dry_run,
                         soft_ttl=soft_ttl)
    finally:
        hub.close()
