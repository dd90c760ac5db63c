"""Encoding, line-ending and delimiter detection."""

from __future__ import annotations

import pytest
from lockerhub_csv.decode import decode, decode_bytes, detect_delimiter, normalise_newlines

from lockerhub.errors import ParseError


@pytest.mark.parametrize(
    ("data", "encoding", "text"),
    [
        ("Gdańsk,Łódź".encode("utf-8-sig"), "utf-8-sig", "Gdańsk,Łódź"),
        ("Gdańsk,Łódź".encode(), "utf-8", "Gdańsk,Łódź"),
        ("Müller,Kraków,€".encode("cp1252"), "cp1252", "Müller,Kraków,€"),
        (b"a,\x81b", "latin-1", "a,\x81b"),  # 0x81 is undefined in cp1252
        (b"plain,ascii", "utf-8", "plain,ascii"),
    ],
)
def test_encoding_detection_order(data: bytes, encoding: str, text: str) -> None:
    assert decode_bytes(data) == (text, encoding)


def test_explicit_encoding_wins_and_strips_bom() -> None:
    assert decode_bytes("Gdańsk".encode("cp1250"), encoding="cp1250") == ("Gdańsk", "cp1250")
    assert decode_bytes("\ufeffa,b".encode(), encoding="utf-8") == ("a,b", "utf-8")


def test_explicit_encoding_that_does_not_fit_names_line_and_byte() -> None:
    with pytest.raises(ParseError) as info:
        decode_bytes(b"a,b\r\nc,d\rok,\xff\n", encoding="utf-8", file="in/x.csv")
    error = info.value
    assert (error.location.file, error.location.line, error.location.column) == ("in/x.csv", 3, 4)
    assert error.found == "byte 0xff"
    assert str(error).startswith("in/x.csv:3:4: error: file is not valid utf-8")


def test_bom_with_invalid_utf8_is_an_error() -> None:
    with pytest.raises(ParseError, match="UTF-8 BOM"):
        decode_bytes(b"\xef\xbb\xbfa,\xff")


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings_become_lf(newline: str) -> None:
    assert normalise_newlines(newline.join(["a", "b", "", "c"])) == "a\nb\n\nc"


def test_mixed_line_endings() -> None:
    assert normalise_newlines("a\r\nb\rc\nd\r\n") == "a\nb\nc\nd\n"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a,b,c", ","),
        ("a;b;c", ";"),
        ("a\tb\tc", "\t"),
        ("a|b|c", "|"),
        ('"x;y",b,c', ","),  # delimiters inside quotes do not count
        ("a;b,c", ","),  # tie: earlier candidate wins, every time
        ("a|b\tc", "\t"),
        ("single", ","),
    ],
)
def test_delimiter_detection(header: str, expected: str) -> None:
    assert detect_delimiter(header) == expected


def test_decode_uses_first_nonblank_line_and_configured_values() -> None:
    assert decode(b"\r\n\r\na;b\r\n1;2\r\n").delimiter == ";"
    decoded = decode(b"a;b,c\n", delimiter=";", encoding="ascii")
    assert (decoded.text, decoded.encoding, decoded.delimiter) == ("a;b,c\n", "ascii", ";")
