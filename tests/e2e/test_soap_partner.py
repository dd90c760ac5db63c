"""A SOAP TMS partner end to end, over real HTTP on every side: the TMS simulator (its own WSDL, SOAP 1.1 and 1.2),
the hub's ingress (the inbound SOAP service, called with zeep as a TMS would) and the simulated locker network.

Done-when of the SOAP issue: a shipment pushed by a zeep client is booked; its status is posted back to the TMS over
SOAP; a SOAP fault from the TMS lands in quarantine with the fault detail; hostile XML is refused everywhere and
nothing is fetched."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import yaml
import zeep.exceptions
from lockerhub_soap.inbound import SOAP11, TNS, schema
from lockerhub_soap.tmssim import Package, TmsPusher, TmsShipment, TmsSimulator, TmsState
from lxml import etree
from sqlalchemy import select

from lockerhub.ingress.app import create_app
from lockerhub.runtime.booking import book_pending
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import ingest_file, ingest_inbox
from lockerhub.runtime.quarantine import list_items, show
from lockerhub.runtime.relay import relay_outbox
from lockerhub.runtime.replay import replay
from lockerhub.simulator import SimulatorServer
from lockerhub.simulator.server import AppServer
from lockerhub.store import ParcelRow

ROOT = Path(__file__).resolve().parents[2]
PARTNER = "acme-soap"
TMS_USER, TMS_PASSWORD = "lockerhub", "tms-test-password"  # not credentials: the simulator takes what it is given
PUSH_USER, PUSH_PASSWORD = "acme", "push-test-password"


def shipment(ref: str, locker: str, *, weight: str = "1.5", packages: int = 1) -> TmsShipment:
    return TmsShipment(reference=ref, name="Test Recipient", phone="+48000000001", city="Warszawa", zip="00-001",
                       locker_id=locker, packages=tuple(
                           Package(f"{ref}-P{n}", Decimal(weight), Decimal(30), Decimal(20), Decimal(5))
                           for n in range(1, packages + 1)))


@dataclass
class Stack:
    hub: Hub
    tms: TmsSimulator
    ingress: AppServer
    lockers: list[str]

    @property
    def endpoint(self) -> str:
        return f"{self.ingress.url}/tms/{PARTNER}"

    def pusher(self, *, password: str = PUSH_PASSWORD, digest: bool = False) -> TmsPusher:
        return TmsPusher(self.endpoint, username=PUSH_USER, password=password, digest=digest)

    def parcels(self) -> dict[str, str]:
        with self.hub.store.transaction() as s:
            return {r.parcel_id: r.status for r in s.scalars(select(ParcelRow).where(ParcelRow.partner == PARTNER))}


@pytest.fixture
def stack(pilot: Path, sim: SimulatorServer, network, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    state = TmsState(username=TMS_USER, password=TMS_PASSWORD)
    with TmsSimulator(state) as tms:
        monkeypatch.setenv("ACME_SOAP_PASSWORD", TMS_PASSWORD)
        monkeypatch.setenv("ACME_PUSH_PASSWORD", PUSH_PASSWORD)
        config = yaml.safe_load(pilot.read_text("utf-8"))
        config["partners"][PARTNER] = {"connector": "soap", "config": {
            "wsdl_url": tms.wsdl_url, "username": TMS_USER, "password_env": "ACME_SOAP_PASSWORD",
            "fetch_operation": "GetNewShipments", "fetch_records": "Shipments/Shipment",
            "fetch_mapping": str(ROOT / "mappings/acme-soap/get_new_shipments.yaml"),
            "status_operation": "PostParcelStatus",
            "status_mapping": str(ROOT / "mappings/acme-soap/post_status.yaml"),
            "inbound_username": PUSH_USER, "inbound_password_env": "ACME_PUSH_PASSWORD", "retries": 2}}
        pilot.write_text(yaml.safe_dump(config), "utf-8")
        hub = Hub.open(pilot)
        lockers = sorted(lk.locker_id for lk in network if lk.region in {"WAW", "KRK", "GDN"})
        with AppServer(lambda: create_app(hub)) as ingress:
            yield Stack(hub, tms, ingress, lockers)
        hub.close()


class Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        Counter.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"secret")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def bait() -> Iterator[str]:
    """A real HTTP server an XXE payload points at: any request reaching it is recorded."""
    Counter.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/bait"
    server.shutdown()
    server.server_close()


def test_pushed_shipment_is_booked_and_its_status_posted_back_over_soap(stack: Stack) -> None:
    pusher = stack.pusher()
    answer = pusher.create(shipment("SOAP-1", stack.lockers[0], packages=2))
    assert answer.result == "ACCEPTED"
    assert [p.status for p in answer.shipment.parcel] == ["CREATED", "CREATED"]
    again = pusher.create(shipment("SOAP-1", stack.lockers[0], packages=2))  # the TMS lost the answer, sends again
    assert again.result == "ALREADY_RECEIVED"
    book_pending(stack.hub)
    assert stack.parcels() == {"SOAP-1-P1": "BOOKED", "SOAP-1-P2": "BOOKED"}
    status = pusher.status("SOAP-1", "SOAP-1-P2")
    assert [(p.parcelId, p.status, p.lockerId) for p in status.parcel] == [
        ("SOAP-1-P2", "BOOKED", stack.lockers[0])]
    report = relay_outbox(stack.hub)
    assert report.refused == [] and report.deferred == {}
    posted = {(m["PackageNo"], m["StatusCode"]) for m in stack.tms.state.statuses.values()}
    assert {("SOAP-1-P1", "LOCKER_BOOKED"), ("SOAP-1-P2", "LOCKER_BOOKED")} <= posted
    assert relay_outbox(stack.hub).published == 0  # nothing twice


def test_password_digest_and_wrong_password(stack: Stack) -> None:
    assert stack.pusher(digest=True).create(shipment("SOAP-D", stack.lockers[0])).result == "ACCEPTED"
    with pytest.raises(zeep.exceptions.Fault) as refused:
        stack.pusher(password="wrong").create(shipment("SOAP-W", stack.lockers[0]))
    assert "password is wrong" in refused.value.message
    assert fault_code(refused.value) == "UNAUTHORISED"
    assert "SOAP-W-P1" not in stack.parcels()
    assert list_items(stack.hub.store) == []  # an unauthenticated request fills no quarantine


def fault_code(fault: zeep.exceptions.Fault) -> str:
    return fault.detail.find(f"{{{TNS}}}lockerhubFault/{{{TNS}}}code").text


def test_refusals_are_faults_valid_against_the_wsdl_and_kept(stack: Stack) -> None:
    pusher = stack.pusher()
    with pytest.raises(zeep.exceptions.Fault) as unknown:
        pusher.create(shipment("SOAP-U", "NO-SUCH-LOCKER"))
    detail = unknown.value.detail.find(f"{{{TNS}}}lockerhubFault")
    assert schema().validate(detail), schema().error_log
    assert detail.findtext(f"{{{TNS}}}code") == "REFUSED"
    assert detail.findtext(f"{{{TNS}}}reason") == "unknown_locker"
    qid = detail.findtext(f"{{{TNS}}}quarantineId")
    item = show(stack.hub.store, qid, cipher=stack.hub.cipher)
    assert item.stage == "soap" and "NO-SUCH-LOCKER" in (item.payload or "")
    assert "Security" not in (item.payload or "") and PUSH_PASSWORD not in (item.payload or "")
    pusher.create(shipment("SOAP-V", stack.lockers[1]))
    with pytest.raises(zeep.exceptions.Fault) as duplicate:  # another shipment under a used reference
        pusher.create(shipment("SOAP-V", stack.lockers[2]))
    assert duplicate.value.detail.findtext(f".//{{{TNS}}}reason") == "duplicate_shipment"
    with pytest.raises(zeep.exceptions.Fault) as gone:
        pusher.status("NOT-SENT")
    assert fault_code(gone.value) == "UNKNOWN_SHIPMENT"


def raw_push(stack: Stack, body: bytes) -> requests.Response:
    return requests.post(stack.endpoint, data=body, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=10)


def envelope(payload: str, *, user: str = PUSH_USER, password: str = PUSH_PASSWORD, prolog: str = "") -> bytes:
    security = ('<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-'
                f'secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>{user}</wsse:Username><wsse:Password>'
                f'{password}</wsse:Password></wsse:UsernameToken></wsse:Security>')
    return (f'{prolog}<soap:Envelope xmlns:soap="{SOAP11}" xmlns:t="{TNS}"><soap:Header>{security}</soap:Header>'
            f"<soap:Body>{payload}</soap:Body></soap:Envelope>").encode()


def fault_of(response: requests.Response) -> etree._Element:
    assert response.status_code == 500
    root = etree.fromstring(response.content)
    detail = root.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault/detail/{{{TNS}}}lockerhubFault")
    assert detail is not None and schema().validate(detail), schema().error_log
    return detail


def test_invalid_request_gets_positions_and_is_kept(stack: Stack) -> None:
    payload = ("<t:createShipment><t:shipment><t:reference>SOAP-X</t:reference><t:recipient><t:name>A</t:name>"
               "</t:recipient><t:parcels><t:parcel><t:parcelId>P</t:parcelId><t:lengthCm>ten</t:lengthCm>"
               "</t:parcel></t:parcels></t:shipment></t:createShipment>")
    detail = fault_of(raw_push(stack, envelope(payload)))
    assert detail.findtext(f"{{{TNS}}}code") == "BAD_REQUEST"
    errors = detail.findall(f"{{{TNS}}}error")
    assert errors and errors[0].findtext(f"{{{TNS}}}path").endswith("lengthCm")
    assert "ten" in errors[0].findtext(f"{{{TNS}}}found")
    assert detail.findtext(f"{{{TNS}}}quarantineId") in {i.qid for i in list_items(stack.hub.store)}


@pytest.mark.parametrize("hostile", ["xxe", "laughs", "soap12"])
def test_hostile_or_foreign_envelopes_are_refused_and_nothing_fetched(stack: Stack, bait: str, hostile: str) -> None:
    if hostile == "xxe":
        body = envelope("<t:getParcelStatus><t:reference>&x;</t:reference></t:getParcelStatus>",
                        prolog=f'<!DOCTYPE e [<!ENTITY x SYSTEM "{bait}">]>')
    elif hostile == "laughs":
        lol = "".join(f'<!ENTITY l{n} "{"&l%d;" % (n - 1) * 10}">' for n in range(1, 10))
        body = envelope("<t:getParcelStatus><t:reference>&l9;</t:reference></t:getParcelStatus>",
                        prolog=f'<!DOCTYPE e [<!ENTITY l0 "lol">{lol}]>')
    else:
        body = (b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>')
    response = raw_push(stack, body)
    detail = fault_of(response)
    assert detail.findtext(f"{{{TNS}}}code") == "BAD_REQUEST"
    if hostile != "soap12":
        assert "DTD" in detail.findtext(f"{{{TNS}}}error/{{{TNS}}}message")
    else:
        assert b"VersionMismatch" in response.content
    assert Counter.hits == []


def test_cancel_releases_the_locker_and_refuses_once_deposited(stack: Stack) -> None:
    pusher = stack.pusher()
    pusher.create(shipment("SOAP-C", stack.lockers[0]))
    pusher.create(shipment("SOAP-K", stack.lockers[0]))
    book_pending(stack.hub)
    cancelled = pusher.cancel("SOAP-C")
    assert [p.status for p in cancelled.parcel] == ["CANCELLED"]
    assert pusher.cancel("SOAP-C").parcel[0].status == "CANCELLED"  # cancelling again changes nothing
    with stack.hub.store.transaction() as s:
        reservation = s.scalar(select(ParcelRow.reservation_id).where(ParcelRow.parcel_id == "SOAP-K-P1"))
    requests.post(f"{stack.hub.vendor().config.base_url}/sim/deposit", json={"reservation_id": reservation},
                  headers={"X-API-Key": "test-only-key"}, timeout=10).raise_for_status()
    from lockerhub.runtime.sync import sync_statuses

    sync_statuses(stack.hub)
    with pytest.raises(zeep.exceptions.Fault) as late:
        pusher.cancel("SOAP-K")
    assert fault_code(late.value) == "NOT_CANCELLABLE"
    assert stack.parcels()["SOAP-K-P1"] == "DEPOSITED"


def test_fetch_takes_new_shipments_once(stack: Stack) -> None:
    stack.tms.state.shipments = [shipment("TMS-1", stack.lockers[0]), shipment("TMS-2", stack.lockers[1], packages=2)]
    first = ingest_inbox(stack.hub, PARTNER)
    assert [(r.records, r.accepted, r.error) for r in first] == [(2, 3, None)]
    second = ingest_inbox(stack.hub, PARTNER)
    assert [(r.records, r.accepted, r.duplicates) for r in second] == [(2, 0, 3)]
    stack.tms.state.unavailable = 10  # the TMS is down: reported, nothing lost, tried on the next run
    down = ingest_inbox(stack.hub, PARTNER)
    assert "HTTP 503" in (down[0].error or "")


def test_tms_fault_on_a_status_post_is_quarantined_with_its_detail_and_replayed(stack: Stack) -> None:
    pusher = stack.pusher()
    pusher.create(shipment("SOAP-R", stack.lockers[0]))
    pusher.create(shipment("SOAP-S", stack.lockers[1]))
    book_pending(stack.hub)
    stack.tms.state.reject = {"SOAP-R"}
    report = relay_outbox(stack.hub)
    assert len(report.refused) == 1
    item = show(stack.hub.store, report.refused[0], cipher=stack.hub.cipher)
    assert item.stage == "bus"
    assert "ErrorCode=UNKNOWN_SHIPMENT" in item.errors[0] and "soap:Client" in item.errors[0]
    assert {m["ShipmentNo"] for m in stack.tms.state.statuses.values()} == {"SOAP-S"}  # the rest flowed
    stack.tms.state.reject = set()
    outcome = replay(stack.hub, [report.refused[0]], dry_run=False)
    assert [r.outcome for r in outcome.results] == ["replayed"], outcome
    assert {m["ShipmentNo"] for m in stack.tms.state.statuses.values()} == {"SOAP-R", "SOAP-S"}


def test_tms_outage_defers_status_in_order(stack: Stack) -> None:
    stack.pusher().create(shipment("SOAP-O", stack.lockers[0]))
    book_pending(stack.hub)
    stack.tms.state.unavailable = 100
    report = relay_outbox(stack.hub)
    assert PARTNER in report.deferred and report.published == 0
    stack.tms.state.unavailable = 0
    assert relay_outbox(stack.hub).published >= 1
    assert {m["ShipmentNo"] for m in stack.tms.state.statuses.values()} == {"SOAP-O"}


def test_hostile_tms_response_is_refused_and_nothing_fetched(stack: Stack, bait: str) -> None:
    stack.tms.state.shipments = [shipment("TMS-H", stack.lockers[0])]
    stack.tms.state.hostile = bait
    report = ingest_inbox(stack.hub, PARTNER)
    assert "DTD" in (report[0].error or "")
    assert Counter.hits == []
    assert "TMS-H-P1" not in stack.parcels()


def test_captured_envelope_ingests_through_the_cli_path(stack: Stack, tmp_path: Path) -> None:
    pusher = stack.pusher()
    message = pusher.client.create_message(pusher.client.service, "createShipment",
                                           shipment=pusher.shipment(shipment("SOAP-F", stack.lockers[0])))
    path = tmp_path / "captured.xml"
    path.write_bytes(etree.tostring(message))
    records = list(stack.hub.partner(PARTNER).read(path, partner=PARTNER))
    assert records[0].shipment is not None and records[0].shipment.reference == "SOAP-F"
    assert records[0].lineage["parcels[0].weight_g"].path.endswith("weightKg")
    report = ingest_file(stack.hub, PARTNER, path)
    assert (report.records, report.accepted, report.archived_to) == (1, 1, None)
    assert path.exists()


def test_bus_worker_posts_status_and_dead_letters_a_tms_fault(stack: Stack) -> None:
    from lockerhub.bus import Topology, Worker
    from tests.unit.bus.conftest import wait_for

    pusher = stack.pusher()
    pusher.create(shipment("SOAP-B1", stack.lockers[0]))
    pusher.create(shipment("SOAP-B2", stack.lockers[1]))
    book_pending(stack.hub)
    stack.tms.state.reject = {"SOAP-B1"}
    worker = Worker(stack.hub, Topology(stack.hub.settings.resolved_broker_url()))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: any(i.stage == "bus" for i in list_items(stack.hub.store))
                 and any(m["ShipmentNo"] == "SOAP-B2" for m in stack.tms.state.statuses.values()),
                 what="the worker to post one status and dead-letter the other")
    finally:
        worker.stop()
        thread.join(timeout=30)
    (item,) = [i for i in list_items(stack.hub.store) if i.stage == "bus"]
    assert item.partner == PARTNER and "ErrorCode=UNKNOWN_SHIPMENT" in item.errors[0]
    assert worker.stats.dead_lettered == 1


def test_refused_push_replays_after_the_mapping_is_fixed(stack: Stack, pilot: Path) -> None:
    pusher = stack.pusher()
    coded = shipment("SOAP-M", stack.lockers[0])
    message = pusher.shipment(coded)
    message["parcels"]["parcel"][0]["temperature"] = "A"  # the TMS's own code, which the mapping does not know
    with pytest.raises(zeep.exceptions.Fault) as refused:
        pusher.client.service.createShipment(shipment=message)
    assert fault_code(refused.value) == "MAPPING"
    qid = refused.value.detail.findtext(f".//{{{TNS}}}quarantineId")
    again = replay(stack.hub, [qid], dry_run=False)
    assert [r.outcome for r in again.results] == ["failed"] and "SOAP-M-P1" not in stack.parcels()
    fixed = pilot.parent / "inbound_fixed.yaml"
    bundled = (ROOT / "connectors/soap/src/lockerhub_soap/inbound_shipment.yaml").read_text("utf-8")
    fixed.write_text(bundled.replace("version: 1", "version: 2").replace(
        "temperature: {op: text, of: temperature, case: lower, default: ambient}",
        "temperature: {op: lookup, of: temperature, table: {A: ambient, C: chilled}, default: ambient}"), "utf-8")
    config = yaml.safe_load(pilot.read_text("utf-8"))
    config["partners"][PARTNER]["config"]["inbound_mapping"] = str(fixed)
    pilot.write_text(yaml.safe_dump(config), "utf-8")
    hub = Hub.open(pilot)
    try:
        done = replay(hub, [qid], dry_run=False)
        assert [r.outcome for r in done.results] == ["replayed"], done
        with hub.store.transaction() as s:
            row = s.scalar(select(ParcelRow).where(ParcelRow.parcel_id == "SOAP-M-P1"))
            assert row is not None and row.parcel["temperature"] == "ambient"
    finally:
        hub.close()
    assert stack.parcels() == {"SOAP-M-P1": "BOOKED"}  # taken in and booked, once
