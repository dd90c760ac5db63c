"""The ``edifact`` connector as the registry loads it: config, check, read into SourceRecords, inbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest
from lockerhub_edifact import EdifactConfig, EdifactConnector, EdifactFormat

from lockerhub.errors import ConfigError
from lockerhub.plugins import Registry
from lockerhub.plugins.protocols import Capability, ConnectorKind


@pytest.fixture
def connector(tmp_path: Path, iftmin_mapping: Path) -> Any:
    cls = Registry().load("edifact")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return cls(cls.config_model(inbox=inbox, mapping=iftmin_mapping))


def test_the_registry_loads_the_connector_with_its_format() -> None:
    cls = Registry().load("edifact")
    assert cls is EdifactConnector
    assert cls.kind is ConnectorKind.TMS
    assert cls.capabilities == frozenset({Capability.READ, Capability.WATCH_INBOX, Capability.WRITE_STATUS,
                                         Capability.WRITE_ACK})
    assert cls.source_format is EdifactFormat
    assert cls.spec()["properties"]["file_glob"]["default"] == "*.edi"


def test_config_reads_env_and_forbids_unknown_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOCKERHUB_EDIFACT_INBOX", str(tmp_path))
    monkeypatch.setenv("LOCKERHUB_EDIFACT_MAPPING", str(tmp_path / "m.yaml"))
    config = EdifactConfig()
    assert (config.inbox, config.file_glob) == (tmp_path, "*.edi")
    with pytest.raises(pydantic.ValidationError, match="extra"):
        EdifactConfig(inbox=tmp_path, mapping=tmp_path, delimiter="+")  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError, match="without folders"):
        EdifactConfig(inbox=tmp_path, mapping=tmp_path, file_glob="**/*.edi")


def test_read_gives_one_record_per_message_with_envelope_errors_attached(connector: Any, build: Any) -> None:
    text = build.interchange(build.iftmin("1", number="SHP1"), build.iftmin("2", number="SHP2", count=5),
                             build.iftmin("3", number="SHP3", name="Test?+Recipient"), ref="500")
    path = connector.config.inbox / "drop.edi"
    path.write_bytes(text.encode("latin-1"))
    records = list(connector.read(path, partner="acme-edifact"))
    assert [r.location.line for r in records] == [3, 17, 31]
    assert [str(r.location) for r in records][0] == f"{path}:3"
    first, bad, third = records
    assert first.errors == () and first.shipment is not None
    assert first.shipment.reference == "SHP1" and first.shipment.partner == "acme-edifact"
    assert first.shipment.recipient.phone == "0048000000001"
    assert first.shipment.destination_locker == "KRA01M"
    assert [(p.sscc, p.weight_g, p.dimensions.length_mm) for p in first.shipment.parcels] == [
        ("005901234500000016", 1500, 300)]
    assert first.raw.startswith("UNH+1+IFTMIN:D:04A:UN'\nBGM+610+SHP1+9'\n") and first.raw.endswith("UNT+14+1'\n")
    assert str(first.lineage["parcels[0].weight_g"]) == f"{path}:12:17 (segment 11 MEA-MEA03)"  # the value, not its unit
    assert bad.shipment is None
    assert [str(e) for e in bad.errors] == [
        f"{path}:30:5 (segment 29 UNT-UNT01): error: message 2: segment count: expected 14, found 5"]
    assert third.shipment is not None and third.shipment.recipient.name == "Test+Recipient"


def test_an_interchange_error_rejects_every_message_of_that_interchange(connector: Any, build: Any) -> None:
    text = build.interchange(build.iftmin("1"), ref="7", trailer_ref="8") + build.interchange(
        build.iftmin("1"), ref="9", una=None)
    path = connector.config.inbox / "two.edi"
    path.write_text(text, "utf-8")
    records = list(connector.read(path, partner="acme-edifact"))
    assert [r.shipment is not None for r in records] == [False, True]
    assert [e.message for e in records[0].errors] == ["interchange 7: UNZ02 control reference"]


def test_mapping_errors_are_at_the_element_and_stray_segments_are_a_record(connector: Any, build: Any) -> None:
    message = [s.replace("MEA+AAE+AAB+KGM:1.5", "MEA+AAE+AAB+LBR:3") for s in build.iftmin("1")]
    path = connector.config.inbox / "m.edi"
    path.write_text("JUNK+1'\n" + build.interchange(message, una=None), "utf-8")
    stray, record = list(connector.read(path, partner="acme-edifact"))
    assert stray.shipment is None and stray.raw == "JUNK+1'\n"
    assert [e.message for e in stray.errors] == ["segment outside an interchange"]
    assert [str(e) for e in record.errors] == [
        f"{path}:12:17 (segment 12 MEA-MEA03): error: element MEA[AAE]/C174/6314 -> parcels[0].weight_g: required: "
        "expected a value, found none"]


def test_check_reports_mapping_and_inbox(connector: Any, tmp_path: Path) -> None:
    result = connector.check()
    assert result.ok, result.items
    assert [i.name for i in result.items] == ["mapping", "inbox"]
    broken = EdifactConnector(EdifactConfig(inbox=tmp_path / "nope", mapping=tmp_path / "nope.yaml"))
    result = broken.check()
    assert not result.ok and [i.ok for i in result.items] == [False, False]


def test_a_mapping_for_another_format_is_refused(tmp_path: Path) -> None:
    csv_mapping = Path(__file__).resolve().parents[3] / "mappings" / "acme-tms" / "shipments.yaml"
    connector = EdifactConnector(EdifactConfig(inbox=tmp_path, mapping=csv_mapping))
    with pytest.raises(ConfigError, match="expected source format edifact and target shipment"):
        connector.mapping  # noqa: B018


def test_pending_and_archive(connector: Any) -> None:
    inbox: Path = connector.config.inbox
    for name in ("b.edi", "a.edi", ".hidden.edi", "c.edi.part", "notes.txt"):
        (inbox / name).write_text("x", "utf-8")
    assert [p.name for p in connector.pending()] == ["a.edi", "b.edi"]
    done = connector.archive(inbox / "a.edi", failed=False)
    (inbox / "a.edi").write_text("again", "utf-8")
    again = connector.archive(inbox / "a.edi", failed=False)
    failed = connector.archive(inbox / "b.edi", failed=True)
    assert (done.parent.name, done.name, again.name, failed.parent.name) == ("done", "a.edi", "a.1.edi", "failed")
    assert connector.pending() == []
