"""lockerhub.mapping.explain: source position -> rule -> value for every field, and the vendor paths it feeds."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

import lockerhub.plugins.registry  # noqa: F401  (patched below)
from lockerhub.errors import Location
from lockerhub.mapping import load_mapping
from lockerhub.mapping.explain import connector_requests, explain, feeds_of, position, request_paths

INBOUND = """\
mapping: acme/in
source: {format: canonical}
target: json
fields:
  reference: ref
  recipient.name: {op: path, path: name, required: true}
  country: {op: const, value: PL}
  parcels:
    repeat: items
    fields:
      weight_g: {op: unit, of: kg, from: kg, to: g}
      dimensions.length_mm: len
"""

REQUEST = """\
mapping: vendor/book
source: {format: canonical}
target: json
fields:
  shipment.ref: reference
  shipment.to: recipient
  packages:
    repeat: parcels
    fields:
      mass: weight_g
      size.l: {op: unit, of: dimensions.length_mm, from: mm, to: cm}
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "in.yaml").write_text(INBOUND, "utf-8")
    (tmp_path / "book.yaml").write_text(REQUEST, "utf-8")
    source = tmp_path / "drop.json"
    source.write_text(json.dumps([{"ref": "R1", "name": "Ann", "items": [{"kg": 1.2, "len": 300}, {"kg": "x"}]},
                                  {"ref": "R2", "items": []}]), "utf-8")
    return {"mapping": tmp_path / "in.yaml", "request": tmp_path / "book.yaml", "source": source}


def test_every_field_in_mapping_order_with_position_rule_and_value(files: dict[str, Path]) -> None:
    src = files["source"]
    result = explain(src, load_mapping(files["mapping"]))
    assert (result.mapping, result.version, result.mapping_file) == ("acme/in", 1, str(files["mapping"]))
    first, second = result.records
    lines = [f.line() for f in first.fields]
    assert lines[:5] + lines[6:] == [
        f'reference: {src} ref -> path ref -> "R1"',
        f'recipient.name: {src} name -> path name -> "Ann"',
        'country: - -> const \'PL\' -> "PL"',
        f"parcels[0].weight_g: {src} kg -> unit kg->g -> 1200",
        f"parcels[0].dimensions.length_mm: {src} len -> path len -> 300",
        f"parcels[1].dimensions.length_mm: {src} len -> path len -> null",
    ]
    # the op's own message follows (its wording belongs to the op)
    assert lines[5].startswith(f"parcels[1].weight_g: {src} kg -> unit kg->g -> error: ")
    assert first.errors == []  # the field error is shown on its field, not repeated
    assert second.fields[1].error is not None and "required" in second.fields[1].error
    assert first.fields[0].source == {"file": None, "line": None, "column": None, "segment": None,
                                      "element": None, "path": "ref"}


def test_text_and_json_carry_the_same_content(files: dict[str, Path]) -> None:
    src = files["source"]
    result = explain(src, load_mapping(files["mapping"]))
    lines = list(result.lines())
    assert lines[0] == f"{src}: mapping acme/in v1 ({files['mapping']})"
    assert lines[1] == "record 1"
    assert f'  reference: {src} ref -> path ref -> "R1"' in lines
    data = json.loads(json.dumps(result.as_dict()))
    assert data["records"][0]["fields"][3] == {
        "target": "parcels[0].weight_g", "rule": "unit kg->g", "position": f"{src} kg",
        "source": {"file": None, "line": None, "column": None, "segment": None, "element": None, "path": "kg"},
        "value": 1200, "error": None, "feeds": []}


def test_model_errors_are_listed_per_record_and_extra_fields_are_given(tmp_path: Path) -> None:
    mapping = tmp_path / "s.yaml"
    mapping.write_text("mapping: acme/s\nsource: {format: canonical}\ntarget: shipment\nfields:\n  reference: ref\n",
                       "utf-8")
    source = tmp_path / "one.json"
    source.write_text('{"ref": "R1"}', "utf-8")
    (record,) = explain(source, load_mapping(mapping)).records
    assert record.fields[0].value == "R1"
    assert f"{source}: error: field partner: required by the shipment model: expected a rule that gives it a " \
           "value, found none" in record.errors
    (record,) = explain(source, load_mapping(mapping), extra={"partner": "acme"}).records
    assert not any("partner" in e for e in record.errors)


def test_position_renders_file_line_column_segment_and_path() -> None:
    source = Path("in/drop.csv")
    assert position(None, source) == "-"
    assert position(Location(path="a.b"), source) == "in/drop.csv a.b"
    assert position(Location("x.csv", 3, 5, path="weight_kg"), source) == "x.csv:3:5 weight_kg"
    assert position(Location("x.edi", 12, 3, segment="N4", element="03"), source) == "x.edi:12:3 (N4-03)"


def test_request_mappings_show_which_vendor_paths_each_field_feeds(files: dict[str, Path]) -> None:
    requests = {"book": load_mapping(files["request"])}
    assert request_paths(requests) == [
        ("reference", "book: shipment.ref"), ("recipient", "book: shipment.to"),
        ("parcels[].weight_g", "book: packages[].mass"),
        ("parcels[].dimensions.length_mm", "book: packages[].size.l"),
    ]
    result = explain(files["source"], load_mapping(files["mapping"]), connector="vendor", requests=requests)
    feeds = {f.target: f.feeds for f in result.records[0].fields}
    assert feeds == {
        "reference": ["book: shipment.ref"],
        "recipient.name": ["book: shipment.to"],  # the request reads the whole recipient
        "country": [],
        "parcels[0].weight_g": ["book: packages[].mass"],
        "parcels[0].dimensions.length_mm": ["book: packages[].size.l"],
        "parcels[1].weight_g": ["book: packages[].mass"],
        "parcels[1].dimensions.length_mm": ["book: packages[].size.l"],
    }
    lines = list(result.lines())
    assert lines[1] == "connector vendor: request mappings book"
    assert "      feeds vendor book: packages[].mass" in lines
    assert feeds_of("parcels", request_paths(requests)) == ["book: packages[].mass", "book: packages[].size.l"]


class _WithRequests:
    request_mappings: ClassVar[dict[str, Path]] = {}


class _Plain:
    pass


class _Registry:
    def __init__(self, classes: dict[str, Any]) -> None:
        self.classes = classes

    def load(self, connector_id: str) -> Any:
        return self.classes[connector_id]


def test_connector_without_request_mappings_is_said_plainly(files: dict[str, Path],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _WithRequests.request_mappings = {"book": files["request"]}
    module = sys.modules["lockerhub.plugins.registry"]  # the package re-exports a function of the same name
    monkeypatch.setattr(module, "registry", lambda: _Registry({"vendor": _WithRequests, "plain": _Plain}))
    loaded = connector_requests("vendor")
    assert loaded is not None and loaded["book"].doc.mapping == "vendor/book"
    assert connector_requests("plain") is None
    result = explain(files["source"], load_mapping(files["mapping"]), connector="plain")
    assert result.note == ("connector plain declares no request mappings (request_mappings), so the vendor request "
                           "paths fed by each field cannot be shown")
    assert list(result.lines())[1] == result.note
    with_feeds = explain(files["source"], load_mapping(files["mapping"]), connector="vendor")
    assert with_feeds.requests == ["book"] and with_feeds.records[0].fields[0].feeds == ["book: shipment.ref"]


def test_a_request_built_from_one_list_item_matches_that_items_fields(tmp_path: Path) -> None:
    per_parcel = tmp_path / "precheck.yaml"
    per_parcel.write_text("mapping: vendor/precheck\nsource: {format: canonical}\ntarget: json\nfields:\n"
                          "  weight: weight_g\n  size.l: dimensions.length_mm\n", "utf-8")
    reads = request_paths({"precheck": load_mapping(per_parcel)})
    assert feeds_of("parcels[2].weight_g", reads) == ["precheck: weight"]
    assert feeds_of("parcels[0].dimensions.length_mm", reads) == ["precheck: size.l"]
    assert feeds_of("recipient.weight_g_x", reads) == []
    assert feeds_of("weight_g", reads) == ["precheck: weight"]


def test_personal_data_is_hidden_unless_revealed(tmp_path: Path) -> None:
    mapping = tmp_path / "s.yaml"
    mapping.write_text("mapping: acme/s\nsource: {format: canonical}\ntarget: shipment\nfields:\n  reference: ref\n"
                       "  recipient.name: name\n  recipient.phone: {op: number, of: phone}\n", "utf-8")
    source = tmp_path / "one.json"
    source.write_text('{"ref": "R1", "name": "Ann Example", "phone": "call-me"}', "utf-8")
    compiled = load_mapping(mapping)
    (record,) = explain(source, compiled).records
    shown = {f.target: (f.value, f.error) for f in record.fields}
    assert shown["reference"] == ("R1", None)
    assert shown["recipient.name"] == ("<personal data>", None)
    assert shown["recipient.phone"][0] is None and "call-me" not in str(shown["recipient.phone"][1])
    (revealed,) = explain(source, compiled, reveal=True).records
    assert revealed.fields[1].value == "Ann Example"


def test_fields_follow_the_mapping_order_and_model_errors_follow_field_errors(tmp_path: Path) -> None:
    mapping = tmp_path / "s.yaml"
    mapping.write_text("mapping: acme/s\nsource: {format: canonical}\ntarget: shipment\nfields:\n  reference: ref\n"
                       "  parcels:\n    fields:\n      weight_g: {op: unit, of: kg, from: kg, to: g}\n"
                       "  destination_locker: locker\n", "utf-8")
    source = tmp_path / "one.json"
    source.write_text('{"ref": "R1", "kg": "x", "locker": "L1"}', "utf-8")
    (record,) = explain(source, load_mapping(mapping)).records
    assert [f.target for f in record.fields] == ["reference", "parcels[0].weight_g", "destination_locker"]
    assert record.fields[1].error is not None
    assert any("partner" in e for e in record.errors)  # the model's objection, beside the field's error
    assert not any("weight_g" in e for e in record.errors)  # the field's error is on the field only
