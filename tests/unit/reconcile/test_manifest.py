"""The TMS manifest reader: the format, file-level errors at file:line:column, and bad rows kept with their text."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockerhub.errors import ErrorGroup, ParseError
from lockerhub.model import ParcelStatus, idempotency_key
from lockerhub.reconcile import Manifest
from lockerhub.reconcile.engine import key_int

PARTNERS = ["acme-tms", "acme-x12"]


def write(tmp_path: Path, text: str | bytes, name: str = "manifest.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def read(path: Path, partners: list[str] | None = PARTNERS) -> tuple[list[tuple], Manifest]:  # type: ignore[type-arg]
    manifest = Manifest(path, partners=partners)
    return list(manifest), manifest


def test_good_rows_with_positions_any_column_order_and_extra_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffParcel_ID ; Shipment_Ref;note;PARTNER;Status\r\n"
                           "PX-1;SH-1;fragile;acme-tms;booked\r\n"
                           "\r\n"
                           " PX-2 ; SH-1 ;;ACME-X12;\r\n"
                           '"PX;3";SH-2;"two\r\nlines";acme-tms;DEPOSITED\r\n'
                           ";;;;\r\n"
                           "PX-4;SH-2;;acme-tms;collected\r\n")
    rows, manifest = read(path)
    assert rows == [
        (2, "acme-tms", "SH-1", "PX-1", ParcelStatus.BOOKED),
        (4, "acme-x12", "SH-1", "PX-2", None),  # values stripped, the partner spelled as in the config
        (5, "acme-tms", "SH-2", "PX;3", ParcelStatus.DEPOSITED),
        (8, "acme-tms", "SH-2", "PX-4", ParcelStatus.COLLECTED),  # the row spanning two lines pushed it down
    ]
    assert manifest.rows == 4 and manifest.bad == []


def test_without_a_partner_list_any_partner_is_taken_as_written(tmp_path: Path) -> None:
    rows, _ = read(write(tmp_path, "partner,shipment_ref,parcel_id\nAcme,S,P\n"), partners=None)
    assert rows == [(2, "Acme", "S", "P", None)]


def test_bad_rows_carry_every_error_with_its_position_and_the_original_text(tmp_path: Path) -> None:
    long_id = "P" * 65
    path = write(tmp_path, "partner,shipment_ref,parcel_id,status\n"
                           "acme-tms,SH-1,PX-1,\n"
                           f"acme-tms,,{long_id},DEPOSTED\n"
                           "acme-tms,SH-1\n"
                           "acme-tmz,SH-1,PX-4,\n"
                           "acme-tms,SH-1,PX-5,BOOKED,extra\n"
                           "acme-tms,SH-1,PX-6,\n")
    rows, manifest = read(path)
    assert [r[3] for r in rows] == ["PX-1", "PX-6"]
    assert [(b.line, b.raw, b.partner) for b in manifest.bad] == [
        (3, f"acme-tms,,{long_id},DEPOSTED\n", "acme-tms"),
        (4, "acme-tms,SH-1\n", "acme-tms"),
        (5, "acme-tmz,SH-1,PX-4,\n", None),
        (6, "acme-tms,SH-1,PX-5,BOOKED,extra\n", "acme-tms"),
    ]
    rendered = [[str(e) for e in b.errors] for b in manifest.bad]
    assert rendered[0] == [
        f"{path}:3:2: error: column shipment_ref: expected a value, found an empty cell",
        f"{path}:3:3: error: column parcel_id: expected at most 64 characters, found 65",
        f"{path}:3:4: error: column status: expected a canonical status (" + ", ".join(s.value for s in ParcelStatus)
        + ") or nothing, found 'DEPOSTED' (did you mean 'DEPOSITED'?)",
    ]
    assert rendered[1] == [f"{path}:4:3: error: row: expected 4 cells, as in the header, found 2"]
    assert rendered[2] == [(f"{path}:5:1: error: column partner: expected a partner of the hub config (acme-tms, "
                           "acme-x12), found 'acme-tmz' (did you mean 'acme-tms'?)")]
    assert rendered[3] == [f"{path}:6:5: error: row: expected 4 cells, as in the header, found 5"]
    assert manifest.rows == 6


def test_a_caller_rejects_the_row_it_was_just_given(tmp_path: Path) -> None:
    from lockerhub.errors import ValidationError

    path = write(tmp_path, 'partner,shipment_ref,parcel_id\nacme-tms,SH-1,PX-1\nacme-tms,SH-1,"PX\n2"\n')
    manifest = Manifest(path, partners=PARTNERS)
    for line, partner, *_ in manifest:
        if line == 3:
            manifest.reject(line, ValidationError("listed twice"), partner=partner)
    assert [(b.line, b.raw, b.partner, [e.message for e in b.errors]) for b in manifest.bad] == [
        (3, 'acme-tms,SH-1,"PX\n2"\n', "acme-tms", ["listed twice"])]


@pytest.mark.parametrize(("text", "where", "message"), [
    ("", "1:1", "manifest is empty"),
    ("\n\n", "1:1", "manifest is empty"),
    ("partner,shipment,parcel_id\n", "1:2", ("header: required column 'shipment_ref' missing: expected columns "
     "partner, shipment_ref, parcel_id (and optionally status), found a header of 3 column(s) without it "
     "(column 2 is 'shipment': did you mean 'shipment_ref'?)")),
    ("\npartner,shipment_ref,parcel_id,staus\n", "2:4", ("header: column 'staus' is not a manifest column: "
     "expected status (optional), found 'staus' (did you mean 'status'?)")),
    ("partner,shipment_ref,parcel_id,partner\n", "1:4", "header: column 'partner' appears twice"),
])
def test_a_file_that_is_no_manifest_is_one_located_error(tmp_path: Path, text: str, where: str,
                                                         message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ParseError) as err:
        Manifest(path, partners=PARTNERS).open()
    assert str(err.value).startswith(f"{path}:{where}: error: {message}")


@pytest.mark.parametrize(("text", "where"), [
    ('partner,shipment_ref,parcel_id\nacme-tms,SH-1,PX-1\nacme-tms,"SH\n', "3"),  # a quote never closed
    ('partner,shipment_ref,parcel_id\nacme-tms,"SH"1,PX-1\n', "2"),  # text after a closing quote
])
def test_broken_quoting_stops_the_file_at_its_line(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ParseError) as err:
        list(Manifest(path, partners=PARTNERS))
    assert str(err.value).startswith(f"{path}:{where}: error: manifest is not valid CSV")


def test_every_header_problem_is_reported_together(tmp_path: Path) -> None:
    path = write(tmp_path, "partner,ref,parcel\n")
    with pytest.raises(ErrorGroup) as err:
        Manifest(path).open()
    assert [e.message for e in err.value.errors] == ["header: required column 'shipment_ref' missing",
                                                     "header: required column 'parcel_id' missing"]


def test_not_utf8_names_line_and_column_and_missing_file_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"partner,shipment_ref,parcel_id\nacme-tms,SH-1,PX-1\nacme-tms,M\xfcller,PX-2\n")
    with pytest.raises(ParseError) as err:
        list(Manifest(path))
    assert str(err.value) == (f"{path}:3:11: error: manifest is not valid UTF-8: expected UTF-8 text, found byte "
                              "0xfc (export the manifest as UTF-8)")
    with pytest.raises(ParseError, match=r"nowhere\.csv: error: manifest not found"):
        Manifest(tmp_path / "nowhere.csv").open()


def test_open_checks_the_header_before_any_row_is_asked_for(tmp_path: Path) -> None:
    path = write(tmp_path, "shipment_ref,parcel_id\n" + "acme-tms,SH-1,PX-1\n" * 3)
    with pytest.raises(ParseError, match="required column 'partner' missing"):
        Manifest(path).open()  # raised here, not on the first next()


@pytest.mark.parametrize(("partner", "ref", "pid"), [
    ("acme-tms", "SH-1", "PX-1"), ("ACME-TMS", "SH-1", "PX-1"), ("acme-tms", "Zażółć", "gęślą/jaźń"),
    ("a", "", "b"), ("acme-tms", "x\x1fy", "z"),
])
def test_the_manifest_key_is_the_hubs_idempotency_key(partner: str, ref: str, pid: str) -> None:
    assert key_int(partner, ref, pid) == int(idempotency_key(partner, ref, pid), 16)
