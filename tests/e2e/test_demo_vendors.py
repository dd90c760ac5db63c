"""`lockerhub demo --vendors ...` through the CLI (typer's CliRunner, in process): the one network shared out among
several simulated vendors, parcels booked, deposited and collected or expired at each, the summary counted per
vendor; with the MQTT cabinets when Mosquitto is reachable; usage errors and an unreachable broker said clearly."""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from rich.console import Console
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from lockerhub.cli import app
from lockerhub.demo import NETWORK_REGIONS, ROUTED_REGIONS, DemoSummary, split_network
from lockerhub.simulator import build_network

PARCELS, LOCKERS, SEED = 60, 16, 11
HTTP_VENDORS = ["inpost", "boxnow", "gls"]
MQTT_URL = os.environ.get("LOCKERHUB_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
FINAL = {"COLLECTED", "PICKUP_EXPIRED", "REJECTED"}  # every booked parcel is deposited, then collected or expired
COUNTS = ("booked", "deposited", "collected", "expired")


def demo(data_dir: Path, *args: str) -> Any:
    env = {"LOCKERHUB_DATA_DIR": str(data_dir), "LOCKERHUB_DATABASE_URL": None, "LOCKERHUB_PII_KEYS": None}
    return CliRunner(env=env).invoke(app, ["demo", "--seed", str(SEED), "--parcels", str(PARCELS),
                                           "--lockers", str(LOCKERS), *args])


def flat(output: str) -> str:
    """Output with rich's box drawing and line wrapping taken out."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())


def parcels(workdir: Path) -> list[dict[str, Any]]:
    engine = create_engine(f"sqlite:///{workdir / 'lockerhub.db'}")
    try:
        with engine.connect() as db:
            rows = db.execute(text("SELECT status, reason, vendor, locker_id, reservation_id FROM parcels"))
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def check_run(summary: dict[str, Any], workdir: Path, vendors: list[str]) -> None:
    """Each vendor booked parcels at its own lockers; every parcel ended collected, expired or rejected with a
    reason; the per-vendor counts add up to the totals."""
    assert list(summary["vendors"]) == vendors
    for name, counts in summary["vendors"].items():
        assert counts["booked"] > 0, name
        assert counts["deposited"] == counts["booked"], name
        assert counts["collected"] + counts["expired"] == counts["deposited"], name
    for key in COUNTS:
        assert sum(c[key] for c in summary["vendors"].values()) == summary[key], key
    assert sum(c["lockers"] for c in summary["vendors"].values()) == LOCKERS
    assert summary["booked"] + summary["rejected"] == summary["accepted"]
    assert summary["collected"] > summary["expired"] > 0

    rows = parcels(workdir)
    assert len(rows) == summary["accepted"]
    assert {r["status"] for r in rows} <= FINAL
    rejected = [r for r in rows if r["status"] == "REJECTED"]
    assert len(rejected) == summary["rejected"] and all(r["reason"] for r in rejected)
    assert sum(summary["rejected_reasons"].values()) == summary["rejected"]
    booked = [r for r in rows if r["status"] != "REJECTED"]
    assert all(r["vendor"] in vendors and r["reservation_id"] and r["locker_id"] for r in booked)
    shares = split_network(build_network(LOCKERS, seed=SEED, regions=NETWORK_REGIONS), vendors)
    for r in booked:  # booked with the vendor whose network holds the locker
        assert r["locker_id"] in {lk.locker_id for lk in shares[r["vendor"]]}
    for name in vendors:
        mine = [r for r in booked if r["vendor"] == name]
        assert len(mine) == summary["vendors"][name]["booked"]
        assert sum(r["status"] == "COLLECTED" for r in mine) == summary["vendors"][name]["collected"]

    config = workdir / "examples" / "pilot" / "lockerhub.yaml"
    raw = config.read_text("utf-8")
    hub = yaml.safe_load(raw)
    assert list(hub["vendors"]) == vendors and hub["routing"]["vendors"] == vendors
    assert {ref["connector"] for ref in hub["vendors"].values()} == set(vendors)
    assert hub["routing"]["regions"] == ["WAW", "KRK", "GDN"] and "vendor" not in hub["routing"]
    assert set(hub["partners"]) == {"acme-tms", "acme-x12", "acme-edifact", "acme-soap"}
    assert not re.search(r"demo-[0-9a-f]{16}", raw)  # the run's one-off secrets stay in the environment
    for ref in hub["vendors"].values():
        assert not {"token", "api_key", "client_secret", "password", "base_url"} & set(ref["config"])


# --------------------------------------------------------------------------- three HTTP vendors


@pytest.fixture(scope="module")
def http_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    data_dir = tmp_path_factory.mktemp("vendors")
    result = demo(data_dir, "--vendors", ",".join(HTTP_VENDORS), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), data_dir / "demo"


def test_three_vendors_side_by_side(http_run: tuple[dict[str, Any], Path]) -> None:
    summary, workdir = http_run
    check_run(summary, workdir, HTTP_VENDORS)
    assert not any(name.startswith(("LOCKERHUB_INPOST_", "LOCKERHUB_BOXNOW_", "LOCKERHUB_GLS_"))
                   for name in os.environ)  # set for the run only


def test_summary_table_has_a_line_per_vendor(http_run: tuple[dict[str, Any], Path]) -> None:
    summary, _ = http_run
    console = Console(record=True, width=140)
    DemoSummary(**summary).print(console)
    shown = console.export_text()
    for name, counts in summary["vendors"].items():
        line = next(line for line in shown.splitlines() if f"at {name} " in line)
        assert str(counts["booked"]) in line
        assert f"{counts['collected']} collected, {counts['expired']} expired" in line


def test_same_seed_same_split(http_run: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    summary, _ = http_run
    result = demo(tmp_path, "--vendors", ",".join(HTTP_VENDORS), "--json")
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)
    assert {k: v for k, v in again.items() if k != "outputs"} == {k: v for k, v in summary.items() if k != "outputs"}


def test_every_city_has_lockers_of_several_vendors() -> None:
    network = build_network(LOCKERS, seed=SEED, regions=NETWORK_REGIONS)
    for vendors in (HTTP_VENDORS, [*HTTP_VENDORS, "mqtt-cabinet"], ["gls", "inpost"]):
        shares = split_network(network, vendors)
        ids = [lk.locker_id for share in shares.values() for lk in share]
        assert sorted(ids) == sorted(lk.locker_id for lk in network)  # disjoint, and nothing left out
        for region in ROUTED_REGIONS:
            owners = {name for name, share in shares.items() for lk in share if lk.region == region}
            assert len(owners) >= 2, (vendors, region)
    assert split_network(network, ["simlocker"]) == {"simlocker": network}


# --------------------------------------------------------------------------- and the MQTT cabinets


@pytest.fixture
def broker_url() -> str:
    from tests.integration.conftest import service_missing

    parts = urlsplit(MQTT_URL)
    try:
        import paho.mqtt.client  # noqa: F401
    except ImportError as exc:
        service_missing("paho-mqtt (the mqtt extra)", exc)
    try:
        socket.create_connection((parts.hostname, parts.port or 1883), timeout=3).close()
    except OSError as exc:
        service_missing(f"Mosquitto at {parts.hostname}:{parts.port or 1883}", exc)
    return MQTT_URL


@pytest.mark.integration
def test_four_vendors_with_mqtt_cabinets(broker_url: str, tmp_path: Path) -> None:
    vendors = [*HTTP_VENDORS, "mqtt-cabinet"]
    result = demo(tmp_path, "--vendors", ",".join(vendors), "--mqtt-url", broker_url, "--json")
    assert result.exit_code == 0, result.output
    check_run(json.loads(result.stdout), tmp_path / "demo", vendors)


# --------------------------------------------------------------------------- said clearly


def test_unknown_vendor_is_a_usage_error(tmp_path: Path) -> None:
    result = demo(tmp_path, "--vendors", "inpost,dhl")
    assert result.exit_code == 2
    said = flat(result.stderr)
    assert "Invalid value for '--vendors': unknown vendor 'dhl'" in said
    assert "simlocker, inpost, boxnow, gls, mqtt-cabinet" in said
    result = demo(tmp_path, "--vendors", "gls,inpost,gls")
    assert result.exit_code == 2 and "'gls' is listed twice" in flat(result.stderr)
    result = demo(tmp_path, "--vendors", "mqtt-cabinet", "--mqtt-url", "http://127.0.0.1:1883")
    assert result.exit_code == 2
    said = flat(result.stderr)
    assert "Invalid value for '--mqtt-url'" in said and "expected mqtt://host[:port] or mqtts://host[:port]" in said
    assert not (tmp_path / "demo").exists()


def test_unreachable_broker_fails_fast_with_one_paragraph(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"mqtt://127.0.0.1:{port}"
    result = demo(tmp_path, "--vendors", "inpost,mqtt-cabinet", "--mqtt-url", url)
    assert result.exit_code == 1
    said = result.stderr.strip()
    assert said.count("\n") == 0 and said.startswith("error: the mqtt-cabinet vendor needs an MQTT broker")
    assert f"at {url} does not answer" in said
    assert "Start Mosquitto" in said and "--mqtt-url or LOCKERHUB_MQTT_URL" in said
    assert "Traceback" not in result.output and result.stdout == ""
    assert not (tmp_path / "demo").exists()  # before anything was laid out


def test_too_few_lockers_for_the_vendors(tmp_path: Path) -> None:
    result = CliRunner(env={"LOCKERHUB_DATA_DIR": str(tmp_path)}).invoke(
        app, ["demo", "--vendors", "simlocker,inpost,boxnow,gls", "--lockers", "3"])
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: 3 lockers are too few for 4 vendors: gls would have none "
                                     "(give --lockers 4 or more)")
    assert not (tmp_path / "demo").exists()
