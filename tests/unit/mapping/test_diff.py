"""lockerhub.mapping.diff: header, table and field-rule changes between two mappings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lockerhub.errors import ErrorGroup
from lockerhub.mapping import load_mapping
from lockerhub.mapping.diff import compact, diff, rules

V1 = """\
mapping: acme/out
version: 1
effective_to: 2026-02-28
source: {format: canonical}
target: json
tables:
  size: {S: small, M: medium}
  gone: {A: a}
fields:
  ref: reference
  phone: recipient.phone
  country: {op: const, value: PL}
  items:
    repeat: parcels
    fields:
      grams: {op: unit, of: weight_g, from: g, to: g}
      id: parcel_id
"""

V2 = """\
mapping: acme/out
version: 2
effective_from: 2026-03-01
source: {format: canonical, options: {strict: true}}
target: json
tables:
  size: {S: small, M: M, L: large}
  temperature: {A: ambient}
fields:
  ref: {op: path, path: reference, required: true}
  country: {op: const, value: DE}
  items:
    repeat: packages
    fields:
      grams: {op: unit, of: weight_g, from: g, to: kg, decimals: 2}
      id: {op: text, of: parcel_id, case: upper}
      sscc: sscc
"""


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "out.v1.yaml", tmp_path / "out.v2.yaml"
    a.write_text(V1, "utf-8")
    b.write_text(V2, "utf-8")
    return a, b


def test_listing_of_every_kind_of_change(pair: tuple[Path, Path]) -> None:
    a, b = pair
    result = diff(a, b)
    assert not result.same
    assert list(result.lines()) == [
        f"mapping acme/out v1 ({a}) -> mapping acme/out v2 ({b})",
        "  ~ version: 1 -> 2",
        '  ~ effective_from: null -> "2026-03-01"',
        '  ~ effective_to: "2026-02-28" -> null',
        "  + source.options.strict: true",
        '  ~ table size: M: "medium" -> "M"; L: (none) -> "large"',
        "  - table gone: 1 code",
        "  + table temperature: 1 code",
        "  ~ field ref: path reference -> path reference",
        "      required: (default) -> true",
        "  - field phone: path recipient.phone",
        "  ~ field country: const 'PL' -> const 'DE'",
        '      value: "PL" -> "DE"',
        "  ~ field items[] repeat: repeat parcels -> repeat packages",
        "  ~ field items[].grams: unit g->g -> unit g->kg",
        '      to: "g" -> "kg"',
        "      decimals: (default) -> 2",
        "  ~ field items[].id: path parcel_id -> text upper",
        "  + field items[].sscc: path sscc",
    ]


def test_json_form_has_model_dumps(pair: tuple[Path, Path]) -> None:
    data = json.loads(json.dumps(diff(*pair).as_dict()))
    grams = next(d for d in data["differences"] if d["path"] == "items[].grams")
    assert grams["kind"] == "field" and grams["change"] == "changed"
    assert grams["before"]["to"] == "g" and grams["after"]["to"] == "kg"
    assert grams["before"]["from"] == "g"  # keyed as written in YAML
    added = next(d for d in data["differences"] if d["path"] == "items[].sscc")
    assert added["before"] is None and added["after"]["path"] == "sscc"


def test_same_mapping_has_no_differences(pair: tuple[Path, Path]) -> None:
    a, _ = pair
    result = diff(a, load_mapping(a))
    assert result.same
    assert list(result.lines())[1:] == ["  no differences"]


def test_default_written_out_is_no_change(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("mapping: x/y\nsource: {format: canonical}\ntarget: json\nfields:\n  r: reference\n", "utf-8")
    b.write_text("mapping: x/y\nsource: {format: canonical}\ntarget: json\nfields:\n"
                 "  r: {op: path, path: reference, required: false}\n", "utf-8")
    assert diff(a, b).same


def test_invalid_mapping_is_reported_not_diffed(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("mapping: x/y\nsource: {format: canonical}\ntarget: json\nfields: {r: {op: nope}}\n", "utf-8")
    with pytest.raises(ErrorGroup):
        diff(pair[0], bad)


def test_rules_and_compact_dumps(pair: tuple[Path, Path]) -> None:
    doc = load_mapping(pair[1]).doc
    table = rules(doc)
    assert list(table) == ["ref", "country", "items[] repeat", "items[].grams", "items[].id", "items[].sscc"]
    assert table["items[].grams"][2] == {"op": "unit", "of": {"op": "path", "path": "weight_g"}, "from": "g",
                                         "to": "kg", "decimals": 2}
    assert compact(doc.source) == {"format": "canonical", "options": {"strict": True}}
