"""`lockerhub run` on the pilot config: a CSV drop with one broken row, then the same file again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from lockerhub.simulator.tms_drops import render, rows


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockerhub.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120, check=False)


def drop_with_broken_row(network, inbox: Path, name: str = "drop.csv", **fmt: str) -> Path:  # type: ignore[no-untyped-def]
    data = rows(4, network, seed=5)
    for r in data:
        r[9:13] = ["30", "20", "5", "1.5"]  # fits the smallest class everywhere
    data[2][12] = "twelve"  # line 4 (header is line 1), column 13
    path = inbox / name
    path.write_bytes(render(data, **fmt))
    return path


def run(config: Path) -> dict:
    proc = cli("run", str(config), "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_good_rows_booked_broken_row_quarantined_and_redrop_books_nothing(pilot: Path, sim, network) -> None:  # type: ignore[no-untyped-def]
    inbox = pilot.parent / "inbox" / "acme-tms"
    original = drop_with_broken_row(network, inbox)
    content = original.read_bytes()
    first = run(pilot)
    assert first["ingested"][0]["records"] == 4
    assert first["ingested"][0]["accepted"] == 3
    assert first["ingested"][0]["quarantined"] == 1
    assert first["booking"]["booked"] == 3
    assert first["relay"]["published"] == 3  # one BOOKED status message per parcel
    assert (inbox / "done" / "drop.csv").read_bytes() == content

    listing = json.loads(cli("quarantine", "list", "--json").stdout)
    assert len(listing) == 1
    assert listing[0]["location"] == f"{original}:4"
    assert listing[0]["errors"] == [f"{original}:4:13: error: column weight_kg -> parcels[0].weight_g: expected a "
                                    "number, found 'twelve' (rule: unit kg->g)"]
    shown = cli("quarantine", "show", listing[0]["qid"], "--reveal")
    assert "twelve" in shown.stdout  # the original row is kept, decryptable on request

    (inbox / "drop.csv").write_bytes(content)  # the TMS sends the same file again
    second = run(pilot)
    assert second["ingested"][0]["accepted"] == 0
    assert second["ingested"][0]["duplicates"] == 3
    assert second["booking"]["booked"] == 0
    assert second["relay"]["published"] == 0
    again = json.loads(cli("quarantine", "list", "--json").stdout)
    assert [i["attempts"] for i in again] == [2]  # the same broken row, not a second item
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["drop.1.csv", "drop.csv"]


def test_windows_drop_cp1252_semicolons_crlf(pilot: Path, sim, network) -> None:  # type: ignore[no-untyped-def]
    inbox = pilot.parent / "inbox" / "acme-tms"
    data = rows(3, [lk for lk in network if lk.region == "WAW"], seed=9)
    for r in data:
        r[3] = "Test Müller"  # a cp1252 character
        r[9:13] = ["30", "20", "5", "1,5"]  # decimal comma, as a Windows TMS writes it
    (inbox / "win.csv").write_bytes(render(data, delimiter=";", encoding="cp1252", newline="\r\n"))
    result = run(pilot)
    assert result["ingested"][0]["accepted"] == 3, result
    assert result["booking"]["booked"] == 3


def test_unreadable_config_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "lockerhub.yaml"
    bad.write_text("partners:\n  acme:\n    connector: csvv\nrouting:\n  vendor: nowhere\n", "utf-8")
    proc = cli("run", str(bad))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert f"{bad}:3:16: error: no connector 'csvv'" in lines[0] and "did you mean 'csv'?" in lines[0]
    assert lines[1].startswith(f"{bad}:5:11: error: routing.vendor: not a configured vendor")
    assert "Traceback" not in proc.stderr


def test_watch_mode_picks_up_a_file_dropped_between_passes(pilot: Path, sim, network) -> None:  # type: ignore[no-untyped-def]
    inbox = pilot.parent / "inbox" / "acme-tms"
    proc = subprocess.Popen([sys.executable, "-m", "lockerhub.cli", "run", str(pilot), "--interval", "0.5",
                             "--passes", "30", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the first pass found an empty inbox
        assert first.strip() == "{"
        drop_with_broken_row(network, inbox, name="later.csv")
        deadline = 60
        start = time.monotonic()
        while not (inbox / "done" / "later.csv").exists():
            assert time.monotonic() - start < deadline, "watch mode did not pick up the file"
            time.sleep(0.1)
    finally:
        proc.terminate()  # SIGTERM: the loop ends after the pass in progress
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
