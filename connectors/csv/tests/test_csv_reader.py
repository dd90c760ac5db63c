"""Rows to SourceRecords: encodings, line endings, delimiters, positions, lineage and row errors."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from lockerhub_csv.reader import read_records

from lockerhub.errors import ErrorGroup, Location, MappingError, ParseError
from lockerhub.mapping import CompiledMapping as CsvMapping
from lockerhub.mapping import load_mapping
from lockerhub.plugins.protocols import SourceRecord

WriteCsv = Callable[..., Path]

WEIGHT, SSCC, LENGTH, TEMPERATURE, PARCEL_ID, NAME, PHONE, EMAIL = 12, 2, 9, 13, 1, 3, 4, 5  # 0-based cells


def read(path: Path, mapping: CsvMapping, **kw: str | None) -> list[SourceRecord]:
    return list(read_records(path, mapping, partner="acme", **kw))


def changed(rows: list[list[str]], row: int, cell: int, value: str) -> list[list[str]]:
    out = [list(r) for r in rows]
    out[row][cell] = value
    return out


def only_error(record: SourceRecord) -> MappingError:
    assert record.shipment is None
    [error] = record.errors
    assert isinstance(error, MappingError)
    return error


@pytest.mark.parametrize(
    ("encoding", "newline", "delimiter"),
    list(itertools.product(["utf-8", "utf-8-sig", "cp1252"], ["\n", "\r\n", "\r"], [",", ";", "\t", "|"])),
)
def test_every_encoding_line_ending_and_delimiter(
    write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping, encoding: str, newline: str, delimiter: str
) -> None:
    path = write_csv(sample_rows, encoding=encoding, newline=newline, delimiter=delimiter)
    records = read(path, mapping)
    assert [r.errors for r in records] == [(), (), ()]
    assert [r.location for r in records] == [Location(file=str(path), line=n) for n in (2, 3, 4)]
    shipments = [r.shipment for r in records if r.shipment is not None]
    assert [s.reference for s in shipments] == ["SHP-0001", "SHP-0002", "SHP-0003"]
    assert [s.recipient.address.city for s in shipments if s.recipient.address] == ["Kraków", "Müllheim", "Gdansk"]
    assert shipments[1].recipient.name == "Test Recipient Müller"
    assert [s.parcels[0].weight_g for s in shipments] == [1500, 250, 12000]
    lines = path.read_bytes().decode(encoding).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert [r.raw for r in records] == lines[1:4]


def test_utf8_only_characters(write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping) -> None:
    rows = changed(changed(sample_rows, 1, 7, "Łódź"), 2, 7, "Gdańsk")
    records = read(write_csv(rows, encoding="utf-8-sig"), mapping)
    assert [r.shipment.recipient.address.city for r in records[:2]] == ["Łódź", "Gdańsk"]  # type: ignore[union-attr]


def test_configured_encoding_and_delimiter(
    write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping
) -> None:
    rows = changed(sample_rows, 1, 7, "Łódź")
    path = write_csv(rows, encoding="cp1250", delimiter="|")
    records = read(path, mapping, encoding="cp1250", delimiter="|")
    assert records[0].shipment is not None and records[0].shipment.recipient.address.city == "Łódź"  # type: ignore[union-attr]


def test_good_shipment_and_lineage(
    write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping, default_mapping_path: Path
) -> None:
    path = write_csv(sample_rows)
    first, second, _ = read(path, mapping)
    shipment = first.shipment
    assert shipment is not None and shipment.partner == "acme"
    parcel = shipment.parcels[0]
    assert (parcel.parcel_id, parcel.sscc, parcel.temperature) == ("PCL-0001", "005901234500000016", "ambient")
    assert (parcel.dimensions.length_mm, parcel.dimensions.width_mm, parcel.dimensions.height_mm) == (300, 200, 100)
    assert shipment.destination_locker == "KRA01M"
    assert first.lineage["parcels[0].weight_g"] == Location(file=str(path), line=2, column=13, path="weight_kg")
    assert first.lineage["reference"] == Location(file=str(path), line=2, column=1, path="shipment_ref")
    assert first.lineage["recipient.address.postal_code"].column == 7
    default = first.lineage["parcels[0].temperature"]  # empty cell, filled by the rule's default
    assert (default.file, default.line, default.path) == (str(path), 2, "temperature")
    assert second.lineage["parcels[0].temperature"].path == "temperature"
    assert "parcels[0].sscc" not in second.lineage  # empty optional cell: no value, no lineage


def test_one_broken_row_among_good_rows(write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping) -> None:
    path = write_csv(changed(sample_rows, 2, WEIGHT, "twelve"))
    good1, bad, good2 = read(path, mapping)
    assert good1.shipment is not None and good2.shipment is not None
    error = only_error(bad)
    assert error.location == Location(file=str(path), line=3, column=13, path="weight_kg")
    assert (error.expected, error.found) == ("a number", "'twelve'")
    assert str(error) == (f"{path}:3:13: error: column weight_kg -> parcels[0].weight_g: expected a number, "
                          "found 'twelve' (rule: unit kg->g)")
    assert bad.raw.startswith("SHP-0002,PCL-0002,") and "twelve" in bad.raw
    assert bad.location == Location(file=str(path), line=3)


def test_bad_sscc_check_digit_names_the_column(
    write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping
) -> None:
    path = write_csv(changed(sample_rows, 1, SSCC, "005901234500000017"))
    error = only_error(read(path, mapping)[0])
    assert error.location == Location(file=str(path), line=2, column=3, path="sscc")
    assert (error.expected, error.found) == ("6", "7")
    assert str(error).startswith(f"{path}:2:3: error: column sscc -> parcels[0].sscc: SSCC 005901234500000017 "
                                 "check digit")


def test_all_errors_of_a_row_are_collected(
    write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping
) -> None:
    row = sample_rows[1]
    for cell, value in ((WEIGHT, "twelve"), (LENGTH, "-3"), (SSCC, "12345"), (TEMPERATURE, "warm"), (PARCEL_ID, "")):
        row = changed([row], 0, cell, value)[0]
    [record] = read(write_csv([sample_rows[0], row]), mapping)
    assert record.shipment is None
    found = [(e.location.column, e.location.path, e.expected, e.found) for e in record.errors if e.location]
    assert found == [
        (2, "parcel_id", "a value", "none"),
        (3, "sscc", "18 digits", "'12345' (5 characters)"),
        (10, "length_cm", ">= 0", "-30"),  # the model sees millimetres
        (13, "weight_kg", "a number", "'twelve'"),
        (14, "temperature", "'ambient', 'chilled' or 'frozen'", "'warm'"),
    ]
    assert all(isinstance(e, MappingError) for e in record.errors)


def test_wrong_number_of_cells(write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping) -> None:
    rows = [sample_rows[0], sample_rows[1] + ["extra"], sample_rows[2][:-2], sample_rows[3]]
    path = write_csv(rows)
    extra, short, good = read(path, mapping)
    assert good.shipment is not None
    error = only_error(extra)
    assert (error.location.line, error.location.column) == (2, 15)  # type: ignore[union-attr]
    assert (error.expected, error.found) == ("14 cells (one per header column)", "15 cells")
    error = only_error(short)
    assert (error.location.line, error.location.column, error.found) == (3, 13, "12 cells")  # type: ignore[union-attr]


def test_recipient_pii_never_appears_in_errors(
    write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping
) -> None:
    rows = [sample_rows[0], sample_rows[1] + ["extra"], changed(sample_rows, 2, WEIGHT, "x")[2]]
    texts = [str(e) for r in read(write_csv(rows), mapping) for e in r.errors]
    assert len(texts) == 2
    for row in sample_rows[1:3]:
        assert not any(row[cell] in text for cell in (NAME, PHONE, EMAIL) for text in texts)


def test_pii_values_are_masked_in_conversion_errors(tmp_path: Path, write_csv: WriteCsv) -> None:
    # A (deliberately wrong) rule that fails on a personal-data field must not echo the value.
    mapping_path = tmp_path / "m.yaml"
    mapping_path.write_text(
        "mapping: t/pii\nsource: {format: csv}\ntarget: shipment\nfields:\n"
        "  reference: ref\n  recipient.phone: {op: number, of: phone}\n"
        "  parcels:\n    fields:\n      parcel_id: id\n      dimensions.length_mm: {op: const, value: 1}\n"
        "      dimensions.width_mm: {op: const, value: 1}\n      dimensions.height_mm: {op: const, value: 1}\n"
        "      weight_g: {op: const, value: 1}\n",
        "utf-8",
    )
    path = write_csv([["ref", "id", "phone"], ["R1", "P1", "+48 000 000 001"]])
    (record,) = read(path, load_mapping(mapping_path))
    (error,) = record.errors
    assert error.location == Location(file=str(path), line=2, column=3, path="phone")
    assert "000 000 001" not in str(error) and "personal data" in str(error)


def test_blank_lines_are_skipped_and_line_numbers_stay_physical(
    write_text: Callable[..., Path], sample_text: str, mapping: CsvMapping
) -> None:
    header, row1, row2, row3 = sample_text.splitlines()
    text = f"{header}\n\n{row1}\n   \n,,,,,,,,,,,,,\n{row2}\n\n{row3}\n\n"
    records = read(write_text(text), mapping)
    assert [r.location.line for r in records] == [3, 6, 8]
    assert all(r.shipment is not None for r in records)


def test_quoted_cell_spanning_lines(write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping) -> None:
    path = write_csv(changed(sample_rows, 1, 7, "Kraków\nNowa Huta"), newline="\r\n")
    first, second, third = read(path, mapping)
    assert first.shipment is not None and first.shipment.recipient.address.city == "Kraków\nNowa Huta"  # type: ignore[union-attr]
    assert first.raw.count("\n") == 1
    assert [r.location.line for r in (first, second, third)] == [2, 4, 5]


def test_missing_required_header_column_is_one_file_error(
    write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping
) -> None:
    path = write_csv(changed(sample_rows, 0, 0, "shipment_reference"))
    with pytest.raises(ParseError) as info:
        read(path, mapping)
    error = info.value
    assert error.location == Location(file=str(path), line=1, column=1, path="shipment_ref")
    assert error.hint == "column 1 is 'shipment_reference': did you mean 'shipment_ref'?"
    assert str(error).startswith(f"{path}:1:1: error: header: required column 'shipment_ref' missing")


def test_several_missing_header_columns(write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping) -> None:
    rows = [[c for i, c in enumerate(r) if i > 1] for r in sample_rows]
    with pytest.raises(ParseError, match="required columns 'shipment_ref', 'parcel_id' missing") as info:
        read(write_csv(rows), mapping)
    assert info.value.location is not None and info.value.location.column == 1


def test_duplicate_and_missing_header_columns_together(
    write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping
) -> None:
    rows = [[c for i, c in enumerate(r) if i != 1] + [r[WEIGHT]] for r in sample_rows]
    with pytest.raises(ErrorGroup) as info:
        read(write_csv(rows), mapping)
    assert [type(e) for e in info.value.errors] == [ParseError, ParseError]
    assert "column 'weight_kg' appears twice" in str(info.value)


def test_column_of_a_required_rule_absent_from_header(
    write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping
) -> None:
    rows = [r[:WEIGHT] + r[WEIGHT + 1 :] for r in sample_rows]
    path = write_csv(rows)
    with pytest.raises(ParseError) as info:
        read(path, mapping)
    assert str(info.value) == (
        f"{path}:1:12: error: header: required column 'weight_kg' missing: expected column named 'weight_kg', "
        "found a header of 13 columns without it (column 12 is 'height_cm': did you mean 'weight_kg'?)")


def test_optional_column_absent_from_header_leaves_the_field_empty(
    write_csv: WriteCsv, sample_rows: list[list[str]], mapping: CsvMapping
) -> None:
    rows = [r[:SSCC] + r[SSCC + 1 :] for r in sample_rows]
    records = read(write_csv(rows), mapping)
    assert [r.errors for r in records] == [(), (), ()]
    assert all(r.shipment is not None and r.shipment.parcels[0].sscc is None for r in records)


def test_defaults_fill_empty_cells(tmp_path: Path, write_csv: WriteCsv) -> None:
    mapping_path = tmp_path / "m.yaml"
    mapping_path.write_text(
        "mapping: t/defaults\nsource: {format: csv}\ntarget: shipment\nfields:\n"
        "  reference: {op: path, path: ref, required: true}\n"
        "  recipient.address.country: {op: const, value: DE}\n"
        "  parcels:\n    fields:\n      parcel_id: id\n"
        "      weight_g: {op: unit, of: kg, from: kg, to: g, default: 907}\n"
        "      dimensions.length_mm: {op: const, value: 100}\n      dimensions.width_mm: {op: const, value: 100}\n"
        "      dimensions.height_mm: {op: const, value: 100}\n",
        "utf-8",
    )
    path = write_csv([["ref", "id", "kg"], ["R1", "P1", ""], ["R2", "P2", "3"]])
    first, second = read(path, load_mapping(mapping_path))
    assert first.shipment is not None and second.shipment is not None
    assert first.shipment.parcels[0].weight_g == 907 and second.shipment.parcels[0].weight_g == 3000
    assert first.shipment.recipient.address is not None and first.shipment.recipient.address.country == "DE"
    assert first.lineage["parcels[0].weight_g"] == Location(file=str(path), line=2, column=3, path="kg")
    assert "recipient.address.country" not in first.lineage  # a constant has no source position


def test_empty_and_header_only_files(write_text: Callable[..., Path], sample_text: str, mapping: CsvMapping) -> None:
    with pytest.raises(ParseError, match="no header row"):
        read(write_text("\n\n", "empty.csv"), mapping)
    assert read(write_text(sample_text.splitlines()[0] + "\n", "header.csv"), mapping) == []


def test_partner_is_required(write_text: Callable[..., Path], sample_text: str, mapping: CsvMapping) -> None:
    with pytest.raises(ValueError, match="partner"):
        list(read_records(write_text(sample_text), mapping, partner=""))


def test_every_canonical_target_can_be_mapped(tmp_path: Path, write_csv: WriteCsv) -> None:
    # Field names with digits (parcels.s10) once failed to compile; every target must map a real cell.
    mapping_path = tmp_path / "m.yaml"
    mapping_path.write_text(
        "mapping: t/all\nsource: {format: csv}\ntarget: shipment\nfields:\n  reference: ref\n"
        "  recipient.address.street: street\n  parcels:\n    fields:\n      parcel_id: id\n      s10: s10\n"
        "      dimensions.length_mm: {op: unit, of: l, from: mm, to: mm}\n"
        "      dimensions.width_mm: {op: unit, of: w, from: mm, to: mm}\n"
        "      dimensions.height_mm: {op: unit, of: h, from: mm, to: mm}\n"
        "      weight_g: {op: unit, of: g, from: g, to: g}\n",
        "utf-8",
    )
    path = write_csv([["ref", "id", "s10", "street", "l", "w", "h", "g"],
                      ["R1", "P1", "rr123456785ch", "Test Street 1", "100", "100", "50", "900"]])
    (record,) = read(path, load_mapping(mapping_path))
    assert record.shipment is not None, record.errors
    assert record.shipment.parcels[0].s10 == "RR123456785CH"
    assert record.lineage["parcels[0].s10"].column == 3
