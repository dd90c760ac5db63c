"""lockerhub.mapping.golden: golden cases beside the mappings, compared field by field.

The repository's own cases (``mappings/**/tests/``) run here too, one test per folder, exactly as
``lockerhub mapping test`` runs them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lockerhub.errors import Location, MappingError, ParseError
from lockerhub.mapping import CompiledMapping, MappingDoc
from lockerhub.mapping.formats import BUILTIN, CanonicalFormat
from lockerhub.mapping.golden import compare, discover, error_line, mask, run_golden, run_suite, value_diff

ROOT = Path(__file__).resolve().parents[3]

OUT = """\
mapping: acme/out
version: {version}
{dates}source: {{format: canonical}}
target: json
fields:
  ref: reference
  recipient.name: {{op: path, path: recipient.name, required: true}}
  items:
    repeat: parcels
    fields:
      id: parcel_id
      grams: weight_g
"""

SHIPMENTS = [
    {"reference": "R1", "recipient": {"name": "Ann"}, "parcels": [{"parcel_id": "P1", "weight_g": 1200}]},
    {"reference": "R2", "recipient": {}, "parcels": []},
]
R1 = {"ref": "R1", "recipient": {"name": "Ann"}, "items": [{"id": "P1", "grams": 1200}]}


def _r2_error() -> str:
    """The line the core gives for R2's missing recipient name (its wording is the compiler's, not ours), naming the
    input file as golden files do."""
    compiled = CompiledMapping(MappingDoc.model_validate(yaml.safe_load(OUT.format(version=1, dates=""))))
    (error,) = compiled.map(SHIPMENTS[1]).errors
    line = error_line(error, Path("case.json"))
    assert line.startswith("case.json: error: ") and "recipient.name" in line
    return line


R2_ERROR = _r2_error()


def folder(tmp_path: Path, *, versions: dict[str, str] | None = None, inputs: Any = SHIPMENTS,
           expected: dict[str, Any] | None = None, case: str = "case") -> Path:
    """A mappings folder: ``versions`` (file name -> dates lines) and one case in tests/."""
    root = tmp_path / "acme"
    (root / "tests").mkdir(parents=True)
    for i, (name, dates) in enumerate((versions or {"out.yaml": ""}).items(), start=1):
        (root / name).write_text(OUT.format(version=i, dates=dates), "utf-8")
    (root / "tests" / f"{case}.json").write_text(json.dumps(inputs), "utf-8")
    if expected is not None:
        (root / "tests" / f"{case}.expected.json").write_text(json.dumps(expected), "utf-8")
    return root


def test_matching_case_passes(tmp_path: Path) -> None:
    root = folder(tmp_path, expected={"mapping": "acme/out", "records": [{"value": R1}, {"errors": [R2_ERROR]}]})
    (result,) = run_golden(root)
    assert result.status == "pass", result.diff or result.problems
    assert result.ok and result.records == 2
    assert (result.mapping, result.version) == ("acme/out", 1)
    assert result.case == str(root / "tests" / "case")


def test_mismatch_gives_one_line_per_differing_path(tmp_path: Path) -> None:
    wrong = {"ref": "R1", "recipient": {"name": "Ann", "phone": "1"}, "items": [{"id": "P1", "grams": 1020}]}
    root = folder(tmp_path, expected={"records": [{"value": wrong}, {"errors": [R2_ERROR]}]})
    (result,) = run_golden(root)
    assert result.status == "fail" and not result.ok
    assert result.diff == [
        "record 1:",
        '  recipient.phone: expected "1", got nothing',
        "  items[0].grams: expected 1020, got 1200",
    ]
    assert result.summary == "2 differences"


def test_missing_and_extra_records(tmp_path: Path) -> None:
    root = folder(tmp_path, expected={"records": [{"value": R1}]})
    (result,) = run_golden(root)
    assert result.diff == ["record 2: extra; got 1 error", f"    {R2_ERROR}"]
    root2 = folder(tmp_path / "b", inputs=SHIPMENTS[:1],
                   expected={"records": [{"value": R1}, {"value": {"ref": "R9"}}]})
    (result2,) = run_golden(root2)
    assert result2.diff == ['record 2: missing; expected a value {"ref": "R9"}']


def test_errors_compared_line_by_line_and_value_versus_errors(tmp_path: Path) -> None:
    root = folder(tmp_path, expected={"records": [{"errors": ["x"]}, {"errors": ["case.json: error: other"]}]})
    (result,) = run_golden(root)
    assert result.diff == [
        f'record 1: expected 1 error, got a value {json.dumps(R1)[:59]}…',
        "record 2:",
        "  missing error: case.json: error: other",
        f"  unexpected error: {R2_ERROR}",
    ]


def test_masked_fields_are_replaced_on_both_sides_not_deleted(tmp_path: Path) -> None:
    volatile = {**R1, "items": [{"id": "<masked>", "grams": 1200}]}
    root = folder(tmp_path, expected={"masked": ["items[].id", "ref"],
                                      "records": [{"value": {**volatile, "ref": "anything"}}, {"errors": [R2_ERROR]}]})
    (result,) = run_golden(root)
    assert result.status == "pass", result.diff
    assert mask({"value": {"ref": "R", "items": [{"id": 1}, {"id": 2}]}}, ["items[*].id"]) == {
        "value": {"ref": "R", "items": [{"id": "<masked>"}, {"id": "<masked>"}]}}
    assert mask({"value": {"a": 1}}, ["b.c", "a[0]"]) == {"value": {"a": 1}}  # absent paths stay absent
    assert mask({"errors": ["e"]}, ["a"]) == {"errors": ["e"]}


def test_update_golden_rewrites_expected_keeping_mapping_on_and_masked(tmp_path: Path) -> None:
    root = folder(tmp_path, versions={"out.v1.yaml": "effective_to: 2026-02-28\n",
                                      "out.v2.yaml": "effective_from: 2026-03-01\n"},
                  expected={"mapping": "acme/out", "on": "2026-01-10", "masked": ["items[].id"],
                            "records": [{"value": {"ref": "old"}}]})
    (result,) = run_golden(root, update=True)
    assert result.status == "updated" and result.version == 1
    written = json.loads((root / "tests" / "case.expected.json").read_text("utf-8"))
    assert written == {"mapping": "acme/out", "on": "2026-01-10", "masked": ["items[].id"],
                       "records": [{"value": {**R1, "items": [{"id": "<masked>", "grams": 1200}]}},
                                   {"errors": [R2_ERROR]}]}
    assert [r.status for r in run_golden(root)] == ["pass"]
    assert [r.status for r in run_golden(root, update=True)] == ["pass"]  # nothing to rewrite


def test_new_case_without_expected_fails_until_update_writes_it(tmp_path: Path) -> None:
    root = folder(tmp_path)
    (result,) = run_golden(root)
    assert result.status == "fail"
    assert result.diff[0].startswith("no expected file case.expected.json; run `lockerhub mapping test "
                                     "--update-golden`")
    assert result.summary == "no expected file case.expected.json"
    assert run_golden(root, update=True)[0].status == "updated"
    written = json.loads((root / "tests" / "case.expected.json").read_text("utf-8"))
    assert written == {"mapping": "acme/out", "records": [{"value": R1}, {"errors": [R2_ERROR]}]}


def test_case_runs_the_version_in_force_on_its_day_else_the_newest(tmp_path: Path) -> None:
    versions = {"out.v1.yaml": "effective_from: 2026-01-01\neffective_to: 2026-02-28\n",
                "out.v2.yaml": "effective_from: 2026-03-01\n"}
    root = folder(tmp_path, versions=versions, expected={"records": []})
    assert run_golden(root)[0].version == 2
    (root / "tests" / "case.expected.json").write_text(json.dumps({"on": "2026-02-01", "records": []}), "utf-8")
    assert run_golden(root)[0].version == 1
    (root / "tests" / "case.expected.json").write_text(json.dumps({"on": "2020-01-01", "records": []}), "utf-8")
    (result,) = run_golden(root)
    assert result.status == "error"
    assert result.problems[0].startswith("error: no version of mapping 'acme/out' is in force on 2020-01-01")


def test_case_must_say_which_mapping_when_the_folder_has_several(tmp_path: Path) -> None:
    root = folder(tmp_path, expected={"records": []})
    (root / "status.yaml").write_text(OUT.format(version=1, dates="").replace("acme/out", "acme/status"), "utf-8")
    (result,) = run_golden(root)
    assert result.status == "error"
    assert result.problems == [(f"{root / 'tests' / 'case.expected.json'}: error: case 'case' does not say which "
                               'mapping it tests: expected "mapping": one of acme/out, acme/status')]
    # a case named after a mapping file is that mapping's
    (root / "tests" / "case.json").rename(root / "tests" / "status-basic.json")
    (root / "tests" / "case.expected.json").rename(root / "tests" / "status-basic.expected.json")
    assert run_golden(root)[0].mapping == "acme/status"


def test_broken_cases_are_errors_with_reasons(tmp_path: Path) -> None:
    root = folder(tmp_path, expected={"records": [], "mapping": "acme/out", "mask": []})
    (root / "tests" / "lonely.expected.json").write_text('{"records": []}', "utf-8")
    (root / "tests" / "README.md").write_text("notes", "utf-8")
    results = {Path(r.case).name: r for r in run_golden(root)}
    assert sorted(results) == ["case", "lonely"]
    assert results["case"].problems == [(f"{root / 'tests' / 'case.expected.json'}: error: mask: Extra inputs are "
                                        "not permitted")]
    assert results["lonely"].problems == [(f"{root / 'tests'}: error: case 'lonely' needs one input file beside "
                                          "lonely.expected.json: expected lonely.<ext>, found none")]


def test_a_broken_mapping_folder_is_one_error_result(tmp_path: Path) -> None:
    root = folder(tmp_path, expected={"records": []})
    (root / "out.yaml").write_text("mapping: acme/out\nsource: {format: canonical}\ntarget: json\nfields: {x: {op: "
                                   "nope}}\n", "utf-8")
    (result,) = run_golden(root)
    assert result.status == "error" and result.case == str(root)
    assert result.problems[0].startswith(f"{root / 'out.yaml'}:4:")


def test_discover_from_file_folder_tree_or_tests_folder(tmp_path: Path) -> None:
    root = folder(tmp_path, expected={"records": []})
    (tmp_path / "empty").mkdir()
    assert [s.folder for s in discover(tmp_path)] == [root]
    assert [s.folder for s in discover(root / "tests")] == [root]
    (suite,) = discover(root / "out.yaml")
    assert suite.only == root / "out.yaml"
    assert discover(tmp_path / "empty") == []
    (root / "status.yaml").write_text(OUT.format(version=1, dates="").replace("acme/out", "acme/status"), "utf-8")
    (root / "tests" / "case.expected.json").write_text('{"mapping": "acme/out", "records": []}', "utf-8")
    assert [r.mapping for r in run_suite(discover(root / "out.yaml")[0])] == ["acme/out"]
    assert run_suite(discover(root / "status.yaml")[0], update=True) == []  # other mappings' cases: untouched
    assert (root / "tests" / "case.expected.json").read_text("utf-8") == '{"mapping": "acme/out", "records": []}'


def test_shipment_values_are_json_dumps_of_the_model(tmp_path: Path) -> None:
    root = tmp_path / "acme"
    (root / "tests").mkdir(parents=True)
    (root / "in.yaml").write_text(
        "mapping: acme/in\nsource: {format: canonical}\ntarget: shipment\nfields:\n"
        "  partner: {op: const, value: acme}\n"
        "  reference: ref\n  recipient.name: name\n  parcels:\n    repeat: items\n    fields:\n      parcel_id: id\n"
        "      weight_g: g\n      dimensions.length_mm: {op: const, value: 10}\n"
        "      dimensions.width_mm: {op: const, value: 10}\n      dimensions.height_mm: {op: const, value: 10}\n",
        "utf-8")
    (root / "tests" / "one.json").write_text('{"ref": "S1", "name": "Ann", "items": [{"id": "P1", "g": 5}]}', "utf-8")
    (result,) = run_golden(root, update=True)
    assert result.status == "updated", result.problems
    written = json.loads((root / "tests" / "one.expected.json").read_text("utf-8"))
    (record,) = written["records"]
    assert record["value"]["parcels"][0]["temperature"] == "ambient"  # defaults are written out
    assert record["value"]["recipient"]["name"] == "Ann"


def test_value_diff_and_compare_helpers() -> None:
    assert list(value_diff({"a": [1, 2]}, {"a": [1]})) == ["a[1]: expected 2, got nothing"]
    assert list(value_diff({"a": True}, {"a": 1})) == ["a: expected true, got 1"]
    assert list(value_diff(1, 2)) == ["(record): expected 1, got 2"]
    assert compare([{"errors": ["a", "b"]}], [{"errors": ["b", "a"]}]) == [
        "record 1:", "  the same errors in another order"]
    assert compare([], []) == []


def _repository_suites() -> list[Any]:
    mappings = ROOT / "mappings"
    return [pytest.param(s, id=str(s.folder.relative_to(ROOT))) for s in discover(mappings)] if mappings.is_dir() \
        else []


@pytest.mark.parametrize("suite", _repository_suites())
def test_repository_golden_cases(suite: Any) -> None:
    """The committed golden cases pass (`lockerhub mapping test` runs the same)."""
    failures = [r for r in run_suite(suite) if not r.ok]
    assert not failures, "\n".join(f"{r.case}: {r.status}\n" + "\n".join(r.diff or r.problems) for r in failures)


class _Row(dict):  # type: ignore[type-arg]
    problem: Any = None


class _FussyFormat(CanonicalFormat):
    """Canonical, except that a record {"broken": true} is a row the reader could not split, and a record
    {"stop": true} ends the file with a read error."""

    name = "fussy"

    def read(self, path: Path, **options: Any) -> Iterator[Any]:
        for item in super().read(path, **options):
            if item.get("stop"):
                raise ParseError("file ends early", location=Location(file=str(path), line=9))
            row = _Row(item)
            if item.get("broken"):
                row.problem = MappingError("row has 3 cells", location=Location(file=str(path), line=4, column=1),
                                           expected="5 like the header")
            yield row


def test_reader_problems_and_read_errors_are_error_records(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BUILTIN, "fussy", _FussyFormat())
    root = folder(tmp_path, inputs=[SHIPMENTS[0], {"broken": True}, {"stop": True}, SHIPMENTS[0]])
    (root / "out.yaml").write_text(OUT.format(version=1, dates="").replace("canonical", "fussy"), "utf-8")
    run_golden(root, update=True)
    written = json.loads((root / "tests" / "case.expected.json").read_text("utf-8"))
    assert written["records"] == [
        {"value": R1},
        {"errors": ["case.json:4:1: error: row has 3 cells: expected 5 like the header"]},
        {"errors": ["case.json:9: error: file ends early"]},
    ]
