"""Reconciliation on a real PostgreSQL: the hub is streamed through a server-side cursor, fixes go through the
event path and the quarantine deduplicates across runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from lockerhub.reconcile import Kind, reconcile
from lockerhub.reconcile.engine import hub_rows
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.pipeline import run_hub
from lockerhub.settings import Settings
from lockerhub.simulator.tms_drops import render, rows
from lockerhub.store import ParcelRow, QuarantineRow

pytestmark = pytest.mark.integration


def test_reconcile_on_postgres(pilot: Path, sim, network, pg_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = rows(5, [lk for lk in network if lk.region == "KRK"], seed=31)
    for r in data:
        r[9:13] = ["30", "20", "5", "1.5"]
    (pilot.parent / "inbox" / "acme-tms" / "pg.csv").write_bytes(render(data))
    hub = Hub.open(pilot, settings=Settings(data_dir=tmp_path / "data", database_url=pg_url))
    try:
        assert hub.store.engine.dialect.name == "postgresql"
        assert run_hub(hub).booking.booked == 5
        with hub.store.transaction() as s:
            booked = list(s.execute(select(ParcelRow.parcel_id, ParcelRow.reservation_id).order_by(ParcelRow.id)))
        assert sorted(r[0] for r in hub_rows(hub.store, batch=2)) == sorted(  # three server-side batches
            r[0] for r in hub_rows(hub.store))
        requests.post(f"{sim.url}/sim/deposit", json={"reservation_id": booked[0][1]}, timeout=5,
                      headers={"X-API-Key": sim.api_key}).raise_for_status()
        manifest = tmp_path / "manifest.csv"
        manifest.write_text("partner,shipment_ref,parcel_id\n" + "".join(f"acme-tms,{r[0]},{r[1]}\n" for r in data)
                            + "acme-tms,SH-NOT-HERE,PX-1\n", "utf-8")

        first = reconcile(hub, manifest, out_dir=tmp_path / "report")
        assert {(d.kind, d.outcome.startswith("q-") or d.outcome) for d in first.discrepancies} == {
            (Kind.STATUS_MISMATCH, "applied"), (Kind.MISSING_IN_HUB, True)}
        second = reconcile(hub, manifest, out_dir=tmp_path / "report")
        assert [d.kind for d in second.discrepancies] == [Kind.MISSING_IN_HUB]
        with hub.store.transaction() as s:
            assert s.scalar(select(ParcelRow.status).where(ParcelRow.parcel_id == booked[0][0])) == "DEPOSITED"
            assert [q.attempts for q in s.scalars(select(QuarantineRow).where(QuarantineRow.stage == "reconcile"))
                    ] == [2]
    finally:
        hub.close()
