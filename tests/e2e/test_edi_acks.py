"""Acknowledgements reflect what became of each transaction: a file with good, refused and broken transaction sets
gets one 999/997 (X12) or CONTRL + APERAK (EDIFACT) that accepts the good ones and rejects the others, which go to
quarantine while the good ones are booked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
VENDOR = "vendors:\n  simlocker:\n    connector: simlocker\n    config: {}\nrouting:\n  vendor: simlocker\n"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockerhub.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120, check=False)


def _run(config: Path) -> dict[str, Any]:
    proc = _cli("run", str(config), "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _drop(folder: Path, partner: str, name: str, as_name: str | None = None) -> None:
    inbox = folder / "inbox" / partner
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / name, inbox / (as_name or name))


def _segments(path: Path) -> list[list[str]]:
    from lockerhub_x12.envelope import parse_file

    document = parse_file(path)
    assert document.errors == []
    out: list[list[str]] = []
    for interchange in document.interchanges:
        out.append([interchange.header.tag, *(interchange.header.raw(n) or "" for n in (6, 8, 13))])
        for group in interchange.groups:
            assert group.header is not None
            out.append(["GS", *(group.header.value(n) or "" for n in (1, 6, 8))])
            for txn in group.transactions:
                out.append(["ST", txn.kind])
                out.extend([seg.tag, *seg.elements] for seg in txn.segments)
    return out


def test_999_and_990_accept_the_good_tender_and_reject_the_others(pilot: Path, sim) -> None:  # type: ignore[no-untyped-def]
    folder = pilot.parent
    config = folder / "x12.yaml"
    config.write_text(
        "partners:\n  acme-x12:\n    connector: x12\n"
        "    config: {inbox: inbox/acme-x12, outbox: outbox/acme-x12, partner_id: ACMETMS, tender_response: true,\n"
        "             mapping: ../../mappings/acme-x12/load_tender_204.yaml}\n" + VENDOR, "utf-8")
    _drop(folder, "acme-x12", "mixed_outcomes_204.edi")
    result = _run(config)
    (report,) = result["ingested"]
    # 0001 good; 0002 unknown locker; 0003 a 3 m parcel; 0004 wrong SE01
    assert (report["records"], report["accepted"], report["refused"], report["quarantined"]) == (4, 1, 2, 3)
    assert result["booking"]["booked"] == 1 and result["booking"]["rejected"] == 0
    (ack,) = map(Path, report["acknowledgements"])
    segments = _segments(ack)
    # addressed back to the sender, in the version it sent (005010: a 999)
    assert [s[:3] for s in segments if s[0] in ("ISA", "GS")] == [
        ["ISA", "LOCKERHUB      ", "ACMETMS        "], ["GS", "FA", "1"], ["GS", "GF", "2"]]
    assert [s for s in segments if s[0] == "GS"][0][3] == "005010X231A1"
    answer = [s for s in segments if s[0] not in ("ISA", "GS")]
    assert answer[:answer.index(["ST", "990"])] == [
        ["ST", "999"],
        ["AK1", "SM", "201", "005010"],
        ["AK2", "204", "0001"], ["IK5", "A"],
        # the unknown locker: the delivery stop's L11 (segment 12 of the set), its element 01
        ["AK2", "204", "0002"], ["IK3", "L11", "12", "", "8"], ["IK4", "1", "", "7"], ["IK5", "R", "5"],
        # the 3 m parcel: its L4 (segment 21), element 01 (the length)
        ["AK2", "204", "0003"], ["IK3", "L4", "21", "", "8"], ["IK4", "1", "", "7"], ["IK5", "R", "5"],
        # wrong SE01: transaction set code 4 (number of included segments does not agree)
        ["AK2", "204", "0004"], ["IK5", "R", "4"],
        ["AK9", "P", "4", "4", "1"],
    ]
    # 990s: the good tender accepted, the two refused ones declined; the broken set has no readable shipment
    assert [(s[2], s[4]) for s in segments if s[0] == "B1"] == [
        ("ACME-204-0101", "A"), ("ACME-204-0102", "D"), ("ACME-204-0103", "D")]

    listing = _cli("quarantine", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    items = json.loads(listing.stdout)
    assert sorted(i["stage"] for i in items) == ["admit", "admit", "map"]
    admitted = " ".join(e for i in items if i["stage"] == "admit" for e in i["errors"])
    assert "unknown locker: expected a locker id of the network, found 'NOPE-0001'" in admitted
    assert "no compartment fits: expected a parcel within the largest size class, found 3000x2000x1000 mm" in admitted


def test_a_resent_shipment_is_refused_but_the_same_file_again_is_the_same_delivery(pilot: Path, sim) -> None:  # type: ignore[no-untyped-def]
    folder = pilot.parent
    config = folder / "x12.yaml"
    config.write_text(
        "partners:\n  acme-x12:\n    connector: x12\n"
        "    config: {inbox: inbox/acme-x12, outbox: outbox/acme-x12, partner_id: ACMETMS, acknowledgement: '997',\n"
        "             mapping: ../../mappings/acme-x12/load_tender_204.yaml}\n" + VENDOR, "utf-8")
    _drop(folder, "acme-x12", "mixed_outcomes_204.edi", "a.edi")
    first = _run(config)["ingested"][0]
    # the same file delivered again: nothing refused as a duplicate, same acknowledgement and control numbers
    _drop(folder, "acme-x12", "mixed_outcomes_204.edi", "b.edi")
    again = _run(config)["ingested"][0]
    assert (again["accepted"], again["duplicates"], again["refused"]) == (0, 1, 2)
    assert again["acknowledgements"] == first["acknowledgements"]
    isa13 = _segments(Path(first["acknowledgements"][0]))[0][3]
    # a new file carrying shipment ACME-204-0101 again is a duplicate shipment: refused, AK5 R
    _drop(folder, "acme-x12", "resent_204.edi")
    resent = _run(config)["ingested"][0]
    assert (resent["accepted"], resent["refused"]) == (0, 1)
    segments = _segments(Path(resent["acknowledgements"][0]))
    assert segments[0][3] != isa13
    assert [s for s in segments if s[0] in ("AK2", "AK5", "AK9")] == [
        ["AK2", "204", "0001"], ["AK5", "R", "5"], ["AK9", "R", "1", "1", "0"]]


def test_contrl_and_aperak_answer_an_iftmin_file(pilot: Path, sim) -> None:  # type: ignore[no-untyped-def]
    from lockerhub_edifact.envelope import parse

    folder = pilot.parent
    config = folder / "edifact.yaml"
    config.write_text(
        "partners:\n  acme-edifact:\n    connector: edifact\n"
        "    config: {inbox: inbox/acme-edifact, outbox: outbox/acme-edifact, partner_id: ACMETMS,\n"
        "             mapping: ../../mappings/acme-edifact/iftmin.yaml}\n" + VENDOR, "utf-8")
    _drop(folder, "acme-edifact", "mixed_outcomes_iftmin.edi")
    result = _run(config)
    (report,) = result["ingested"]
    # message 1 good (two parcels), 2 unknown locker KRA01M, 3 wrong UNT count
    assert (report["records"], report["accepted"], report["refused"], report["quarantined"]) == (3, 2, 1, 2)
    assert result["booking"]["booked"] == 2
    (ack,) = map(Path, report["acknowledgements"])
    document = parse(ack.read_bytes(), file=str(ack))
    assert document.errors == []
    contrl, aperak = document.messages()
    assert (contrl.kind, aperak.kind) == ("CONTRL", "APERAK")
    uci = next(s for s in contrl.segments if s.tag == "UCI")
    assert (uci.value(1), uci.value(2, 1), uci.value(4)) == ("2001", "ACMETMS", "7")
    ucm = [(s.value(1), s.value(3), s.value(4)) for s in contrl.segments if s.tag == "UCM"]
    assert ucm == [("1", "7", None), ("2", "7", None), ("3", "4", "29")]  # 29: control count does not match
    assert [s.value(1, 2) for s in aperak.segments if s.tag == "RFF"] == ["2"]
    assert [s.value(1) for s in aperak.segments if s.tag == "ERC"] == ["LH01"]  # unknown_locker
