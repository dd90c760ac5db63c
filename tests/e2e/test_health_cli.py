"""`lockerhub health` against the simulated network: the degrading lockers are flagged, the healthy ones are not,
alerts open once and close when their condition clears."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from lockerhub.simulator import SimulatorServer, World
from lockerhub.simulator.telemetry import Degradation

# the alert each kind of degradation must raise on the simulated network's first day
EXPECTED = {Degradation.BATTERY: "battery_low_predicted", Degradation.COOLING: "temperature_high_predicted",
            Degradation.DOOR: "door_faults", Degradation.CONNECTIVITY: "offline"}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockerhub.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "160"}, timeout=120, check=False)


def health(config: Path, *args: str) -> dict[str, Any]:
    proc = cli("health", str(config), "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_degrading_lockers_are_flagged_and_healthy_ones_are_not(pilot: Path, sim: SimulatorServer, world: World,
                                                                 tmp_path: Path) -> None:
    degrading = {p.locker_id: p.degradation for p in world.telemetry_profiles() if p.degradation}
    assert len(degrading) == 4
    visits = tmp_path / "visits.csv"
    report = health(pilot, "--maintenance-csv", str(visits))

    assert report["as_of"] == world.now.isoformat()
    assert report["collected"][0]["received"] == report["collected"][0]["stored"] > 4000
    lockers = {h["locker_id"]: h for h in report["lockers"]}
    assert len(lockers) == 12
    for locker_id, h in lockers.items():
        kinds = {f["kind"] for f in h["flags"]}
        if locker_id in degrading:
            assert EXPECTED[degrading[locker_id]] in kinds, (locker_id, h["flags"])
        else:
            assert kinds == set() and h["score"] >= 90, (locker_id, h)
    for locker_id, kind in degrading.items():
        h = lockers[locker_id]
        if kind in (Degradation.BATTERY, Degradation.COOLING):  # not failing yet, but will within the horizon
            crossing = datetime.fromisoformat(h["predicted_at"])
            assert world.now < crossing <= world.now + timedelta(days=14)
        else:
            assert h["score"] < 80 and h["predicted_at"] is None
    opened = {(a["locker_id"], a["kind"]) for a in report["alerts"] if a["change"] == "opened"}
    assert {lid for lid, _ in opened} == set(degrading) and len(opened) == len(report["alerts"])

    with visits.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["locker_id"] for r in rows} == set(degrading)
    assert [r["locker_id"] for r in rows] == [m["locker_id"] for m in report["maintenance"]]
    assert rows[0]["severity"] == "critical" and rows[0]["locker_id"] == next(
        lid for lid, kind in degrading.items() if kind is Degradation.DOOR)  # 18 door faults this week

    again = health(pilot)  # a re-run: nothing new to store, no alert opened twice
    assert again["collected"][0]["stored"] == 0 and again["collected"][0]["duplicates"] > 0
    assert again["alerts"] == []


def test_alerts_follow_the_condition_as_time_moves(pilot: Path, sim: SimulatorServer, world: World) -> None:
    [battery] = [p.locker_id for p in world.telemetry_profiles() if p.degradation is Degradation.BATTERY]
    first = health(pilot)
    assert ("opened", battery, "battery_low_predicted") in {(a["change"], a["locker_id"], a["kind"])
                                                            for a in first["alerts"]}
    world.advance(timedelta(days=6))  # the battery is now below 30 %
    later = health(pilot)
    assert later["as_of"] == world.now.isoformat()
    changes = {(a["change"], a["kind"]) for a in later["alerts"] if a["locker_id"] == battery}
    assert changes == {("opened", "battery_low"), ("closed", "battery_low_predicted")}
    [h] = [h for h in later["lockers"] if h["locker_id"] == battery]
    assert h["score"] < 100 and [f["kind"] for f in h["flags"]] == ["battery_low"]


def test_table_output_and_bad_input(pilot: Path, sim: SimulatorServer, world: World) -> None:
    empty = cli("health", str(pilot), "--no-collect")
    assert empty.returncode == 0 and "no telemetry stored yet" in empty.stdout
    proc = cli("health", str(pilot))
    assert proc.returncode == 0, proc.stderr
    assert "Locker health as of 2026-01-05 08:00" in proc.stdout and "predicted crossing" in proc.stdout
    for p in world.telemetry_profiles():
        assert p.locker_id in proc.stdout
    assert "alert opened:" in proc.stdout and "visit 1:" in proc.stdout
    helped = cli("health", "--help")
    assert helped.returncode == 0 and "Example" in helped.stdout
    bad = cli("health", str(pilot), "--as-of", "yesterday")
    assert bad.returncode == 1 and "error: --as-of: expected an ISO 8601 time with offset" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_an_unreachable_vendor_is_reported_and_stored_telemetry_still_scored(pilot: Path, sim: SimulatorServer,
                                                                             world: World) -> None:
    first = health(pilot)
    world.inject_fault(503, count=50)  # more than the hub's bounded retries
    down = health(pilot)
    world.inject_fault(503, count=0)
    assert down["collected"][0]["error"] is not None and "503" in down["collected"][0]["error"]
    assert down["collected"][0]["stored"] == 0
    assert [h["score"] for h in down["lockers"]] == [h["score"] for h in first["lockers"]]
