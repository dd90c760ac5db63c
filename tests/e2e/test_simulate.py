"""`lockerhub simulate`: vendors side by side as a training sandbox. A hub configured from the files it writes books
parcels there; a scenario plays the couriers and recipients; the hub follows. The CLI plays a scenario to the end."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from lockerhub.demo import lay_out_pilot
from lockerhub.model import ParcelStatus
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.pipeline import run_hub
from lockerhub.runtime.retry import RetryPolicy
from lockerhub.settings import Settings
from lockerhub.simulator.sandbox import Sandbox, parse_faults, read_env_file, run_sandbox
from lockerhub.simulator.scenario import Player, load
from lockerhub.simulator.tms_drops import render, rows
from lockerhub.store import ParcelRow

VENDORS = ["inpost", "gls"]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """The sandbox serving in a thread (no scenario) until the test ends."""
    stop, ready, running = threading.Event(), threading.Event(), {}

    def on_ready(box: Sandbox) -> None:
        running["box"] = box
        ready.set()

    thread = threading.Thread(target=run_sandbox, args=(VENDORS,), daemon=True, kwargs={
        "folder": tmp_path / "sandbox", "lockers": 12, "seed": 3, "on_ready": on_ready, "stop": stop})
    thread.start()
    assert ready.wait(30), "the sandbox did not start"
    yield running["box"]
    stop.set()
    thread.join(10)


def test_a_hub_configured_from_the_sandbox_files_follows_a_scripted_day(  # type: ignore[no-untyped-def]
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert stat.S_IMODE(sandbox.env_file.stat().st_mode) == 0o600
    env = read_env_file(sandbox.env_file)
    assert set(env) >= {"LOCKERHUB_INPOST_TOKEN", "LOCKERHUB_INPOST_BASE_URL", "LOCKERHUB_GLS_API_KEY"}
    sections = sandbox.vendors_file.read_text("utf-8")
    assert not any(value in sections for key, value in env.items() if "URL" not in key)  # no secret in YAML
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = lay_out_pilot(tmp_path / "pilot")  # the pilot's partners, with the sandbox's vendors pasted in
    hub_config = yaml.safe_load(config.read_text("utf-8"))
    hub_config.update(yaml.safe_load(sections))
    config.write_text(yaml.safe_dump(hub_config, sort_keys=False), "utf-8")

    lockers = [lk for world in sandbox.worlds.values() for lk in world.lockers(per_page=100)[0]]
    drop = rows(10, lockers, seed=4)
    for row in drop:
        row[9:13] = ["30", "20", "5", "1.5"]
    (config.parent / "inbox" / "acme-tms" / "day.csv").write_bytes(render(drop))
    clock = sandbox.sims[0].world

    def run() -> list[ParcelRow]:
        hub = Hub.open(config, settings=Settings(data_dir=tmp_path / "data"), clock=lambda: clock.now,
                       retry=RetryPolicy(sleep=lambda _: None))
        try:
            run_hub(hub)
            with hub.store.transaction() as s:
                return list(s.scalars(select(ParcelRow)))
        finally:
            hub.close()

    booked = run()
    assert {p.status for p in booked} == {ParcelStatus.BOOKED.value}
    assert {p.vendor for p in booked} == set(VENDORS)  # the recipients' lockers are at both vendors

    played = Player(load("courier-day"), sandbox.worlds).play()  # what `--scenario courier-day` plays
    assert sum(played[1].done.values()) == 10  # every booked parcel deposited
    final = run()
    assert {p.status for p in final} <= {ParcelStatus.COLLECTED.value, ParcelStatus.PICKUP_EXPIRED.value,
                                         ParcelStatus.RETURNING.value}
    assert any(p.status == ParcelStatus.COLLECTED.value for p in final)


def test_the_cli_plays_a_scenario_with_faults_to_the_end(tmp_path: Path) -> None:
    folder = tmp_path / "sandbox"
    env = {**os.environ, "LOCKERHUB_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-m", "lockerhub.cli", "simulate", "--vendors", "boxnow,gls", "--lockers", "10",
         "--faults", "0.1:500+503", "--scenario", "outage", "--step-every", "0", "--until-done",
         "--folder", str(folder)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "step 6: locker" in result.stdout and "LOCKERHUB_BOXNOW_*" in result.stdout
    secrets = [v for k, v in read_env_file(folder / "sandbox.env").items() if "URL" not in k and "PREFIX" not in k]
    assert secrets and not any(s in result.stdout + result.stderr for s in secrets)
    bad = subprocess.run([sys.executable, "-m", "lockerhub.cli", "simulate", "--faults", "lots"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "RATE[:KIND+KIND...]" in bad.stderr and "Traceback" not in bad.stderr


def test_fault_specs() -> None:
    plan = parse_faults("0.25:429+timeout")
    assert plan is not None and plan.rate == 0.25 and [k.value for k in plan.kinds] == ["429", "timeout"]
    assert parse_faults("0") is None
    for bad in ("2", "0.1:418", "x"):
        with pytest.raises(ValueError):
            parse_faults(bad)
