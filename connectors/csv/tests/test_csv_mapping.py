"""The YAML column mapping: loading, and errors with file:line:col and did-you-mean hints."""

from __future__ import annotations

from pathlib import Path

import pytest
from lockerhub_csv.mapping import CsvMapping, load_mapping

from lockerhub.errors import ConfigError, ErrorGroup

BASE = """\
format: csv
columns:
  ref:    {field: reference, required: true}
  pid:    {field: parcels.parcel_id, required: true}
  l:      {field: parcels.dimensions.length, unit: cm}
  w:      {field: parcels.dimensions.width, unit: cm}
  h:      {field: parcels.dimensions.height, unit: cm}
  kg:     {field: parcels.weight, unit: kg}
"""


def load_text(tmp_path: Path, text: str) -> CsvMapping:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, "utf-8")
    return load_mapping(path)


def errors_of(tmp_path: Path, text: str) -> list[ConfigError]:
    with pytest.raises(ErrorGroup) as info:
        load_text(tmp_path, text)
    assert all(isinstance(e, ConfigError) for e in info.value.errors)
    return info.value.errors  # type: ignore[return-value]


def where(error: ConfigError) -> tuple[int | None, int | None]:
    assert error.location is not None
    return error.location.line, error.location.column


def test_shipped_default_mapping_loads(mapping: CsvMapping) -> None:
    by_column = {rule.column: rule for rule in mapping.columns}
    assert mapping.required_columns == ("shipment_ref", "parcel_id")
    assert by_column["weight_kg"].target.path == "parcels[0].weight_g"
    assert by_column["weight_kg"].unit == "kg"
    assert by_column["temperature"].default == "ambient"
    assert by_column["recipient_name"].target.pii
    assert not by_column["city"].target.pii
    assert mapping.defaults == ()


def test_misspelt_field_gives_position_and_did_you_mean(tmp_path: Path) -> None:
    text = BASE + "  sscc:   {field: parcels.ssc}\n"
    [error] = errors_of(tmp_path, text)
    assert where(error) == (9, 19)
    assert error.hint == "did you mean 'parcels.sscc'?"
    assert str(error) == (
        f"{tmp_path / 'mapping.yaml'}:9:19: error: unknown canonical field 'parcels.ssc' (did you mean 'parcels.sscc'?)"
    )


def test_unknown_keys_at_every_level(tmp_path: Path) -> None:
    text = (
        BASE.replace("format: csv\n", "format: csv\ncolumn_defaults: {}\n")
        + "  x: {field: reference2, requried: true}\n"
    )
    errors = errors_of(tmp_path, text)
    rendered = [str(e) for e in errors]
    assert where(errors[0]) == (2, 1)
    assert "unknown key 'column_defaults'" in rendered[0] and "did you mean 'columns'?" in rendered[0]
    assert where(errors[1]) == (10, 14)
    assert "unknown canonical field 'reference2'" in rendered[1] and "did you mean 'reference'?" in rendered[1]
    assert where(errors[2]) == (10, 26)
    assert "unknown key 'columns.x.requried'" in rendered[2] and "did you mean 'required'?" in rendered[2]


def test_misspelt_required_field_is_reported_once(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, BASE.replace("parcels.weight,", "parcels.weigth,"))
    assert len(errors) == 1
    assert "did you mean 'parcels.weight'?" in str(errors[0])


@pytest.mark.parametrize(
    ("line", "expected_text", "position"),
    [
        ("  x: {field: parcels.weight2, unit: kg}\n", "unknown canonical field", (9, 14)),
        ("  x: {field: recipient.name, unit: cm}\n", "field has no unit", (9, 36)),
        ("  x: {field: recipient.name, required: yes please}\n", "expected true or false", (9, 40)),
        ("  x: {field: recipient.name, required: true, default: A}\n", "cannot have a default", (9, 55)),
        ("  x: {field: recipient.name, default: [a]}\n", "expected a single value", (9, 39)),
        ("  x: {required: true}\n", "key 'field' missing", (9, 6)),
        ("  x: reference\n", "expected a mapping", (9, 6)),
        ("  ref: {field: recipient.name}\n", "duplicate key 'columns.ref'", (9, 3)),
        ("  ref2: {field: reference}\n", "field 'reference' is already fed", (9, 9)),
    ],
)
def test_rule_errors(tmp_path: Path, line: str, expected_text: str, position: tuple[int, int]) -> None:
    [error] = errors_of(tmp_path, BASE + line)
    assert expected_text in str(error)
    assert where(error) == position


def test_units_are_checked(tmp_path: Path) -> None:
    text = BASE.replace("unit: kg}", "unit: stone}").replace(
        "parcels.dimensions.length, unit: cm", "parcels.dimensions.length"
    )
    missing, bad = errors_of(tmp_path, text)
    assert where(missing) == (5, 11) and "unit missing: expected mm or cm or m or in" in str(missing)
    assert where(bad) == (8, 41) and "expected g or kg or lb, found 'stone'" in str(bad)


def test_default_must_convert(tmp_path: Path) -> None:
    [error] = errors_of(tmp_path, BASE.replace("unit: kg}", "unit: kg, default: heavy}"))
    assert where(error) == (8, 54)
    assert "columns.kg.default: expected a number, found 'heavy'" in str(error)


@pytest.mark.parametrize(
    ("line", "expected", "position"),
    [
        ("  t: {field: parcels.temperature, default: warm}\n", "expected 'ambient', 'chilled' or 'frozen'", (9, 44)),
        ("  c: {field: recipient.address.country, default: POL}\n", "expected at most 2 characters", (9, 50)),
        ("  s: {field: parcels.sscc, default: '005901234500000017'}\n", "expected 6, found 7", (9, 37)),
    ],
)
def test_defaults_must_pass_the_canonical_model(
    tmp_path: Path, line: str, expected: str, position: tuple[int, int]
) -> None:
    [error] = errors_of(tmp_path, BASE + line)
    assert where(error) == position
    assert expected in str(error)


def test_required_canonical_fields_must_be_fed(tmp_path: Path) -> None:
    text = "\n".join(line for line in BASE.splitlines() if "weight" not in line and "parcel_id" not in line)
    errors = errors_of(tmp_path, text)
    assert [e.message for e in errors] == [
        "nothing feeds required canonical field 'parcels.parcel_id'",
        "nothing feeds required canonical field 'parcels.weight'",
    ]


def test_partner_field_defaults(tmp_path: Path) -> None:
    text = BASE.replace("  kg: ", "  kg_unused: ").replace("parcels.weight, unit: kg", "parcels.s10")
    text += "partner_field_defaults:\n  recipient.address.country: DE\n  parcels.weight: {value: 1.5, unit: kg}\n"
    mapping = load_text(tmp_path, text)
    assert [(d.field, d.value) for d in mapping.defaults] == [
        ("recipient.address.country", "DE"),
        ("parcels.weight", 1500),
    ]
    assert mapping.defaults[1].location.line == 11


def test_partner_field_default_errors(tmp_path: Path) -> None:
    text = BASE + (
        "partner_field_defaults:\n"
        "  recipient.adress.city: X\n"
        "  parcels.weight: 2\n"
        "  parcels.dimensions.width: {value: wide, unit: cm}\n"
    )
    errors = errors_of(tmp_path, text)
    assert [where(e) for e in errors] == [(10, 3), (11, 19), (12, 37)]
    assert "did you mean 'recipient.address.city'?" in str(errors[0])
    assert "expected a mapping" in str(errors[1])
    assert "expected a number, found 'wide'" in str(errors[2])


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "mapping is empty", (1, 1)),
        ("- a\n- b\n", "expected a mapping", (1, 1)),
        ("columns: {}\n", "key 'format' missing", (1, 1)),
        ("format: tsv\ncolumns: {a: {field: reference}}\n", "format: expected 'csv', found 'tsv'", (1, 9)),
        ("format: csv\ncolumns: {}\n", "expected at least one column", (2, 1)),
        ("format: csv\n", "key 'columns' missing", (1, 1)),
    ],
)
def test_document_errors(tmp_path: Path, text: str, message: str, position: tuple[int, int]) -> None:
    errors = errors_of(tmp_path, text)
    assert [where(e) for e in errors if message in str(e)] == [position]


def test_invalid_yaml_is_one_config_error_with_position(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, "format: csv\ncolumns:\n  a: {field: reference\n  b: x\n")
    assert info.value.location is not None and info.value.location.line == 4
    assert "not valid YAML" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_mapping(tmp_path / "nope.yaml")


def test_errors_are_collected_and_sorted(tmp_path: Path) -> None:
    text = "format: csv\ncolumns:\n  b: {field: bogus}\n  a: {feld: reference}\nextra: 1\n"
    errors = errors_of(tmp_path, text)
    assert [where(e)[0] for e in errors] == sorted(where(e)[0] for e in errors)
    assert len(errors) >= 3
