"""`lockerhub edi validate|parse` on X12 and EDIFACT files (the syntax is sniffed from the first bytes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ISA = ("ISA*00*          *00*          *ZZ*ACMETMS        *ZZ*LOCKERHUB      *260105*0800*^*00401*"
       "000000001*0*P*>~")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockerhub.cli", *args], capture_output=True, text=True,
                          timeout=120, check=False)


def x12(tmp_path: Path, iea_control: str = "000000001", se_count: str = "3") -> Path:
    path = tmp_path / "tender.edi"
    path.write_text("\n".join([ISA, "GS*SM*ACMETMS*LOCKERHUB*20260105*0800*1*X*004010~", "ST*204*0001~",
                               "B2**ACME**SHP0000001**PP~", f"SE*{se_count}*0001~", "GE*1*1~",
                               f"IEA*1*{iea_control}~"]) + "\n", "utf-8")
    return path


def test_validate_ok_and_errors_with_positions(tmp_path: Path) -> None:
    good = cli("edi", "validate", str(x12(tmp_path)))
    assert good.returncode == 0 and good.stdout.strip() == f"ok {tmp_path / 'tender.edi'}"
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = cli("edi", "validate", str(x12(bad_dir, iea_control="000000002", se_count="4")))
    assert bad.returncode == 1
    path = bad_dir / "tender.edi"
    assert bad.stderr.splitlines() == [
        f"{path}:5:4 (segment 5 SE-SE01): error: transaction set 0001: segment count: expected 3, found 4",
        f"{path}:7:7 (segment 7 IEA-IEA02): error: interchange 000000001: control number: expected 000000001 "
        "(ISA13), found '000000002'",
    ]


def test_validate_edifact_golden_inputs() -> None:
    folder = ROOT / "mappings" / "acme-edifact" / "tests"
    proc = cli("edi", "validate", str(folder / "iftmin-basic.edi"), "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)[0]["ok"] is True
    bad = cli("edi", "validate", str(folder / "iftmin-bad-count.edi"))
    assert bad.returncode == 1 and "UNT-UNT01): error: message 2: segment count: expected 17, found 16" in bad.stderr


def test_parse_json_tree(tmp_path: Path) -> None:
    proc = cli("edi", "parse", str(x12(tmp_path)), "--json")
    assert proc.returncode == 0, proc.stderr
    tree = json.loads(proc.stdout)
    (interchange,) = tree["interchanges"]
    assert interchange["header"]["elements"][15] == ">"  # ISA16 is data, not split
    (group,) = interchange["groups"]
    (transaction,) = group["transactions"]
    assert (transaction["kind"], transaction["control"]) == ("204", "0001")
    assert [s["tag"] for s in transaction["segments"]] == ["ST", "B2", "SE"]
    assert transaction["segments"][1]["elements"][3] == "SHP0000001"
    assert tree["errors"] == []


def test_not_an_edi_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "x.edi"
    path.write_text("hello", "utf-8")
    proc = cli("edi", "validate", str(path))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"{path}:1:1: error: not an EDI file: expected ISA (X12), UNA or UNB (EDIFACT), found 'hel'"
