"""`lockerhub reconcile` through a real process, against the pilot config and the simulator over HTTP.

Parcels are booked by `lockerhub run`; then every kind of discrepancy is made the way it happens in the field (a
courier deposit the hub has not polled yet, a booking lost at the vendor, a booking and a hold made behind the hub's
back, a parcel the TMS exported but never sent) and reconciled: first as a dry run, then for real, then again.
The simulator here holds soft reservations until they are confirmed or cancelled (no expiry), so a forgotten hold
goes stale by the reconciliation's TTL against the vendor's clock.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from lockerhub.simulator import World
from lockerhub.simulator.tms_drops import render, rows


@pytest.fixture
def world(network) -> World:  # type: ignore[no-untyped-def]
    return World(network, seed=3, soft_ttl=None)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockerhub.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120, check=False)


def db(tmp_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "data" / "lockerhub.db")


def parcel_rows(tmp_path: Path) -> list[tuple[str, str, str, str]]:
    with db(tmp_path) as conn:
        return list(conn.execute("SELECT parcel_id, status, reservation_id, locker_id FROM parcels ORDER BY id"))


def book_four(pilot: Path, network) -> list[list[str]]:  # type: ignore[no-untyped-def]
    data = rows(4, [lk for lk in network if lk.region == "WAW"], seed=11)
    for r in data:
        r[9:13] = ["30", "20", "5", "1.5"]  # fits the smallest class everywhere
    (pilot.parent / "inbox" / "acme-tms" / "drop.csv").write_bytes(render(data))
    proc = cli("run", str(pilot), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["booking"]["booked"] == 4
    return data


def test_reconcile_finds_each_kind_once_fixes_what_is_safe_and_reports(  # type: ignore[no-untyped-def]
        pilot: Path, sim, network, tmp_path: Path) -> None:
    data = book_four(pilot, network)
    booked = parcel_rows(tmp_path)
    api = requests.Session()
    api.headers["X-API-Key"] = os.environ["LOCKERHUB_SIMLOCKER_API_KEY"]

    # status_mismatch: the courier deposited parcel 1; the hub has not polled since
    api.post(f"{sim.url}/sim/deposit", json={"reservation_id": booked[0][2]}, timeout=5).raise_for_status()
    # missing_in_vendor: the vendor dropped parcel 2's booking, and the hub's record points at an id it never had
    # (the dropped one, cancelled and unknown to the hub, is no orphan: it holds nothing)
    api.delete(f"{sim.url}/v1/reservations/{booked[1][2]}", timeout=5).raise_for_status()
    with db(tmp_path) as conn:
        conn.execute("UPDATE parcels SET reservation_id = 'rsv-lost-1' WHERE parcel_id = ?", (booked[1][0],))
    # orphan_booking and stale_reservation: a booking and a hold made at the vendor behind the hub's back
    locker = booked[0][3]
    orphan = api.post(f"{sim.url}/v1/reservations", json={"locker_id": locker, "size_class": "C"},
                      timeout=5).json()["reservation_id"]
    api.post(f"{sim.url}/v1/reservations/{orphan}/confirm", timeout=5).raise_for_status()
    stale = api.post(f"{sim.url}/v1/reservations", json={"locker_id": locker, "size_class": "C"},
                     timeout=5).json()["reservation_id"]
    api.post(f"{sim.url}/sim/clock/advance", json={"seconds": 3600}, timeout=5).raise_for_status()
    # missing_in_hub and a bad row: the TMS's manifest
    manifest = tmp_path / "manifest.csv"
    listed = [("acme-tms", r[0], r[1], "BOOKED") for r in data]
    manifest.write_text("partner,shipment_ref,parcel_id,status\n" + "".join(",".join(r) + "\n" for r in listed)
                        + "acme-tms,SH-NEVER-SENT,PX-NEVER-1,BOOKED\nacme-tms,SH-BROKEN,,\n", "utf-8")

    out = tmp_path / "report"
    dry = cli("reconcile", str(pilot), "--manifest", str(manifest), "--out", str(out), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["counts"] == {"missing_in_vendor": 1, "missing_in_hub": 1, "status_mismatch": 1,
                                 "orphan_booking": 1, "stale_reservation": 1}
    assert planned["dry_run"] is True and planned["bad_rows"] == 1 and planned["bad_rows_quarantined"] == []
    assert parcel_rows(tmp_path)[0][1] == "BOOKED"
    assert json.loads(cli("quarantine", "list", "--json").stdout) == []
    assert api.get(f"{sim.url}/v1/reservations/{stale}", timeout=5).json()["state"] == "soft"

    proc = cli("reconcile", str(pilot), "--manifest", str(manifest), "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    found = {d["kind"]: d for d in result["discrepancies"]}
    assert (found["status_mismatch"]["parcel_id"], found["status_mismatch"]["outcome"]) == (booked[0][0], "applied")
    assert (found["missing_in_vendor"]["reservation_id"], found["missing_in_vendor"]["hub"]) == ("rsv-lost-1",
                                                                                                  "BOOKED")
    assert found["orphan_booking"]["reservation_id"] == orphan and found["orphan_booking"]["vendor"] == "BOOKED " \
        "(booked)"
    assert (found["stale_reservation"]["reservation_id"], found["stale_reservation"]["outcome"]) == (stale,
                                                                                                      "cancelled")
    assert (found["missing_in_hub"]["parcel_id"], found["missing_in_hub"]["manifest"]) == ("PX-NEVER-1",
                                                                                            "line 6: BOOKED")
    assert proc.stderr.strip().splitlines() == [
        (f"{manifest}:7:3: error: column parcel_id: expected a value, found an empty cell; row quarantined as "
        f"{result['bad_rows_quarantined'][0]}")]
    assert parcel_rows(tmp_path)[0][1] == "DEPOSITED"
    assert api.get(f"{sim.url}/v1/reservations/{stale}", timeout=5).json()["state"] == "cancelled"
    assert api.get(f"{sim.url}/v1/reservations/{orphan}", timeout=5).json()["state"] == "booked"  # a person decides

    report = list(csv.DictReader(io.StringIO((out / "reconciliation.csv").read_text("utf-8"))))
    assert sorted(r["kind"] for r in report) == sorted(planned["counts"])
    page = (out / "reconciliation.html").read_text("utf-8")
    assert "<h1>Reconciliation</h1>" in page and '<td>orphan_booking</td><td class="n">1</td>' in page
    assert result["report"] == {"dir": str(out), "csv": str(out / "reconciliation.csv"),
                                "html": str(out / "reconciliation.html")}

    items = json.loads(cli("quarantine", "list", "--json").stdout)
    assert sorted(i["location"] for i in items) == sorted([
        f"{manifest}:7", f"{manifest}:6", f"parcel acme-tms/{data[1][0]}/{booked[1][0]}",
        f"reservation {orphan} at simlocker"])
    assert {i["stage"] for i in items} == {"reconcile"}

    again = cli("reconcile", str(pilot), "--manifest", str(manifest), "--out", str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    assert "│ missing_in_vendor │     1 │ 1 quarantined │" in again.stdout
    assert "│ status_mismatch   │     0 │ -             │" in again.stdout  # fixed by the first run
    assert "compared 6 manifest row(s) (1 bad), 4 hub parcel(s), 6 reservation(s) at simlocker" in again.stdout
    second = json.loads(cli("quarantine", "list", "--json").stdout)
    assert len(second) == 4 and [i["attempts"] for i in second] == [2, 2, 2, 2]  # found again, not added again
    assert parcel_rows(tmp_path)[0][1] == "DEPOSITED"


def test_a_manifest_without_its_columns_is_one_located_line(pilot: Path, sim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("partner;shipment;parcel_id\nacme-tms;SH-1;PX-1\n", "utf-8")
    proc = cli("reconcile", str(pilot), "--manifest", str(manifest), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{manifest}:1:2: error: header: required column 'shipment_ref' missing")
    assert "did you mean 'shipment_ref'?" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
