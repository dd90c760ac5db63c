"""The pilot pipeline on a real PostgreSQL: idempotent re-drop, quarantine, and no plaintext PII at rest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lockerhub.runtime.hub import Hub
from lockerhub.runtime.pipeline import run_hub
from lockerhub.settings import Settings
from lockerhub.simulator.tms_drops import render, rows
from lockerhub.store import ParcelRow, QuarantineRow

pytestmark = pytest.mark.integration


def test_pipeline_on_postgres(pilot: Path, sim, network, pg_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inbox = pilot.parent / "inbox" / "acme-tms"
    data = rows(6, network, seed=21)
    for r in data:
        r[9:13] = ["30", "20", "5", "1.5"]
    data[4][2] = "123"  # a short SSCC
    content = render(data)
    (inbox / "pg.csv").write_bytes(content)
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url)
    hub = Hub.open(pilot, settings=settings)
    try:
        assert hub.store.engine.dialect.name == "postgresql"
        first = run_hub(hub)
        assert first.ingested[0].accepted == 5 and first.ingested[0].quarantined == 1
        assert first.booking.booked == 5
        (inbox / "pg.csv").write_bytes(content)
        second = run_hub(hub)
        assert second.ingested[0].duplicates == 5 and second.booking.booked == 0
        with hub.store.transaction() as s:
            assert s.scalar(select(func.count()).select_from(ParcelRow)) == 5
            assert s.scalar(select(func.count()).select_from(QuarantineRow)) == 1
            assert s.scalar(select(QuarantineRow.attempts)) == 2
    finally:
        hub.close()
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.fail("pg_dump is needed to check the database for plaintext PII")
    dump = subprocess.run([pg_dump, "--data-only", pg_url], capture_output=True, text=True, check=True).stdout
    assert "ACME-" in dump  # the dump does hold the (non-personal) shipment references
    for needle in ("Test Recipient", "example.invalid", "+48000"):
        assert needle not in dump
