"""EDIFACT text to :class:`~lockerhub_edi.Segment` s, streamed in chunks with bounded memory.

Capabilities:
    ``iter_segments(source, *, file=None, errors=None)`` yields every segment of ``source`` (``str``, ``bytes``, or a
    binary or text stream) with its number (1-based over the file), line, column and offset. Several interchanges
    per file are fine; each may start with its own UNA.

    - **UNA** service string advice: exactly 6 characters after ``UNA`` (component separator, element separator,
      decimal mark, release character, reserved / repetition separator, segment terminator). Without UNA the
      defaults ``: + . ? ' '`` (space reserved) apply. UNA is not a segment: it is not yielded, numbered or counted.
    - **Release character**: a released terminator or separator is data (``?'`` ``?+`` ``?:``), ``??`` is a literal
      ``?``. Elements are kept as written (release characters included) and unescaped when a value is read
      (:meth:`Segment.value`), so tokenising costs little more than splitting the text.
    - **CR/LF** before a segment is ignored (one segment per line, or none at all).
    - **Character sets** from UNB01 (S001 0001 syntax identifier), per interchange:

      ======== ============================ ==================================================================
      UNOA     7-bit ASCII                  ISO 646 upper-case subset; checked as ASCII (lower case accepted)
      UNOB     7-bit ASCII                  ISO 646 with lower case
      UNOC     ISO 8859-1                   every byte decodes (0x80-0x9F as C1 controls)
      UNOD-K   ISO 8859-2, -5, -7, -3, -4,  decoded with Python's ``iso8859_N`` codecs (undefined bytes fail)
               -6, -8, -9
      UNOW     UTF-8                        ISO 10646 in UTF-8
      UNOY     UTF-8                        strictly ISO 10646 without code extension; read as UTF-8 here
      ======== ============================ ==================================================================

      Bytes are read as ISO 8859-1 (one character per byte, so ``offset`` is a byte offset and no delimiter can
      hide inside a multi-byte sequence) and a segment with a byte >= 0x80 is re-decoded with its interchange's set.
      A byte the set does not allow is an error at ``file:line:col (segment N TAG-TAGnn)`` naming the set and the
      byte; the segment is still yielded (as ISO 8859-1 text) so counts and positions stay right. Text given as
      ``str`` is checked the same way (each character must be encodable in the declared set).

Errors:
    Problems (a byte outside the declared set, an unknown syntax identifier, a bad UNA, a last segment without a
    terminator, a segment longer than ``max_segment`` characters) are :class:`~lockerhub_edi.EdiError` s. With an
    ``errors`` list they are appended to it, each just before the segment it concerns is yielded (so a consumer
    that checks ``len(errors)`` after each segment can attribute them); without one the first is raised. A segment
    longer than ``max_segment`` (a wrong terminator, most likely) ends the iteration.

Limits/Pitfalls:
    - Memory: one chunk (``chunk_size`` characters, 1 MiB by default) plus one partial segment, never the file.
    - An interchange without its own UNA keeps the delimiters of the previous interchange in the file (a file of
      concatenated interchanges with one UNA at the top). ISO 9735 would apply the defaults; a file that mixes a
      custom UNA with a later UNA-less interchange in default syntax will not parse.
    - Syntax version 4 repetition separators (the 5th UNA character) are kept as data: repeated elements are not
      split.
    - A UNA whose delimiters differ from the current ones re-splits the rest of the current chunk: files that
      alternate delimiters on every small interchange are slower than others.
    - A released terminator (``?'``), a character set to check or irregular line breaks send the rest of the chunk
      to the full scanner, which reads about half as fast as the lean loop of the usual layouts.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Iterator
from itertools import chain
from typing import IO, Any

from lockerhub_edi import Delimiters, EdiError, Segment

from lockerhub.errors import Location

CHUNK_SIZE = 1 << 20
MAX_SEGMENT = 1 << 20
DEFAULT_DELIMITERS = Delimiters(segment="'", element="+", component=":", release="?", decimal=".")
_CRLF = "\r\n"
_BOM = "\xef\xbb\xbf"  # a UTF-8 byte order mark as read through ISO 8859-1

# syntax identifier -> (Python codec, description for messages)
CHARSETS: dict[str, tuple[str, str]] = {
    "UNOA": ("ascii", "7-bit ASCII"),
    "UNOB": ("ascii", "7-bit ASCII"),
    "UNOC": ("latin-1", "ISO 8859-1"),
    "UNOD": ("iso8859_2", "ISO 8859-2"),
    "UNOE": ("iso8859_5", "ISO 8859-5"),
    "UNOF": ("iso8859_7", "ISO 8859-7"),
    "UNOG": ("iso8859_3", "ISO 8859-3"),
    "UNOH": ("iso8859_4", "ISO 8859-4"),
    "UNOI": ("iso8859_6", "ISO 8859-6"),
    "UNOJ": ("iso8859_8", "ISO 8859-8"),
    "UNOK": ("iso8859_9", "ISO 8859-9"),
    "UNOW": ("utf-8", "UTF-8"),
    "UNOY": ("utf-8", "UTF-8"),
}
_WATCH = frozenset({"UNA", "UNB"})
_SERVICE = re.compile("UN[AB]")  # UNA or UNB anywhere: the full scanner is needed (one pass, not two searches)

Source = str | bytes | bytearray | memoryview | IO[bytes] | IO[str]


def parse_una(una: str) -> Delimiters:
    """Delimiters from a 9-character service string advice (``UNA:+.? '``); ValueError when it is not one."""
    if len(una) != 9 or not una.startswith("UNA"):
        raise ValueError(f"UNA followed by exactly 6 characters, found {una!r}")
    component, element, decimal, release, reserved, segment = una[3:]
    used = [c for c in (component, element, release, segment) if c != " "]
    if len(set(used)) != len(used) or " " in (component, element, segment) or segment in _CRLF:
        raise ValueError(f"distinct component, element, release and segment characters, found {una!r}")
    return Delimiters(segment=segment, element=element, component=component,
                      release=None if release == " " else release, decimal=decimal,
                      repetition=None if reserved == " " else reserved)


def una_text(delimiters: Delimiters) -> str:
    """The UNA that declares ``delimiters`` (for writers and messages)."""
    d = delimiters
    return f"UNA{d.component}{d.element}{d.decimal}{d.release or ' '}{d.repetition or ' '}{d.segment}"


def split_released(text: str, sep: str, release: str) -> list[str]:
    """``text.split(sep)`` except at released separators (an odd run of ``release`` before it); parts keep their
    release characters. Same result as :meth:`Delimiters.split`, at C speed for the split itself: only the
    separators right after a release character are looked at."""
    released = release + sep
    head, found, tail = text.partition(released)
    if not found:  # no separator is released
        return text.split(sep)
    if released not in tail and head[-1:] != release:  # exactly one, the usual case: join the parts around it
        parts, rest = head.split(sep), tail.split(sep)
        rest[0] = parts.pop() + released + rest[0]
        parts += rest
        return parts
    parts = text.split(sep)
    at = len(head)
    seen = joined = start = 0  # separators before ``start``, parts joined so far
    while at >= 0:
        run = at  # the run of release characters that ends at ``at``
        while run and text[run - 1] == release:
            run -= 1
        if not (at - run) % 2:  # an odd run: the separator after it is data, join the parts on either side
            seen += text.count(sep, start, at)
            start = at
            i = seen - joined
            parts[i] = parts[i] + sep + parts.pop(i + 1)
            joined += 1
        at = text.find(released, at + 2)
    return parts


class SegmentReader:
    """The scanner behind :func:`iter_segments`; ``delimiters`` and ``syntax`` describe the current interchange."""

    def __init__(self, source: Source, *, file: str | None = None, errors: list[EdiError] | None = None,
                 chunk_size: int = CHUNK_SIZE, max_segment: int = MAX_SEGMENT) -> None:
        if chunk_size < 16:
            raise ValueError("chunk_size must be at least 16 characters")
        self.source = source
        self.file = file
        self.errors = errors
        self.chunk_size = chunk_size
        self.max_segment = max_segment
        self.delimiters = DEFAULT_DELIMITERS
        self.syntax: str | None = None  # UNB01 of the current interchange (UNOC, ...)
        self._codec: str | None = None  # None: no check (no UNB yet, or UNOC read from bytes)
        self._bytes = False
        self.number = 0
        self.line = 1
        self._line_start = 0  # offset where the current line starts
        self.offset = 0  # offset of the next unread character
        self._stopped = -1  # where the lean loop stopped short (a released terminator), or -1

    # -- input --------------------------------------------------------------------------------------------
    def _chunks(self) -> Iterator[str]:
        src: Any = self.source
        size = self.chunk_size
        if isinstance(src, str):
            for i in range(0, len(src), size):
                yield src[i:i + size]
            return
        if isinstance(src, (bytes, bytearray, memoryview)):
            self._bytes = True
            view = memoryview(src)
            for i in range(0, len(view), size):
                yield str(view[i:i + size], "latin-1")
            return
        read = getattr(src, "read", None)
        if read is None:
            raise TypeError(f"expected str, bytes or a readable stream, found {type(src).__name__}")
        while True:
            chunk = read(size)
            if not chunk:
                return
            if isinstance(chunk, str):
                yield chunk
            else:
                self._bytes = True
                yield chunk.decode("latin-1")

    # -- errors -------------------------------------------------------------------------------------------
    def _problem(self, error: EdiError) -> None:
        if self.errors is None:
            raise error
        self.errors.append(error)

    def _where(self, tag: str, number: int, line: int, col: int, element: int | None = None) -> Location:
        return Location(file=self.file, line=line, column=col, segment=f"segment {number} {tag}",
                        element=f"{tag}{element:02d}" if element else None)

    # -- scanning -----------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Segment]:
        # The scanner yields runs of segments and the consumer reads straight from each run, so a segment costs one
        # generator step, not one per level of delegation.
        return chain.from_iterable(self._runs())

    def _runs(self) -> Iterator[Iterable[Segment]]:
        """The segments as consecutive runs; each run is read to its end before the next one is made."""
        carry = ""
        base = 0  # offset of buf[0]
        first = True
        for chunk in self._chunks():
            buf = carry + chunk if carry else chunk
            if first:
                first = False
                if buf.startswith(_BOM) or buf.startswith("\ufeff"):
                    skip = 3 if buf.startswith(_BOM) else 1
                    buf, base = buf[skip:], base + skip
                    self.offset = self._line_start = base
            carry = yield from self._buffer(buf, base, final=False)
            base = self.offset
            if len(carry) > self.max_segment:
                self._too_long(carry)
                return
        if carry.strip(_CRLF):
            yield from self._buffer(carry, base, final=True)

    def _too_long(self, carry: str) -> None:
        term = self.delimiters.segment
        self._problem(EdiError(
            f"no segment terminator within {self.max_segment} characters; reading stopped",
            location=Location(file=self.file, line=self.line, column=self.offset - self._line_start + 1),
            expected=f"segments ending in {term!r} (declare other delimiters with UNA)",
            found=f"{len(carry)} characters without {term!r}"))

    def _buffer(self, buf: str, base: int, *, final: bool) -> Generator[Iterable[Segment], None, str]:  # noqa: C901
        """Yield the complete segments of ``buf`` (which starts at offset ``base``) in runs and return the unfinished
        tail; with ``final`` the tail is the last, unterminated segment and is yielded too (after an error)."""
        pos = 0
        services = True  # False: the text from ``pos`` on is known to hold no UNA/UNB
        while True:
            d = self.delimiters
            term, esep, rel = d.segment, d.element, d.release
            text = buf[pos:] if pos else buf
            if text and text[0] in _CRLF:  # line breaks before the first segment (or after the previous chunk's)
                rest = text.lstrip(_CRLF)
                lead = len(text) - len(rest)
                nl = text.count("\n", 0, lead)
                if nl:
                    self.line += nl
                    self._line_start = base + pos + text.rfind("\n", 0, lead) + 1
                pos += lead
                text = rest
            plain = None
            if not final and (self._codec is None or text.isascii()):
                plain = _plain_layout(text, term, services)
            if plain is not None:
                parts, eol = plain
                tail = parts.pop()
                self._stopped = -1
                yield self._fast(parts, base + pos, eol, rel if rel and rel in text else "")
                if self._stopped < 0:
                    return tail
                # a released terminator: the full scanner reads the rest of this text, from that segment on
                pos, self._stopped = self._stopped - base, -1
                text = buf[pos:]
            # past the last UNA/UNB of this text, the rest may suit the lean loop: scan only up to the end of the
            # segment that holds it, then look again from there
            watch, cut = _last_service(text) if services else -1, False
            if watch >= 0 and not final:
                end = _terminator(text, watch + 3, term, rel)
                if 0 <= end < len(text) - 1:
                    text, cut = text[:end + 1], True
            parts = split_released(text, term, rel) if rel and rel + term in text else text.split(term)
            tail = parts.pop()
            check = not (self._codec is None or text.isascii())
            has_crlf = "\n" in text or "\r" in text
            number, line, line_start, offset = self.number, self.line, self._line_start, base + pos
            restart = -1
            for part in parts:
                if has_crlf and part[:1] in _CRLF:  # "" too
                    seg = part.lstrip(_CRLF)
                    lead = len(part) - len(seg)
                    nl = part.count("\n", 0, lead)
                    if nl:
                        line += nl
                        line_start = offset + part.rfind("\n", 0, lead) + 1
                else:
                    seg, lead = part, 0
                if not seg:
                    offset += len(part) + 1
                    continue
                start = offset + lead
                offset += len(part) + 1
                if check and not seg.isascii():
                    self.number, self.line, self._line_start = number, line, line_start
                    seg = self._transcode(seg, number + 1, line, start - line_start + 1)
                elements = split_released(seg, esep, rel) if rel and rel in seg else seg.split(esep)
                tag = elements.pop(0)
                if tag in _WATCH or len(tag) != 3:
                    self.number, self.line, self._line_start = number, line, line_start
                    if seg.startswith("UNA"):
                        at = start - base
                        if at + 9 > len(buf) and not final:  # cut by the chunk boundary: wait for more text
                            self.offset = start
                            return buf[at:]
                        if self._una(buf[at:at + 9], line, start - line_start + 1) and len(seg) == 8:
                            continue  # the same delimiters again: the split stands
                        restart, offset = at + 9, start + 9
                        break
                    if tag == "UNB":
                        self._unb(elements, number + 1, line, start - line_start + 1)
                        check = not (self._codec is None or text.isascii())
                number += 1
                yield (Segment(tag, elements, number, line, start, d, start - line_start + 1),)
                if has_crlf and "\n" in seg:  # a line break inside the data
                    line += seg.count("\n")
                    line_start = start + seg.rfind("\n") + 1
            if restart < 0 and tail.lstrip(_CRLF)[:3] == "UNA":  # a UNA whose terminator is not the current one
                seg = tail.lstrip(_CRLF)
                lead = len(tail) - len(seg)
                nl = tail.count("\n", 0, lead)
                if nl:
                    line += nl
                    line_start = offset + tail.rfind("\n", 0, lead) + 1
                start = offset + lead
                self.number, self.line, self._line_start = number, line, line_start
                at = start - base
                if at + 9 > len(buf) and not final:
                    self.offset = start
                    return buf[at:]
                self._una(buf[at:at + 9], line, start - line_start + 1)
                restart, offset = at + 9, start + 9
            if restart < 0 and cut:  # every segment of the text read so far: the rest of ``buf`` comes next
                restart, services = pos + len(text), False
            self.number, self.line, self._line_start = number, line, line_start
            if restart < 0:
                self.offset = offset
                if final and tail.strip(_CRLF):
                    yield (self._last(tail, offset),)
                    return ""
                return tail
            pos = restart

    def _fast(self, parts: list[str], offset: int, eol: str, released: str) -> Iterator[Segment]:
        """The common case, lean: no UNA/UNB, no character set to check, and either no line breaks or one after
        every terminator (``eol``). ``parts`` are the text split at its terminators (the first at file ``offset``);
        ``released`` is the release character when the text has one (elements are then split at the separators
        that are not released). A part that ends with a released terminator (the text was split at data) stops the
        loop, with ``_stopped`` set to its offset: the full scanner reads on from there."""
        d = self.delimiters
        esep = d.element
        new, make, split = object.__new__, Segment, split_released  # locals: these loops run once per segment
        number, line, line_start = self.number, self.line, self._line_start
        skip, step = len(d.segment) + len(eol), 1 if eol else 0
        if step and offset == line_start and "" not in parts:  # one segment per line (column 1), none empty
            delta = line - number - 1  # the line of segment ``number``: number + delta
            for number, part in enumerate(parts, self.number + 1):
                if released and released in part:
                    if part[-1] == released and (len(part) - len(part.rstrip(released))) % 2:
                        self._stopped = offset
                        number -= 1
                        break
                    elements = split(part, esep, released)
                else:
                    elements = part.split(esep)
                segment = new(make)  # every field set here: cheaper than __init__
                segment.tag = elements.pop(0)
                segment.elements = elements
                segment.number = number
                segment.line = number + delta
                segment.offset = offset
                segment.delimiters = d
                segment.col = 1
                yield segment
                offset += len(part) + skip
            self.number, self.line, self._line_start, self.offset = number, number + delta + 1, offset, offset
            return
        # one long line, or one segment per line with an empty segment or a first one that does not start its line
        for part in parts:
            if part:
                if released and released in part:
                    if part[-1] == released and (len(part) - len(part.rstrip(released))) % 2:
                        self._stopped = offset
                        break
                    elements = split(part, esep, released)
                else:
                    elements = part.split(esep)
                number += 1
                segment = new(make)
                segment.tag = elements.pop(0)
                segment.elements = elements
                segment.number = number
                segment.line = line
                segment.offset = offset
                segment.delimiters = d
                segment.col = offset - line_start + 1
                yield segment
            offset += len(part) + skip
            if step:
                line += 1
                line_start = offset
        self.number, self.line, self._line_start, self.offset = number, line, line_start, offset

    def _last(self, tail: str, offset: int) -> Segment:
        """The final text without a terminator: an error, then the segment (its content is data like any other)."""
        seg = tail.lstrip(_CRLF)
        lead = len(tail) - len(seg)
        nl = tail.count("\n", 0, lead)
        if nl:
            self.line += nl
            self._line_start = offset + tail.rfind("\n", 0, lead) + 1
        start = offset + lead
        col = start - self._line_start + 1
        d = self.delimiters
        if self._codec is not None and not seg.isascii():
            seg = self._transcode(seg, self.number + 1, self.line, col)
        elements = split_released(seg, d.element, d.release) if d.release else seg.split(d.element)
        tag = elements.pop(0)
        self._problem(EdiError(
            "file ends inside a segment (truncated?)",
            location=self._where(tag, self.number + 1, self.line, col), expected=f"segment terminator {d.segment!r}",
            found="end of file"))
        self.number += 1
        self.offset = offset + len(tail)
        return Segment(tag, elements, self.number, self.line, start, d, col)

    # -- service segments ---------------------------------------------------------------------------------
    def _una(self, una: str, line: int, col: int) -> bool:
        """Apply a UNA; True when it leaves the delimiters as they were (no re-split needed)."""
        try:
            new = parse_una(una)
        except ValueError as exc:
            self._problem(EdiError("UNA service string advice", location=Location(self.file, line, col),
                                   expected=str(exc).split(", found")[0], found=repr(una)))
            return True
        same = new == self.delimiters
        self.delimiters = new
        return same

    def _unb(self, elements: list[str], number: int, line: int, col: int) -> None:
        """Take the character set of the interchange that starts here from UNB01 (S001 component 1)."""
        d = self.delimiters
        first = elements[0] if elements else ""
        syntax = first.split(d.component, 1)[0]
        self.syntax = syntax
        known = CHARSETS.get(syntax)
        if known is None:
            self._codec = None
            self._problem(EdiError(
                "UNB01 syntax identifier", location=self._where("UNB", number, line, col + 4, 1),
                expected=f"one of {', '.join(CHARSETS)}", found=repr(syntax) if syntax else "nothing"))
            return
        codec = known[0]
        self._codec = None if (codec == "latin-1" and self._bytes) else codec

    def _transcode(self, seg: str, number: int, line: int, col: int) -> str:
        """``seg`` (non-ASCII) in the interchange's character set; an error (and ``seg`` unchanged) if it does not
        fit."""
        codec = self._codec
        assert codec is not None
        try:
            if self._bytes:
                return seg.encode("latin-1").decode(codec) if codec != "latin-1" else seg
            seg.encode(codec)
            return seg
        except UnicodeError as exc:
            index = getattr(exc, "start", 0)
        ch = seg[index]
        found = f"byte 0x{ord(ch):02X}" if self._bytes else f"character U+{ord(ch):04X}"
        d = self.delimiters
        head = seg[:index]
        parts = split_released(head, d.element, d.release) if d.release else head.split(d.element)
        tag = parts[0] if len(parts) > 1 else seg[:3]
        element = len(parts) - 1 or None
        name, desc = self.syntax or "?", CHARSETS.get(self.syntax or "", ("", "the declared set"))[1]
        self._problem(EdiError(
            f"character set {name}", location=self._where(tag, number, line, col + index, element),
            expected=f"{desc} text", found=found, hint="declare the set the partner really uses in UNB01"))
        return seg


def _last_service(text: str) -> int:
    """Index of the last ``UNA`` or ``UNB`` in ``text``, or -1."""
    last = -1
    for found in _SERVICE.finditer(text):
        last = found.start()
    return last


def _terminator(text: str, start: int, term: str, rel: str | None) -> int:
    """Index of the first terminator at or after ``start`` that is not released, or -1."""
    at = text.find(term, start)
    while at > 0 and rel and text[at - 1] == rel:
        run = at - 1
        while run > 0 and text[run - 1] == rel:
            run -= 1
        if not (at - run) % 2:  # an even run of release characters: they are data, the terminator is real
            break
        at = text.find(term, at + 1)
    return at


def _plain_layout(text: str, term: str, services: bool = True) -> tuple[list[str], str] | None:
    """``text`` split after each terminator and the line break after it (``eol``), with ``eol``: ``""`` when
    ``text`` has no line breaks, ``"\\n"`` or ``"\\r\\n"`` when there is exactly one after every terminator and
    nowhere else; None otherwise (or when a UNA/UNB needs the full scanner; ``services=False``: there is none). A
    released terminator is left to the caller (the part before it ends with the release character)."""
    if services and _SERVICE.search(text):
        return None
    lf = text.count("\n")
    if not lf:
        return None if "\r" in text else (text.split(term), "")
    eol = "\r\n" if "\r" in text else "\n"
    if (eol == "\r\n" and text.count("\r") != lf) or text.count(term) != lf:
        return None
    parts = text.split(term + eol)
    return (parts, eol) if len(parts) == lf + 1 else None


def iter_segments(source: Source, *, file: str | None = None, errors: list[EdiError] | None = None,
                  chunk_size: int = CHUNK_SIZE) -> Iterator[Segment]:
    """Every segment of ``source`` in order; see the module docstring. ``errors``: collect problems instead of
    raising the first."""
    return iter(SegmentReader(source, file=file, errors=errors, chunk_size=chunk_size))


def segments_text(segments: Iterable[Segment]) -> str:
    """The segments written back with their own delimiters, one per line (for ``raw`` and messages)."""
    return "".join(f"{s.text()}{s.delimiters.segment}\n" for s in segments)
