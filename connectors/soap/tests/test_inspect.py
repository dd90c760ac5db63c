"""``lockerhub soap inspect`` and ``inspect_wsdl`` through their public interface: real-world multi-file carrier
WSDLs (Royal Mail Shipping API v2, Swiss Post barcode v2.4 and v2.2; see fixtures/wsdl/SOURCES.md) list their
services, ports, operations and the fields of their imported schemas; a real rpc/encoded WSDL (NOAA NDFD) is
reported as not callable with what to do; ``--json`` parses; and hostile or broken WSDLs (http imports without
--allow-network, XXE, entity bombs, missing imports) are refused with one clear error and no request sent.

The hostile and broken WSDLs are small hand-made documents written into tmp_path by the tests themselves.
"""

from __future__ import annotations

import http.server
import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lockerhub_soap.inspect import ENCODED_NOTE, WsdlReport, inspect_wsdl, render
from lockerhub_soap.transport import NetworkRefused
from rich.console import Console
from typer.testing import CliRunner

from lockerhub.cli import app, main
from lockerhub.errors import ConfigError, LockerhubError, ParseError

FIXTURES = Path(__file__).parent / "fixtures" / "wsdl"
ROYAL_MAIL = FIXTURES / "royalmail-shipping-v2" / "ShippingAPI_V2_0_9.wsdl"
SWISS_POST_24 = FIXTURES / "swisspost-barcode-v2_4" / "barcode_v2_4.wsdl"
SWISS_POST_22 = FIXTURES / "swisspost-barcode-v2_2-wsbc" / "barcode_v2_2_wsbc.wsdl"
SWISS_POST_22_PUBLISHED = FIXTURES / "swisspost-barcode-v2_2-wsbc" / "as-published" / "barcode_v2_2_wsbc.wsdl"
NDFD = FIXTURES / "noaa-ndfd-rpc-encoded" / "ndfdXML.wsdl"
DHL_BCS = FIXTURES / "dhl-business-shipping-3" / "geschaeftskundenversand-api-3.4.0.wsdl"
DHL_BCS_NS = "http://dhl.de/webservices/businesscustomershipping/3.0"  # bcs_base.xsd
DHL_CIS_NS = "http://dhl.de/webservice/cisbase"  # cis_base.xsd
DHL_BCS_OPERATIONS = ["createShipmentOrder", "validateShipment", "deleteShipmentOrder", "doManifest", "getLabel",
                      "getVersion", "getExportDoc", "getManifest", "updateShipmentOrder"]

SWISS_POST_OPERATIONS = ["ValidateCombination", "GenerateLabel", "GenerateSingleBarcodes", "ReadServiceGroups",
                         "ReadBasicServices", "ReadAllowedServicesByFrankingLicense", "ReadAdditionalServices",
                         "ReadDeliveryInstructions", "ReadLabelLayouts", "GenerateBarcode"]


def lockerhub(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's console 200 columns wide, so table cells are not folded mid-word."""
    monkeypatch.setattr("lockerhub.cli.console", Console(width=200))


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The installed ``lockerhub`` entry point (which turns errors into one line on stderr): exit code, stderr."""
    monkeypatch.setattr(sys, "argv", ["lockerhub", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0), capsys.readouterr().err


# --------------------------------------------------------------------------- real-world WSDLs


def test_royal_mail_shipping_api_v2_lists_operations_with_fields_from_the_imported_schemas() -> None:
    report = inspect_wsdl(ROYAL_MAIL)

    assert report.target_namespace == "http://www.royalmailgroup.com/api/ship/V2"
    assert [s.name for s in report.services] == ["shippingAPI"]
    port = report.service("shippingAPI").port("shippingAPIPort")
    assert (port.binding, port.soap_version, port.style) == ("shippingAPISoapBinding", "1.1", "document")
    assert port.address == "https://api.royalmail.net/shipping/v2"
    assert [op.name for op in port.operations] == [
        "createShipment", "printLabel", "createManifest", "printManifest", "updateShipment", "cancelShipment",
        "printDocument", "request1DRanges", "request2DItemIDRange"]
    # the WSDL's inline schema only imports; every type below comes from the imported XSDs, some two imports deep
    assert {"ShippingAPI_V2_0_9.xsd", "CDM/CommonClassesV2_3.xsd", "CDM/DatatypesV2_3.xsd",
            "oasis-200401-wss-wssecurity-secext-1.0.xsd", "oasis-200401-wss-wssecurity-utility-1.0.xsd",
            "xmldsig-core-schema.xsd", "xml.xsd"} <= set(report.documents)

    create = port.operation("createShipment")
    assert (create.style, create.use, create.callable, create.note) == ("document", "literal", True, "")
    assert create.soap_action == "createShipment"
    assert create.faults == ["faultResponse"]
    assert create.input.element == "createShipmentRequest"
    assert create.input.headers == ["security"]  # the WS-Security header part
    assert [f.name for f in create.input.fields] == ["integrationHeader", "requestedShipment"]
    shipment = create.input.field("requestedShipment")
    assert (shipment.type, shipment.type_namespace) == ("requestedShipment", "http://www.royalmailgroup.com/api/ship/V2")
    assert [f.name for f in shipment.fields][:4] == ["shipmentType", "serviceOccurrence", "serviceType",
                                                     "serviceOffering"]
    address = shipment.field("recipientAddress")
    assert (address.type, address.type_namespace) == ("address", "http://www.royalmailgroup.com/cm/common/V4")
    assert (address.min_occurs, address.max_occurs) == (0, 1)
    assert {"addressLine1", "postTown", "postcode", "country"} <= {f.name for f in address.fields}
    identification = create.input.field("integrationHeader").field("identification")
    assert identification.type == "identificationStructure" and identification.min_occurs == 1
    assert create.output.element == "createShipmentResponse"
    assert [f.name for f in create.output.fields][0] == "integrationHeader"
    assert {op.name for op in report.operations() if not op.callable} == set()


@pytest.mark.parametrize(("wsdl", "namespace", "address"), [
    (SWISS_POST_24, "https://wsbc.post.ch/wsbc/barcode/v2_4", "https://wsbc.post.ch/wsbc/barcode/v2_4"),
    (SWISS_POST_22, "https://www.mypostbusiness.ch/wsbc/barcode/v2_2", "https://int.wsbc.post.ch:443/wsbc/barcode/v2_2"),
])
def test_swiss_post_barcode_service_lists_operations_with_fields_from_the_imported_schema(
        wsdl: Path, namespace: str, address: str) -> None:
    report = inspect_wsdl(wsdl)

    assert report.target_namespace == namespace
    assert report.documents == [wsdl.name, wsdl.with_suffix(".xsd").name]
    port = report.service("BarcodeService").port("BarcodePort")
    assert (port.binding, port.soap_version, port.style, port.address) == ("BarcodeSoapBinding", "1.1", "document",
                                                                           address)
    assert [op.name for op in port.operations] == SWISS_POST_OPERATIONS

    label = port.operation("GenerateLabel")
    assert (label.style, label.use, label.callable) == ("document", "literal", True)
    assert label.input.element == "GenerateLabel"
    assert [f.name for f in label.input.fields] == ["Language", "Envelope"]
    envelope = label.input.field("Envelope")
    assert envelope.type == "(anonymous)"
    assert [f.name for f in envelope.fields] == ["LabelDefinition", "FileInfos", "Data"]
    assert envelope.field("LabelDefinition").type == "GenerateLabelDefinition"
    assert envelope.field("FileInfos").type == "GenerateLabelFileInfos"
    assert label.output.element == "GenerateLabelResponse"
    assert [f.name for f in label.output.fields] == ["Envelope"]

    basic = port.operation("ReadBasicServices")
    assert [(f.name, f.type, f.occurs) for f in basic.input.fields] == [
        ("Language", "Language", "1"), ("ServiceGroupID", "xsd:int", "1")]
    assert {f.name for f in basic.output.fields} == {"BasicService", "Errors"}
    assert all(f.choice for f in basic.output.fields)


def test_swiss_post_barcode_cli_table_and_json(wide: None) -> None:
    shown = lockerhub("soap", "inspect", str(SWISS_POST_24))
    assert shown.exit_code == 0, shown.output
    assert "BarcodeService / BarcodePort" in shown.stdout
    assert "GenerateLabel" in shown.stdout and "document/literal" in shown.stdout

    result = lockerhub("soap", "inspect", str(SWISS_POST_24), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["target_namespace"] == "https://wsbc.post.ch/wsbc/barcode/v2_4"
    (service,) = data["services"]
    (port,) = service["ports"]
    assert (service["name"], port["name"], port["binding"]) == ("BarcodeService", "BarcodePort", "BarcodeSoapBinding")
    operations = {op["name"]: op for op in port["operations"]}
    assert list(operations) == SWISS_POST_OPERATIONS
    barcode = operations["GenerateBarcode"]
    assert (barcode["style"], barcode["use"], barcode["callable"]) == ("document", "literal", True)
    definition = next(f for f in barcode["input"]["fields"] if f["name"] == "BarcodeDefinition")
    assert [f["name"] for f in definition["fields"]] == ["BarcodeType", "ImageFileType", "ImageResolution"]
    assert definition["fields"][2]["type"] == "xsd:int"


def test_rpc_encoded_wsdl_is_reported_not_callable_with_what_to_do() -> None:
    report = inspect_wsdl(NDFD)

    port = report.service("ndfdXML").port("ndfdXMLPort")
    assert (port.binding, port.style) == ("ndfdXMLBinding", "rpc")
    assert port.address == "http://graphical.weather.gov/xml/SOAP_server/ndfdXMLserver.php"
    names = [op.name for op in port.operations]
    assert names[:2] == ["NDFDgen", "NDFDgenByDay"]
    assert {"LatLonListZipCode", "CornerPoints", "LatLonListCityNames", "GmlTimeSeries"} <= set(names)
    for op in port.operations:
        assert (op.style, op.use, op.callable, op.note) == ("rpc", "encoded", False, ENCODED_NOTE)
    assert "zeep cannot call" in ENCODED_NOTE and "document/literal endpoint" in ENCODED_NOTE
    assert "adapter" in ENCODED_NOTE

    gen = port.operation("NDFDgen")
    assert gen.input.element == "NDFDgen"
    assert [(f.name, f.type) for f in gen.input.fields] == [
        ("latitude", "xsd:decimal"), ("longitude", "xsd:decimal"), ("product", "productType"),
        ("startTime", "xsd:dateTime"), ("endTime", "xsd:dateTime"), ("Unit", "unitType"),
        ("weatherParameters", "weatherParametersType")]
    assert gen.input.field("weatherParameters").field("maxt").type == "xsd:boolean"
    assert [(f.name, f.type) for f in gen.output.fields] == [("dwmlOut", "xsd:string")]


def test_rpc_encoded_cli_shows_not_callable_and_the_note(wide: None) -> None:
    result = lockerhub("soap", "inspect", str(NDFD))
    assert result.exit_code == 0, result.output
    assert "rpc/encoded" in result.stdout
    assert "no (rpc/encoded)" in result.stdout
    flat = " ".join(result.stdout.split())
    assert "zeep cannot call it" in flat and "document/literal endpoint" in flat

    data = json.loads(lockerhub("soap", "inspect", str(NDFD), "--json").stdout)
    operations = data["services"][0]["ports"][0]["operations"]
    assert {(op["callable"], op["use"]) for op in operations} == {(False, "encoded")}
    assert operations[0]["note"] == ENCODED_NOTE


def test_render_prints_one_table_per_port() -> None:
    console = Console(record=True, width=200)
    render(inspect_wsdl(ROYAL_MAIL), console)
    text = console.export_text()
    assert "shippingAPI / shippingAPIPort: binding shippingAPISoapBinding, SOAP 1.1, document" in text
    assert "header: security" in text
    assert "requestedShipment: requestedShipment [1]" in text
    assert "recipientAddress: address [0..1]" in text
    assert "faultResponse" in text


def test_report_as_dict_round_trips_through_json() -> None:
    report = inspect_wsdl(SWISS_POST_22)
    assert isinstance(report, WsdlReport)
    data = json.loads(json.dumps(report.as_dict()))
    assert data["services"][0]["ports"][0]["operations"][1]["name"] == "GenerateLabel"


def test_dhl_business_shipping_3_lists_operations_with_fields_from_both_imported_schemas() -> None:
    report = inspect_wsdl(DHL_BCS)

    assert report.target_namespace == DHL_BCS_NS
    # the WSDL's inline schema only imports cis_base and bcs_base; bcs_base imports cis_base again
    assert report.documents == ["geschaeftskundenversand-api-3.4.0.wsdl",
                                "geschaeftskundenversand-api-3.4.0-schema-cis_base.xsd",
                                "geschaeftskundenversand-api-3.4.0-schema-bcs_base.xsd"]
    assert report.notes == []
    assert [s.name for s in report.services] == ["GVAPI_2_0_de"]
    port = report.service("GVAPI_2_0_de").port("GKVAPISOAP11port0")
    assert (port.binding, port.soap_version, port.style) == ("GKV3XAPISOAP11Binding", "1.1", "document")
    assert port.address == "https://cig.dhl.de/services/production/soap"
    assert [op.name for op in port.operations] == DHL_BCS_OPERATIONS
    for op in port.operations:
        assert (op.style, op.use, op.callable, op.note) == ("document", "literal", True, "")
        assert op.soap_action == f"urn:{op.name}" and op.faults == []

    create = port.operation("createShipmentOrder")
    assert create.input.element == "CreateShipmentOrderRequest"
    assert create.input.headers == ["header"]  # the cis:Authentification header part
    assert [f.name for f in create.input.fields] == [
        "Version", "ShipmentOrder", "labelResponseType", "groupProfileName", "labelFormat", "labelFormatRetoure",
        "combinedPrinting"]
    assert [(f.name, f.occurs) for f in create.input.field("Version").fields] == [
        ("majorRelease", "1"), ("minorRelease", "0..1"), ("build", "0..1")]
    order = create.input.field("ShipmentOrder")
    assert (order.type, order.type_namespace) == ("ShipmentOrderType", DHL_BCS_NS)
    assert (order.min_occurs, order.max_occurs) == (1, 30)
    assert [f.name for f in order.fields] == ["sequenceNumber", "Shipment", "PrintOnlyIfCodeable"]
    shipment = order.field("Shipment")
    assert shipment.type == "(anonymous)"
    assert [(f.name, f.choice) for f in shipment.fields] == [
        ("ShipmentDetails", False), ("Shipper", True), ("ShipperReference", True), ("Receiver", False),
        ("ReturnReceiver", False), ("ExportDocument", False), ("feederSystem", False)]
    # ShipmentDetailsTypeType extends ShipmentDetailsType (bcs_base): base fields first, one of them a cis_base ref
    details = shipment.field("ShipmentDetails")
    assert (details.type, details.type_namespace) == ("ShipmentDetailsTypeType", DHL_BCS_NS)
    assert [f.name for f in details.fields][:2] == ["product", "accountNumber"]
    assert details.field("accountNumber").type_namespace == DHL_CIS_NS
    assert {"ShipmentItem", "Service", "Notification", "BankData"} <= {f.name for f in details.fields}
    assert (details.field("BankData").type, details.field("BankData").type_namespace) == ("BankType", DHL_CIS_NS)
    # bcs:ReceiverType: a cis:name1 ref, then a choice of three address types, all defined in cis_base.xsd
    receiver = shipment.field("Receiver")
    assert (receiver.type, receiver.type_namespace) == ("ReceiverType", DHL_BCS_NS)
    assert [(f.name, f.type, f.type_namespace, f.occurs, f.choice) for f in receiver.fields] == [
        ("name1", "name1", DHL_CIS_NS, "1", False),
        ("Address", "ReceiverNativeAddressType", DHL_CIS_NS, "0..1", True),
        ("Packstation", "PackStationType", DHL_CIS_NS, "0..1", True),
        ("Postfiliale", "PostfilialeTypeNoCountry", DHL_CIS_NS, "0..1", True),
        ("Communication", "CommunicationType", DHL_CIS_NS, "0..1", False)]
    address = receiver.field("Address")
    assert address.fields == [] and address.note == "nested fields not shown (depth limit)"
    assert create.output.element == "CreateShipmentOrderResponse"
    assert [f.name for f in create.output.fields] == ["Version", "Status", "CreationState"]
    assert create.output.field("Status").type == "Statusinformation"

    delete = port.operation("deleteShipmentOrder")
    assert delete.input.element == "DeleteShipmentOrderRequest" and delete.input.headers == ["header"]
    assert [(f.name, f.type, f.type_namespace, f.occurs) for f in delete.input.fields] == [
        ("Version", "(anonymous)", None, "1"), ("shipmentNumber", "shipmentNumber", DHL_CIS_NS, "1..30")]
    assert [f.name for f in port.operation("validateShipment").input.fields] == ["Version", "ShipmentOrder"]
    assert port.operation("validateShipment").input.field("ShipmentOrder").type == "ValidateShipmentOrderType"

    version = port.operation("getVersion")  # the only operation without the authentication header
    assert (version.input.element, version.input.headers) == ("Version", [])
    assert [f.name for f in version.input.fields] == ["majorRelease", "minorRelease", "build"]
    assert version.output.element == "GetVersionResponse"


def test_dhl_business_shipping_3_deeper_inspection_reaches_cis_base_address_fields() -> None:
    report = inspect_wsdl(DHL_BCS, depth=6)
    create = report.service("GVAPI_2_0_de").port("GKVAPISOAP11port0").operation("createShipmentOrder")
    address = create.input.field("ShipmentOrder").field("Shipment").field("Receiver").field("Address")
    assert (address.type, address.type_namespace) == ("ReceiverNativeAddressType", DHL_CIS_NS)
    assert [f.name for f in address.fields] == ["name2", "name3", "streetName", "streetNumber", "addressAddition",
                                                "dispatchingInformation", "zip", "city", "province", "Origin"]
    assert address.field("addressAddition").occurs == "0..2"
    assert (address.field("zip").type, address.field("zip").type_namespace) == ("ZipType", DHL_CIS_NS)
    origin = address.field("Origin")
    assert origin.type == "CountryType"
    assert [(f.name, f.type, f.occurs) for f in origin.fields] == [
        ("country", "country", "0..1"), ("countryISOCode", "countryISOType", "1"), ("state", "state", "0..1")]
    # services are attribute-only complex types in bcs_base.xsd
    service = create.input.field("ShipmentOrder").field("Shipment").field("ShipmentDetails").field("Service")
    cod = service.field("CashOnDelivery")
    assert cod.type == "ServiceconfigurationCashOnDelivery" and cod.occurs == "0..1"
    assert [(f.name, f.attribute, f.occurs) for f in cod.fields] == [("@active", True, "1"), ("@codAmount", True, "1")]


def test_dhl_business_shipping_3_cli_table_and_json(wide: None) -> None:
    shown = lockerhub("soap", "inspect", str(DHL_BCS))
    assert shown.exit_code == 0, shown.output
    assert "GVAPI_2_0_de / GKVAPISOAP11port0: binding GKV3XAPISOAP11Binding, SOAP 1.1, document" in shown.stdout
    assert "createShipmentOrder" in shown.stdout and "document/literal" in shown.stdout
    assert "header: header" in shown.stdout

    result = lockerhub("soap", "inspect", str(DHL_BCS), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["target_namespace"] == DHL_BCS_NS
    assert data["documents"][1:] == ["geschaeftskundenversand-api-3.4.0-schema-cis_base.xsd",
                                     "geschaeftskundenversand-api-3.4.0-schema-bcs_base.xsd"]
    (service,) = data["services"]
    (port,) = service["ports"]
    assert (service["name"], port["name"], port["binding"]) == ("GVAPI_2_0_de", "GKVAPISOAP11port0",
                                                                "GKV3XAPISOAP11Binding")
    assert port["address"] == "https://cig.dhl.de/services/production/soap"
    operations = {op["name"]: op for op in port["operations"]}
    assert list(operations) == DHL_BCS_OPERATIONS
    assert {(op["style"], op["use"], op["callable"]) for op in operations.values()} == {("document", "literal", True)}
    create = operations["createShipmentOrder"]
    assert (create["input"]["element"], create["input"]["headers"]) == ("CreateShipmentOrderRequest", ["header"])
    order = next(f for f in create["input"]["fields"] if f["name"] == "ShipmentOrder")
    assert (order["type"], order["type_namespace"], order["max_occurs"]) == ("ShipmentOrderType", DHL_BCS_NS, 30)
    (number,) = [f for f in operations["deleteShipmentOrder"]["input"]["fields"] if f["name"] == "shipmentNumber"]
    assert (number["type_namespace"], number["min_occurs"], number["max_occurs"]) == (DHL_CIS_NS, 1, 30)


# --------------------------------------------------------------------------- the network


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        body = self.server.documents.get(self.path)  # type: ignore[attr-defined]
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/xml")
        self.end_headers()
        self.wfile.write(body or b"not here")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass


TYPES_XSD = b"""<?xml version="1.0"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:test:remote"
            elementFormDefault="qualified">
  <xsd:element name="Ping">
    <xsd:complexType><xsd:sequence>
      <xsd:element name="parcelId" type="xsd:string"/>
      <xsd:element name="lockerId" type="xsd:string" minOccurs="0"/>
    </xsd:sequence></xsd:complexType>
  </xsd:element>
  <xsd:element name="Pong" type="xsd:string"/>
</xsd:schema>
"""


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 that serves ``/types.xsd`` and records every request path."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.hits = []  # type: ignore[attr-defined]
    httpd.documents = {"/types.xsd": TYPES_XSD, "/secret.txt": b"secret"}  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.hits  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def wsdl(types: str, *, prolog: str = "", documentation: str = "") -> str:
    """A small document/literal WSDL: one service ``PingService``, port ``PingPort``, operation ``Ping``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
{prolog}<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="urn:test:ping" xmlns:r="urn:test:remote" targetNamespace="urn:test:ping">
  <wsdl:documentation>{documentation}</wsdl:documentation>
  <wsdl:types>
    <xsd:schema targetNamespace="urn:test:ping">
      {types}
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="PingIn"><wsdl:part name="body" element="r:Ping"/></wsdl:message>
  <wsdl:message name="PingOut"><wsdl:part name="body" element="r:Pong"/></wsdl:message>
  <wsdl:portType name="PingPortType">
    <wsdl:operation name="Ping"><wsdl:input message="tns:PingIn"/><wsdl:output message="tns:PingOut"/></wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="PingBinding" type="tns:PingPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="Ping">
      <soap:operation soapAction="urn:ping"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="PingService">
    <wsdl:port name="PingPort" binding="tns:PingBinding"><soap:address location="https://tms.example.invalid/ping"/></wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""


def remote_import(base: str) -> str:
    return f'<xsd:import namespace="urn:test:remote" schemaLocation="{base}/types.xsd"/>'


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_http_import_is_refused_without_allow_network_and_nothing_is_sent(
        tmp_path: Path, server: tuple[str, list[str]]) -> None:
    base, hits = server
    document = write(tmp_path / "ping.wsdl", wsdl(remote_import(base)))

    with pytest.raises(NetworkRefused) as refused:
        inspect_wsdl(document)
    error = refused.value
    assert isinstance(error, ConfigError)
    assert error.found == f"{base}/types.xsd"
    assert error.location is not None and error.location.file == str(document) and error.location.line == 8
    assert "--allow-network" in (error.hint or "")
    assert "refused" in error.message

    result = lockerhub("soap", "inspect", str(document))
    assert result.exit_code == 1 and isinstance(result.exception, NetworkRefused)
    assert hits == []  # neither call reached the server


def test_http_import_loads_with_allow_network(tmp_path: Path, server: tuple[str, list[str]]) -> None:
    base, hits = server
    document = write(tmp_path / "ping.wsdl", wsdl(remote_import(base)))

    report = inspect_wsdl(document, allow_network=True)
    ping = report.service("PingService").port("PingPort").operation("Ping")
    assert [(f.name, f.type, f.occurs) for f in ping.input.fields] == [
        ("parcelId", "xsd:string", "1"), ("lockerId", "xsd:string", "0..1")]
    assert report.documents == ["ping.wsdl", f"{base}/types.xsd"]
    assert hits == ["/types.xsd"]  # fetched once: zeep built the model from the same bytes

    result = lockerhub("soap", "inspect", str(document), "--allow-network", "--json")
    assert result.exit_code == 0, result.output
    operation = json.loads(result.stdout)["services"][0]["ports"][0]["operations"][0]
    assert [f["name"] for f in operation["input"]["fields"]] == ["parcelId", "lockerId"]
    assert hits == ["/types.xsd", "/types.xsd"]


def test_real_wsdl_with_a_live_schema_import_is_refused_naming_the_url(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://int.wsbc.post.ch:443/wsbc/barcode/v2_2?xsd=1"
    with pytest.raises(NetworkRefused) as refused:
        inspect_wsdl(SWISS_POST_22_PUBLISHED)
    assert refused.value.found == url and refused.value.location.line == 4  # type: ignore[union-attr]

    code, err = run_main(monkeypatch, capsys, "soap", "inspect", str(SWISS_POST_22_PUBLISHED))
    assert code == 1
    (line,) = err.strip().splitlines()  # one clear line, no traceback
    assert line.startswith(f"{SWISS_POST_22_PUBLISHED}:4: error: import of '{url}'")
    assert "pass --allow-network" in line


def test_wsdl_url_is_refused_without_allow_network(server: tuple[str, list[str]]) -> None:
    base, hits = server
    with pytest.raises(NetworkRefused) as refused:
        inspect_wsdl(f"{base}/service.wsdl")
    assert refused.value.found == f"{base}/service.wsdl"
    assert hits == []


# --------------------------------------------------------------------------- hostile and broken WSDLs


def test_xxe_external_entity_is_refused_and_nothing_is_fetched(
        tmp_path: Path, server: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    base, hits = server
    prolog = f'<!DOCTYPE wsdl:definitions [<!ENTITY xxe SYSTEM "{base}/secret.txt">]>\n'
    document = write(tmp_path / "xxe.wsdl", wsdl(remote_import(base), prolog=prolog, documentation="&xxe;"))

    for allow_network in (False, True):
        with pytest.raises(ParseError) as refused:
            inspect_wsdl(document, allow_network=allow_network)
        assert refused.value.message == "XML with a DTD refused"
        assert refused.value.location.file == str(document) and refused.value.location.line == 2  # type: ignore[union-attr]

    code, err = run_main(monkeypatch, capsys, "soap", "inspect", str(document), "--allow-network")
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith(f"{document}:2") and "DTD refused" in line
    assert hits == []  # not the entity, not the schema import


def test_parameter_entity_fetching_a_remote_dtd_is_refused(tmp_path: Path, server: tuple[str, list[str]]) -> None:
    base, hits = server
    prolog = f'<!DOCTYPE wsdl:definitions [<!ENTITY % remote SYSTEM "{base}/evil.dtd"> %remote;]>\n'
    document = write(tmp_path / "param.wsdl", wsdl("", prolog=prolog))
    with pytest.raises(ParseError, match="DTD refused"):
        inspect_wsdl(document, allow_network=True)
    assert hits == []


def test_billion_laughs_is_refused_quickly(tmp_path: Path, server: tuple[str, list[str]]) -> None:
    _, hits = server
    entities = ['<!ENTITY lol "lol">', '<!ENTITY lol1 "' + "&lol;" * 10 + '">']
    entities += [f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(2, 10)]  # 10^9 "lol"s
    prolog = "<!DOCTYPE wsdl:definitions [\n" + "\n".join(entities) + "\n]>\n"
    document = write(tmp_path / "lol.wsdl", wsdl("", prolog=prolog, documentation="&lol9;"))

    started = time.perf_counter()
    with pytest.raises(ParseError) as refused:
        inspect_wsdl(document)
    assert time.perf_counter() - started < 5
    assert refused.value.message == "XML with a DTD refused"
    assert "DOCTYPE" in (refused.value.found or "")
    result = lockerhub("soap", "inspect", str(document))
    assert result.exit_code == 1 and isinstance(result.exception, ParseError)
    assert hits == []


def test_dtd_in_an_imported_schema_is_refused_naming_the_importer(
        tmp_path: Path, server: tuple[str, list[str]]) -> None:
    base, hits = server
    doctype = f'<!DOCTYPE xsd:schema [<!ENTITY x SYSTEM "{base}/secret.txt">]>'
    write(tmp_path / "types.xsd", TYPES_XSD.decode().replace("?>\n", "?>\n" + doctype + "\n", 1))
    document = write(tmp_path / "ping.wsdl",
                     wsdl('<xsd:import namespace="urn:test:remote" schemaLocation="types.xsd"/>'))
    with pytest.raises(ParseError) as refused:
        inspect_wsdl(document)
    assert refused.value.location.file == str(tmp_path / "types.xsd")  # type: ignore[union-attr]
    assert refused.value.hint == f"imported by {document}:8"
    assert hits == []


def test_missing_import_names_the_missing_file_and_the_importer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    document = write(tmp_path / "ping.wsdl",
                     wsdl('<xsd:import namespace="urn:test:remote" schemaLocation="schemas/types.xsd"/>'))
    with pytest.raises(ConfigError) as missing:
        inspect_wsdl(document)
    error = missing.value
    assert error.message == "imported document 'schemas/types.xsd' not found"
    assert error.location is not None and (error.location.file, error.location.line) == (str(document), 8)
    assert error.expected == f"a readable file at {tmp_path / 'schemas' / 'types.xsd'}"

    code, err = run_main(monkeypatch, capsys, "soap", "inspect", str(document))
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith(f"{document}:8: error: imported document 'schemas/types.xsd' not found")


def test_missing_nested_import_names_the_schema_that_imports_it(tmp_path: Path) -> None:
    write(tmp_path / "types.xsd", TYPES_XSD.decode().replace(
        'elementFormDefault="qualified">',
        'elementFormDefault="qualified">\n  <xsd:include schemaLocation="common/Datatypes.xsd"/>'))
    document = write(tmp_path / "ping.wsdl",
                     wsdl('<xsd:import namespace="urn:test:remote" schemaLocation="types.xsd"/>'))
    with pytest.raises(ConfigError) as missing:
        inspect_wsdl(document)
    assert missing.value.message == "imported document 'common/Datatypes.xsd' not found"
    assert missing.value.location.file == str(tmp_path / "types.xsd")  # type: ignore[union-attr]
    assert missing.value.location.line == 4  # type: ignore[union-attr]


def test_missing_or_unreadable_wsdl(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        inspect_wsdl(tmp_path / "nope.wsdl")
    assert missing.value.message == "WSDL not found"
    assert missing.value.location.file == str(tmp_path / "nope.wsdl")  # type: ignore[union-attr]

    with pytest.raises(ConfigError, match="directory"):
        inspect_wsdl(tmp_path)

    broken = write(tmp_path / "broken.wsdl", "<wsdl:definitions xmlns:wsdl='http://schemas.xmlsoap.org/wsdl/'>")
    with pytest.raises(ParseError) as syntax:
        inspect_wsdl(broken)
    assert syntax.value.message.startswith("XML syntax")

    result = lockerhub("soap", "inspect", str(tmp_path / "nope.wsdl"))
    assert result.exit_code == 1 and isinstance(result.exception, LockerhubError)


def test_zeep_warnings_become_report_notes(tmp_path: Path, wide: None) -> None:
    document = write(tmp_path / "ping.wsdl", wsdl(""))  # r:Ping is used, but nothing defines urn:test:remote
    report = inspect_wsdl(document)  # filterwarnings=error: a warning escaping inspect would fail this test
    assert report.service("PingService").port("PingPort").operations == []
    assert report.notes == [
        "zeep: The wsdl:message for '{urn:test:ping}PingIn' contains an invalid part ('body'): invalid xsd type "
        "or elements",
        "zeep: The wsdl:message for '{urn:test:ping}PingOut' contains an invalid part ('body'): invalid xsd type "
        "or elements",
        "zeep: The wsdl:operation 'Ping' was not found in the wsdl:portType '{urn:test:ping}PingPortType'"]
    result = lockerhub("soap", "inspect", str(document))
    assert result.exit_code == 0, result.output
    assert "note: zeep: The wsdl:operation 'Ping' was not found" in result.stdout


def test_cli_without_the_soap_connector_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lockerhub_soap.inspect", None)  # as if the distribution were not installed
    result = lockerhub("soap", "inspect", str(SWISS_POST_24))
    assert result.exit_code == 1
    assert isinstance(result.exception, LockerhubError)
    assert "lockerhub-soap" in (result.exception.hint or "")


def test_help_has_an_example() -> None:
    shown = lockerhub("soap", "inspect", "--help")
    assert shown.exit_code == 0 and "Example" in shown.stdout and "--allow-network" in shown.stdout
