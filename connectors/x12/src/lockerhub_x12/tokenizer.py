"""X12 text to :class:`~lockerhub_edi.Segment` s: delimiters from each ISA header, positions, bounded memory.

Capabilities:
    ``iter_segments(source, *, file)`` yields every segment of a file in order, each with its 1-based number in the
    file, the physical line it starts on and its character offset. ``source`` is the text itself (``str``), a text
    stream or a binary stream (decoded with ``encoding``). Streams are read ``chunk_size`` characters at a time, so
    memory stays bounded on a 100 MB file; a ``str`` is split one chunk at a time too, so no list of every segment
    of the file is ever built.

    ``read_isa(text, start)`` reads the delimiters of one interchange from its ISA header: the element separator is
    the character at index 3 (ISA is fixed width, 106 characters with its terminator), the component separator is
    ISA16, the segment terminator is the character right after ISA16, and ISA11 is the repetition separator from
    version 00402 on (before that it is the standards identifier ``U``). Every ISA re-reads them, so one file may hold
    interchanges with different delimiters. CR and LF right after a terminator are ignored (``~`` + CRLF layouts);
    a terminator that is itself CR or LF works too (one segment per line).

Limits/Pitfalls:
    - An ISA that is not padded to fixed width is still read (its 16 separators are counted instead), because some
      senders trim ISA06/ISA08; a header cut short is an :class:`~lockerhub_edi.EdiError`.
    - A new interchange is recognised by a segment starting ``ISA`` right after a terminator; the tokenizer does not
      check envelopes (``lockerhub_x12.envelope`` does).
    - The last segment of a file may lack its terminator; it is yielded as it is.
    - Line breaks inside a segment (files wrapped at 80 columns) are kept in the element text and counted for line
      numbers; such files rarely parse into meaningful values anyway.
"""

from __future__ import annotations

import codecs
from collections.abc import Generator, Iterable, Iterator
from itertools import chain
from typing import IO

from lockerhub_edi import Delimiters, EdiError, Segment

from lockerhub.errors import Location

ISA_LENGTH = 106  # characters, segment terminator included
CHUNK = 1 << 20  # characters per read (and per split of an in-memory text)
REPETITION_FROM = "00402"  # ISA12 from which ISA11 is the repetition separator
_BLANKS = " \t\r\n\ufeff"  # skipped before an ISA (a UTF-8 BOM decodes to U+FEFF)
_WINDOW = 512  # characters of look-ahead wanted before reading an ISA (a trimmed or padded header fits)

Source = str | IO[str] | IO[bytes]


def _isa_error(message: str, *, file: str | None, line: int, col: int, number: int, element: int | None = None,
               **kwargs: str | None) -> EdiError:
    where = Location(file=file, line=line, column=col, segment=f"segment {number} ISA",
                     element=f"ISA{element:02d}" if element else None)
    return EdiError(message, location=where, **kwargs)  # type: ignore[arg-type]


def read_isa(text: str, start: int = 0, *, file: str | None = None, line: int = 1, col: int = 1,
             number: int = 1) -> tuple[Delimiters, list[str], int]:
    """The delimiters of the interchange whose ISA starts at ``text[start]``, the ISA's elements (ISA01..ISA16) and
    the index just past its segment terminator. Raises :class:`~lockerhub_edi.EdiError` on a header that cannot
    be read (``line``, ``col`` and ``number`` position the error)."""
    where = {"file": file, "line": line, "col": col, "number": number}
    if text[start:start + 3] != "ISA":
        found = text[start:start + 3]
        hint = "an EDIFACT file? use the edifact connector" if found in ("UNA", "UNB") else None
        raise _isa_error("not an X12 interchange", expected="'ISA'", found=repr(found), hint=hint, **where)
    es = text[start + 3:start + 4]
    if not es or es.isalnum() or es.isspace():
        raise _isa_error("interchange header: element separator (character 4)", expected="a character that is "
                         "not a letter, digit or space", found=repr(es) if es else "end of file", **where)
    if text[start + ISA_LENGTH - 3:start + ISA_LENGTH - 2] == es and text.count(es, start, start + 104) == 16:
        sep16 = start + ISA_LENGTH - 3  # the fixed-width layout: ISA16 at index 104, terminator at 105
    else:
        sep16 = start
        for found_so_far in range(16):
            sep16 = text.find(es, sep16 + 1)
            if sep16 < 0:
                raise _isa_error("interchange header cut short", expected="16 elements",
                                 found=f"{found_so_far} before the end of the file", **where)
    component = text[sep16 + 1:sep16 + 2]
    term = text[sep16 + 2:sep16 + 3]
    if not component or not term:
        raise _isa_error("interchange header cut short", expected="ISA16 and a segment terminator after it",
                         found="end of file", element=16, **where)
    if term.isalnum() or term in (es, component, " "):
        raise _isa_error("interchange header: segment terminator", expected="one character after ISA16 that is "
                         "not a letter, digit, space or separator", found=repr(term), element=16, **where)
    elements = text[start + 4:sep16 + 2].split(es)
    version, isa11 = elements[11], elements[10]
    repetition = isa11 if version >= REPETITION_FROM and len(isa11) == 1 and not isa11.isalnum() else None
    return Delimiters(segment=term, element=es, component=component, repetition=repetition), elements, sep16 + 3


class _Text:
    """The text being tokenised: all of it, or a window over a stream refilled ``chunk_size`` characters at a
    time. ``base`` is the file offset of ``buf[0]``."""

    __slots__ = ("_decode", "_read", "base", "buf", "chunk", "eof", "file", "read_bytes")

    def __init__(self, source: Source, *, file: str | None, encoding: str, chunk: int) -> None:
        self.file, self.chunk, self.base, self.read_bytes = file, chunk, 0, 0
        if isinstance(source, str):
            self.buf, self.eof, self._read, self._decode = source, True, None, None
            return
        self.buf, self.eof, self._read = "", False, source.read
        self._decode = None
        first = source.read(0)
        if isinstance(first, bytes):
            self._decode = codecs.getincrementaldecoder(encoding)(errors="strict").decode

    @property
    def streaming(self) -> bool:
        return self._read is not None

    def more(self, keep: int) -> int:
        """Drop ``buf[:keep]`` and append the next chunk; returns ``keep`` (what positions shift by). Sets ``eof``
        when the stream is exhausted."""
        if self._read is None:
            self.eof = True
            return 0
        data = self._read(self.chunk)
        if self._decode is not None:
            try:
                text = self._decode(data, final=not data)
            except UnicodeDecodeError as exc:
                at = self.read_bytes + exc.start
                raise EdiError("cannot decode the file", location=Location(file=self.file),
                               expected=f"{exc.encoding} text", found=f"byte 0x{exc.object[exc.start]:02x} at byte "
                               f"offset {at}", hint="set the encoding; latin-1 and cp1252 read any byte") from None
            self.read_bytes += len(data)
        else:
            text = data
        if not data:
            self.eof = True
        self.buf = self.buf[keep:] + text
        self.base += keep
        return keep


def iter_segments(source: Source, *, file: str | None = None, encoding: str = "utf-8",
                  chunk_size: int = CHUNK) -> Iterator[Segment]:
    """Every segment of ``source`` in order; see the module docstring. Raises :class:`~lockerhub_edi.EdiError`
    when an interchange header cannot be read (what came before it has been yielded)."""
    # The scanner yields runs of segments (one block of text each) and the consumer reads straight from each run,
    # so a segment costs one generator step, not one per level of delegation.
    return chain.from_iterable(_runs(source, file=file, encoding=encoding, chunk_size=chunk_size))


def _runs(source: Source, *, file: str | None, encoding: str, chunk_size: int) -> Iterator[Iterable[Segment]]:
    """The segments of ``source`` as consecutive runs; each run is read to its end before the next is made."""
    text = _Text(source, file=file, encoding=encoding, chunk=chunk_size)
    if text.streaming:
        text.more(0)
    at = _At(1, 0, 0)
    pos = 0
    while True:
        # Between interchanges: skip blanks, then an ISA header must follow (or the end of the input).
        while True:
            buf = text.buf
            end = len(buf)
            start = pos
            while pos < end and buf[pos] in _BLANKS:
                pos += 1
            at.skip(buf, start, pos, text.base)
            if end - pos >= _WINDOW or text.eof:
                break
            pos -= text.more(pos)
        if pos >= len(text.buf):
            return
        buf = text.buf
        at.number += 1
        col = text.base + pos - at.line_start + 1
        delimiters, elements, after = read_isa(buf, pos, file=file, line=at.line, col=col, number=at.number)
        yield (Segment("ISA", elements, at.number, at.line, text.base + pos, delimiters, col),)
        at.skip(buf, pos, after, text.base)
        pos = yield from _interchange(text, after, delimiters, at)
        if pos < 0:
            return


class _At:
    """Where the tokenizer is: the current line, the file offset where that line starts, the last segment number."""

    __slots__ = ("line", "line_start", "number")

    def __init__(self, line: int, line_start: int, number: int) -> None:
        self.line, self.line_start, self.number = line, line_start, number

    def skip(self, buf: str, start: int, end: int, base: int) -> None:
        """Account for the line breaks in ``buf[start:end]``."""
        breaks = buf.count("\n", start, end)
        if breaks:
            self.line += breaks
            self.line_start = base + buf.rfind("\n", start, end) + 1


def _interchange(text: _Text, pos: int, delimiters: Delimiters, at: _At) -> Generator[Iterable[Segment], None, int]:
    """The runs of segments after one ISA, up to the next ISA or the end of the input; returns the position in
    ``text.buf`` of the next ISA, or -1 at the end."""
    term = delimiters.segment
    chunk = text.chunk
    while True:
        buf = text.buf
        size = len(buf)
        limit = size if text.streaming else min(size, pos + chunk)
        cut = buf.rfind(term, pos, limit)
        if cut < 0 and limit < size:  # an in-memory text with one segment longer than a chunk
            cut = buf.find(term, limit)
        if cut < 0:
            if not text.eof:
                pos -= text.more(pos)
                continue
            return (yield from _tail(text, pos, delimiters, at))
        isa = _next_isa(buf, pos, cut, term)
        if isa >= 0:  # another interchange starts within this block: tokenise up to its ISA, then hand back
            cut = buf.rfind(term, pos, isa)
            if cut < 0:
                at.skip(buf, pos, isa, text.base)
                return isa
        block = buf[pos:cut]
        base = text.base
        if term == "\n" or "\n" in block or "\r" in block:
            body = block.lstrip("\r\n")
            lead = block[:len(block) - len(body)]
            parts = _per_line(body, term, lead)
            if parts is not None and "" not in parts:  # "~" + LF or CRLF after each terminator, no empty segment
                yield _one_per_line(parts, base + pos + len(lead), len(term) + len(lead), delimiters, at)
            else:
                yield _lines(block, base + pos, delimiters, at)
        else:
            yield _one_line(block.split(term), base + pos, delimiters, at)
        if isa >= 0:
            at.skip(buf, cut, isa, base)
            return isa
        pos = cut + 1


def _per_line(body: str, term: str, lead: str) -> list[str] | None:
    """``body`` split at its terminators when each is followed by ``lead`` (LF or CRLF) and no other line break is
    in it (the usual one-segment-per-line layout); None for any other layout."""
    if lead not in ("\n", "\r\n") or term in "\r\n":
        return None
    parts = body.split(term + lead)
    n = len(parts) - 1
    if body.count(term) != n or body.count("\n") != n:
        return None
    if (body.count("\r") != n) if len(lead) == 2 else ("\r" in body):
        return None
    return parts


def _one_per_line(parts: list[str], offset: int, width: int, delimiters: Delimiters, at: _At) -> Iterator[Segment]:
    """The segments of a block in the one-per-line layout: ``parts`` are its lines (none empty) without their
    terminator and line break (``width`` characters), the first at file ``offset``."""
    es = delimiters.element
    new, make = object.__new__, Segment  # locals: this loop runs once per segment of the file
    number, delta = at.number, at.line - at.number  # the line of segment ``number``: number + delta
    for number, part in enumerate(parts, at.number + 1):
        elements = part.split(es)
        segment = new(make)  # every field set here: cheaper than __init__
        segment.tag = elements.pop(0)
        segment.elements = elements
        segment.number = number
        segment.line = number + delta
        segment.offset = offset
        segment.delimiters = delimiters
        segment.col = 1
        yield segment
        offset += len(part) + width
    at.number, at.line, at.line_start = number, number + delta, offset - width - len(parts[-1])


def _one_line(parts: list[str], offset: int, delimiters: Delimiters, at: _At) -> Iterator[Segment]:
    """The segments of a block without line breaks (the usual ``~``-terminated file): ``parts`` are the block split
    at its terminators, the first at file ``offset``."""
    es, line = delimiters.element, at.line
    before = at.line_start - 1  # column = offset - before
    new, make = object.__new__, Segment
    number = at.number
    for part in parts:
        if part:
            number += 1
            elements = part.split(es)
            segment = new(make)  # every field set here: cheaper than __init__
            segment.tag = elements.pop(0)
            segment.elements = elements
            segment.number = number
            segment.line = line
            segment.offset = offset
            segment.delimiters = delimiters
            segment.col = offset - before
            yield segment
        offset += len(part) + 1
    at.number = number


def _lines(block: str, offset: int, delimiters: Delimiters, at: _At) -> Iterator[Segment]:
    """The segments of a block with line breaks in any layout (a LF terminator, blank lines, CR/LF after some
    terminators only); ``offset`` is the file offset of ``block``."""
    term, es = delimiters.segment, delimiters.element
    for part in block.split(term):
        segment = part
        if part and part[0] in "\r\n":
            segment = part.lstrip("\r\n")
            lead = len(part) - len(segment)
            breaks = part.count("\n", 0, lead)
            if breaks:
                at.line += breaks
                at.line_start = offset + part.rfind("\n", 0, lead) + 1
        else:
            lead = 0
        if segment:
            at.number += 1
            if segment[-1] == "\r":  # CRLF line ends with a LF terminator
                segment = segment[:-1]
            elements = segment.split(es)
            yield Segment(elements[0], elements[1:], at.number, at.line, offset + lead, delimiters,
                          offset + lead - at.line_start + 1)
            if "\n" in segment:
                at.line += segment.count("\n")
                at.line_start = offset + lead + segment.rfind("\n") + 1
        offset += len(part) + 1
        if term == "\n":
            at.line += 1
            at.line_start = offset


def _next_isa(buf: str, start: int, end: int, term: str) -> int:
    """Index of the first ``ISA`` in ``buf[start:end]`` that begins a segment (after a terminator and any CR/LF, or
    at ``start``), or -1. An ``ISA`` inside element data (``LISA``) is not one."""
    at = buf.find("ISA", start, end)
    while at >= 0:
        j = at
        while j > start and buf[j - 1] != term and buf[j - 1] in "\r\n":
            j -= 1
        if j == start or buf[j - 1] == term:
            return at
        at = buf.find("ISA", at + 1, end)
    return -1


def _tail(text: _Text, pos: int, delimiters: Delimiters, at: _At) -> Generator[Iterable[Segment], None, int]:
    """What follows the last terminator of the input: blanks, a final segment without terminator, or an ISA."""
    buf = text.buf
    rest = buf[pos:]
    segment = rest.lstrip(_BLANKS)
    start = pos + len(rest) - len(segment)
    at.skip(buf, pos, start, text.base)
    segment = segment.rstrip(_BLANKS)
    if not segment or segment.startswith("ISA"):
        return start if segment else -1
    at.number += 1
    elements = segment.split(delimiters.element)
    yield (Segment(elements[0], elements[1:], at.number, at.line, text.base + start, delimiters,
                   text.base + start - at.line_start + 1),)
    return -1
