"""The soap connector's outbound side against the TMS simulator over real HTTP: fetch with positions, status posts,
WS-Security, SOAP 1.1 and 1.2 faults as errors with their detail, retries on outages, hostile responses, config."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lockerhub_soap.client import TmsClient, TmsFault
from lockerhub_soap.config import SoapConfig
from lockerhub_soap.connector import SoapConnector
from lockerhub_soap.tmssim import WSDL, Package, TmsShipment, TmsSimulator, TmsState

from lockerhub.errors import ConfigError, ParseError, TransientError
from lockerhub.model import ParcelEvent, ParcelStatus
from lockerhub.plugins.protocols import StatusUpdate
from lockerhub.plugins.registry import registry
from lockerhub.runtime.retry import RetryPolicy

ROOT = Path(__file__).resolve().parents[3]
USER, PASSWORD = "hub", "client-test-password"  # not a credential: the simulator takes what it is given


@pytest.fixture
def tms() -> Iterator[TmsSimulator]:
    shipments = [TmsShipment("T-1", "Test Recipient", (Package("T-1-A", Decimal("2.5"), Decimal(40), Decimal(30),
                                                               Decimal(10)),), locker_id="WAW-01")]
    with TmsSimulator(TmsState(shipments=shipments, username=USER, password=PASSWORD)) as server:
        yield server


def connector(tms: TmsSimulator, **extra: object) -> SoapConnector:
    config = SoapConfig(**{
        "wsdl_url": tms.wsdl_url, "username": USER, "password": PASSWORD, "retries": 2,
        "fetch_operation": "GetNewShipments", "fetch_records": "Shipments/Shipment",
        "fetch_mapping": ROOT / "mappings/acme-soap/get_new_shipments.yaml",
        "status_operation": "PostParcelStatus", "status_mapping": ROOT / "mappings/acme-soap/post_status.yaml",
        **extra})
    found = SoapConnector(config)
    found.client.retry = RetryPolicy(attempts=config.retries, base_s=0.01, cap_s=0.02)
    return found


def update(sequence: int, ref: str = "T-1") -> StatusUpdate:
    event = ParcelEvent(status=ParcelStatus.DEPOSITED, occurred_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
                        source="simlocker", locker_id="WAW-01")
    return StatusUpdate(partner="acme-soap", shipment_reference=ref, parcel_id=f"{ref}-A", event=event,
                        sequence=sequence)


def test_registered_with_its_capabilities() -> None:
    cls = registry().load("soap")
    assert cls is SoapConnector
    assert {c.value for c in cls.capabilities} == {"read", "write_status", "fetch", "push"}


def test_fetch_maps_shipments_with_positions(tms: TmsSimulator) -> None:
    (record,) = list(connector(tms).fetch(partner="acme-soap"))
    assert record.errors == () and record.shipment is not None
    assert record.shipment.reference == "T-1" and record.shipment.parcels[0].weight_g == 2500
    assert record.location.path == "/Envelope/Body/GetNewShipmentsResponse/Shipments/Shipment"
    weight = record.lineage["parcels[0].weight_g"]
    assert weight.path == "/Envelope/Body/GetNewShipmentsResponse/Shipments/Shipment/Packages/Package/Weight"
    assert weight.line and weight.line > record.location.line


@pytest.mark.parametrize("port", ["TransportSoap11", "TransportSoap12"])
def test_status_posts_and_faults_of_both_soap_versions(tms: TmsSimulator, port: str) -> None:
    sink = connector(tms, port=port)
    assert sink.write_status([update(7), update(8)]) == []
    assert sorted(tms.state.statuses) == [7, 8] and tms.state.statuses[7]["StatusCode"] == "IN_LOCKER"
    sink.write_status([update(7)])  # at least once: the TMS drops the repeat by MessageId
    assert len(tms.state.statuses) == 2
    tms.state.reject = {"T-9"}
    with pytest.raises(TmsFault) as fault:
        sink.write_status([update(9, "T-9")])
    assert fault.value.code == ("soap:Client" if port.endswith("11") else "soap:Sender")
    assert fault.value.detail == "ErrorCode=UNKNOWN_SHIPMENT; ErrorText=shipment T-9 is not known to this TMS"
    assert "T-9 is not known" in fault.value.render()


def test_outage_is_retried_then_transient(tms: TmsSimulator) -> None:
    sink = connector(tms)
    tms.state.unavailable = 1
    sink.write_status([update(1)])  # one 503, then the retry goes through
    assert list(tms.state.statuses) == [1]
    tms.state.unavailable = 5
    with pytest.raises(TransientError, match="HTTP 503"):
        sink.write_status([update(2)])


def test_wrong_password_is_a_fault_and_a_missing_one_a_config_error(tms: TmsSimulator,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TmsFault, match="password is wrong"):
        connector(tms, password="wrong-password").write_status([update(1)])
    monkeypatch.delenv("LOCKERHUB_SOAP_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="without a password"):
        connector(tms, password=None, password_env="NO_SUCH_VARIABLE").write_status([update(1)])
    monkeypatch.setenv("ACME_TMS_PASSWORD", PASSWORD)
    connector(tms, password=None, password_env="ACME_TMS_PASSWORD", password_digest=True).write_status([update(3)])
    assert 3 in tms.state.statuses


class Bait(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        Bait.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_hostile_response_is_refused_and_nothing_fetched(tms: TmsSimulator) -> None:
    Bait.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Bait)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        tms.state.hostile = f"http://127.0.0.1:{server.server_address[1]}/xxe"
        with pytest.raises(ParseError, match="DTD refused"):
            list(connector(tms).fetch(partner="acme-soap"))
    finally:
        server.shutdown()
        server.server_close()
    assert Bait.hits == []


def test_local_wsdl_with_address_override_and_check(tms: TmsSimulator) -> None:
    sink = connector(tms, wsdl_url=None, wsdl=WSDL, address=f"{tms.url}/transport")
    result = sink.check()
    assert result.ok, [(i.name, i.message) for i in result.items]
    assert {i.name for i in result.items} >= {"wsdl", "operation GetNewShipments", "operation PostParcelStatus",
                                              "fetch mapping", "status mapping", "inbound credentials"}
    sink.write_status([update(4)])
    assert 4 in tms.state.statuses
    bad = connector(tms, status_operation="PostStatus")
    check = {i.name: i for i in bad.check().items}
    assert not check["operation PostStatus"].ok and "PostParcelStatus" in check["operation PostStatus"].message


def test_unreachable_wsdl_and_foreign_imports_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be loaded"):
        TmsClient(SoapConfig(wsdl=tmp_path / "missing.wsdl")).operations()
    importing = tmp_path / "importing.wsdl"
    importing.write_text(WSDL.read_text("utf-8").replace(
        '<wsdl:types>', '<wsdl:import namespace="urn:x" location="http://elsewhere.invalid/x.wsdl"/><wsdl:types>'),
        "utf-8")
    with pytest.raises(ConfigError, match="network refused"):
        TmsClient(SoapConfig(wsdl=importing)).operations()


def test_config_refuses_what_cannot_work(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs status_mapping"):
        SoapConfig(wsdl=WSDL, status_operation="PostParcelStatus")
    with pytest.raises(ValueError, match="both set"):
        SoapConfig(wsdl=WSDL, wsdl_url="http://127.0.0.1/x?wsdl")
    with pytest.raises(ValueError, match="without credentials"):
        SoapConfig(wsdl_url="http://user:pw@127.0.0.1/x?wsdl")
