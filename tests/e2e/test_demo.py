"""The pilot end to end through the real CLI process: CSV drops in, HTTP bookings, status files out."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PARCELS, LOCKERS, SEED = 60, 16, 11


def run_demo(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOCKERHUB_DATA_DIR": str(data_dir)}
    env.pop("LOCKERHUB_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "lockerhub.cli", "demo", "--seed", str(SEED), "--parcels", str(PARCELS),
         "--lockers", str(LOCKERS), *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    data_dir = tmp_path_factory.mktemp("demo")
    proc = run_demo(data_dir, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), data_dir / "demo"


def test_summary_counts_add_up(demo_run: tuple[dict, Path]) -> None:
    summary, _ = demo_run
    first_file = PARCELS * 3 // 5
    broken = 2 + 2  # two damaged rows in each of the two distinct drops
    assert summary["received"] == PARCELS + first_file  # the first drop is re-sent once
    assert summary["accepted"] == PARCELS - broken
    assert summary["duplicates"] == first_file - 2  # every valid row of the re-sent file, and nothing else
    assert summary["quarantined"] == broken  # the re-sent broken rows are the same items, not new ones
    assert summary["booked"] + summary["rejected"] == summary["accepted"]
    assert summary["booked"] > summary["rejected"] > 0
    assert summary["deposited"] == summary["booked"]
    assert summary["collected"] + summary["expired"] == summary["deposited"]
    assert summary["collected"] > summary["expired"] > 0


def test_status_files_report_every_change(demo_run: tuple[dict, Path]) -> None:
    summary, workdir = demo_run
    files = sorted((workdir / "examples" / "pilot" / "outbox" / "acme-tms").glob("status_*.csv"))
    assert len(files) == summary["status_files"] >= 1
    rows = [r for f in files for r in csv.DictReader(f.read_text("utf-8").splitlines())]
    assert len(rows) == summary["status_messages"]
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    assert by_status["BOOKED"] == summary["booked"]
    assert by_status["DEPOSITED"] == summary["deposited"]
    assert by_status["COLLECTED"] == summary["collected"]
    assert by_status["PICKUP_EXPIRED"] == summary["expired"]
    assert by_status["REJECTED"] == summary["rejected"]
    assert [int(r["sequence"]) for r in rows] == sorted(int(r["sequence"]) for r in rows)
    assert len({(r["parcel_id"], r["status"]) for r in rows}) == len(rows)  # nothing reported twice


def test_inputs_archived_and_no_pii_in_plain_text(demo_run: tuple[dict, Path]) -> None:
    _, workdir = demo_run
    inbox = workdir / "examples" / "pilot" / "inbox" / "acme-tms"
    assert sorted(p.name for p in (inbox / "done").iterdir()) == [
        "acme_0800.csv", "acme_0800_resent.csv", "acme_1400.csv"]
    assert not list(inbox.glob("*.csv"))
    raw = (workdir / "lockerhub.db").read_bytes()
    for wal in workdir.glob("lockerhub.db-wal"):
        raw += wal.read_bytes()
    assert b"Test Recipient" not in raw and b"example.invalid" not in raw and b"+48000" not in raw


def test_same_seed_same_run(demo_run: tuple[dict, Path], tmp_path: Path) -> None:
    summary, workdir = demo_run
    proc = run_demo(tmp_path, "--json")
    assert proc.returncode == 0, proc.stderr
    again = json.loads(proc.stdout)
    assert {k: v for k, v in again.items() if k != "outputs"} == {k: v for k, v in summary.items() if k != "outputs"}
    ours = sorted((workdir / "examples" / "pilot" / "outbox" / "acme-tms").glob("*.csv"))
    theirs = sorted((tmp_path / "demo" / "examples" / "pilot" / "outbox" / "acme-tms").glob("*.csv"))
    assert [p.name for p in ours] == [p.name for p in theirs]
    assert [p.read_bytes() for p in ours] == [p.read_bytes() for p in theirs]


def test_table_output_and_quarantine_listing(tmp_path: Path) -> None:
    proc = run_demo(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "lockerhub pilot summary" in proc.stdout and "quarantined" in proc.stdout
    env = {**os.environ, "LOCKERHUB_DATA_DIR": str(tmp_path / "demo")}
    listing = subprocess.run([sys.executable, "-m", "lockerhub.cli", "quarantine", "list", "--json"],
                             capture_output=True, text=True, env=env, check=True)
    items = json.loads(listing.stdout)
    assert len(items) == 4
    joined = " ".join(e for i in items for e in i["errors"])
    assert "column weight_kg -> parcels[0].weight_g: expected a number, found 'twelve'" in joined
    assert "check digit" in joined
    assert "Test Recipient" not in listing.stdout  # payloads are not listed
