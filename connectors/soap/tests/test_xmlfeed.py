"""The ``xml`` file-feed connector through its public interface: the registry entry point, config, ``check``,
``read`` (records, positions, lineage, errors), hostile XML (XXE to a file and to a live HTTP server, entity bombs,
deep nesting) refused and kept by ``lockerhub ingest``, ``pending``/``archive``, XML status files, and a fuzz test
that ``read`` only ever raises a ParseError, and never hangs.

Fake recipients only ("Test Recipient N", +480000000NN, ``@example.invalid``).
"""

from __future__ import annotations

import faulthandler
import http.server
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lockerhub_soap import safexml
from lockerhub_soap.xmlconfig import XmlFeedConfig
from lockerhub_soap.xmlfeed import XmlFeedConnector
from lockerhub_soap.xmlformat import XmlFormat
from pydantic import ValidationError
from typer.testing import CliRunner

from lockerhub.errors import ConfigError, LockerhubError, MappingError, ParseError
from lockerhub.model import ParcelEvent, ParcelStatus
from lockerhub.plugins.protocols import Capability, ConnectorKind, StatusUpdate
from lockerhub.plugins.registry import registry, verify

ROOT = Path(__file__).resolve().parents[3]
MAPPING = ROOT / "mappings" / "acme-xml" / "shipments.yaml"
GOLDEN = ROOT / "mappings" / "acme-xml" / "tests"
FEEDS = Path(__file__).parent / "fixtures" / "feeds"
SECRET = "TOP-SECRET-MARKER-6f1d"


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def connector(inbox: Path, tmp_path: Path) -> XmlFeedConnector:
    cls = registry().load("xml")
    return cls(cls.config_model(inbox=inbox, outbox=tmp_path / "outbox", mapping=MAPPING))


def drop(folder: Path, name: str, content: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --------------------------------------------------------------------------- the plugin and its config


def test_the_entry_point_loads_a_verified_tms_connector_with_the_xml_format(inbox: Path) -> None:
    cls = registry().load("xml")
    assert cls is XmlFeedConnector and verify(cls, where="test") is cls
    assert (cls.id, cls.kind, cls.config_model, cls.source_format) == ("xml", ConnectorKind.TMS, XmlFeedConfig,
                                                                        XmlFormat)
    assert cls.capabilities == {Capability.READ, Capability.WATCH_INBOX, Capability.WRITE_STATUS}
    assert cls.version == version("lockerhub-soap")
    created = registry().create("xml", {"inbox": inbox, "mapping": MAPPING})
    assert isinstance(created, XmlFeedConnector) and created.config.outbox is None


def test_config_fields_defaults_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = XmlFeedConnector.spec()
    assert set(schema["required"]) == {"inbox", "mapping"}
    assert schema["additionalProperties"] is False
    config = XmlFeedConfig(inbox=tmp_path, mapping=MAPPING)  # type: ignore[arg-type]
    assert (config.file_glob, config.outbox, config.done_dir) == ("*.xml", None, tmp_path / "done")
    with pytest.raises(ValidationError, match="extra"):
        XmlFeedConfig(inbox=tmp_path, mapping=MAPPING, outbx=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="without folders"):
        XmlFeedConfig(inbox=tmp_path, mapping=MAPPING, file_glob="in/*.xml")  # type: ignore[arg-type]
    monkeypatch.setenv("LOCKERHUB_XML_INBOX", str(tmp_path / "in"))
    monkeypatch.setenv("LOCKERHUB_XML_MAPPING", str(MAPPING))
    monkeypatch.setenv("LOCKERHUB_XML_OUTBOX", str(tmp_path / "out"))
    monkeypatch.setenv("LOCKERHUB_XML_FILE_GLOB", "feed_*.xml")
    config = XmlFeedConfig()  # type: ignore[call-arg]
    assert (config.inbox, config.outbox, config.file_glob) == (tmp_path / "in", tmp_path / "out", "feed_*.xml")


def test_check_passes_on_a_good_setup_and_names_what_is_wrong(connector: XmlFeedConnector, inbox: Path,
                                                              tmp_path: Path) -> None:
    result = connector.check()
    assert result.ok, result.items
    assert [(i.name, i.message) for i in result.items] == [
        ("mapping", "acme-xml/shipments v1"), ("inbox", f"inbox {inbox} is readable"),
        ("record", "records at Shipment"),
        ("outbox", f"outbox {tmp_path / 'outbox'} does not exist yet; it will be created under {tmp_path}")]
    no_outbox = XmlFeedConnector(XmlFeedConfig(inbox=inbox, mapping=MAPPING)).check()  # type: ignore[arg-type]
    assert no_outbox.ok and "not set: status updates wait in the hub's outbox (set LOCKERHUB_XML_OUTBOX" in (
        no_outbox.items[-1].message)
    file_outbox = drop(tmp_path, "outbox-file", "")
    bad_record = drop(tmp_path, "m.yaml", MAPPING.read_text("utf-8").replace("record: Shipment", "record: /Shipment"))
    result = XmlFeedConnector(XmlFeedConfig(inbox=tmp_path / "missing", outbox=file_outbox,
                                            mapping=bad_record)).check()
    assert [(i.name, i.ok) for i in result.items] == [("mapping", True), ("inbox", False), ("record", False),
                                                      ("outbox", False)]
    assert "expected a slash path of local element names below the root" in result.items[2].message
    assert result.items[3].message == f"outbox {file_outbox} is not a folder (set LOCKERHUB_XML_OUTBOX or the " \
                                      "'outbox' config key)"
    csv_mapping = XmlFeedConnector(XmlFeedConfig(inbox=inbox, mapping=ROOT / "mappings" / "acme-tms" /
                                                 "shipments.yaml")).check()  # type: ignore[arg-type]
    assert not csv_mapping.ok and "expected source format xml and target shipment" in csv_mapping.items[0].message


# --------------------------------------------------------------------------- read


def test_good_records_map_with_positions_raw_text_and_lineage(connector: XmlFeedConnector) -> None:
    feed = GOLDEN / "daily_feed.xml"
    records = list(connector.read(feed, partner="acme-xml"))
    assert [(r.location.file, r.location.line, r.location.path) for r in records] == [
        (str(feed), 8, "/Shipments/Shipment[1]"), (str(feed), 28, "/Shipments/Shipment[2]"),
        (str(feed), 51, "/Shipments/Shipment[3]")]
    assert all(r.errors == () for r in records)
    second = records[1].shipment
    assert second is not None and second.partner == "acme-xml" and second.reference == "ACME-X-0002"
    assert [(p.parcel_id, p.weight_g, p.dimensions.length_mm, p.temperature.value) for p in second.parcels] == [
        ("PX-0002", 250, 405, "chilled"), ("PX-0003", 3000, 200, "frozen")]
    raw = safexml.parse(records[1].raw)
    assert (raw.tag, raw.get("id"), records[1].raw.endswith("</Shipment>")) == ("Shipment", "ACME-X-0002", True)
    lineage = records[1].lineage
    assert {k: (v.line, v.path) for k, v in lineage.items() if k in (
        "reference", "recipient.address.street", "parcels[0].weight_g", "parcels[1].weight_g", "parcels[1].parcel_id",
    )} == {
        "reference": (28, "/Shipments/Shipment[2]/@id"),
        "recipient.address.street": (33, "/Shipments/Shipment[2]/Recipient/Address/Street"),
        "parcels[0].weight_g": (41, "/Shipments/Shipment[2]/Parcels/Parcel[1]/Weight"),
        "parcels[1].weight_g": (46, "/Shipments/Shipment[2]/Parcels/Parcel[2]/Weight"),
        "parcels[1].parcel_id": (44, "/Shipments/Shipment[2]/Parcels/Parcel[2]/@id"),
    }
    assert "recipient.address.country" not in lineage or lineage["recipient.address.country"].line == 28


def test_a_namespaced_feed_reads_like_the_plain_one(connector: XmlFeedConnector, tmp_path: Path) -> None:
    spaced = GOLDEN / "namespaced_feed.xml"
    text = spaced.read_text("utf-8")
    plain = drop(tmp_path, "plain.xml", re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", text).replace("tms:", ""))
    assert "xmlns" not in plain.read_text("utf-8")
    a = list(connector.read(spaced, partner="acme-xml"))
    b = list(connector.read(plain, partner="acme-xml"))
    assert [r.shipment for r in a] == [r.shipment for r in b] and all(r.shipment for r in a)
    assert [r.location.path for r in a] == ["/Shipments/Shipment[1]", "/Shipments/Shipment[2]"]
    assert a[1].lineage["recipient.name"].path == "/Shipments/Shipment[2]/Recipient/Name"
    assert 'xmlns="urn:acme:tms:feed:2"' in a[0].raw  # the raw record keeps the namespaces it uses


def test_a_bad_value_is_an_error_at_its_line_and_xpath_and_the_other_records_map(
        connector: XmlFeedConnector) -> None:
    feed = GOLDEN / "broken_record.xml"
    first, second, third = connector.read(feed, partner="acme-xml")
    assert first.shipment is None and second.shipment is None and third.shipment is not None
    errors = {e.location.path: e for e in first.errors}
    weight = errors["/Shipments/Shipment[1]/Parcels/Parcel[1]/Weight"]
    assert isinstance(weight, MappingError)
    assert (weight.location.file, weight.location.line, weight.expected, weight.found) == (
        str(feed), 11, "a number", "'heavy'")
    assert weight.render() == (f"{feed}:11: error: element Weight -> parcels[0].weight_g: expected a number, "
                               "found 'heavy' (rule: unit kg->g)")
    parcel_id = errors["/Shipments/Shipment[1]/Parcels/Parcel[2]/@id"]
    assert (parcel_id.location.line, parcel_id.expected, parcel_id.found) == (13, "a value", "none")
    temperature = errors["/Shipments/Shipment[1]/Parcels/Parcel[2]/Temperature"]
    assert (temperature.location.line, temperature.found) == (17, "'W'")
    assert [(e.location.line, e.location.path) for e in second.errors] == [
        (21, "/Shipments/Shipment[2]/@id"), (21, "/Shipments/Shipment[2]/Recipient/Name"),
        (26, "/Shipments/Shipment[2]/Parcels/Parcel/Dimensions/Height")]
    assert all("Test Recipient" not in e.render() for e in (*first.errors, *second.errors))
    assert (second.location.line, second.location.path) == (21, "/Shipments/Shipment[2]")
    assert "+48000000202" in second.raw  # kept for the quarantine, which encrypts it


def test_read_needs_a_partner(connector: XmlFeedConnector) -> None:
    with pytest.raises(ValueError, match="partner"):
        list(connector.read(GOLDEN / "daily_feed.xml", partner=""))


@pytest.mark.parametrize(("name", "line", "column", "message", "expected", "found"), [
    ("not_xml.xml", 1, 1, "XML syntax: Start tag expected, '<' not found", "well-formed XML", "a document that is not"),
    ("truncated.xml", 10, 1, "XML syntax: Premature end of data in tag Recipient line 9", "well-formed XML",
     "a document that is not"),
    ("harmless_doctype.xml", 2, 1, "XML with a DTD refused", safexml.REFUSED, "a DOCTYPE declaration for <Shipments"),
    ("billion_laughs.xml", 2, 1, "XML with a DTD refused", safexml.REFUSED, "a DOCTYPE declaration for <Shipments"),
    ("wrong_record.xml", 2, 1, "no records at 'Shipment'", "<Shipment> elements at Shipment below the root "
     "<Consignments>", "<Consignments> holding <Consignment>"),
])
def test_a_file_that_cannot_be_read_is_one_parse_error_at_file_line_col(
        connector: XmlFeedConnector, name: str, line: int, column: int, message: str, expected: str,
        found: str) -> None:
    feed = FEEDS / name
    with pytest.raises(ParseError) as info:
        list(connector.read(feed, partner="acme-xml"))
    error = info.value
    assert (error.location.file, error.location.line, error.location.column) == (str(feed), line, column)
    assert (error.message, error.expected) == (message, expected) and error.found.startswith(found), error.found
    assert error.render().startswith(f"{feed}:{line}:{column}: error: {message}: expected ")


def test_an_empty_feed_is_a_parse_error(connector: XmlFeedConnector, inbox: Path) -> None:
    for content, message in ((b"", "empty XML document"), (b"  \n", "empty XML document"),
                             (b"<Shipments/>", "no records at 'Shipment'")):
        with pytest.raises(ParseError, match=message):
            list(connector.read(drop(inbox, "empty.xml", content), partner="acme-xml"))


# --------------------------------------------------------------------------- hostile XML


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        body = (b'<!ENTITY % leak SYSTEM "file:///etc/hostname">' if self.path.endswith(".dtd")
                else SECRET.encode("utf-8"))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 that records every request (a document that fetched anything hits it)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    server.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.hits  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def hostile_feeds(folder: Path, url: str) -> dict[str, Path]:
    """Feeds that would read a local file, call the HTTP server or blow up if their DTD were used."""
    secret = drop(folder.parent, "secret.txt", SECRET)
    shipment = '<Shipment id="ACME-X-0001"><Recipient><Name>{}</Name></Recipient></Shipment>'
    feeds = {
        "xxe_file.xml": f'<?xml version="1.0"?>\n<!DOCTYPE Shipments [\n  <!ENTITY x SYSTEM "file://{secret}">\n]>\n'
                        f"<Shipments>{shipment.format('&x;')}</Shipments>\n",
        "xxe_http.xml": f'<?xml version="1.0"?>\n<!DOCTYPE Shipments [<!ENTITY x SYSTEM "{url}/entity">]>\n'
                        f"<Shipments>{shipment.format('&x;')}</Shipments>\n",
        "xxe_dtd.xml": f'<?xml version="1.0"?>\n<!DOCTYPE Shipments SYSTEM "{url}/feed.dtd">\n'
                       f"<Shipments>{shipment.format('x')}</Shipments>\n",
        "xxe_parameter.xml": f'<?xml version="1.0"?>\n<!DOCTYPE Shipments [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]>\n'
                             f"<Shipments>{shipment.format('x')}</Shipments>\n",
        "xxe_attribute.xml": f'<!DOCTYPE Shipments [<!ENTITY x SYSTEM "{url}/attr">]>\n'
                             '<Shipments><Shipment id="&x;"/></Shipments>\n',
        "billion_laughs.xml": (FEEDS / "billion_laughs.xml").read_text("utf-8"),
        "deep.xml": "<Shipments><Shipment>" + "<a>" * 5000 + "</a>" * 5000 + "</Shipment></Shipments>",
    }
    return {name: drop(folder, name, text) for name, text in feeds.items()}


def test_xxe_and_entity_bombs_are_refused_quickly_and_nothing_is_fetched(
        connector: XmlFeedConnector, inbox: Path, http_server: tuple[str, list[str]]) -> None:
    url, hits = http_server
    for name, feed in hostile_feeds(inbox, url).items():
        started = time.perf_counter()
        with pytest.raises(ParseError) as info:
            list(connector.read(feed, partner="acme-xml"))
        assert time.perf_counter() - started < 2, name
        error = info.value
        assert error.location is not None and error.location.file == str(feed) and error.location.line, name
        assert SECRET not in error.render()
        if name not in ("xxe_attribute.xml", "deep.xml"):  # libxml2 refuses those itself, as a syntax error
            assert error.message == "XML with a DTD refused", name
            assert error.expected == safexml.REFUSED and error.found.startswith("a DOCTYPE declaration for <Shipments")
    assert hits == []


def test_xinclude_and_schema_locations_are_left_alone(connector: XmlFeedConnector, inbox: Path,
                                                      http_server: tuple[str, list[str]]) -> None:
    url, hits = http_server
    feed = drop(inbox, "xinclude.xml", (
        f'<Shipments xmlns:xi="http://www.w3.org/2001/XInclude" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:x {url}/feed.xsd">\n'
        f'<Shipment id="ACME-X-0001"><Recipient><Name><xi:include href="{url}/name" parse="text"/></Name>'
        "</Recipient></Shipment>\n</Shipments>\n"))
    [record] = connector.read(feed, partner="acme-xml")
    assert record.shipment is None
    assert any(e.location.path == "/Shipments/Shipment/Recipient/Name" and e.found == "none" for e in record.errors)
    assert hits == [] and SECRET not in record.raw


def lockerhub(*args: str) -> Any:
    from lockerhub.cli import app

    return CliRunner().invoke(app, list(args))


@pytest.fixture
def hub_config(tmp_path: Path, inbox: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A hub with one xml partner (its own data dir; the locker network is never called by ``ingest``)."""
    monkeypatch.setenv("LOCKERHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_API_KEY", "test-only-key")  # not a credential: nothing is called
    monkeypatch.delenv("LOCKERHUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("LOCKERHUB_PII_KEYS", raising=False)
    config = tmp_path / "lockerhub.yaml"
    config.write_text(
        "partners:\n  acme-xml:\n    connector: xml\n"
        f"    config: {{inbox: inbox, outbox: outbox, mapping: {MAPPING}}}\n"
        "vendors:\n  simlocker: {connector: simlocker, config: {}}\n"
        "routing: {vendor: simlocker}\n", "utf-8")
    return config


def ingest(path: Path, config: Path) -> dict[str, Any]:
    result = lockerhub("ingest", str(path), "--partner", "acme-xml", "--config", str(config), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_ingest_takes_good_records_once_and_quarantines_bad_ones(hub_config: Path, inbox: Path) -> None:
    daily = drop(inbox, "daily_feed.xml", (GOLDEN / "daily_feed.xml").read_bytes())
    report = ingest(daily, hub_config)
    assert (report["records"], report["accepted"], report["quarantined"], report["error"]) == (3, 4, 0, None)
    assert report["archived_to"] == str(inbox / "done" / "daily_feed.xml")
    again = ingest(drop(inbox, "daily_feed.xml", (GOLDEN / "daily_feed.xml").read_bytes()), hub_config)
    assert (again["accepted"], again["duplicates"]) == (0, 4)
    assert again["archived_to"] == str(inbox / "done" / "daily_feed.1.xml")
    broken = ingest(drop(inbox, "broken_record.xml", (GOLDEN / "broken_record.xml").read_bytes()), hub_config)
    assert (broken["records"], broken["accepted"], broken["quarantined"]) == (3, 1, 2)
    items = json.loads(lockerhub("quarantine", "list", "--json").stdout)
    assert [(i["stage"], i["location"]) for i in items] == [("map", f"{inbox}/broken_record.xml:3"),
                                                           ("map", f"{inbox}/broken_record.xml:21")]
    assert f"{inbox}/broken_record.xml:11: error: element Weight -> parcels[0].weight_g: expected a number, " \
           "found 'heavy' (rule: unit kg->g)" in items[0]["errors"]


def test_ingest_quarantines_hostile_feeds_whole_and_archives_them_to_failed(
        hub_config: Path, inbox: Path, http_server: tuple[str, list[str]]) -> None:
    url, hits = http_server
    feeds = hostile_feeds(inbox, url)
    originals = {name: path.read_text("utf-8") for name, path in feeds.items()}
    for name, path in feeds.items():
        report = ingest(path, hub_config)
        assert (report["records"], report["accepted"], report["quarantined"]) == (0, 0, 1), name
        assert report["error"].startswith(f"{path}:") and SECRET not in report["error"]
        assert report["archived_to"] == str(inbox / "failed" / name)
        assert (inbox / "failed" / name).read_text("utf-8") == originals[name]
        [qid] = report["kept"]
        shown = lockerhub("quarantine", "show", qid, "--reveal", "--json")
        assert shown.exit_code == 0, shown.output
        item = json.loads(shown.stdout)
        assert (item["stage"], item["source"], item["payload"]) == ("read", str(path), originals[name])
        assert item["errors"] == [report["error"]]
    assert hits == [] and sorted(p.name for p in (inbox / "failed").iterdir()) == sorted(feeds)


# --------------------------------------------------------------------------- inbox


def test_pending_lists_finished_xml_files_and_archive_moves_them(connector: XmlFeedConnector, inbox: Path) -> None:
    for name in ("b.xml", "a.xml", ".c.xml", "d.xml.part", "e.xml.tmp", "f.csv"):
        drop(inbox, name, "<Shipments/>")
    (inbox / "sub.xml").mkdir()
    assert [p.name for p in connector.pending()] == ["a.xml", "b.xml"]
    assert connector.archive(inbox / "a.xml", failed=False) == inbox / "done" / "a.xml"
    assert connector.archive(inbox / "b.xml", failed=True) == inbox / "failed" / "b.xml"
    drop(inbox, "a.xml", "<Shipments/>")
    assert connector.archive(inbox / "a.xml", failed=False) == inbox / "done" / "a.1.xml"
    assert connector.pending() == []
    missing = XmlFeedConnector(XmlFeedConfig(inbox=inbox / "nope", mapping=MAPPING))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="LOCKERHUB_XML_INBOX"):
        missing.pending()


# --------------------------------------------------------------------------- status files


def update(sequence: int, *, partner: str = "acme-xml", status: ParcelStatus = ParcelStatus.DEPOSITED,
           **event: Any) -> StatusUpdate:
    fields = {"status": status, "occurred_at": datetime(2026, 3, 14, 10, 0, tzinfo=timezone(timedelta(hours=1))),
              "source": "simlocker", **event}
    return StatusUpdate(partner=partner, shipment_reference=f"ACME-X-{sequence:04d}", parcel_id=f"PX-{sequence:04d}",
                        event=ParcelEvent(**fields), sequence=sequence)


def test_status_files_are_well_formed_and_carry_every_field(connector: XmlFeedConnector, tmp_path: Path) -> None:
    updates = [update(18, status=ParcelStatus.EXCEPTION, reason="compartment_fault", raw_code="E42"),
               update(17, locker_id="SIM-WAW-0001", raw_code="COURIER_DEPOSITED")]
    [path] = connector.write_status(updates)
    assert path == tmp_path / "outbox" / "status_acme-xml_00000017-00000018.xml"
    data = path.read_bytes()
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<StatusUpdates partner=\"acme-xml\">\n")
    assert data.endswith(b"</StatusUpdates>\n") and b"\r" not in data
    root = safexml.parse(data, file=str(path))
    assert root.tag == "StatusUpdates" and root.get("partner") == "acme-xml"
    rows = [{"sequence": u.get("sequence"), **{c.tag: c.text for c in u}} for u in root]
    assert rows == [
        {"sequence": "17", "ShipmentReference": "ACME-X-0017", "ParcelId": "PX-0017", "Status": "DEPOSITED",
         "Reason": None, "OccurredAt": "2026-03-14T10:00:00+01:00", "LockerId": "SIM-WAW-0001",
         "Source": "simlocker", "RawCode": "COURIER_DEPOSITED"},
        {"sequence": "18", "ShipmentReference": "ACME-X-0018", "ParcelId": "PX-0018", "Status": "EXCEPTION",
         "Reason": "compartment_fault", "OccurredAt": "2026-03-14T10:00:00+01:00", "LockerId": None,
         "Source": "simlocker", "RawCode": "E42"}]
    assert [c.tag for c in root[0]] == ["ShipmentReference", "ParcelId", "Status", "Reason", "OccurredAt", "LockerId",
                                        "Source", "RawCode"]


def test_status_files_are_deterministic_and_rewritten_identically(connector: XmlFeedConnector,
                                                                   tmp_path: Path) -> None:
    updates = [update(3, partner="o/ther"), update(2), update(1, partner="o/ther"), update(1)]
    first = connector.write_status(updates)
    assert [p.name for p in first] == ["status_o-ther_00000001-00000003.xml", "status_acme-xml_00000001-00000002.xml"]
    content = [p.read_bytes() for p in first]
    again = connector.write_status(list(reversed(updates)))
    assert again == list(reversed(first)) and [p.read_bytes() for p in first] == content
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == sorted(p.name for p in first)  # no temp files
    assert b'<StatusUpdates partner="o/ther">' in content[0]
    assert [u.get("sequence") for u in safexml.parse(content[0])] == ["1", "3"]


def test_status_text_is_escaped_and_kept_to_what_xml_can_hold(connector: XmlFeedConnector) -> None:
    [path] = connector.write_status([update(5, raw_code="<A&B>\x00\x1f\"'", reason="x\ud800y")])
    root = safexml.parse(path.read_bytes())
    assert root[0].findtext("RawCode") == "<A&B>\ufffd\ufffd\"'"
    assert root[0].findtext("Reason") == "x\ufffdy"


def test_status_updates_without_an_outbox_wait(inbox: Path) -> None:
    connector = XmlFeedConnector(XmlFeedConfig(inbox=inbox, mapping=MAPPING))  # type: ignore[arg-type]
    assert connector.write_status([]) == []
    with pytest.raises(ConfigError, match="xml status files need 'outbox'") as info:
        connector.write_status([update(1)])
    assert "LOCKERHUB_XML_OUTBOX" in info.value.render()


# --------------------------------------------------------------------------- fuzz

# Bytes that matter to XML: markup, declarations, entities, encodings, BOMs, invalid UTF-8, the feed's own names.
INTERESTING = [b"<", b">", b"</", b"/>", b"=", b'"', b"'", b"&", b";", b"&amp;", b"&#0;", b"&#x110000;", b"&lol;",
               b"<!DOCTYPE Shipments [", b"<!ENTITY x SYSTEM 'file:///etc/passwd'>", b"]>", b"<![CDATA[", b"]]>",
               b"<!--", b"-->", b"<?xml version='1.0'?>", b"<?xml version='1.0' encoding='utf-16'?>",
               b"<?xml version='1.1' encoding='x-unknown'?>", b"<?pi", b"?>", b"xmlns:a='urn:a'", b"xmlns=''",
               b"a:", b"Shipment", b"Parcels", b"Parcel", b"Weight", b" id=", b"\x00", b"\xff", b"\xfe\xff",
               b"\xef\xbb\xbf", b"\xc3", b"\n", b"\r\n", b"\t", b" "]
_names = itertools.count()


def _edit(data: bytes, draw: Callable[..., Any]) -> bytes:
    size = len(data)
    kind = draw(st.sampled_from(["flip", "insert", "delete", "duplicate", "truncate", "splice"]))
    at = draw(st.integers(0, size))
    if kind == "flip" and size:
        at = min(at, size - 1)
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
    if kind == "insert":
        return data[:at] + draw(st.one_of(st.sampled_from(INTERESTING), st.binary(min_size=1, max_size=8))) + data[at:]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 16)):]
    if kind == "duplicate":
        end = min(size, at + draw(st.integers(1, 60)))
        return data[:end] + data[at:end] + data[end:]
    if kind == "truncate":
        return data[:at]
    other = draw(st.integers(0, size))
    lo, hi = sorted((at, other))
    return data[:lo] + data[hi:] + data[lo:hi]


@st.composite
def _mutated(draw: Callable[..., Any], seeds: list[bytes]) -> bytes:
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 6))):
        data = _edit(data, draw)
    return data


def _inputs(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    tokens = st.lists(st.one_of(st.sampled_from(INTERESTING), st.binary(min_size=1, max_size=4)), max_size=60)
    return st.one_of(st.binary(max_size=300), tokens.map(b"".join), _mutated(seeds))


@pytest.fixture
def watchdog() -> Iterator[None]:
    """A hang dumps every thread's stack and stops the run instead of stalling it (as tests/fuzz does)."""
    faulthandler.dump_traceback_later(600, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def test_fuzz_read_only_ever_raises_a_parse_error(tmp_path_factory: pytest.TempPathFactory, watchdog: None) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    connector = XmlFeedConnector(XmlFeedConfig(inbox=folder, mapping=MAPPING))  # type: ignore[arg-type]
    seeds = [p.read_bytes() for p in sorted([*GOLDEN.glob("*.xml"), *FEEDS.glob("*.xml")])]

    @settings(max_examples=300, deadline=timedelta(seconds=2), database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(_inputs(seeds))
    def run(data: bytes) -> None:
        path = drop(folder, f"fuzz-{next(_names)}.xml", data)
        try:
            for record in connector.read(path, partner="acme-xml"):
                assert (record.shipment is None) != (not record.errors)
                assert all(isinstance(e, LockerhubError) and e.render() for e in record.errors)
                assert record.location.line and record.location.path
        except ParseError as exc:
            assert exc.location is not None and exc.location.file == str(path) and exc.render()
        finally:
            path.unlink()

    run()


def test_a_big_feed_keeps_exact_line_numbers_past_65535(connector: XmlFeedConnector, inbox: Path) -> None:
    shipment = ('  <Shipment id="S-{n}">\n    <Recipient><Name>Test Recipient {n}</Name></Recipient>\n'
                '    <Parcels><Parcel id="P-{n}"><Dimensions><Length>1</Length><Width>1</Width><Height>1</Height>'
                "</Dimensions>\n      <Weight>{w}</Weight><Sscc/></Parcel></Parcels>\n  </Shipment>\n")
    feed = drop(inbox, "big.xml", "<Shipments>\n" + "".join(shipment.format(n=n, w="x" if n % 997 == 0 else "1")
                                                            for n in range(20_000)) + "</Shipments>\n")
    records = list(connector.read(feed, partner="acme-xml"))
    assert [r.location.line for r in records] == [2 + 5 * n for n in range(20_000)]
    assert records[-1].location.path == "/Shipments/Shipment[20000]"
    assert records[-1].lineage["parcels[0].weight_g"].line == 2 + 5 * 19_999 + 3
    assert records[-1].lineage["parcels[0].parcel_id"].line == 2 + 5 * 19_999 + 2
    bad = [(r.location.line, e.location.line) for r in records for e in r.errors]
    assert bad == [(2 + 5 * n, 2 + 5 * n + 3) for n in range(0, 20_000, 997)]
