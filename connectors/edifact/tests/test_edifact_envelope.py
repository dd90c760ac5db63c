"""lockerhub_edifact.envelope: UNB/UNZ, UNG/UNE, UNH/UNT counts and references; every error, at its position."""

from __future__ import annotations

from typing import Any

from lockerhub_edi import EdiError
from lockerhub_edifact.envelope import EdifactInterchange, Stray, iter_interchanges, iter_messages, parse, validate


def lines(errors: list[EdiError]) -> list[str]:
    return [str(e) for e in errors]


def test_a_good_file_has_a_tree_and_no_errors(build: Any) -> None:
    text = build.interchange(build.iftmin("1"), build.iftmin("2", parcels=("A", "B")), ref="77")
    doc = parse(text, file="in/ok.edi")
    assert doc.errors == [] and doc.stray == []
    (interchange,) = doc.interchanges
    assert (interchange.control, interchange.syntax, interchange.sender, interchange.recipient) == (
        "77", "UNOC", "ACMETMS", "LOCKERHUB")
    assert [m.reference for m in doc.messages()] == ["1", "2"]
    assert [m.kind for m in doc.messages()] == ["IFTMIN", "IFTMIN"]
    second = doc.messages()[1]
    assert second.count == len(second.segments) + 2 == 19
    assert second.problems == [] and second.problem is None
    assert interchange.groups[0].header is None  # messages directly under UNB
    assert validate(text) == []


def test_wrong_unt_count_is_reported_at_unt01_and_only_that_message_is_affected(build: Any) -> None:
    text = build.interchange(build.iftmin("1"), build.iftmin("2", count=13), build.iftmin("3"))
    doc = parse(text, file="in/x.edi")
    assert lines(doc.errors) == [
        "in/x.edi:30:5 (segment 29 UNT-UNT01): error: message 2: segment count: expected 14, found 13"]
    assert [len(m.problems) for m in doc.messages()] == [0, 1, 0]
    assert doc.errors[0].control == "2"
    assert doc.errors[0].expected == "14" and doc.errors[0].found == "13"


def test_unt02_must_repeat_unh01(build: Any) -> None:
    text = build.interchange(build.message("5", "BGM+610+X+9", trailer_ref="6"))
    assert lines(validate(text, file="r.edi")) == [
        "r.edi:5:7 (segment 4 UNT-UNT02): error: message 5: UNT02 message reference: expected '5' (UNH01), "
        "found '6'"]


def test_unz_checks_message_count_and_control_reference(build: Any) -> None:
    text = build.interchange(build.iftmin("1"), ref="1001", count=3, trailer_ref="1002")
    doc = parse(text, file="in/z.edi")
    assert lines(doc.errors) == [
        "in/z.edi:17:5 (segment 16 UNZ-UNZ01): error: interchange 1001: message count: expected 1, found 3",
        "in/z.edi:17:7 (segment 16 UNZ-UNZ02): error: interchange 1001: UNZ02 control reference: expected '1001' "
        "(UNB05), found '1002'"]
    (message,) = doc.messages()
    assert message.errors == [] and len(message.problems) == 2  # the interchange's errors reject its messages


def test_missing_unz_at_the_end_of_the_file(build: Any) -> None:
    text = build.interchange(build.iftmin("1"), trailer=False)
    assert lines(validate(text, file="t.edi")) == [
        "t.edi:16:1 (segment 15 UNT): error: interchange 1: UNZ missing (file truncated?): expected UNZ, found end "
        "of file"]


def test_a_file_truncated_inside_a_message(build: Any) -> None:
    text = build.interchange(build.iftmin("1"), trailer=False)
    text = text[:text.index("DIM+")] + "DIM+2+CMT:30"
    doc = parse(text, file="t.edi")
    assert lines(doc.errors) == [
        "t.edi:13:1 (segment 12 DIM): error: file ends inside a segment (truncated?): expected segment terminator "
        "\"'\", found end of file",
        "t.edi:13:1 (segment 12 DIM): error: message 1: UNT missing (file truncated?): expected UNT, found end of "
        "file",
        "t.edi:13:1 (segment 12 DIM): error: interchange 1: UNZ missing (file truncated?): expected UNZ, found end "
        "of file"]
    (message,) = doc.messages()
    assert message.trailer is None and len(message.problems) == 3


def test_missing_unt_and_unz_before_the_next_headers(build: Any) -> None:
    first = build.message("1", "BGM+610+A+9")[:-1]  # no UNT
    text = build.interchange(first, build.message("2", "BGM+610+B+9"), trailer=False, ref="8")
    text += build.interchange(build.message("1", "BGM+610+C+9"), ref="9", una=None)
    doc = parse(text, file="m.edi")
    assert lines(doc.errors) == [
        "m.edi:5:1 (segment 4 UNH): error: message 1: UNT missing before the next UNH: expected UNT, found UNH",
        "m.edi:8:1 (segment 7 UNB): error: interchange 8: UNZ missing before the next UNB: expected UNZ, found UNB"]
    assert [len(m.problems) for m in doc.messages()] == [2, 1, 0]


def test_groups_check_une_and_unz_counts_groups(build: Any) -> None:
    m1, m2 = build.message("1", "BGM+610+A+9"), build.message("2", "BGM+610+B+9")
    body = ["UNG+IFTMIN+ACME+LH+260105:0800+G1+UN+D:04A", *m1, *m2, "UNE+2+G1",
            "UNG+IFTMIN+ACME+LH+260105:0800+G2+UN+D:04A", *build.message("3", "BGM+610+C+9"), "UNE+5+G3"]
    text = build.interchange(body, count=2)
    doc = parse(text, file="g.edi")
    assert lines(doc.errors) == [
        "g.edi:15:5 (segment 14 UNE-UNE01): error: group G2: message count: expected 1, found 5",
        "g.edi:15:7 (segment 14 UNE-UNE02): error: group G2: UNE02 group reference: expected 'G2' (UNG05), "
        "found 'G3'"]
    interchange = doc.interchanges[0]
    assert [g.reference for g in interchange.groups] == ["G1", "G2"]
    assert [len(m.problems) for m in doc.messages()] == [0, 0, 2]
    wrong = build.interchange(body[:8], count=2)  # one group, UNZ says 2
    assert lines(validate(wrong, file="g.edi")) == [
        "g.edi:11:5 (segment 10 UNZ-UNZ01): error: interchange 1: group count: expected 1, found 2"]


def test_messages_outside_groups_and_segments_between_messages(build: Any) -> None:
    body = [*build.message("1", "BGM+610+A+9"), "FTX+AAI+++stray",
            "UNG+IFTMIN+ACME+LH+260105:0800+G1", *build.message("2", "BGM+610+B+9"), "UNE+1+G1"]
    doc = parse(build.interchange(body, count=1), file="o.edi")
    assert lines(doc.errors) == [
        "o.edi:6:1 (segment 5 FTX): error: interchange 1: segment outside a message: expected UNH before it, "
        "found FTX",
        "o.edi:7:1 (segment 6 UNG): error: interchange 1: UNG after messages outside groups: expected every "
        "message in a group, or none, found both"]


def test_segments_outside_an_interchange_are_one_stray_run(build: Any) -> None:
    text = "JUNK+1'\nMORE+2'\n" + build.interchange(build.iftmin("1"), una=None) + "UNH+9+X'\nUNT+2+9'\n"
    units = list(iter_messages(text, file="s.edi"))
    assert [type(u).__name__ for u in units] == ["Stray", "EdifactMessage", "Stray"]
    first, _, last = units
    assert isinstance(first, Stray) and isinstance(last, Stray)
    assert [s.tag for s in first.segments] == ["JUNK", "MORE"]
    assert str(first.problem) == ("s.edi:1:1 (segment 1 JUNK): error: segment outside an interchange: "
                                  "expected UNB (or UNA) first, found JUNK")
    assert last.raw == "UNH+9+X'\nUNT+2+9'\n" and last.line == 19


def test_required_envelope_elements(build: Any) -> None:
    text = "UNB+UNOC:3+ACME+LH+260105:0800'\nUNH+1'\nUNT+2+1'\nUNZ+1'\n"
    assert lines(validate(text, file="r.edi")) == [
        "r.edi:1:1 (segment 1 UNB): error: interchange at segment 1: UNB05 interchange control reference: "
        "expected a value, found nothing",
        "r.edi:2:1 (segment 2 UNH): error: message 1: UNH02 message identifier: expected a value, found nothing"]


def test_interchanges_stream_one_at_a_time_with_their_errors(build: Any) -> None:
    text = build.interchange(build.iftmin("1"), ref="1") + build.interchange(build.iftmin("1", count=2), ref="2",
                                                                             una=None)
    errors: list[EdiError] = []
    seen = []
    for interchange in iter_interchanges(text, file="two.edi", errors=errors):
        assert isinstance(interchange, EdifactInterchange)
        seen.append((interchange.control, len(errors)))
    assert seen == [("1", 0), ("2", 1)]


def test_tokenizer_errors_belong_to_the_message_they_occur_in(build: Any) -> None:
    text = build.interchange(build.iftmin("1"), build.iftmin("2", name="Kraków"), syntax="UNOA:2", una=None)
    doc = parse(text.encode("latin-1"), file="c.edi")
    assert [e.message for e in doc.errors] == ["character set UNOA"]
    assert [len(m.problems) for m in doc.messages()] == [0, 1]


def test_validate_keeps_no_segments_and_agrees_with_parse(build: Any) -> None:
    text = build.interchange(build.iftmin("1"), build.iftmin("2", count=3), count=5)
    assert lines(validate(text, file="v.edi")) == lines(parse(text, file="v.edi").errors)
    assert len(validate(text)) == 2


def test_raw_is_the_message_text_with_its_una_when_delimiters_differ(build: Any) -> None:
    text = "UNA|*.! ~UNB*UNOC|3*A*B*X*1~UNH*1*IFTMIN|D|04A|UN~BGM*610*A!~B*9~UNT*3*1~UNZ*1*1~"
    (message,) = parse(text).messages()
    assert message.raw == "UNA|*.! ~\nUNH*1*IFTMIN|D|04A|UN~\nBGM*610*A!~B*9~\nUNT*3*1~\n"
    (plain,) = parse(build.interchange(build.message("1", "BGM+610+A+9"))).messages()
    assert plain.raw == "UNH+1+IFTMIN:D:04A:UN'\nBGM+610+A+9'\nUNT+3+1'\n"
