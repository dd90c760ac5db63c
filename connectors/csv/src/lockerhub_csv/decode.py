"""Bytes of a CSV drop to text: encoding, line endings and delimiter, decided deterministically.

Capabilities:
    - Encoding, tried in order: UTF-8 with BOM (the BOM is stripped), strict UTF-8, cp1252, latin-1. latin-1
      decodes any byte string, so detection always succeeds. An explicit encoding is used as given and a byte it
      cannot decode is a :class:`~lockerhub.errors.ParseError` at ``file:line:byte``.
    - Line endings LF, CRLF and bare CR (old Mac exports) all become LF.
    - Delimiter, when not configured: the candidate among ``,`` ``;`` TAB ``|`` that occurs most often in the
      header line outside quotes; ties go to the earlier candidate in that order; a header without any
      candidate (one column) gets ``,``.

Config:
    ``encoding`` (LOCKERHUB_CSV_ENCODING) and ``delimiter`` (LOCKERHUB_CSV_DELIMITER) override detection.

Limits/Pitfalls:
    - cp1250 and cp1252 cannot be told apart from bytes alone; cp1252 wins. Configure ``encoding: cp1250`` for
      Central European exports (``ł`` would otherwise read as ``³``).
    - Line endings inside quoted cells are normalised too: a cell holding CRLF reads back with LF.
    - The delimiter is judged on the header line only; header names containing the delimiter must be quoted.
"""

from __future__ import annotations

from dataclasses import dataclass

from lockerhub.errors import Location, ParseError
from lockerhub_csv.config import DETECTABLE_DELIMITERS

BOM = b"\xef\xbb\xbf"
DETECTION_ORDER = ("utf-8-sig", "utf-8", "cp1252", "latin-1")


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded file: LF-only text, the codec that decoded it and the delimiter to split it with."""

    text: str
    encoding: str
    delimiter: str


def decode_bytes(data: bytes, *, encoding: str | None = None, file: str | None = None) -> tuple[str, str]:
    """Return ``(text, encoding name)``; a leading BOM is never part of the text."""
    if encoding is not None:
        try:
            return data.decode(encoding).removeprefix("\ufeff"), encoding
        except UnicodeDecodeError as exc:
            raise _decode_error(data, exc, encoding, file) from None
    if data.startswith(BOM):
        try:
            return data[len(BOM) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _decode_error(data, exc, "utf-8 (the file starts with a UTF-8 BOM)", file) from None
    for candidate in DETECTION_ORDER[1:]:
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte string")  # pragma: no cover


def _decode_error(data: bytes, exc: UnicodeDecodeError, encoding: str, file: str | None) -> ParseError:
    before = data[: exc.start]
    line = before.count(b"\n") + before.replace(b"\r\n", b"\n").count(b"\r") + 1
    line_start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
    return ParseError(
        f"file is not valid {encoding}",
        location=Location(file=file, line=line, column=exc.start - line_start + 1),
        expected=f"text in {encoding}",
        found=f"byte 0x{data[exc.start]:02x}",
        hint="set 'encoding' (LOCKERHUB_CSV_ENCODING) to the partner's code page, e.g. cp1250",
    )


def normalise_newlines(text: str) -> str:
    """CRLF and bare CR become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def count_outside_quotes(line: str, char: str, quote: str = '"') -> int:
    count, quoted = 0, False
    for c in line:
        if c == quote:
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


def detect_delimiter(header_line: str) -> str:
    """The most frequent candidate in the header line (outside quotes); ties keep the candidate order."""
    counts = [(count_outside_quotes(header_line, d), -i, d) for i, d in enumerate(DETECTABLE_DELIMITERS)]
    best_count, _, best = max(counts)
    return best if best_count > 0 else DETECTABLE_DELIMITERS[0]


def first_nonblank_line(text: str) -> str:
    for line in text.split("\n"):
        if line.strip():
            return line
    return ""


def decode(
    data: bytes, *, encoding: str | None = None, delimiter: str | None = None, file: str | None = None
) -> Decoded:
    """Decode ``data`` and settle its delimiter; configured values win over detection."""
    text, used = decode_bytes(data, encoding=encoding, file=file)
    text = normalise_newlines(text)
    return Decoded(text, used, delimiter or detect_delimiter(first_nonblank_line(text)))
