"""The pilot end to end through the real CLI process: CSV and EDI drops in, HTTP bookings, status files and
acknowledgements out."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PARCELS, LOCKERS, SEED = 60, 16, 11
# examples/pilot/drops: a 204 file (two good tenders with 1 + 2 parcels, one with a wrong SE01) and an IFTMIN file
# (one good message with 2 parcels, one with a wrong UNT01, one for a locker the network does not have)
EDI_RECORDS, EDI_PARCELS, EDI_BROKEN, EDI_REFUSED = 6, 5, 2, 1
# the SOAP TMS pushes 6 shipments; one is for a locker outside the network (a SOAP fault), and the TMS answers the
# status calls of another with a SOAP fault (each quarantined)
SOAP_SHIPMENTS, SOAP_REFUSED = 6, 1


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
    # the first CSV drop is re-sent once
    assert summary["received"] == PARCELS + first_file + EDI_RECORDS + SOAP_SHIPMENTS
    soap_parcels = summary["accepted"] - (PARCELS - broken + EDI_PARCELS)
    assert SOAP_SHIPMENTS - SOAP_REFUSED <= soap_parcels <= 2 * (SOAP_SHIPMENTS - SOAP_REFUSED)
    assert summary["duplicates"] == first_file - 2  # every valid row of the re-sent file, and nothing else
    assert summary["refused"] == EDI_REFUSED + SOAP_REFUSED
    # every SOAP parcel's booked, deposited and collected/expired statuses were called in, or refused by the TMS
    assert summary["soap_status_calls"] + summary["soap_status_refused"] == 3 * soap_parcels
    assert summary["soap_status_calls"] > summary["soap_status_refused"] > 0
    # the re-sent broken rows are the same items, not new ones
    assert summary["quarantined"] == (broken + EDI_BROKEN + EDI_REFUSED + SOAP_REFUSED
                                      + summary["soap_status_refused"])
    assert summary["acknowledgements"] == 2  # one per EDI file
    assert summary["booked"] + summary["rejected"] == summary["accepted"]
    assert summary["booked"] > summary["rejected"] > 0
    assert summary["deposited"] == summary["booked"]
    assert summary["collected"] + summary["expired"] == summary["deposited"]
    assert summary["collected"] > summary["expired"] > 0


def test_status_files_report_every_change(demo_run: tuple[dict, Path]) -> None:
    summary, workdir = demo_run
    outbox = workdir / "examples" / "pilot" / "outbox"
    files = sorted((outbox / "acme-tms").glob("status_*.csv"))
    assert len(files) >= 1 and summary["status_files"] == len(files) + 2  # + one 214 and one IFTSTA file
    rows = [r for f in files for r in csv.DictReader(f.read_text("utf-8").splitlines())]
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    # every EDI and SOAP parcel is booked, deposited, then collected or expired (the others are in the CSV files)
    others = EDI_PARCELS + (summary["soap_status_calls"] + summary["soap_status_refused"]) // 3
    assert by_status["BOOKED"] == summary["booked"] - others
    assert by_status["DEPOSITED"] == summary["deposited"] - others
    assert by_status["COLLECTED"] + by_status["PICKUP_EXPIRED"] == summary["deposited"] - others
    assert by_status["REJECTED"] == summary["rejected"]
    (x12,) = (outbox / "acme-x12").glob("214_*.edi")
    (edifact,) = (outbox / "acme-edifact").glob("iftsta_*.edi")
    at7 = [line for line in x12.read_text("ascii").splitlines() if line.startswith("AT7*")]
    sts = [line for line in edifact.read_text("latin-1").splitlines() if line.startswith("STS+")]
    # 214: deposited + collected/expired per parcel; IFTSTA also reports BOOKED (9011 code 6)
    assert (len(at7), len(sts)) == (2 * 3, 3 * 2)
    # booked, deposited, collected/expired of each EDI parcel; every SOAP status call
    assert len(rows) + 3 * EDI_PARCELS + summary["soap_status_calls"] == summary["status_messages"]
    assert [int(r["sequence"]) for r in rows] == sorted(int(r["sequence"]) for r in rows)
    assert len({(r["parcel_id"], r["status"]) for r in rows}) == len(rows)  # nothing reported twice


def test_edi_files_are_acknowledged_per_transaction(demo_run: tuple[dict, Path]) -> None:
    _, workdir = demo_run
    outbox = workdir / "examples" / "pilot" / "outbox"
    (x12,) = (outbox / "acme-x12").glob("ack_*.edi")
    lines = x12.read_text("ascii").splitlines()
    assert [line for line in lines if line.startswith(("AK2*", "IK5*", "AK9*"))] == [
        "AK2*204*0001~", "IK5*A~", "AK2*204*0002~", "IK5*A~", "AK2*204*0003~", "IK5*R*4~", "AK9*P*3*3*2~"]
    tenders = [line.split("*") for line in lines if line.startswith("B1*")]
    assert [(b1[2], b1[4]) for b1 in tenders] == [("ACME-204-0001", "A~"), ("ACME-204-0002", "A~")]
    (edifact,) = (outbox / "acme-edifact").glob("ack_*.edi")
    lines = edifact.read_text("latin-1").splitlines()
    assert [line for line in lines if line.startswith(("UCM+", "ERC+", "RFF+"))] == [
        "UCM+1+IFTMIN:D:04A:UN+7'", "UCM+2+IFTMIN:D:04A:UN+4+29+UNT+1'", "UCM+3+IFTMIN:D:04A:UN+7'",
        "RFF+ACW:3'", "ERC+LH01'"]


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
    soap = [i for i in items if i["partner"] == "acme-soap"]
    assert len(items) - len(soap) == 4 + EDI_BROKEN + EDI_REFUSED
    assert {i["stage"] for i in soap} == {"soap", "bus"}
    joined = " ".join(e for i in items for e in i["errors"])
    assert "unknown locker: expected a locker id of the network, found 'WAW-XX-999'" in joined
    assert "ErrorCode=UNKNOWN_SHIPMENT; ErrorText=shipment ACME-SOAP-004 is not known to this TMS" in joined
    assert "column weight_kg -> parcels[0].weight_g: expected a number, found 'twelve'" in joined
    assert "check digit" in joined
    assert "Test Recipient" not in listing.stdout  # payloads are not listed
