"""The plugin: registry discovery and verification, check(), read, write_status, pending and archive."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import pytest
from lockerhub_csv import CsvConfig, CsvConnector
from pydantic import ValidationError

from lockerhub.errors import ConfigError
from lockerhub.model import ParcelEvent
from lockerhub.plugins.protocols import Capability, ConnectorKind, StatusUpdate
from lockerhub.plugins.registry import Registry, verify


def test_registry_discovers_and_verifies_the_plugin(config: CsvConfig) -> None:
    registry = Registry()
    assert "csv" in registry.ids()
    cls = registry.load("csv")
    assert cls is CsvConnector
    assert verify(cls, where="test") is CsvConnector
    assert (cls.id, cls.kind, cls.config_model) == ("csv", ConnectorKind.TMS, CsvConfig)
    assert cls.capabilities == {Capability.READ, Capability.WATCH_INBOX, Capability.WRITE_STATUS}
    assert cls.version == version("lockerhub-csv")
    created = registry.create("csv", config.model_dump())
    assert isinstance(created, CsvConnector) and created.config == config


def test_spec_is_the_config_schema() -> None:
    schema = CsvConnector.spec()
    assert set(schema["required"]) == {"inbox", "outbox", "mapping"}
    assert schema["additionalProperties"] is False


def test_config_validation(tmp_path: Path) -> None:
    base = {"inbox": tmp_path, "outbox": tmp_path, "mapping": tmp_path / "m.yaml"}
    with pytest.raises(ValidationError, match="extra"):
        CsvConfig(**base, delimeter=";")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="one character"):
        CsvConfig(**base, delimiter=";;")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="codec"):
        CsvConfig(**base, encoding="windows-9999")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="without folders"):
        CsvConfig(**base, file_glob="sub/*.csv")  # type: ignore[arg-type]
    assert CsvConfig(**base, encoding="Windows-1250").encoding == "cp1250"  # type: ignore[arg-type]


def test_config_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKERHUB_CSV_INBOX", str(tmp_path / "in"))
    monkeypatch.setenv("LOCKERHUB_CSV_OUTBOX", str(tmp_path / "out"))
    monkeypatch.setenv("LOCKERHUB_CSV_MAPPING", str(tmp_path / "m.yaml"))
    monkeypatch.setenv("LOCKERHUB_CSV_DELIMITER", ";")
    config = CsvConfig()  # type: ignore[call-arg]
    assert (config.inbox, config.delimiter) == (tmp_path / "in", ";")


def test_constructor_does_no_io(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    connector = CsvConnector(CsvConfig(inbox=missing, outbox=missing, mapping=missing / "m.yaml"))
    assert connector.config.inbox == missing and not missing.exists()


def test_check_passes_on_a_good_setup(connector: CsvConnector) -> None:
    result = connector.check()
    assert result.ok, result.items
    assert [item.name for item in result.items] == ["mapping", "inbox", "outbox"]
    assert "will be created" in result.items[2].message


def test_check_reports_a_missing_inbox(tmp_path: Path, default_mapping_path: Path) -> None:
    inbox = tmp_path / "no-such-inbox"
    result = CsvConnector(CsvConfig(inbox=inbox, outbox=tmp_path / "out", mapping=default_mapping_path)).check()
    assert not result.ok
    [bad] = [item for item in result.items if not item.ok]
    assert bad.name == "inbox"
    assert bad.message == f"inbox {inbox} does not exist (set LOCKERHUB_CSV_INBOX or the 'inbox' config key)"


def test_check_reports_mapping_errors_and_bad_folders(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("mapping: t/x\nsource: {format: csv}\ntarget: shipment\nfields:\n  referense: ref\n", "utf-8")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", "utf-8")
    result = CsvConnector(CsvConfig(inbox=a_file, outbox=a_file / "out", mapping=mapping)).check()
    items = {item.name: item for item in result.items}
    assert not any(item.ok for item in result.items)
    assert f"{mapping}:5:3: error: unknown shipment field 'referense'" in items["mapping"].message
    assert "did you mean 'reference'?" in items["mapping"].message
    assert items["inbox"].message.startswith(f"inbox {a_file} is not a folder")
    assert "cannot be created" in items["outbox"].message


def test_read_loads_the_mapping_once(
    connector: CsvConnector, config: CsvConfig, write_csv: object, sample_rows: list[list[str]]
) -> None:
    path = write_csv(sample_rows, folder=config.inbox)  # type: ignore[operator]
    assert connector._mapping is None
    first = list(connector.read(path, partner="acme"))
    mapping = connector._mapping
    second = list(connector.read(path, partner="acme"))
    assert mapping is not None and connector._mapping is mapping
    assert [r.shipment for r in first] == [r.shipment for r in second]
    assert all(r.shipment is not None for r in first) and len(first) == 3


def test_read_uses_configured_encoding(
    tmp_path: Path, config: CsvConfig, write_csv: object, sample_rows: list[list[str]]
) -> None:
    rows = [list(r) for r in sample_rows]
    rows[1][7] = "Łódź"
    path = write_csv(rows, encoding="cp1250", delimiter=";")  # type: ignore[operator]
    connector = CsvConnector(config.model_copy(update={"encoding": "cp1250"}))
    record = next(iter(connector.read(path, partner="acme")))
    assert record.shipment is not None and record.shipment.recipient.address.city == "Łódź"  # type: ignore[union-attr]


def test_write_status_goes_to_the_outbox(connector: CsvConnector, config: CsvConfig) -> None:
    event = ParcelEvent(status="COLLECTED", occurred_at=datetime(2025, 1, 3, tzinfo=UTC), source="hub")
    paths = connector.write_status([StatusUpdate("acme", "SHP-1", "PCL-1", event, sequence=42)])
    assert paths == [config.outbox / "status_acme_00000042-00000042.csv"]
    assert "2025-01-03T00:00:00+00:00" in paths[0].read_text("utf-8")
    assert connector.write_status([]) == []


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x", "utf-8")
    return path


def test_pending_lists_ready_files_by_name(connector: CsvConnector, config: CsvConfig) -> None:
    inbox = config.inbox
    for name in ("b.csv", "a.csv", ".a.csv", "notes.txt", "sub/c.csv", "done/d.csv", "failed/e.csv"):
        touch(inbox / name)
    (inbox / "dir.csv").mkdir()
    assert connector.pending() == [inbox / "a.csv", inbox / "b.csv"]


def test_pending_skips_partial_uploads(config: CsvConfig) -> None:
    for name in ("x.csv", "x.csv.part", "y.TMP", ".z", "w"):
        touch(config.inbox / name)
    connector = CsvConnector(config.model_copy(update={"file_glob": "*"}))
    assert [p.name for p in connector.pending()] == ["w", "x.csv"]


def test_pending_without_inbox_is_a_config_error(tmp_path: Path, default_mapping_path: Path) -> None:
    connector = CsvConnector(CsvConfig(inbox=tmp_path / "nope", outbox=tmp_path, mapping=default_mapping_path))
    with pytest.raises(ConfigError, match="LOCKERHUB_CSV_INBOX"):
        connector.pending()


def test_archive_moves_and_never_overwrites(connector: CsvConnector, config: CsvConfig) -> None:
    inbox = config.inbox
    first = connector.archive(touch(inbox / "orders.csv"), failed=False)
    assert first == inbox / "done" / "orders.csv" and not (inbox / "orders.csv").exists()
    second = connector.archive(touch(inbox / "orders.csv"), failed=False)
    third = connector.archive(touch(inbox / "orders.csv"), failed=False)
    assert (second.name, third.name) == ("orders.1.csv", "orders.2.csv")
    failed = connector.archive(touch(inbox / "orders.csv"), failed=True)
    assert failed == inbox / "failed" / "orders.csv"
    assert connector.pending() == []
