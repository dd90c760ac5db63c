"""lockerhub_edifact.writer: envelopes, UNA, release characters, counts, character sets; parse(write(x)) == x."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lockerhub_edi import Delimiters
from lockerhub_edifact.envelope import parse
from lockerhub_edifact.tokenizer import iter_segments
from lockerhub_edifact.writer import (
    EdifactWriteError,
    GroupHeader,
    Message,
    Party,
    Syntax,
    seg,
    segment_text,
    write_interchange,
)

AT = datetime(2026, 1, 5, 8, 0)
HUB, TMS = Party("LOCKERHUB", "ZZ"), Party("ACMETMS", "ZZ")
CUSTOM = Delimiters(segment="!", element="*", component="^", release="#", decimal=".")


def msg(ref: str, *body: object) -> Message:
    return Message(ref, "IFTSTA:D:04A:UN", tuple(body))  # type: ignore[arg-type]


def test_an_interchange_with_default_delimiters_has_no_una_and_exact_text() -> None:
    text = write_interchange([msg("1", seg("BGM", "23", "ST1", "9")), msg("2", seg("FTX", "AAI", None, None, "x"))],
                             sender=HUB, recipient=TMS, control=41, prepared=AT, newline="\n")
    assert text == ("UNB+UNOC:3+LOCKERHUB:ZZ+ACMETMS:ZZ+260105:0800+41'\n"
                    "UNH+1+IFTSTA:D:04A:UN'\nBGM+23+ST1+9'\nUNT+3+1'\n"
                    "UNH+2+IFTSTA:D:04A:UN'\nFTX+AAI+++x'\nUNT+3+2'\n"
                    "UNZ+2+41'\n")
    assert parse(text).errors == []


def test_una_is_written_when_the_delimiters_differ_or_when_asked() -> None:
    text = write_interchange([msg("1", seg("RFF", ["CU", "A*B"]))], sender=HUB, recipient=TMS, control="7",
                             prepared=AT, delimiters=CUSTOM)
    assert text == "UNA^*.# !UNB*UNOC^3*LOCKERHUB^ZZ*ACMETMS^ZZ*260105^0800*7!UNH*1*IFTSTA^D^04A^UN!" \
                   "RFF*CU^A#*B!UNT*3*1!UNZ*1*7!"
    doc = parse(text)
    assert doc.errors == [] and doc.messages()[0].segments[0].value(1, 2) == "A*B"
    forced = write_interchange([], sender=HUB, recipient=TMS, control=1, prepared=AT, una=True)
    assert forced.startswith("UNA:+.? 'UNB+")


def test_release_characters_are_applied_and_read_back() -> None:
    assert segment_text("FTX", ["AAI", "a+b:c'd?e"]) == "FTX+AAI+a?+b?:c?'d??e"
    text = write_interchange([msg("1", seg("FTX", "AAI", None, None, "it's 1+1?"))], sender=HUB, recipient=TMS,
                             control=1, prepared=AT)
    (m,) = parse(text).messages()
    assert m.segments[0].value(4) == "it's 1+1?"


def test_groups_counts_and_references() -> None:
    group = GroupHeader("IFTSTA", HUB, TMS, "G9")
    text = write_interchange([msg("1"), msg("2", seg("BGM", "23"))], sender=HUB, recipient=TMS, control=3,
                             prepared=AT, group=group, syntax=Syntax("UNOC", "4"), newline="\n")
    lines = text.splitlines()
    assert lines[0] == "UNB+UNOC:4+LOCKERHUB:ZZ+ACMETMS:ZZ+20260105:0800+3'"
    assert lines[1] == "UNG+IFTSTA+LOCKERHUB:ZZ+ACMETMS:ZZ+20260105:0800+G9+UN+D:04A'"
    assert lines[-2:] == ["UNE+2+G9'", "UNZ+1+3'"]
    assert "UNT+2+1'" in lines and "UNT+3+2'" in lines
    doc = parse(text)
    assert doc.errors == [] and [m.count for m in doc.messages()] == [2, 3]


def test_a_character_outside_the_syntax_names_segment_and_element() -> None:
    with pytest.raises(EdifactWriteError) as caught:
        write_interchange([msg("1", seg("BGM", "23"), seg("LOC", "14", "Łódź"))], sender=HUB, recipient=TMS,
                          control=1, prepared=AT)
    assert str(caught.value) == ("<input> (segment 4 LOC-LOC02): error: character set UNOC: expected ISO 8859-1 "
                                 "text, found character U+0141 (declare a syntax that has it (UNOW for UTF-8) or "
                                 "transliterate)")
    ok = write_interchange([msg("1", seg("LOC", "14", "Łódź"))], sender=HUB, recipient=TMS, control=1,
                           prepared=AT, syntax=Syntax("UNOW", "4"))
    assert "LOC+14+Łódź'" in ok
    assert "Zürich" in write_interchange([msg("1", seg("LOC", "14", "Zürich"))], sender=HUB, recipient=TMS,
                                         control=1, prepared=AT)


def test_service_characters_without_a_release_character_are_an_error() -> None:
    d = Delimiters(segment="'", element="+", component=":", release=None)
    with pytest.raises(EdifactWriteError, match=r"segment 1 FTX-FTX01"):
        segment_text("FTX", ["a+b"], d)


# -- parse(write(x)) == x ---------------------------------------------------------------------------------------
SERVICE = "'+:?!*^#|~@;"
TAGS = ["BGM", "DTM", "LOC", "RFF", "STS", "CNI", "FTX", "NAD"]
DATA = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\r\n")
               | st.sampled_from(list(SERVICE)), min_size=1, max_size=8)


@st.composite
def delimiters(draw: st.DrawFn) -> Delimiters:
    chars = draw(st.lists(st.sampled_from(SERVICE), min_size=4, max_size=4, unique=True))
    repetition = draw(st.none() | st.sampled_from([c for c in SERVICE if c not in chars]))
    return Delimiters(segment=chars[0], element=chars[1], component=chars[2], release=chars[3],
                      repetition=repetition)


SEGMENTS = st.lists(st.tuples(st.sampled_from(TAGS), st.lists(st.lists(DATA, min_size=1, max_size=3), max_size=4)),
                    max_size=6)


@settings(max_examples=200, deadline=None)
@given(d=delimiters(), segments=SEGMENTS, newline=st.sampled_from(["", "\n", "\r\n"]))
def test_parse_of_write_is_identity(d: Delimiters, segments: list[tuple[str, list[list[str]]]],
                                    newline: str) -> None:
    text = write_interchange([msg("1", *(seg(t, *es) for t, es in segments))], sender=HUB, recipient=TMS,
                             control=1, prepared=AT, delimiters=d, newline=newline)
    read = list(iter_segments(text))
    body = read[2:-2]
    assert [read[0].tag, read[1].tag, read[-2].tag, read[-1].tag] == ["UNB", "UNH", "UNT", "UNZ"]
    got = [(s.tag, [[d.unescape(c) for c in d.split(e, d.component)] for e in s.elements]) for s in body]
    assert got == segments
    assert parse(text).errors == []
