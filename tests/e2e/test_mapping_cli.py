"""`lockerhub mapping validate|test|explain|diff|reference` through the command line (subprocess of the CLI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

OUT = """\
mapping: acme/out
version: {version}
{dates}source: {{format: canonical}}
target: json
fields:
  ref: reference
  items:
    repeat: parcels
    fields:
      grams: {grams}
"""

SHIPMENTS = [{"reference": "R1", "parcels": [{"weight_g": 1200}, {"weight_g": 5}]}, {"reference": "R2"}]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockerhub.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "COLUMNS": "200"}, timeout=120, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """tmp/mappings/acme/{out.v1.yaml,out.v2.yaml,tests/basic.json}: v2 from 2026-03-01 converts g to kg."""
    acme = tmp_path / "mappings" / "acme"
    (acme / "tests").mkdir(parents=True)
    (acme / "out.v1.yaml").write_text(OUT.format(version=1, dates="", grams="weight_g"), "utf-8")
    (acme / "out.v2.yaml").write_text(OUT.format(
        version=2, dates="effective_from: 2026-03-01\n", grams="{op: unit, of: weight_g, from: g, to: kg, "
                                                               "decimals: 1}"), "utf-8")
    (acme / "tests" / "basic.json").write_text(json.dumps(SHIPMENTS), "utf-8")
    return tmp_path


def expect(project: Path, records: list[dict[str, object]], **spec: object) -> None:
    path = project / "mappings" / "acme" / "tests" / "basic.expected.json"
    path.write_text(json.dumps({**spec, "records": records}), "utf-8")


# --------------------------------------------------------------------------- validate


def test_validate_prints_ok_per_file(project: Path) -> None:
    proc = cli("mapping", "validate", "mappings", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["ok mappings/acme/out.v1.yaml", "ok mappings/acme/out.v2.yaml"]


def test_validate_errors_are_compiler_lines_sorted_by_position(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("mapping: acme/bad\ndescripton: typo\nsource: {format: canonical}\n"
                                       "target: shipment\nfields:\n  reference: ref\n"
                                       "  recipient.name: {op: pth, path: x}\n", "utf-8")
    (tmp_path / "fields.yaml").write_text("mapping: acme/fields\nsource: {format: canonical}\ntarget: shipment\n"
                                          "fields:\n  reference: ref\n  parcels:\n    repeat: items\n    fields:\n"
                                          "      weigth_g: w\n", "utf-8")
    (tmp_path / "good.yaml").write_text(OUT.format(version=1, dates="", grams="weight_g"), "utf-8")
    proc = cli("mapping", "validate", "bad.yaml", "fields.yaml", "good.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == ["ok good.yaml"]
    lines = proc.stderr.splitlines()
    assert len(lines) == 3, proc.stderr
    assert lines[0] == "bad.yaml:2:1: error: descripton: unknown key (did you mean 'description'?)"
    assert lines[1].startswith("bad.yaml:7:24: error: fields.recipient.name.op: unknown op 'pth': expected ")
    assert lines[1].endswith("(did you mean 'path'?)")
    assert lines[2] == ("fields.yaml:9:7: error: unknown shipment field 'parcels[].weigth_g' "
                        "(did you mean 'parcels[].weight_g'?)")
    assert "Traceback" not in proc.stderr


def test_validate_folder_reports_overlapping_versions_on_the_later_file(project: Path) -> None:
    v1 = project / "mappings" / "acme" / "out.v1.yaml"
    v1.write_text(OUT.format(version=1, dates="effective_to: 2026-03-31\n", grams="weight_g"), "utf-8")
    proc = cli("mapping", "validate", "mappings", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == ["ok mappings/acme/out.v1.yaml"]
    assert proc.stderr.splitlines() == [
        ("mappings/acme/out.v2.yaml:3:17: error: mapping 'acme/out' v2 (2026-03-01..) overlaps v1 (..2026-03-31) in "
        "mappings/acme/out.v1.yaml (end the earlier version with effective_to, or start this one later)")]
    data = json.loads(cli("mapping", "validate", "mappings", "--json", cwd=project).stdout)
    assert [(d["file"], d["ok"], len(d["errors"])) for d in data] == [
        ("mappings/acme/out.v1.yaml", True, 0), ("mappings/acme/out.v2.yaml", False, 1)]


# --------------------------------------------------------------------------- test


def test_golden_pass(project: Path) -> None:
    expect(project, [{"value": {"ref": "R1", "items": [{"grams": 1.2}, {"grams": 0.0}]}}, {"value": {"ref": "R2"}}])
    proc = cli("mapping", "test", cwd=project)  # default PATH: mappings/
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "mappings/acme/tests/basic" in proc.stdout and "acme/out v2" in proc.stdout and "pass" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "1 passed, 0 failed"


def test_golden_fail_prints_field_diff_and_exits_1(project: Path) -> None:
    expect(project, [{"value": {"ref": "R1", "items": [{"grams": 1200}, {"grams": 5}]}}, {"value": {"ref": "R9"}},
                     {"value": {"ref": "R3"}}], on="2026-01-15")
    proc = cli("mapping", "test", "mappings/acme", cwd=project)
    assert proc.returncode == 1
    assert "fail" in proc.stdout
    out = proc.stdout.splitlines()
    start = out.index("mappings/acme/tests/basic: fail (acme/out v1, mappings/acme/out.v1.yaml)")
    assert out[start + 1:] == [
        "record 2:",
        '  ref: expected "R9", got "R2"',
        'record 3: missing; expected a value {"ref": "R3"}',
        "0 passed, 1 failed",
    ]
    proc2 = cli("mapping", "test", "mappings/acme", cwd=project)  # same again: nothing was rewritten
    assert proc2.returncode == 1
    expect(project, [{"value": {"ref": "R1", "items": [{"grams": 1200}, {"grams": 5}]}}, {"value": {"ref": "R2"}}])
    v2 = cli("mapping", "test", "mappings/acme", cwd=project)  # without `on`: the newest version, v2
    assert v2.returncode == 1
    assert "  items[0].grams: expected 1200, got 1.2" in v2.stdout.splitlines()


def test_update_golden_rewrites_then_passes(project: Path) -> None:
    expect(project, [], masked=["items[].grams"])
    proc = cli("mapping", "test", "mappings", "--update-golden", cwd=project)
    assert proc.returncode == 0, proc.stdout
    assert "updated" in proc.stdout and proc.stdout.splitlines()[-1] == "0 passed, 1 updated, 0 failed"
    written = json.loads((project / "mappings/acme/tests/basic.expected.json").read_text("utf-8"))
    assert written == {"masked": ["items[].grams"], "records": [
        {"value": {"ref": "R1", "items": [{"grams": "<masked>"}, {"grams": "<masked>"}]}}, {"value": {"ref": "R2"}}]}
    assert cli("mapping", "test", "mappings", cwd=project).returncode == 0


def test_no_golden_case_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    proc = cli("mapping", "test", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("mappings: error: no golden cases found: expected a tests/ folder")
    missing = cli("mapping", "test", "nowhere", cwd=tmp_path)
    assert missing.returncode == 1 and missing.stderr.strip() == "nowhere: error: no such file or folder"


def test_test_json(project: Path) -> None:
    proc = cli("mapping", "test", "--json", cwd=project)
    assert proc.returncode == 1
    (case,) = json.loads(proc.stdout)
    assert case["status"] == "fail" and case["ok"] is False and case["mapping"] == "acme/out"
    assert case["diff"][0].startswith("no expected file basic.expected.json")


# --------------------------------------------------------------------------- explain


def test_explain_text_and_json(project: Path) -> None:
    proc = cli("mapping", "explain", "mappings/acme/tests/basic.json", "--mapping", "mappings/acme", "--on",
               "2026-03-02", cwd=project)
    assert proc.returncode == 0, proc.stderr
    src = "mappings/acme/tests/basic.json"
    assert proc.stdout.splitlines() == [
        f"{src}: mapping acme/out v2 (mappings/acme/out.v2.yaml)",
        "record 1",
        f'  ref: {src} reference -> path reference -> "R1"',
        f"  items[0].grams: {src} weight_g -> unit g->kg -> 1.2",
        f"  items[1].grams: {src} weight_g -> unit g->kg -> 0.0",
        "record 2",
        f'  ref: {src} reference -> path reference -> "R2"',
    ]
    data = json.loads(cli("mapping", "explain", src, "--mapping", "mappings/acme/out.v1.yaml", "--json",
                          cwd=project).stdout)
    assert data["mapping"] == "acme/out" and data["version"] == 1
    assert [(f["target"], f["rule"], f["value"]) for f in data["records"][0]["fields"]] == [
        ("ref", "path reference", "R1"), ("items[0].grams", "path weight_g", 1200),
        ("items[1].grams", "path weight_g", 5)]


def test_explain_with_a_connector_without_request_mappings_says_so(project: Path) -> None:
    proc = cli("mapping", "explain", "mappings/acme/tests/basic.json", "--mapping", "mappings/acme/out.v1.yaml",
               "--connector", "csv", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1] == ("connector csv declares no request mappings (request_mappings), so the "
                                           "vendor request paths fed by each field cannot be shown")


def test_explain_errors_are_compiler_lines(project: Path) -> None:
    proc = cli("mapping", "explain", "mappings/acme/tests/basic.json", "--mapping", "mappings/acme", "--on",
               "2026-13-01", cwd=project)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: --on: expected a date YYYY-MM-DD, found '2026-13-01'"


# --------------------------------------------------------------------------- diff, reference, help


def test_diff_lists_changes(project: Path) -> None:
    proc = cli("mapping", "diff", "mappings/acme/out.v1.yaml", "mappings/acme/out.v2.yaml", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "mapping acme/out v1 (mappings/acme/out.v1.yaml) -> mapping acme/out v2 (mappings/acme/out.v2.yaml)",
        "  ~ version: 1 -> 2",
        '  ~ effective_from: null -> "2026-03-01"',
        "  ~ field items[].grams: path weight_g -> unit g->kg",
    ]
    data = json.loads(cli("mapping", "diff", "mappings/acme/out.v1.yaml", "mappings/acme/out.v2.yaml", "--json",
                          cwd=project).stdout)
    assert [(d["kind"], d["change"], d["path"]) for d in data["differences"]] == [
        ("header", "changed", "version"), ("header", "changed", "effective_from"),
        ("field", "changed", "items[].grams")]


def test_reference_prints_markdown_and_checks_a_document(tmp_path: Path) -> None:
    proc = cli("mapping", "reference", cwd=tmp_path)
    assert proc.returncode == 0 and "#### `path`" in proc.stdout
    doc = tmp_path / "guide.md"
    doc.write_text("<!-- reference:start -->\n<!-- reference:end -->\n", "utf-8")
    assert cli("mapping", "reference", "--write", "guide.md", "--check", cwd=tmp_path).returncode == 1
    assert cli("mapping", "reference", "--write", "guide.md", cwd=tmp_path).stdout.strip() == "wrote guide.md"
    assert cli("mapping", "reference", "--write", "guide.md", "--check", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("command", ["validate", "test", "explain", "diff", "reference"])
def test_every_mapping_command_has_help_with_example(command: str, tmp_path: Path) -> None:
    proc = cli("mapping", command, "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Example" in proc.stdout and f"lockerhub mapping {command}" in proc.stdout
