"""The `lockerhub` command through its public interface (the same `main` the console script runs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lockerhub.schema import MODELS, drift

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "lockerhub.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=120, check=False)


def test_connectors_list_shows_builtins_with_capabilities() -> None:
    proc = cli("connectors", "list", "--json", "--strict")
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in json.loads(proc.stdout)}
    assert rows["csv"]["kind"] == "tms"
    assert {"read", "watch_inbox", "write_status"} <= set(rows["csv"]["capabilities"])
    assert rows["simlocker"]["kind"] == "locker-vendor"
    assert {"list_lockers", "precheck", "soft_reserve", "hard_book", "poll_status"} <= set(
        rows["simlocker"]["capabilities"])
    table = cli("connectors", "list")
    assert "simlocker" in table.stdout and "hard_book" in table.stdout


def test_connectors_check_names_wrong_field_and_expected_type(tmp_path: Path) -> None:
    config = tmp_path / "sim.yaml"
    config.write_text("base_url: http://127.0.0.1:9\ntimeout_s: soon\n", "utf-8")
    proc = cli("connectors", "check", "simlocker", "--config", str(config),
               env={"LOCKERHUB_SIMLOCKER_API_KEY": "x"})
    assert proc.returncode == 1
    assert f"{config}:2:12: error: timeout_s:" in proc.stderr
    assert "expected a number, found a string" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_connectors_check_unknown_key_suggests(tmp_path: Path) -> None:
    config = tmp_path / "csv.yaml"
    config.write_text("inbox: in\noutbox: out\nmaping: m.yaml\n", "utf-8")
    proc = cli("connectors", "check", "csv", "--config", str(config))
    assert proc.returncode == 1
    assert f"{config}:3:1: error: maping: unknown key" in proc.stderr
    assert "did you mean 'mapping'?" in proc.stderr
    assert f"{config}:1:1: error: mapping: required" in proc.stderr


def test_connectors_check_reports_unreachable_vendor(tmp_path: Path) -> None:
    config = tmp_path / "sim.yaml"
    config.write_text("base_url: http://127.0.0.1:9\ntimeout_s: 1\n", "utf-8")
    proc = cli("connectors", "check", "simlocker", "--config", str(config),
               env={"LOCKERHUB_SIMLOCKER_API_KEY": "x"})
    assert proc.returncode == 1
    assert "failed" in proc.stdout


def test_connectors_check_passes_against_simulator(tmp_path: Path, sim) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "sim.yaml"
    config.write_text(f"base_url: {sim.url}\n", "utf-8")
    proc = cli("connectors", "check", "simlocker", "--config", str(config))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_unknown_connector_did_you_mean() -> None:
    proc = cli("connectors", "check", "cvs", "--config", "x.yaml")
    assert proc.returncode == 1
    assert "no connector 'cvs'" in proc.stderr and "did you mean 'csv'?" in proc.stderr


def test_schema_export_writes_and_committed_schemas_do_not_drift(tmp_path: Path) -> None:
    proc = cli("schema", "export", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.schema.json" for n in MODELS)
    shipment = json.loads((tmp_path / "shipment.schema.json").read_text("utf-8"))
    assert shipment["$defs"]["Party"]["properties"]["phone"]["pii"] is True
    assert drift(ROOT / "schemas") == [], "schemas/ drifted from the models: run `lockerhub schema export`"
    assert cli("schema", "export", "--out", str(ROOT / "schemas"), "--check").returncode == 0


def test_every_command_has_help_with_example() -> None:
    for command in (["demo"], ["run"], ["ingest"], ["simulate"], ["connectors", "list"], ["connectors", "check"],
                    ["quarantine", "list"], ["quarantine", "show"], ["schema", "export"], ["edi", "validate"],
                    ["edi", "parse"], ["mapping", "validate"], ["mapping", "test"], ["mapping", "explain"],
                    ["mapping", "diff"], ["mapping", "reference"]):
        proc = cli(*command, "--help")
        assert proc.returncode == 0, command
        assert "Example" in proc.stdout, command


@pytest.mark.parametrize("module", ["lockerhub.cli", "lockerhub.runtime.pipeline", "lockerhub.demo"])
def test_core_imports_without_airflow(module: str) -> None:
    code = f"import sys, {module}; sys.exit(1 if any(m.split('.')[0] == 'airflow' for m in sys.modules) else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_a_bad_option_is_a_usage_error_not_a_traceback() -> None:
    result = cli("demo", "--parcels", "0")
    assert result.returncode == 2, result.stderr
    assert "Invalid value for '--parcels'" in result.stderr and "Traceback" not in result.stderr
    unknown = cli("demo", "--vendors", "dhl")
    assert unknown.returncode == 2 and "dhl" in unknown.stderr and "Traceback" not in unknown.stderr
