"""The plugin: registry discovery and verification, config, check(), read() into SourceRecords, pending and
archive (the shared inbox helpers)."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from lockerhub_x12 import X12Config, X12Connector, X12Format
from pydantic import ValidationError

from lockerhub.errors import ConfigError, Location
from lockerhub.plugins.protocols import Capability, ConnectorKind
from lockerhub.plugins.registry import Registry, verify

CSV_MAPPING = Path(__file__).parents[3] / "mappings" / "acme-tms" / "shipments.yaml"


@pytest.fixture
def config(tmp_path: Path, mapping_path: Path) -> X12Config:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return X12Config(inbox=inbox, mapping=mapping_path)


@pytest.fixture
def connector(config: X12Config) -> X12Connector:
    return X12Connector(config)


def tender(x12: Any, control: str, ref: str, *, count: int | None = None, locker: str = "SIM-WAW-0001") -> list[str]:
    body = [f"B2**ACME**{ref}**PP", "B2A*00*LT", "S5*1*CL", "N1*SF*ACME Warehouse Test", "S5*2*CU",
            f"L11*{locker}*ZZ", "N1*CN*Test Recipient", "N3*ul. Testowa 1", "N4*Krakow**30-001*PL",
            "G61*IC*Test Recipient*TE*+48000000001", "G61*IC*Test Recipient*EM*recipient@example.invalid",
            "L5*1*PARCEL", "AT8*G*K*1.5*1", "L11*P1*2I", "L4*30*20*10*C"]
    return x12.tender(control, body=body, count=count)


def test_registry_discovers_and_verifies_the_plugin(config: X12Config) -> None:
    registry = Registry()
    assert "x12" in registry.ids()
    cls = registry.load("x12")
    assert cls is X12Connector and verify(cls, where="test") is X12Connector
    assert (cls.id, cls.kind, cls.config_model) == ("x12", ConnectorKind.TMS, X12Config)
    assert cls.capabilities == {Capability.READ, Capability.WATCH_INBOX, Capability.WRITE_STATUS, Capability.WRITE_ACK}
    assert cls.version == version("lockerhub-x12")
    assert cls.source_format is X12Format
    created = registry.create("x12", config.model_dump())
    assert isinstance(created, X12Connector) and created.config == config


def test_the_registered_connector_reads_a_file(config: X12Config) -> None:
    registry = Registry()
    connector = registry.create("x12", {"inbox": str(config.inbox), "mapping": str(config.mapping)})
    golden = Path(__file__).parents[3] / "mappings" / "acme-x12" / "tests"
    records = list(connector.read(golden / "good_204.edi", partner="acme-x12"))  # type: ignore[attr-defined]
    assert [(r.shipment.reference, len(r.shipment.parcels)) for r in records if r.shipment] == [
        ("ACME-204-0001", 1), ("ACME-204-0002", 2)]
    bad = list(registry.load("x12")(config).read(golden / "bad_se_count.edi", partner="acme-x12"))
    assert [r.shipment is None for r in bad] == [True, False]
    assert [e.location.element for e in bad[0].errors if e.location] == ["SE01"]


def test_spec_is_the_config_schema() -> None:
    schema = X12Connector.spec()
    assert set(schema["required"]) == {"inbox", "mapping"}
    assert schema["additionalProperties"] is False
    assert schema["properties"]["file_glob"]["default"] == "*.edi"


def test_config_validation_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="extra"):
        X12Config(inbox=tmp_path, mapping=tmp_path / "m.yaml", outbx=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="without folders"):
        X12Config(inbox=tmp_path, mapping=tmp_path / "m.yaml", file_glob="in/*.edi")
    monkeypatch.setenv("LOCKERHUB_X12_INBOX", str(tmp_path / "in"))
    monkeypatch.setenv("LOCKERHUB_X12_MAPPING", str(tmp_path / "m.yaml"))
    monkeypatch.setenv("LOCKERHUB_X12_FILE_GLOB", "*.x12")
    config = X12Config()  # type: ignore[call-arg]
    assert (config.inbox, config.mapping, config.file_glob) == (tmp_path / "in", tmp_path / "m.yaml", "*.x12")


def test_constructor_does_no_io(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    connector = X12Connector(X12Config(inbox=missing, mapping=missing / "m.yaml"))
    assert connector.config.inbox == missing and not missing.exists() and connector._mapping is None


def test_check(connector: X12Connector, config: X12Config, tmp_path: Path) -> None:
    result = connector.check()
    assert result.ok, result.items
    assert [(i.name, i.message) for i in result.items] == [
        ("mapping", "acme-x12/load_tender_204 v1"), ("inbox", f"inbox {config.inbox} is readable")]
    bad = X12Connector(X12Config(inbox=tmp_path / "nope", mapping=CSV_MAPPING)).check()
    assert not bad.ok
    assert [(i.name, i.message) for i in bad.items] == [
        ("mapping", f"{CSV_MAPPING}:1:1: error: mapping for the x12 connector: expected source format x12 and target "
                    "shipment, found source format csv and target shipment"),
        ("inbox", f"inbox {tmp_path / 'nope'} does not exist (set LOCKERHUB_X12_INBOX or the 'inbox' config key)")]


def test_read_maps_good_transactions_and_reports_bad_ones(connector: X12Connector, x12: Any, write: Any) -> None:
    text = x12.file(
        x12.interchange(x12.group(tender(x12, "0001", "SHP-1"), tender(x12, "0002", "SHP-2", count=5),
                                  tender(x12, "0003", "SHP-3", locker="")), after="\n"),
        x12.interchange(x12.group(tender(x12, "0001", "SHP-4"), count=7), control=2, after="\n"))
    path = write(text, "acme.edi")
    records = list(connector.read(path, partner="acme"))
    assert [r.shipment.reference if r.shipment else None for r in records] == ["SHP-1", None, "SHP-3", None]
    assert [str(r.location) for r in records] == [
        f"{path}:3:1 (segment 3 ST)", f"{path}:20:1 (segment 20 ST)", f"{path}:37:1 (segment 37 ST)",
        f"{path}:58:1 (segment 58 ST)"]
    assert [str(e) for e in records[1].errors] == [
        f"{path}:36:4 (segment 36 SE-SE01): error: transaction set 0002: segment count: expected 17, found 5"]
    assert [str(e) for e in records[3].errors] == [
        f"{path}:75:4 (segment 75 GE-GE01): error: functional group 1: transaction set count: expected 1, found 7"]
    first = records[0]
    assert first.shipment is not None and first.shipment.partner == "acme"
    assert first.shipment.destination_locker == "SIM-WAW-0001"
    assert records[2].shipment is not None and records[2].shipment.destination_locker is None
    assert [(p.parcel_id, p.weight_g, p.dimensions.length_mm) for p in first.shipment.parcels] == [("P1", 1500, 300)]
    assert first.raw.startswith("ST*204*0001~B2**ACME**SHP-1**PP~") and first.raw.endswith("SE*17*0001~")
    assert records[1].raw.endswith("SE*5*0002~")
    assert first.lineage["reference"] == Location(file=str(path), line=4, column=11, segment="segment 4 B2",
                                                  element="B204", path="B2/04")
    assert str(first.lineage["parcels[0].parcel_id"]) == f"{path}:17:5 (segment 17 L11-L1101)"


def test_read_reports_mapping_errors_at_their_element(connector: X12Connector, x12: Any, write: Any) -> None:
    body = tender(x12, "0001", "SHP-1")
    body = [s.replace("AT8*G*K*1.5*1", "AT8*G*K*heavy*1") for s in body]
    path = write(x12.interchange(x12.group(body), after="\n"))
    [record] = connector.read(path, partner="acme")
    assert record.shipment is None
    assert [str(e) for e in record.errors] == [  # a `when` rule is located at the value it read
        f"{path}:16:9 (segment 16 AT8-AT803): error: element AT8/03 -> parcels[0].weight_g: expected a number, "
        "found 'heavy' (rule: unit kg->g)"]


def test_read_refuses_other_transaction_sets_and_stray_segments(connector: X12Connector, x12: Any,
                                                               write: Any) -> None:
    ack = ["ST*997*0002", "AK1*SM*1", "AK9*A*1*1*1", "SE*4*0002"]
    text = x12.interchange(x12.group(tender(x12, "0001", "SHP-1")), x12.group(ack, control=2, functional="FA"),
                           after="\n") + "N1*CN*stray~\n"
    path = write(text)
    records = list(connector.read(path, partner="acme"))
    assert [r.shipment is not None for r in records] == [True, False, False]
    assert [str(e) for e in records[1].errors] == [
        f"{path}:22:4 (segment 22 ST-ST01): error: transaction set 0002: not read by this mapping: expected 204, "
        "found 997"]
    assert str(records[2].location) == f"{path}:28:1 (segment 28 N1)" and records[2].raw == ""
    assert [str(e) for e in records[2].errors] == [
        f"{path}:28:1 (segment 28 N1): error: segment outside an interchange: expected ISA, found N1"]


def test_read_needs_a_partner(connector: X12Connector, write: Any) -> None:
    with pytest.raises(ValueError, match="partner"):
        list(connector.read(write(""), partner=""))


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x", "utf-8")
    return path


def test_pending_and_archive(connector: X12Connector, config: X12Config, tmp_path: Path,
                             mapping_path: Path) -> None:
    inbox = config.inbox
    for name in ("b.edi", "a.edi", ".c.edi", "d.edi.part", "e.csv", "done/f.edi"):
        touch(inbox / name)
    assert connector.pending() == [inbox / "a.edi", inbox / "b.edi"]
    assert connector.archive(inbox / "a.edi", failed=False) == inbox / "done" / "a.edi"
    touch(inbox / "a.edi")
    assert connector.archive(inbox / "a.edi", failed=False) == inbox / "done" / "a.1.edi"
    assert connector.archive(inbox / "b.edi", failed=True) == inbox / "failed" / "b.edi"
    assert connector.pending() == []
    with pytest.raises(ConfigError, match="LOCKERHUB_X12_INBOX"):
        X12Connector(X12Config(inbox=tmp_path / "nope", mapping=mapping_path)).pending()
