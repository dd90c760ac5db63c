"""A hub store, a vendor held in memory and manifest files, for reconciliation tests.

The vendor is an in-process stand-in with the two verbs reconciliation uses (``list_reservations``, paged two at
a time so paging is exercised, and ``cancel``). Names and ids are synthetic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lockerhub.errors import RejectedError
from lockerhub.model import ParcelStatus, ReservationKind, idempotency_key
from lockerhub.plugins.protocols import Capability, ReservationPage, VendorReservation
from lockerhub.reconcile import Reconciler, ReconcileResult
from lockerhub.runtime.retry import RetryPolicy
from lockerhub.security.crypto import FieldCipher
from lockerhub.store import EventRow, OutboxRow, ParcelRow, QuarantineRow, Store

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
VENDOR = "fakelocker"
PARTNER = "acme-tms"


@dataclass
class FakeVendor:
    """Reservations in memory; ``cancel`` ends a hold the way a vendor would."""

    reservations: dict[str, VendorReservation] = field(default_factory=dict)
    as_of: datetime | None = T0 + timedelta(hours=2)
    page_size: int = 2
    cancelled: list[str] = field(default_factory=list)
    refuse_cancel: bool = False
    capabilities = frozenset({Capability.LIST_RESERVATIONS, Capability.CANCEL})

    def add(self, rid: str, state: str, *, locker: str = "LK-0001", created: datetime = T0,
            expires: datetime | None = None, status: ParcelStatus | None = None, reason: str | None = None) -> None:
        mapped = status or {"soft": ParcelStatus.CREATED, "booked": ParcelStatus.BOOKED,
                            "deposited": ParcelStatus.DEPOSITED, "collected": ParcelStatus.COLLECTED,
                            "cancelled": ParcelStatus.CANCELLED, "expired": ParcelStatus.CANCELLED,
                            "pickup_expired": ParcelStatus.PICKUP_EXPIRED}[state]
        kind = ReservationKind.SOFT if state in ("soft", "expired") else ReservationKind.HARD
        self.reservations[rid] = VendorReservation(rid, locker, mapped, state, kind, created, expires, reason)

    def list_reservations(self, *, cursor: str | None = None) -> ReservationPage:
        items = list(self.reservations.values())
        start = int(cursor or 0)
        end = start + self.page_size
        return ReservationPage(tuple(items[start:end]), str(end) if end < len(items) else None, self.as_of)

    def cancel(self, reservation_id: str) -> None:
        if self.refuse_cancel:
            raise RejectedError("fakelocker DELETE returned HTTP 409: invalid_state")
        self.cancelled.append(reservation_id)
        old = self.reservations[reservation_id]
        self.reservations[reservation_id] = VendorReservation(
            old.reservation_id, old.locker_id, ParcelStatus.CANCELLED, "cancelled", old.kind, old.created_at,
            old.expires_at)


@dataclass
class Scene:
    """A hub store, the fake vendor and a folder for manifests and reports; helpers to fill and run them."""

    store: Store
    cipher: FieldCipher
    vendor: FakeVendor
    folder: Path
    t0: datetime = T0
    partner: str = PARTNER
    vendor_id: str = VENDOR

    def parcel(self, parcel_id: str, status: str, rid: str | None = None, *, shipment: str = "SH-1",
               interrupted: str | None = None, vendor: str | None = VENDOR, partner: str = PARTNER) -> int:
        with self.store.transaction() as s:
            row = ParcelRow(key=idempotency_key(partner, shipment, parcel_id), partner=partner,
                            shipment_ref=shipment, parcel_id=parcel_id, status=status, interrupted=interrupted,
                            vendor=vendor if rid is not None else None, reservation_id=rid,
                            locker_id="LK-0001" if rid is not None else None, parcel={})
            s.add(row)
            s.flush()
            return row.id

    def manifest(self, rows: list[tuple[str, ...]], *, header: str = "partner,shipment_ref,parcel_id,status",
                 name: str = "manifest.csv") -> Path:
        path = self.folder / name
        path.write_text(header + "\n" + "".join(",".join(r) + "\n" for r in rows), "utf-8")
        return path

    def reconciler(self, vendor: object | None = None, **options: Any) -> Reconciler:
        return Reconciler(self.store, self.cipher, vendor if vendor is not None else self.vendor, VENDOR,
                          retry=RetryPolicy(sleep=lambda _: None), clock=lambda: T0 + timedelta(hours=2),
                          partners=[PARTNER], **options)

    def run(self, manifest: Path, *, dry_run: bool = False, out: str = "out", **options: Any) -> ReconcileResult:
        return self.reconciler(**options).run(manifest, out_dir=self.folder / out, dry_run=dry_run)

    def row(self, pk: int) -> ParcelRow:
        with self.store.transaction() as s:
            row = s.get(ParcelRow, pk)
            assert row is not None
            return row

    def quarantine(self) -> list[QuarantineRow]:
        with self.store.transaction() as s:
            return list(s.scalars(select(QuarantineRow).order_by(QuarantineRow.id)))

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the tables reconciliation may write, as plain tuples."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.store.engine.connect() as conn:
            for table in (ParcelRow, EventRow, OutboxRow, QuarantineRow):
                out[table.__tablename__] = [tuple(r) for r in conn.execute(select(table.__table__))]
        return out


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.migrate()
    yield Scene(store, FieldCipher.from_env_or_file(None, tmp_path / "keys"), FakeVendor(), tmp_path)
    store.dispose()
