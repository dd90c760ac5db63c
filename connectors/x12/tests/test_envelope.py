"""Envelope trees and envelope errors: every error of a file collected, each as one exact line, and a bad envelope
never hides the transaction sets of another.

Files are built one segment per line (``after="\\n"``), so segment N is on line N."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lockerhub_x12.envelope import EnvelopeReader, parse, parse_file, problems, validate, validate_file


def lines(text: str) -> list[str]:
    return [str(e) for e in parse(text, file="in.edi").errors]


def test_a_good_file_builds_the_tree(x12: Any) -> None:
    text = x12.file(
        x12.interchange(x12.group(x12.tender("0001"), x12.tender("0002")), x12.group(x12.tender("0003"), control=2),
                        after="\n"),
        x12.interchange(x12.group(x12.tender("0001")), control=2, es="|", term="\n"))
    doc = parse(text, file="in.edi")
    assert doc.ok and doc.errors == []
    assert [[len(g.transactions) for g in i.groups] for i in doc.interchanges] == [[2, 1], [1]]
    first = doc.interchanges[0].groups[0].transactions[0]
    assert (first.kind, first.control, first.header.line, first.trailer.line) == ("204", "0001", 3, 13)
    assert [s.tag for s in first.segments] == ["B2", "L11", "N1", "N3", "N4", "L5", "AT8", "L11", "L4"]
    assert doc.interchanges[1].delimiters.element == "|" and doc.interchanges[1].trailer is not None
    assert [t.control for _, _, t in doc.transactions()] == ["0001", "0002", "0003", "0001"]


def test_wrong_se01_count(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender(count=10)), after="\n")
    assert lines(text) == [
        "in.edi:13:4 (segment 13 SE-SE01): error: transaction set 0001: segment count: expected 11, found 10"]


def test_se01_that_is_not_a_number(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender()), after="\n").replace("SE*11*", "SE*eleven*")
    assert lines(text) == [
        "in.edi:13:4 (segment 13 SE-SE01): error: transaction set 0001: segment count: expected 11, found 'eleven'"]


def test_se02_must_repeat_st02(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender(se_control="0002")), after="\n")
    assert lines(text) == [
        "in.edi:13:7 (segment 13 SE-SE02): error: transaction set 0001: control number: expected 0001 (ST02), "
        "found '0002'"]


def test_wrong_ge01_count(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender(), count=2), after="\n")
    assert lines(text) == [
        "in.edi:14:4 (segment 14 GE-GE01): error: functional group 1: transaction set count: expected 1, found 2"]


def test_ge02_must_repeat_gs06(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender(), ge_control=7), after="\n")
    assert lines(text) == [
        "in.edi:14:6 (segment 14 GE-GE02): error: functional group 1: control number: expected 1 (GS06), found '7'"]


def test_ge02_is_compared_as_a_number(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender()), after="\n").replace("GE*1*1~", "GE*1*0001~")
    assert lines(text) == []


def test_isa13_must_equal_iea02(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender()), iea_control="000000002", after="\n")
    assert lines(text) == [
        "in.edi:15:7 (segment 15 IEA-IEA02): error: interchange 000000001: control number: expected 000000001 "
        "(ISA13), found '000000002'"]


def test_iea01_counts_the_groups(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender()), x12.group(x12.tender(), control=2), count=1, after="\n")
    assert lines(text) == [
        "in.edi:28:5 (segment 28 IEA-IEA01): error: interchange 000000001: functional group count: expected 2, "
        "found 1"]


def test_isa13_must_be_nine_digits(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender()), after="\n", iea_control="12345")
    text = text.replace("000000001*0*T", "12345*0*T")
    assert lines(text) == [
        "in.edi:1:91 (segment 1 ISA-ISA13): error: interchange 12345: control number: expected 9 digits, "
        "found '12345'"]


def test_missing_iea(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender()), after="\n", trailer=False)
    assert lines(text) == [
        "in.edi:14:1 (segment 14 GE): error: interchange 000000001: no IEA trailer: expected IEA, found end of file"]


def test_a_truncated_file_reports_every_open_envelope(x12: Any) -> None:
    text = "".join(x12.interchange(x12.group(x12.tender()), after="\n").splitlines(keepends=True)[:6])
    assert lines(text) == [
        "in.edi:6:1 (segment 6 N1): error: transaction set 0001: no SE trailer: expected SE, found end of file",
        "in.edi:6:1 (segment 6 N1): error: functional group 1: no GE trailer: expected GE, found end of file",
        "in.edi:6:1 (segment 6 N1): error: interchange 000000001: no IEA trailer: expected IEA, found end of file"]


def test_a_file_cut_mid_segment(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender()), after="\n")
    cut = text[:text.index("SE*11*0001") + 7]  # ...SE*11*0
    assert lines(cut) == [  # sorted by position: the whole segment (column 1) before its element SE02
        "in.edi:13:1 (segment 13 SE): error: functional group 1: no GE trailer: expected GE, found end of file",
        "in.edi:13:1 (segment 13 SE): error: interchange 000000001: no IEA trailer: expected IEA, found end of file",
        "in.edi:13:7 (segment 13 SE-SE02): error: transaction set 0001: control number: expected 0001 (ST02), "
        "found '0'"]


def test_a_missing_se_is_found_at_the_next_envelope_segment(x12: Any) -> None:
    no_se = x12.tender("0001")[:-1]
    text = x12.interchange(x12.group(no_se, x12.tender("0002"), count=2), after="\n")
    doc = parse(text, file="in.edi")
    assert [str(e) for e in doc.errors] == [
        "in.edi:13:1 (segment 13 ST): error: transaction set 0001: no SE trailer: expected SE, found ST"]
    group = doc.interchanges[0].groups[0]
    assert [len(t.errors) for t in group.transactions] == [1, 0]


def test_every_error_of_a_file_is_collected_in_position_order(x12: Any) -> None:
    text = x12.file(
        x12.interchange(x12.group(x12.tender("0001", count=3), x12.tender("0002", se_control="0009"), count=5),
                        iea_control="000000007", after="\n"),
        x12.interchange(x12.group(x12.tender("0001")), control=2, after="\n", trailer=False))
    assert lines(text) == [
        "in.edi:13:4 (segment 13 SE-SE01): error: transaction set 0001: segment count: expected 11, found 3",
        "in.edi:24:7 (segment 24 SE-SE02): error: transaction set 0002: control number: expected 0002 (ST02), "
        "found '0009'",
        "in.edi:25:4 (segment 25 GE-GE01): error: functional group 1: transaction set count: expected 2, found 5",
        "in.edi:26:7 (segment 26 IEA-IEA02): error: interchange 000000001: control number: expected 000000001 "
        "(ISA13), found '000000007'",
        "in.edi:40:1 (segment 40 GE): error: interchange 000000002: no IEA trailer: expected IEA, found end of file"]


def test_a_bad_group_does_not_hide_the_other_groups_transactions(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender("0001"), count=9),
                           x12.group(x12.tender("0001"), x12.tender("0002"), control=2), after="\n")
    doc = parse(text, file="in.edi")
    interchange = doc.interchanges[0]
    bad, good = interchange.groups
    assert [str(e) for e in bad.errors] == [
        "in.edi:14:4 (segment 14 GE-GE01): error: functional group 1: transaction set count: expected 1, found 9"]
    assert [len(problems(interchange, bad, t)) for t in bad.transactions] == [1]
    assert [problems(interchange, good, t) for t in good.transactions] == [[], []]


def test_interchange_errors_concern_all_its_transactions(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender("0001"), x12.tender("0002")), iea_control="000000002", after="\n")
    interchange = parse(text, file="in.edi").interchanges[0]
    group = interchange.groups[0]
    assert [[e.location.element for e in problems(interchange, group, t)] for t in group.transactions] == [
        ["IEA02"], ["IEA02"]]


def test_duplicate_control_numbers(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender("0001"), x12.tender("0001")), x12.group(x12.tender("0001")),
                           after="\n")
    assert lines(text) == [
        "in.edi:14:8 (segment 14 ST-ST02): error: transaction set 0001: control number: expected a number not used "
        "before in functional group 1, found 0001, as the transaction set at segment 3",
        "in.edi:26:39 (segment 26 GS-GS06): error: functional group 1: control number: expected a number not used "
        "before in interchange 000000001, found 1, as the group at segment 2"]


def test_a_transaction_set_outside_a_functional_group_is_kept_with_its_error(x12: Any) -> None:
    text = x12.interchange(x12.tender("0001"), after="\n")
    doc = parse(text, file="in.edi")
    assert [str(e) for e in doc.errors] == [
        "in.edi:2:1 (segment 2 ST): error: transaction set 0001 outside a functional group: expected GS, found ST"]
    group = doc.interchanges[0].groups[0]
    assert group.header is None and [t.control for t in group.transactions] == ["0001"]
    assert doc.errors[0].control == "000000001/-"


def test_segments_outside_a_transaction_set_are_one_error_per_run(x12: Any) -> None:
    group = x12.group(x12.tender("0001"), ["N1*CN*Test Recipient", "N3*ul. Testowa 1"], x12.tender("0002"))
    group = [s for s in group if not s.startswith("GE")] + ["GE*2*1"]
    text = x12.interchange(group, after="\n")
    assert lines(text) == [
        "in.edi:14:1 (segment 14 N1): error: segment outside a transaction set: expected ST or GE, found N1 "
        "(2 segments, up to segment 15)"]
    assert [len(t.errors) for t in parse(text).interchanges[0].groups[0].transactions] == [0, 0]


def test_segments_outside_a_group_and_outside_an_interchange(x12: Any) -> None:
    inner = x12.interchange(["NTE*GEN*stray"], x12.group(x12.tender()), count=1, after="\n")
    text = inner + "N1*CN*Test Recipient~\nGS*SM*A*B*20260314*0930*5*X*004010~\n"
    reader = EnvelopeReader(text, file="in.edi")
    interchanges = list(reader)
    assert [str(e) for e in reader.errors] == [
        "in.edi:2:1 (segment 2 NTE): error: segment outside a functional group: expected GS or IEA, found NTE",
        "in.edi:17:1 (segment 17 N1): error: segment outside an interchange: expected ISA, found N1 "
        "(2 segments, up to segment 18)"]
    assert [str(e) for e in reader.outside] == [str(reader.errors[1])]
    assert [str(e) for e in interchanges[0].errors] == [str(reader.errors[0])]


def test_an_unreadable_second_header_keeps_the_first_interchange(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender()), after="\n") + "ISA*00*cut"
    reader = EnvelopeReader(text, file="in.edi")
    interchanges = list(reader)
    assert len(interchanges) == 1 and interchanges[0].errors == []
    assert [str(e) for e in reader.outside] == [
        "in.edi:16:1 (segment 16 ISA): error: interchange header cut short: expected 16 elements, found 2 before "
        "the end of the file"]


def test_error_controls_name_the_envelope(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender("0042", count=1), count=3), after="\n")
    assert [e.control for e in parse(text).errors] == ["000000001/1/0042", "000000001/1"]


def test_validate_streams_without_keeping_segments(x12: Any, write: Any) -> None:
    text = x12.file(x12.interchange(x12.group(x12.tender(count=2)), after="\n"),
                    x12.interchange(x12.group(x12.tender()), control=2, count=4))
    path: Path = write(text)
    expected = [str(e) for e in parse(text, file=str(path)).errors]
    assert len(expected) == 2
    assert [str(e) for e in validate_file(path)] == expected
    assert [str(e) for e in parse_file(path).errors] == expected
    assert [str(e) for e in validate(text, file=str(path))] == expected
    reader = EnvelopeReader(text, keep_segments=False)
    assert all(t.segments == [] and t.trailer is not None for i in reader for t in i.transactions())
