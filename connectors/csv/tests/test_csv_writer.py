"""Status files: content, deterministic names, atomic replacement."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lockerhub_csv import writer
from lockerhub_csv.writer import COLUMNS, write_status_files

from lockerhub.model import ParcelEvent
from lockerhub.plugins import inbox
from lockerhub.plugins.protocols import StatusUpdate

WARSAW = timezone(timedelta(hours=1))


def update(sequence: int, partner: str = "acme", **event: object) -> StatusUpdate:
    fields: dict[str, object] = {
        "status": "DEPOSITED",
        "occurred_at": datetime(2025, 1, 2, 10, 0, sequence, tzinfo=WARSAW),
        "source": "simlocker",
        "raw_code": "COURIER_DEPOSITED",
        "locker_id": "KRA01M",
    }
    fields.update(event)
    return StatusUpdate(
        partner=partner,
        shipment_reference=f"SHP-{sequence:04d}",
        parcel_id=f"PCL-{sequence:04d}",
        event=ParcelEvent.model_validate(fields),
        sequence=sequence,
    )


def test_content_and_name(tmp_path: Path) -> None:
    updates = [
        update(11, status="EXCEPTION", reason="door_fault", raw_code='DOOR "7", jammed', locker_id=None),
        update(3),
    ]
    [path] = write_status_files(tmp_path / "outbox", updates)
    assert path == tmp_path / "outbox" / "status_acme_00000003-00000011.csv"
    data = path.read_bytes()
    assert b"\r" not in data and not data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8").split("\n") == [
        ",".join(COLUMNS),
        "3,acme,SHP-0003,PCL-0003,DEPOSITED,,2025-01-02T10:00:03+01:00,KRA01M,simlocker,COURIER_DEPOSITED",
        '11,acme,SHP-0011,PCL-0011,EXCEPTION,door_fault,2025-01-02T10:00:11+01:00,,simlocker,"DOOR ""7"", jammed"',
        "",
    ]


def test_one_file_per_partner(tmp_path: Path) -> None:
    paths = write_status_files(tmp_path, [update(5, "acme"), update(6, "north/west co"), update(7, "acme")])
    assert [p.name for p in paths] == [
        "status_acme_00000005-00000007.csv",
        "status_north-west-co_00000006-00000006.csv",
    ]
    assert paths[1].read_text("utf-8").count("\n") == 2


def test_empty_input_writes_nothing(tmp_path: Path) -> None:
    assert write_status_files(tmp_path / "outbox", []) == []
    assert not (tmp_path / "outbox").exists()


def test_rewriting_a_batch_replaces_it_with_identical_bytes(tmp_path: Path) -> None:
    [first] = write_status_files(tmp_path, [update(1), update(2)])
    content = first.read_bytes()
    [second] = write_status_files(tmp_path, [update(2), update(1)])
    assert second == first and second.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name]  # no temp files left behind


def test_written_via_fsynced_temp_file_in_the_same_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, object]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append(("fsync", fd))
        real_fsync(fd)

    def replace(src: str, dst: Path) -> None:
        calls.append(("replace", (Path(src).parent, Path(src).name.startswith("."), Path(src).read_bytes())))
        real_replace(src, dst)

    monkeypatch.setattr(inbox.os, "fsync", fsync)
    monkeypatch.setattr(inbox.os, "replace", replace)
    [path] = write_status_files(tmp_path, [update(1)])
    kinds = [kind for kind, _ in calls]
    assert kinds[:2] == ["fsync", "replace"]  # the file is synced before it is moved into place
    folder, hidden, content = calls[1][1]  # type: ignore[misc]
    assert (folder, hidden, content) == (tmp_path, True, path.read_bytes())


def test_failed_replace_leaves_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [path] = write_status_files(tmp_path, [update(1)])
    before = path.read_bytes()

    def broken(src: str, dst: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(inbox.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_status_files(tmp_path, [update(1, raw_code="OTHER")])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_partner_status_mapping_through_the_connector(tmp_path: Path) -> None:
    # A partner wants its own columns and status codes: an outbound mapping, no code change.
    from lockerhub_csv import CsvConfig, CsvConnector

    status = tmp_path / "status.yaml"
    status.write_text(
        "mapping: acme/status\nsource: {format: canonical}\ntarget: json\n"
        "tables:\n  codes: {DEPOSITED: READY, COLLECTED: DELIVERED}\n"
        "fields:\n  ref: shipment_reference\n  state: {op: lookup, of: event.status, table: codes}\n"
        "  when: {op: datetime, of: event.occurred_at, format: iso, tz: UTC}\n",
        "utf-8",
    )
    (tmp_path / "in").mkdir()
    connector = CsvConnector(CsvConfig(inbox=tmp_path / "in", outbox=tmp_path / "out",
                                       mapping=Path(writer.__file__).with_name("default_mapping.yaml"),
                                       status_mapping=status))
    [path] = connector.write_status([update(1), update(2, status="COLLECTED")])
    assert path.read_text("utf-8").split("\n") == [
        "ref,state,when",
        "SHP-0001,READY,2025-01-02T10:00:01+01:00",
        "SHP-0002,DELIVERED,2025-01-02T10:00:02+01:00",
        "",
    ]
    assert connector.check().ok


def test_status_mapping_must_be_outbound(tmp_path: Path) -> None:
    from lockerhub.errors import ConfigError

    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("mapping: a/b\nsource: {format: csv}\ntarget: json\nfields:\n  x: col\n", "utf-8")
    with pytest.raises(ConfigError, match="expected source format canonical, target json"):
        writer.status_mapping(wrong)
