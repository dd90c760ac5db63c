"""lockerhub_edifact.tokenizer: UNA and defaults, release characters, character sets, positions, chunked reading."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lockerhub_edi import EdiError, Segment
from lockerhub_edifact.tokenizer import DEFAULT_DELIMITERS, iter_segments, parse_una, split_released, una_text


def tokens(source: object, **kwargs: object) -> list[tuple[str, list[str]]]:
    return [(s.tag, s.elements) for s in iter_segments(source, **kwargs)]  # type: ignore[arg-type]


def test_without_una_the_defaults_apply() -> None:
    segments = list(iter_segments("UNB+UNOA:2+A+B+260105:0800+1'UNH+1+IFTMIN:D:96A:UN'UNT+2+1'UNZ+1+1'"))
    assert [s.tag for s in segments] == ["UNB", "UNH", "UNT", "UNZ"]
    assert segments[0].delimiters == DEFAULT_DELIMITERS
    assert segments[1].value(2, 3) == "96A"


def test_una_is_advice_not_a_segment_and_sets_the_delimiters() -> None:
    text = "UNA|*,! ~UNB*UNOC|3*A*B*260105|0800*1~UNH*1*IFTMIN|D|04A|UN~FTX*AAI***a!*b!|c!~d!!~UNT*3*1~UNZ*1*1~"
    segments = list(iter_segments(text))
    assert [s.number for s in segments] == [1, 2, 3, 4, 5]
    ftx = segments[2]
    assert ftx.delimiters == parse_una("UNA|*,! ~")
    assert ftx.delimiters.decimal == ","
    assert ftx.value(4) == "a*b|c~d!"
    assert ftx.elements[3] == "a!*b!|c!~d!!"  # kept as written


def test_release_characters_keep_terminators_and_separators_as_data() -> None:
    text = "UNA:+.? 'UNB+UNOC:3+A+B+X+1'NAD+CN+++O?'Test?+Co?:Ltd??+Street'UNZ+0+1'"
    nad = list(iter_segments(text))[1]
    assert nad.elements == ["CN", "", "", "O?'Test?+Co?:Ltd??", "Street"]
    assert nad.value(4) == "O'Test+Co:Ltd?"
    assert nad.value(4, 1) == "O'Test+Co:Ltd?"


def test_split_released_matches_the_shared_splitter() -> None:
    for text in ["a+b", "a?+b+c", "a??+b", "a???+b+", "?", "??", "+?+", ""]:
        assert split_released(text, "+", "?") == DEFAULT_DELIMITERS.split(text, "+"), text


def test_parse_una_rejects_bad_advice_and_una_text_round_trips() -> None:
    assert una_text(parse_una("UNA:+.? '")) == "UNA:+.? '"
    assert parse_una("UNA:+.  '").release is None  # a space: no release character
    assert parse_una("UNA:+.?*'").repetition == "*"  # syntax version 4
    with pytest.raises(ValueError, match="exactly 6 characters"):
        parse_una("UNA:+.?'")
    with pytest.raises(ValueError, match="distinct"):
        parse_una("UNA++.? '")


def test_positions_number_line_column_offset_with_and_without_line_breaks() -> None:
    one_line = "UNB+UNOC:3+A+B+X+1'UNH+1+X'UNT+2+1'UNZ+1+1'"
    unt = list(iter_segments(one_line))[2]
    assert (unt.number, unt.line, unt.col, unt.offset) == (3, 1, 28, 27)
    assert unt.column(1) == 32 and one_line[unt.column(1) - 1] == "2"
    crlf = "UNA:+.? '\r\nUNB+UNOC:3+A+B+X+1'\r\n\r\nUNH+1+X'UNT+2+1'\r\nUNZ+1+1'\r\n"
    segments = list(iter_segments(crlf.encode()))
    assert [(s.tag, s.line, s.col) for s in segments] == [
        ("UNB", 2, 1), ("UNH", 4, 1), ("UNT", 4, 9), ("UNZ", 5, 1)]
    assert crlf.encode()[segments[2].offset:].startswith(b"UNT")


def test_a_line_break_inside_data_moves_the_lines_on() -> None:
    segments = list(iter_segments("UNB+UNOC:3+A+B+X+1'FTX+AAI+++two\nlines'UNZ+0+1'\n"))
    assert segments[1].value(4) == "two\nlines"
    assert (segments[2].line, segments[2].col) == (2, 7)


def test_several_interchanges_each_with_its_own_una() -> None:
    text = ("UNA:+.? 'UNB+UNOC:3+A+B+X+1'UNZ+0+1'\n"
            "UNA|*.? ~UNB*UNOC|3*A*B*X*2~UNH*1*X|Y~UNT*2*1~UNZ*1*2~\n"
            "UNB*UNOC|3*A*B*X*3~UNZ*0*3~")  # no UNA: keeps the previous interchange's delimiters
    assert [(tag, e[-1]) for tag, e in tokens(text)] == [
        ("UNB", "1"), ("UNZ", "1"), ("UNB", "2"), ("UNH", "X|Y"), ("UNT", "1"), ("UNZ", "2"), ("UNB", "3"),
        ("UNZ", "3")]


def test_several_interchanges_read_alike_in_any_chunk_size() -> None:
    text = ("UNA:+.? '\nUNB+UNOC:3+A+B+X+1'\nUNH+1+X'\nFTX+AAI+++a?'b'\nUNT+3+1'\nUNZ+1+1'\n"
            "UNA|*.! ~\r\nUNB*UNOW|4*A*B*X*2~\r\nUNH*1*X~FTX*AAI***Łódź!~~UNT*3*1~UNZ*1*2~\n"
            "UNA:+.? 'UNB+UNOC:3+A+B+X+3'UNH+1+X'UNT+2+1'UNZ+1+3'")
    data = text.encode()
    whole = [_key(s) for s in iter_segments(data, chunk_size=1 << 20)]
    assert len(whole) == 14 and whole[7][1] == ["AAI", "", "", "Łódź!~"]
    for chunk in range(16, len(data) + 1, 3):
        assert [_key(s) for s in iter_segments(data, chunk_size=chunk)] == whole, chunk


def test_unoc_bytes_decode_as_latin_1_and_utf8_as_utf8() -> None:
    latin = "UNB+UNOC:3+A+B+X+1'NAD+CN+++Zażółć'UNZ+0+1'".replace("żółć", "óçé").encode("latin-1")
    assert list(iter_segments(latin))[1].value(4) == "Zaóçé"
    utf8 = "UNB+UNOW:4+A+B+X+1'NAD+CN+++Zażółć gęślą'UNZ+0+1'".encode()
    nad = list(iter_segments(utf8))[1]
    assert nad.value(4) == "Zażółć gęślą"
    assert list(iter_segments(utf8))[2].offset == len("UNB+UNOW:4+A+B+X+1'NAD+CN+++Zażółć gęślą'".encode())
    latin2 = "UNB+UNOD:3+A+B+X+1'NAD+CN+++Łódź'UNZ+0+1'".encode("iso8859_2")
    assert list(iter_segments(latin2))[1].value(4) == "Łódź"


def test_bytes_outside_the_declared_set_are_an_error_at_their_element() -> None:
    data = "UNB+UNOA:2+A+B+X+1'\nUNH+1+X'\nNAD+CN+++Kraków'\nUNT+3+1'\nUNZ+1+1'\n".encode("latin-1")
    errors: list[EdiError] = []
    segments = list(iter_segments(data, file="in/x.edi", errors=errors))
    assert [str(e) for e in errors] == [
        "in/x.edi:3:14 (segment 3 NAD-NAD04): error: character set UNOA: expected 7-bit ASCII text, found byte 0xF3 "
        "(declare the set the partner really uses in UNB01)"]
    assert len(segments) == 5 and segments[2].value(4) == "Kraków"  # still yielded (as ISO 8859-1)
    with pytest.raises(EdiError, match="character set UNOA"):
        list(iter_segments(data, file="in/x.edi"))


def test_invalid_utf8_and_str_input_that_does_not_fit() -> None:
    errors: list[EdiError] = []
    list(iter_segments(b"UNB+UNOW:4+A+B+X+1'FTX+AAI+++\xe9t\xe9'UNZ+0+1'", file="u.edi", errors=errors))
    assert [str(e) for e in errors] == [
        "u.edi:1:30 (segment 2 FTX-FTX04): error: character set UNOW: expected UTF-8 text, found byte 0xE9 "
        "(declare the set the partner really uses in UNB01)"]
    errors.clear()
    list(iter_segments("UNB+UNOC:3+A+B+X+1'FTX+AAI+++€'UNZ+0+1'", file="s.edi", errors=errors))
    assert [e.found for e in errors] == ["character U+20AC"]


def test_unknown_syntax_identifier() -> None:
    errors: list[EdiError] = []
    list(iter_segments("UNB+UNOZ:3+A+B+X+1'UNZ+0+1'", file="x.edi", errors=errors))
    assert [str(e) for e in errors] == [
        "x.edi:1:5 (segment 1 UNB-UNB01): error: UNB01 syntax identifier: expected one of UNOA, UNOB, UNOC, UNOD, "
        "UNOE, UNOF, UNOG, UNOH, UNOI, UNOJ, UNOK, UNOW, UNOY, found 'UNOZ'"]


def test_unterminated_last_segment_is_yielded_after_an_error() -> None:
    errors: list[EdiError] = []
    segments = list(iter_segments("UNB+UNOC:3+A+B+X+1'\nUNH+1+X'\nBGM+610+SHP", file="t.edi", errors=errors))
    assert [str(e) for e in errors] == [
        "t.edi:3:1 (segment 3 BGM): error: file ends inside a segment (truncated?): expected segment terminator "
        "\"'\", found end of file"]
    assert segments[-1].elements == ["610", "SHP"]


def test_a_missing_terminator_stops_after_max_segment_not_at_the_end_of_memory() -> None:
    errors: list[EdiError] = []
    text = "UNB+UNOC:3+A+B+X+1~" + "NAD+CN~" * 400
    from lockerhub_edifact.tokenizer import SegmentReader
    segments = list(SegmentReader(text, file="m.edi", errors=errors, chunk_size=64, max_segment=256))
    assert segments == []
    assert len(errors) == 1 and "no segment terminator within 256 characters" in str(errors[0])


def test_streams_and_strings_give_the_same_segments() -> None:
    text = "UNA:+.? '\nUNB+UNOC:3+A+B+X+1'\nNAD+CN+++A?'B'\nUNZ+0+1'\n"
    expected = tokens(text)
    assert tokens(io.StringIO(text)) == expected
    assert tokens(io.BytesIO(text.encode())) == expected
    assert tokens(text.encode()) == expected
    assert tokens(bytearray(text.encode())) == expected
    with pytest.raises(TypeError, match="readable stream"):
        tokens(42)


def test_a_utf8_byte_order_mark_is_skipped() -> None:
    segments = list(iter_segments(b"\xef\xbb\xbfUNB+UNOW:4+A+B+X+1'UNZ+0+1'"))
    assert segments[0].tag == "UNB" and segments[0].offset == 3


_VALUE = st.text(alphabet="UNABaz09 ?+:'.*|~!\n", max_size=12)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(_VALUE, min_size=1, max_size=8), una=st.sampled_from(["UNA:+.? '", "UNA|*,! ~", None]),
       newline=st.sampled_from(["", "\n", "\r\n"]), chunk=st.integers(min_value=16, max_value=80))
def test_any_chunk_size_gives_the_segments_of_one_read(values: list[str], una: str | None, newline: str,
                                                       chunk: int) -> None:
    d = parse_una(una) if una else DEFAULT_DELIMITERS
    specials = {d.segment, d.element, d.component, d.release}

    def esc(value: str) -> str:
        return "".join(f"{d.release}{c}" if c in specials else c for c in value)

    body = [f"FTX{d.element}AAI{d.element}{d.element}{d.element}{esc(v)}" for v in values]
    segments = [f"UNB{d.element}UNOC{d.component}3{d.element}A{d.element}B{d.element}X{d.element}1", *body,
                f"UNZ{d.element}0{d.element}1"]
    text = (una + newline if una else "") + "".join(s + d.segment + newline for s in segments)
    whole = list(iter_segments(text, chunk_size=1 << 20))
    chunked = list(iter_segments(text.encode(), chunk_size=chunk))
    assert [_key(s) for s in chunked] == [_key(s) for s in whole]
    assert [s.value(4) or "" for s in whole[1:-1]] == values


def _key(s: Segment) -> tuple[object, ...]:
    return s.tag, s.elements, s.number, s.line, s.col, s.offset


def positions_hold(text: str, segments: list[Segment]) -> None:
    """Every segment's line, column and offset agree with the text (computed the slow way)."""
    for s in segments:
        assert text.startswith(s.tag, s.offset)
        assert s.line == text.count("\n", 0, s.offset) + 1
        assert s.col == s.offset - (text.rfind("\n", 0, s.offset) + 1) + 1
    assert [s.number for s in segments] == list(range(1, len(segments) + 1))


@pytest.mark.parametrize("newline", ["", "\n", "\r\n"])
def test_a_released_terminator_after_the_header_hands_over_to_the_full_scanner(newline: str) -> None:
    body = ["UNH+1+IFTMIN:D:04A:UN", "NAD+CN+++A?+B", "FTX+AAI+++it?'s", "FTX+AAI+++ends?'", "NAD+CN+++C??",
            "UNT+6+1"]
    text = newline.join(["UNA:+.? '", "UNB+UNOC:3+A+B+X+1'", *(s + "'" for s in body), "UNZ+1+1'", ""])
    segments = list(iter_segments(text))
    assert [s.elements[-1] for s in segments] == ["1", "IFTMIN:D:04A:UN", "A?+B", "it?'s", "ends?'", "C??", "1", "1"]
    assert [s.value(4) for s in segments if s.tag in ("NAD", "FTX")] == ["A+B", "it's", "ends'", "C?"]
    positions_hold(text, segments)
    for chunk in (16, 20, 33, 64):
        assert [_key(s) for s in iter_segments(text.encode(), chunk_size=chunk)] == [_key(s) for s in segments]


def test_released_separators_in_a_large_file_keep_their_positions() -> None:
    messages = [f"UNH+{n}+IFTMIN:D:04A:UN'\nNAD+CN+++TEST?+{n}+ST??+X'\nFTX+AAI+++a?:b'\nUNT+4+{n}'\n"
                for n in range(1, 400)]
    text = "UNA:+.? '\nUNB+UNOC:3+A+B+X+1'\n" + "".join(messages) + "UNZ+399+1'\n"
    segments = list(iter_segments(text, chunk_size=4096))
    nads = [s for s in segments if s.tag == "NAD"]
    assert len(nads) == 399 and nads[9].elements == ["CN", "", "", "TEST?+10", "ST??", "X"]
    assert nads[9].value(4) == "TEST+10" and nads[9].value(5) == "ST?"
    positions_hold(text, segments)
    assert [_key(s) for s in iter_segments(text)] == [_key(s) for s in segments]


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ab?+:", max_size=16))
def test_split_released_matches_the_shared_splitter_on_any_text(text: str) -> None:
    assert split_released(text, "+", "?") == DEFAULT_DELIMITERS.split(text, "+")


def test_segments_from_the_lean_loop_equal_segments_built_by_hand() -> None:
    text = "UNA:+.? '\nUNB+UNOC:3+A+B+X+1'\nUNH+1+IFTMIN:D:04A:UN'\nNAD+CN+++A?+B+C'\nUNT+3+1'\nUNZ+1+1'\n"
    segments = list(iter_segments(text))
    nad = segments[2]
    assert type(nad) is Segment
    assert nad == Segment("NAD", ["CN", "", "", "A?+B", "C"], 3, 4, text.index("NAD"), parse_una("UNA:+.? '"), 1)
    assert (nad.value(4), nad.column(4), nad.text()) == ("A+B", 10, "NAD+CN+++A?+B+C")
