"""X12 writer: exact text, fixed-width ISA, envelope counts and control numbers, delimiter errors, round trips."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lockerhub_x12.envelope import parse
from lockerhub_x12.writer import (
    FunctionalGroup,
    PartyId,
    TransactionSet,
    WriteDelimiters,
    format_segment,
    write_interchange,
    write_segments,
)

from lockerhub.errors import ValidationError

DATE, TIME = dt.date(2026, 3, 14), dt.time(9, 30)


def _write(groups, **kwargs):
    kwargs.setdefault("control_number", 42)
    return write_interchange("LOCKERHUB", "ACMETMS", groups, date=DATE, time=TIME, **kwargs)


def test_exact_text_of_a_small_interchange() -> None:
    group = FunctionalGroup("QM", 7, [TransactionSet("214", 1, [["B10", "P1", "SHP-1"], ["LX", "1"]])])
    text = _write([group], delimiters=WriteDelimiters(newline="\n"))
    assert text == (
        "ISA*00*          *00*          *ZZ*LOCKERHUB      *ZZ*ACMETMS        *260314*0930*U*00401*000000042*0*P*:~\n"
        "GS*QM*LOCKERHUB*ACMETMS*20260314*0930*7*X*004010~\n"
        "ST*214*0001~\n"
        "B10*P1*SHP-1~\n"
        "LX*1~\n"
        "SE*4*0001~\n"
        "GE*1*7~\n"
        "IEA*1*000000042~\n")


def test_isa_is_fixed_width_with_partner_delimiters_and_repetition_from_00402() -> None:
    d = WriteDelimiters(element="|", component=">", repetition="^", segment="~", newline="\r\n")
    text = _write([], delimiters=d, version="005010", test_indicator="T",
                  control_number=999_999_999)
    isa = text.split("\r\n")[0]
    assert len(isa) == 106
    assert isa[3] == "|" and isa[-2:] == ">~"
    fields = isa.split("|")
    assert fields[6] == "LOCKERHUB      " and fields[8] == "ACMETMS        "
    assert fields[11:16] == ["^", "00501", "999999999", "0", "T"]
    assert text.endswith("IEA|0|999999999~\r\n")


def test_party_qualifier_and_too_long_id() -> None:
    text = write_interchange(PartyId("123456789", "01"), "ACMETMS", [], control_number=1, date=DATE, time=TIME)
    assert text.split("*")[5:7] == ["01", "123456789      "]
    with pytest.raises(ValidationError) as err:
        write_interchange("A-SENDER-ID-OF-20-CH", "ACMETMS", [], control_number=1, date=DATE, time=TIME)
    assert "ISA06" in str(err.value) and "at most 15 characters" in str(err.value)


def test_envelope_counts_and_control_numbers_parse_clean() -> None:
    groups = [FunctionalGroup("QM", 10, [TransactionSet("214", 1, [["B10", "P1", "S1"]]),
                                         TransactionSet("214", 2, [["B10", "P2", "S2"], ["LX", "1"], ["LX", "2"]])]),
              FunctionalGroup("GF", 11, [TransactionSet("990", "123456789", [["B1", "", "S3", "20260314", "A"]])])]
    text = _write(groups, control_number=5)
    doc = parse(text)
    assert doc.errors == []
    (interchange,) = doc.interchanges
    assert interchange.header.raw(13) == "000000005" and interchange.trailer.elements == ["2", "000000005"]
    assert [g.trailer.elements for g in interchange.groups] == [["2", "10"], ["1", "11"]]
    sets = [(t.header.elements, t.trailer.elements) for t in interchange.transactions()]
    assert sets == [(["214", "0001"], ["3", "0001"]), (["214", "0002"], ["5", "0002"]),
                    (["990", "123456789"], ["3", "123456789"])]


def test_trailing_empty_elements_are_dropped_and_components_joined() -> None:
    d = WriteDelimiters()
    assert format_segment(["N1", "CN", "Test", "", ""], d) == "N1*CN*Test"
    assert format_segment(["AT8", ["G", "K"], "", "1.5"], d) == "AT8*G:K**1.5"
    assert write_segments([["LX", "1"], ["LX", "2"]], WriteDelimiters(segment="\n")) == "LX*1\nLX*2\n"


@pytest.mark.parametrize(("value", "what"), [("A*B", "element separator '*'"), ("A~B", "segment terminator '~'"),
                                             ("A:B", "component separator ':'"), ("A^B", "repetition separator '^'"),
                                             ("A\nB", "line break")])
def test_a_value_holding_a_delimiter_is_an_error_naming_segment_and_element(value: str, what: str) -> None:
    group = FunctionalGroup("QM", 1, [TransactionSet("214", 1, [["B10", "P1", value]])])
    with pytest.raises(ValidationError) as err:
        _write([group])
    message = str(err.value)
    assert "(segment 4 B10-B1002)" in message and "X12 has no release character" in message
    assert what in message and value not in message  # the value itself is not shown


def test_a_component_holding_a_delimiter_is_an_error() -> None:
    with pytest.raises(ValidationError, match=r"segment 1 AT8-AT801"):
        format_segment(["AT8", ["G", "K*"]], WriteDelimiters())


@pytest.mark.parametrize("kwargs", [{"element": "*", "component": "*"}, {"element": "A"}, {"element": "\n"},
                                    {"segment": "\n", "newline": "\n"}, {"newline": "\r"}, {"component": "::"}])
def test_bad_delimiters_are_refused(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="X12 delimiters"):
        WriteDelimiters(**kwargs)


# -- parse(write(x)) == x ------------------------------------------------------------------------------------
SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -./()#&@,"
TAGS = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=3).filter(
    lambda t: t[0].isalpha() and t not in {"ISA", "IEA", "GS", "GE", "ST", "SE"})
VALUE = st.text(SAFE, max_size=12)
COMPOSITE = st.lists(VALUE, min_size=2, max_size=4)
ELEMENT = st.one_of(VALUE, COMPOSITE)


@st.composite
def segments(draw):
    tag = draw(TAGS)
    elements = draw(st.lists(ELEMENT, max_size=6))
    if elements and elements[-1] in ("", []):
        elements[-1] = "X"
    if elements and isinstance(elements[-1], list) and not any(elements[-1]):
        elements[-1] = "X"
    return [tag, *elements]


@st.composite
def delimiters(draw):
    chars = list("*|^~:>")
    segment = draw(st.sampled_from([*chars, "\n"]))
    rest = [c for c in chars if c != segment]
    element, component, repetition = draw(st.permutations(rest))[:3]
    newline = "" if segment == "\n" else draw(st.sampled_from(["", "\n", "\r\n"]))
    return WriteDelimiters(element=element, component=component, repetition=repetition, segment=segment,
                           newline=newline)


def _read(segment, d) -> list:
    out = [segment.tag]
    for raw in segment.elements:
        parts = raw.split(d.component)
        out.append(parts if len(parts) > 1 else raw)
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(segments(), max_size=8), delimiters(), st.sampled_from(["004010", "005010", "003040"]))
def test_parse_of_write_is_identity(body, d, version) -> None:
    group = FunctionalGroup("QM", 3, [TransactionSet("214", 1, body)])
    text = _write([group], delimiters=d, version=version)
    doc = parse(text)
    assert doc.errors == []
    (txn,) = doc.interchanges[0].transactions()
    assert [_read(s, d) for s in txn.segments] == body
    assert doc.interchanges[0].delimiters.element == d.element
    assert doc.interchanges[0].delimiters.segment == d.segment
    assert doc.interchanges[0].delimiters.repetition == (d.repetition if version >= "00402" else None)
