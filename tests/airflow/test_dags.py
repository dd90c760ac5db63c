"""The lockerhub DAGs in real Airflow: the DagBag imports them cleanly, and each runs with ``dag.test()`` against the
simulated locker network, its effects checked in the hub's store and outbox.

One pilot is shared by the tests of this module, in order: inbound sync books the EDI drops, status sync polls
within the vendor's budget and relays the changes, retention erases what is old enough and nothing else."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select, update

from lockerhub.demo import edi_drops, lay_out_pilot
from lockerhub.model import ParcelStatus
from lockerhub.runtime.booking import ACCESS_CODE_CONTEXT
from lockerhub.runtime.hub import Hub, utc_now
from lockerhub.settings import Settings
from lockerhub.simulator import SimulatorServer, World, build_network
from lockerhub.store import ParcelRow, QuarantineRow

RunDag = Any


def connection(conn_type: str, **fields: Any) -> str:
    """An Airflow Connection as the JSON an ``AIRFLOW_CONN_<ID>`` environment variable holds."""
    return json.dumps({"conn_type": conn_type, **fields})

pytestmark = pytest.mark.airflow

API_KEY = "airflow-test-only-key"  # not a credential: the simulator accepts the key it is started with
DAG_IDS = {"gdpr_retention", "locker_health", "locker_status_sync", "reconciliation", "tms_inbound_sync"}


class Pilot:
    def __init__(self, root: Path, world: World, env: dict[str, str]) -> None:
        self.root, self.world, self.env = root, world, env
        self.config = root / "examples" / "pilot" / "lockerhub.yaml"

    def hub(self) -> Hub:
        return Hub.open(self.config, settings=Settings(data_dir=self.root / "data"),
                        overrides={("vendors", "simlocker"): {"api_key": API_KEY, "base_url": self.env["url"]}})

    def statuses(self) -> dict[str, int]:
        hub = self.hub()
        try:
            with hub.store.transaction() as s:
                rows = s.execute(select(ParcelRow.status, func.count()).group_by(ParcelRow.status)).all()
            return {str(status): int(n) for status, n in rows}
        finally:
            hub.close()


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pilot]:
    root = tmp_path_factory.mktemp("airflow-pilot")
    config = lay_out_pilot(root)
    data = yaml.safe_load(config.read_text("utf-8"))
    data["vendors"]["simlocker"]["poll_budget"] = 6  # two polls per region and run (three pilot regions)
    config.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    # soft holds wait at the vendor until confirmed or cancelled (no expiry): reconciliation finds stale ones
    world = World(build_network(12, seed=5, regions=["WAW", "KRK", "GDN"]), seed=5, soft_ttl=None)
    with SimulatorServer(world, api_key=API_KEY) as server:
        env = {
            "url": server.url,
            "AIRFLOW_CONN_LOCKERHUB_DEFAULT": connection("lockerhub", host=str(config),
                                                         extra={"data_dir": str(root / "data")}),
            "AIRFLOW_CONN_LOCKERHUB_VENDOR_SIMLOCKER": connection("lockerhub_vendor", host=server.url,
                                                                  password=API_KEY),
        }
        yield Pilot(root, world, env)


def _run(run_dag: RunDag, pilot: Pilot, dag_id: str) -> dict[str, Any]:
    result = run_dag(dag_id, **{k: v for k, v in pilot.env.items() if k.startswith("AIRFLOW_")})
    assert result["state"] == "success", result["log"][-4000:]
    assert API_KEY not in result["log"]  # the vendor key is masked in task logs
    return result


def test_dagbag_imports_every_dag_cleanly(run_dag: RunDag, airflow_env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, str(Path(__file__).parent / "run_dag.py"), "--bag"], env=airflow_env,
                          capture_output=True, text=True, timeout=300, check=True)
    bag = json.loads(proc.stdout.strip().splitlines()[-1])
    assert bag["import_errors"] == {}
    assert DAG_IDS <= set(bag["dags"])
    for dag_id, dag in bag["dags"].items():
        assert dag["owners"] == ["lockerhub"] and dag["retries"] == [2], dag_id
        assert "lockerhub" in dag["tags"] and dag["catchup"] is False and dag["doc"], dag_id
    assert bag["dags"]["tms_inbound_sync"]["schedule"] == "0:05:00"
    assert bag["dags"]["locker_status_sync"]["schedule"] == "0:10:00"
    assert bag["dags"]["gdpr_retention"]["schedule"] == "@daily"
    assert bag["dags"]["locker_health"]["schedule"] == "1:00:00"


def test_inbound_sync_ingests_each_partner_and_books(run_dag: RunDag, pilot: Pilot) -> None:
    for partner, path in edi_drops():
        shutil.copy(path, pilot.config.parent / "inbox" / partner / path.name)
    result = _run(run_dag, pilot, "tms_inbound_sync")
    # one mapped ingest task per partner with files waiting (the CSV partner has none)
    assert result["tasks"] == {"drops_waiting": ["success"], "ingest": ["success", "success"], "book": ["success"]}
    # 204: two good tenders (3 parcels), IFTMIN: one good message (2 parcels); the broken and refused ones are kept
    assert pilot.statuses() == {"BOOKED": 5}
    outbox = pilot.config.parent / "outbox"
    assert len(list((outbox / "acme-x12").glob("ack_*.edi"))) == 1
    assert len(list((outbox / "acme-edifact").glob("ack_*.edi"))) == 1
    assert not list((pilot.config.parent / "inbox" / "acme-x12").glob("*.edi"))  # archived


def test_inbound_sync_is_skipped_when_nothing_waits(run_dag: RunDag, pilot: Pilot) -> None:
    result = run_dag("tms_inbound_sync", **{k: v for k, v in pilot.env.items() if k.startswith("AIRFLOW_")})
    assert result["tasks"] == {"drops_waiting": ["success"], "ingest": ["skipped"], "book": ["skipped"]}
    assert pilot.statuses() == {"BOOKED": 5}


def test_status_sync_polls_within_the_budget_and_relays(run_dag: RunDag, pilot: Pilot) -> None:
    hub = pilot.hub()
    try:
        with hub.store.transaction() as s:
            reservations = list(s.scalars(select(ParcelRow.reservation_id)))
    finally:
        hub.close()
    for reservation in reservations:
        pilot.world.deposit(reservation)
    first = _run(run_dag, pilot, "locker_status_sync")
    assert first["tasks"]["targets"] == ["success"] and first["tasks"]["sync"] == ["success"] * 3
    # a budget of 6 polls is two per region: WAW has 1 open parcel, KRK 4, GDN none -> three polled this run
    assert pilot.statuses() == {"BOOKED": 2, "DEPOSITED": 3}
    _run(run_dag, pilot, "locker_status_sync")  # the two left over in KRK are first in line
    assert pilot.statuses() == {"DEPOSITED": 5}
    outbox = pilot.config.parent / "outbox"
    at7 = [line for f in (outbox / "acme-x12").glob("214_*.edi") for line in f.read_text("ascii").splitlines()
           if line.startswith("AT7*")]
    assert len(at7) == 3  # the three 204 parcels, deposited, each reported once


def test_reconciliation_finds_each_seeded_discrepancy_once_and_publishes_the_report(  # type: ignore[no-untyped-def]
        run_dag: RunDag, pilot: Pilot) -> None:
    import requests

    hub = pilot.hub()
    try:
        with hub.store.transaction() as s:
            parcels = list(s.execute(select(ParcelRow.partner, ParcelRow.shipment_ref, ParcelRow.parcel_id,
                                            ParcelRow.reservation_id, ParcelRow.locker_id,
                                            ParcelRow.access_code_enc).order_by(ParcelRow.id)))
        code = hub.cipher.decrypt(parcels[0].access_code_enc, context=ACCESS_CODE_CONTEXT)
    finally:
        hub.close()
    api = requests.Session()
    api.headers["X-API-Key"] = API_KEY
    url = pilot.env["url"]
    # status_mismatch: a recipient collected parcel 1 at the locker; the hub has not polled since
    api.post(f"{url}/sim/pickup", json={"reservation_id": parcels[0].reservation_id, "access_code": code},
             timeout=5).raise_for_status()
    # orphan_booking: a booking made at the vendor behind the hub's back
    orphan = api.post(f"{url}/v1/reservations", json={"locker_id": parcels[0].locker_id, "size_class": "C"},
                      timeout=5).json()["reservation_id"]
    api.post(f"{url}/v1/reservations/{orphan}/confirm", timeout=5).raise_for_status()
    # missing_in_hub: the TMS's manifest lists a parcel it never sent
    manifests = pilot.config.parent / "manifests"
    manifests.mkdir()
    lines = [f"{p.partner},{p.shipment_ref},{p.parcel_id}" for p in parcels] + ["acme-x12,ACME-204-9999,P9999999"]
    (manifests / "manifest-20260315.csv").write_text("partner,shipment_ref,parcel_id\n" + "\n".join(lines) + "\n",
                                                      "utf-8")
    result = _run(run_dag, pilot, "reconciliation")
    (event,) = result["assets"]
    assert event["name"] == "lockerhub_reconciliation_report"
    assert event["extra"]["counts"] == {"missing_in_vendor": 0, "missing_in_hub": 1, "status_mismatch": 1,
                                        "orphan_booking": 1, "stale_reservation": 0}
    html = Path(event["extra"]["html"])
    assert html.is_file() and "orphan_booking" in html.read_text("utf-8")
    assert pilot.statuses() == {"COLLECTED": 1, "DEPOSITED": 4}  # the vendor was ahead: applied forward-only
    again = _run(run_dag, pilot, "reconciliation")  # fixed ones stay fixed; the rest are reported again
    assert again["assets"][0]["extra"]["counts"]["status_mismatch"] == 0
    assert again["assets"][0]["extra"]["total"] == 2


def test_retention_erases_old_finished_parcels_and_quarantine_payloads(run_dag: RunDag, pilot: Pilot) -> None:
    hub = pilot.hub()
    long_ago = utc_now() - timedelta(days=100)
    try:
        with hub.store.transaction() as s:
            first = s.scalar(select(ParcelRow.id).order_by(ParcelRow.id))
            s.execute(update(ParcelRow).where(ParcelRow.id == first)
                      .values(status=ParcelStatus.COLLECTED.value, updated_at=long_ago))
            # a parcel still in a locker is kept whatever its age
            s.execute(update(ParcelRow).where(ParcelRow.id != first).values(updated_at=long_ago))
            quarantined = s.scalar(select(func.count()).select_from(QuarantineRow))
            s.execute(update(QuarantineRow).values(created_at=long_ago))
    finally:
        hub.close()
    # the broken 204, the broken IFTMIN message, the refused one, and what reconciliation could not fix
    assert quarantined >= 3
    result = _run(run_dag, pilot, "gdpr_retention")
    assert result["tasks"] == {"erase": ["success"]}
    hub = pilot.hub()
    try:
        with hub.store.transaction() as s:
            rows = {r.id: r for r in s.scalars(select(ParcelRow))}
            items = list(s.scalars(select(QuarantineRow)))
    finally:
        hub.close()
    erased = [r for r in rows.values() if r.pii_erased_at is not None]
    assert [r.id for r in erased] == [first]
    assert erased[0].recipient_enc is None and erased[0].access_code_enc is None
    assert erased[0].status == ParcelStatus.COLLECTED.value and erased[0].parcel  # anonymised record kept
    assert all(r.recipient_enc for r in rows.values() if r.id != first)
    assert all(i.payload_enc == "" and i.payload_erased_at is not None and i.errors for i in items)
    again = _run(run_dag, pilot, "gdpr_retention")  # nothing left to erase
    assert again["state"] == "success"


def test_locker_health_flags_the_degrading_lockers_and_notifies(run_dag: RunDag, pilot: Pilot) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):  # the alert webhook of an incident tool
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"auth": self.headers.get("Authorization"), **json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = "alerts-test-only-token"  # not a credential
    try:
        env = {k: v for k, v in pilot.env.items() if k.startswith("AIRFLOW_")}
        env["AIRFLOW_CONN_LOCKERHUB_ALERTS"] = connection(
            "http", host=f"http://127.0.0.1:{server.server_port}/alerts", password=token)
        result = run_dag("locker_health", **env)
    finally:
        server.shutdown()
        server.server_close()
    assert result["state"] == "success", result["log"][-4000:]
    assert token not in result["log"]
    degrading = {p.locker_id for p in pilot.world.telemetry_profiles() if p.degradation}
    assert degrading  # the simulator's ground truth
    hub = pilot.hub()
    try:
        from lockerhub.health.alerts import open_alerts

        alerted = {a.locker_id for a in open_alerts(hub.store)}
    finally:
        hub.close()
    assert degrading <= alerted
    assert {r["alert"]["locker_id"] for r in received if r["change"] == "opened"} == alerted
    assert all(r["auth"] == f"Bearer {token}" for r in received)
    maintenance = (pilot.root / "data" / "health" / "maintenance.csv").read_text("utf-8").splitlines()
    assert len(maintenance) >= 1 + len(degrading)  # header + a visit for each degrading locker
