"""The tokenizer: delimiters from each ISA, layouts (one line, one segment per line, CRLF, LF terminator), versions,
several interchanges, streams in chunks, positions, and headers that cannot be read."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lockerhub_edi import Delimiters, EdiError, Segment
from lockerhub_x12.tokenizer import iter_segments, read_isa


def rows(segments: Any) -> list[tuple[str, list[str], int, int, int, int]]:
    return [(s.tag, s.elements, s.number, s.line, s.col, s.offset) for s in segments]


def positions_hold(text: str, segments: list[Segment]) -> None:
    """Every segment's line, column and offset agree with the text (computed the slow way)."""
    for s in segments:
        assert text.startswith(s.tag, s.offset)
        assert s.line == text.count("\n", 0, s.offset) + 1
        assert s.col == s.offset - (text.rfind("\n", 0, s.offset) + 1) + 1
    assert [s.number for s in segments] == list(range(1, len(segments) + 1))


@pytest.mark.parametrize(("es", "comp", "rep", "term"), [
    ("*", ":", "^", "~"),
    ("|", ">", "^", "~"),
    ("*", ">", "|", "~"),
    ("^", ":", "|", "~"),
    ("*", ">", "^", "\n"),
])
def test_delimiters_come_from_the_isa_header(x12: Any, es: str, comp: str, rep: str, term: str) -> None:
    body = x12.tender(body=["B2**ACME**SHP-1**PP", "AT8*G*K*1.5*1", "MEA*PD*LN*30*CM:1"])
    text = x12.interchange(x12.group(body), version="00501", es=es, comp=comp, rep=rep, term=term)
    segments = list(iter_segments(text, file="in.edi"))
    assert segments[0].delimiters == Delimiters(segment=term, element=es, component=comp, repetition=rep)
    assert [s.tag for s in segments] == ["ISA", "GS", "ST", "B2", "AT8", "MEA", "SE", "GE", "IEA"]
    assert segments[3].value(4) == "SHP-1"
    assert segments[5].value(4, 1) == "CM" and segments[5].value(4, 2) == "1"
    assert segments[0].value(13) == "000000001" and segments[0].value(16) == comp
    positions_hold(text, segments)


def test_newline_terminated_segments_are_one_per_line(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender()), term="\n")
    segments = list(iter_segments(text))
    assert segments[0].delimiters.segment == "\n"
    assert [(s.tag, s.line, s.col) for s in segments[:4]] == [("ISA", 1, 1), ("GS", 2, 1), ("ST", 3, 1), ("B2", 4, 1)]
    assert segments[-1].tag == "IEA" and segments[-1].line == len(segments)


@pytest.mark.parametrize("after", ["\n", "\r\n"])
def test_line_breaks_after_terminators_are_ignored(x12: Any, after: str) -> None:
    text = x12.interchange(x12.group(x12.tender()), after=after)
    segments = list(iter_segments(text))
    assert [s.line for s in segments] == list(range(1, len(segments) + 1))
    assert all(s.col == 1 and "\r" not in s.text() and "\n" not in s.text() for s in segments)
    assert segments[-1].text() == "IEA*1*000000001"


def test_crlf_files_read_with_a_cr_terminator(x12: Any) -> None:
    """``ISA...*:`` + CRLF: the character after ISA16 is CR, so CR terminates and LF is ignored."""
    text = x12.interchange(x12.group(x12.tender()), term="\r", after="\n")
    segments = list(iter_segments(text))
    assert segments[0].delimiters.segment == "\r"
    assert [s.line for s in segments] == list(range(1, len(segments) + 1))
    assert segments[3].elements == ["", "ACME", "", "SHP-1", "", "PP"]


@pytest.mark.parametrize(("version", "isa11", "repetition"), [
    ("00304", "U", None),  # 003040: ISA11 is the standards identifier
    ("00401", "U", None),  # 004010: still the standards identifier
    ("00403", "^", "^"),  # from 00402 on: the repetition separator
    ("00501", "^", "^"),
    ("00501", "|", "|"),
])
def test_isa11_is_the_repetition_separator_from_00402(x12: Any, version: str, isa11: str,
                                                      repetition: str | None) -> None:
    text = x12.interchange(x12.group(x12.tender(), version=version + "0"), version=version, rep=isa11)
    first = next(iter(iter_segments(text)))
    assert first.value(11) == isa11 and first.value(12) == version
    assert first.delimiters.repetition == repetition


def test_several_interchanges_each_with_its_own_delimiters(x12: Any) -> None:
    one = x12.interchange(x12.group(x12.tender("0001")), control=1, after="\n")
    two = x12.interchange(x12.group(x12.tender("0002")), control=2, es="|", comp=">", term="\n", version="00501")
    three = x12.interchange(x12.group(x12.tender("0003")), control=3, es="^", term="~")
    text = x12.file(one, two, "\n\n", three)
    segments = list(iter_segments(text, file="multi.edi"))
    isas = [s for s in segments if s.tag == "ISA"]
    assert [s.value(13) for s in isas] == ["000000001", "000000002", "000000003"]
    assert [(s.delimiters.element, s.delimiters.segment) for s in isas] == [("*", "~"), ("|", "\n"), ("^", "~")]
    assert [s.value(2) for s in segments if s.tag == "ST"] == ["0001", "0002", "0003"]
    assert all(s.delimiters is isas[0].delimiters for s in segments[:len(segments) // 3])
    positions_hold(text, segments)


def test_isa_inside_element_data_does_not_start_an_interchange(x12: Any) -> None:
    body = ["B2**ACME**ISA-1**PP", "N1*CN*LISA TEST", "NTE*GEN*ISA", "L11*ISA*ZZ"]
    text = x12.interchange(x12.group(x12.tender(body=body)))
    segments = list(iter_segments(text))
    assert [s.tag for s in segments].count("ISA") == 1
    assert [s.value(1) for s in segments if s.tag == "L11"] == ["ISA"]


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 105, 106, 1000])
@pytest.mark.parametrize("after", ["", "\n", "\r\n"])
def test_streams_in_chunks_give_the_same_segments(x12: Any, chunk_size: int, after: str) -> None:
    one = x12.interchange(x12.group(x12.tender("0001"), x12.tender("0002")), after=after)
    two = x12.interchange(x12.group(x12.tender("0003")), control=2, es="|", term="\n")
    text = x12.file(one, two)
    expected = rows(iter_segments(text))
    assert rows(iter_segments(text, chunk_size=chunk_size)) == expected
    assert rows(iter_segments(io.StringIO(text), chunk_size=chunk_size)) == expected
    assert rows(iter_segments(io.BytesIO(text.encode("utf-8")), chunk_size=chunk_size)) == expected


def test_utf8_text_and_a_bom(x12: Any) -> None:
    body = ["B2**ACME**SHP-1**PP", "N1*CN*Test Recipient Łódź", "N4*Kraków**30-001*PL"]
    text = "\ufeff\n" + x12.interchange(x12.group(x12.tender(body=body)), after="\n")
    segments = list(iter_segments(io.BytesIO(text.encode("utf-8")), chunk_size=5))
    assert segments[0].line == 2 and segments[0].offset == 2
    assert [s.value(1) for s in segments if s.tag == "N4"] == ["Kraków"]


def test_a_final_segment_without_terminator_is_read(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender()), after="\n").rstrip("~\n")
    segments = list(iter_segments(text))
    assert segments[-1].text() == "IEA*1*000000001"
    assert list(iter_segments(text + "\n\n  "))[-1].text() == "IEA*1*000000001"


def test_an_isa_not_padded_to_fixed_width_is_still_read() -> None:
    text = "ISA*00**00**ZZ*ACME*ZZ*HUB*260314*0930*U*00401*000000001*0*T*:~GS*SM*ACME*HUB*20260314*0930*1*X*004010~"
    segments = list(iter_segments(text))
    assert segments[0].delimiters == Delimiters(segment="~", element="*", component=":")
    assert segments[0].value(6) == "ACME" and segments[1].tag == "GS"


def test_empty_input_has_no_segments() -> None:
    assert list(iter_segments("")) == []
    assert list(iter_segments(" \r\n\n")) == []


def error_of(text: str, **kwargs: Any) -> str:
    with pytest.raises(EdiError) as caught:
        list(iter_segments(text, file="in.edi", **kwargs))
    return str(caught.value)


def test_a_file_that_is_not_x12() -> None:
    assert error_of("UNA:+.? 'UNB+UNOC:3+SENDER+RECEIVER'") == (
        "in.edi:1:1 (segment 1 ISA): error: not an X12 interchange: expected 'ISA', found 'UNA' "
        "(an EDIFACT file? use the edifact connector)")
    assert error_of("\n\nhello") == (
        "in.edi:3:1 (segment 1 ISA): error: not an X12 interchange: expected 'ISA', found 'hel'")


def test_a_header_cut_short(x12: Any) -> None:
    assert error_of(x12.isa()[:60]) == (
        "in.edi:1:1 (segment 1 ISA): error: interchange header cut short: expected 16 elements, "
        "found 8 before the end of the file")
    assert error_of(x12.isa()[:105]) == (
        "in.edi:1:1 (segment 1 ISA-ISA16): error: interchange header cut short: expected ISA16 and a segment "
        "terminator after it, found end of file")


def test_a_header_with_bad_separators(x12: Any) -> None:
    assert error_of("ISAX00") == (
        "in.edi:1:1 (segment 1 ISA): error: interchange header: element separator (character 4): expected a "
        "character that is not a letter, digit or space, found 'X'")
    assert error_of(x12.isa(term="G") + "S*SM~") == (
        "in.edi:1:1 (segment 1 ISA-ISA16): error: interchange header: segment terminator: expected one character "
        "after ISA16 that is not a letter, digit, space or separator, found 'G'")


def test_a_bad_second_header_stops_after_the_first_interchange(x12: Any) -> None:
    one = x12.interchange(x12.group(x12.tender()), after="\n")
    seen: list[str] = []
    with pytest.raises(EdiError, match=r"^in.edi:16:1 \(segment 16 ISA\): error: interchange header cut short"):
        for segment in iter_segments(one + "ISA*00*short~", file="in.edi"):
            seen.append(segment.tag)
    assert seen[-1] == "IEA"


def test_bytes_that_do_not_decode_are_an_error_with_their_offset(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender(body=["N1*CN*Test Recipient \xff"])))
    data = text.encode("latin-1")
    at = data.index(0xFF)
    with pytest.raises(EdiError) as caught:
        list(iter_segments(io.BytesIO(data), file="in.edi"))
    assert str(caught.value) == (f"in.edi: error: cannot decode the file: expected utf-8 text, found byte 0xff at "
                                 f"byte offset {at} (set the encoding; latin-1 and cp1252 read any byte)")
    segments = list(iter_segments(io.BytesIO(data), encoding="latin-1"))
    assert [s.value(2) for s in segments if s.tag == "N1"] == ["Test Recipient \xff"]


def test_read_isa_alone(x12: Any) -> None:
    header = x12.isa(version="00501", es="|", comp=">", rep="^")
    delimiters, elements, end = read_isa(header + "GS|SM")
    assert delimiters == Delimiters(segment="~", element="|", component=">", repetition="^")
    assert len(elements) == 16 and elements[5] == "ACMETMS        " and end == 106


# --------------------------------------------------------------------------- property: positions and values

_ELEMENT = st.text(alphabet="ABCZ019 .-@", max_size=6)
_SEGMENT = st.tuples(st.sampled_from(["B2", "N1", "N3", "N4", "L11", "AT8", "G62", "S5", "L5"]),
                     st.lists(_ELEMENT, min_size=1, max_size=5))


@settings(max_examples=60, deadline=None)
@given(segments=st.lists(_SEGMENT, min_size=1, max_size=25),
       delimiters=st.sampled_from([("*", "~"), ("|", "~"), ("^", "\n"), ("*", "'"), ("!", "\r")]),
       breaks=st.lists(st.sampled_from(["", "", "\n", "\r\n"]), min_size=40, max_size=40),
       chunk=st.integers(min_value=1, max_value=300))
def test_segments_and_positions_match_how_the_text_was_built(
        segments: list[tuple[str, list[str]]], delimiters: tuple[str, str], breaks: list[str], chunk: int) -> None:
    es, term = delimiters
    header = ("ISA" + es + es.join(["00", " " * 10, "00", " " * 10, "ZZ", "A".ljust(15), "ZZ", "B".ljust(15),
                                    "260314", "0930", "U", "00401", "000000001", "0", "T", ":"]) + term)
    text, expected = header, []
    for i, (tag, elements) in enumerate(segments):
        after = "" if term in "\r\n" else breaks[i % len(breaks)]
        text += after
        line = text.count("\n") + 1
        expected.append((tag, elements, i + 2, line, len(text) - text.rfind("\n") if "\n" in text else len(text) + 1,
                         len(text)))
        text += es.join([tag, *elements]) + term
    got = rows(iter_segments(text, chunk_size=chunk))[1:]
    assert got == expected
    assert rows(iter_segments(io.BytesIO(text.encode()), chunk_size=chunk))[1:] == expected


def test_an_empty_segment_in_the_one_per_line_layout_is_skipped_and_its_line_counted(x12: Any) -> None:
    text = x12.interchange(x12.group(x12.tender()), after="\n")
    text = text.replace("N3*ul. Testowa 1~\n", "N3*ul. Testowa 1~\n~\n")  # a terminator alone on its line
    segments = list(iter_segments(text))
    assert [s.tag for s in segments].count("N3") == 1 and "" not in [s.tag for s in segments]
    n4 = next(s for s in segments if s.tag == "N4")
    assert (n4.line, n4.col) == (n4.number + 1, 1)
    positions_hold(text, segments)
    assert rows(iter_segments(text, chunk_size=50)) == rows(segments)


@pytest.mark.parametrize("after", ["", "\n", "\r\n"])
def test_segments_from_the_lean_loops_equal_segments_built_by_hand(x12: Any, after: str) -> None:
    text = x12.interchange(x12.group(x12.tender()), after=after)
    segments = list(iter_segments(text))
    b2 = segments[3]
    assert type(b2) is Segment
    assert b2 == Segment("B2", ["", "ACME", "", "SHP-1", "", "PP"], 4, b2.line, b2.offset, segments[0].delimiters,
                         b2.col)
    assert (b2.raw(4), b2.value(4), b2.value(7), b2.text()) == ("SHP-1", "SHP-1", None, "B2**ACME**SHP-1**PP")
    assert text[b2.column(4) - 1 + text.rfind("\n", 0, b2.offset) + 1:].startswith("SHP-1")
