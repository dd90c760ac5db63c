"""EDIFACT envelopes: interchanges (UNB/UNZ), groups (UNG/UNE) and messages (UNH/UNT) with every error found.

Capabilities:
    ``iter_interchanges(source, *, file=None, errors=None)`` yields each :class:`EdifactInterchange` as soon as it
    is closed (UNZ, the next UNB, or the end of the file), so memory holds one interchange, not the file.
    ``iter_messages`` yields its messages (and :class:`Stray` runs of segments outside any interchange) in file
    order; ``parse`` returns the whole :class:`Document`; ``validate`` returns only the errors and keeps no
    segments (bounded memory on any file).

Checks (ISO 9735 syntax versions 3 and 4):
    - UNZ01 = number of messages in the interchange, or of groups when it uses UNG; UNZ02 = UNB05.
    - UNE01 = number of messages in the group; UNE02 = UNG05.
    - UNT01 = number of segments from UNH to UNT inclusive; UNT02 = UNH01.
    - UNB01 (syntax identifier) to UNB05 (control reference), UNG05, UNH01 and UNH02 present.
    - A missing UNT, UNE or UNZ (the next header came first, or the file ends: truncated); a trailer without its
      header; UNG after messages that are outside groups (or a message outside a group once groups are used);
      segments between messages; segments outside any interchange.
    - Everything :mod:`lockerhub_edifact.tokenizer` reports (character set, UNA, unterminated last segment).

Errors:
    Every error is an :class:`~lockerhub_edi.EdiError` at ``file:line:col (segment N TAG-TAGnn)`` whose message
    names the interchange, group or message by its control reference, e.g.
    ``in/x.edi:7:5 (segment 9 UNT-UNT01): error: message 1: segment count: expected 8, found 7``. All of them are
    collected (``Document.errors``, sorted by position); each is also kept on the part it concerns
    (``EdifactMessage.errors``, ``EdifactGroup.errors``, ``EdifactInterchange.errors``), and
    ``EdifactMessage.problems`` lists every error that makes that message unacceptable: its own, its group's and
    its interchange's (a CONTRL would reject the whole interchange). An error in one message never hides the
    others: every message of the file is returned.

Limits/Pitfalls:
    - Counts and references are compared as written: ``UNT+08`` counts 8, but ``UNZ+1+0001`` does not match a
      UNB05 of ``1`` (control references are identifiers, not numbers).
    - A segment that is not UNA/UNB/UNG/UNH/UNT/UNE/UNZ is not checked against a message structure here (the
      mapping reads what it needs; directories are in ``directory.yaml``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from lockerhub_edi import Delimiters, EdiError, Group, Interchange, Segment, Transaction

from lockerhub.errors import Location, errors_sorted
from lockerhub_edifact.tokenizer import DEFAULT_DELIMITERS, SegmentReader, Source, una_text


def at(file: str | None, segment: Segment, element: int | None = None) -> Location:
    """The position of a segment (its first character) or of one of its elements."""
    return Location(file=file, line=segment.line, column=segment.column(element) if element else segment.col,
                    segment=f"segment {segment.number} {segment.tag}",
                    element=f"{segment.tag}{element:02d}" if element else None)


@dataclass(slots=True, eq=False)
class EdifactMessage(Transaction):
    """One message, UNH..UNT: ``segments`` are those between them. ``errors`` are this message's own."""

    errors: list[EdiError] = field(default_factory=list)
    interchange: EdifactInterchange | None = None
    group: EdifactGroup | None = None
    file: str | None = None
    count: int = 1  # segments from UNH to here (to UNT once closed), kept even when segments are not

    @property
    def reference(self) -> str:
        """UNH01, the message reference number."""
        return self.header.value(1) or ""

    @property
    def label(self) -> str:
        ref = self.reference
        return f"message {ref}" if ref else f"message at segment {self.header.number}"

    @property
    def problems(self) -> list[EdiError]:
        """Every error that makes this message unacceptable: its own, its group's and its interchange's."""
        out = list(self.errors)
        if self.group is not None:
            out += self.group.errors
        if self.interchange is not None:
            out += self.interchange.errors
        return errors_sorted(out) if len(out) > 1 else out  # type: ignore[return-value]

    @property
    def problem(self) -> EdiError | None:
        """The first of :attr:`problems` (what a record shows when the message is not mapped)."""
        problems = self.problems
        return problems[0] if problems else None

    @property
    def line(self) -> int:
        return self.header.line

    @property
    def raw(self) -> str:
        """The message as written (UNH..UNT, one segment per line), after a UNA when its delimiters are not the
        defaults."""
        parts = [self.header, *self.segments, *([self.trailer] if self.trailer else [])]
        d = self.header.delimiters
        head = una_text(d) + "\n" if _differs(d) else ""
        return head + "".join(f"{s.text()}{d.segment}\n" for s in parts)


@dataclass(slots=True, eq=False)
class EdifactGroup(Group):
    errors: list[EdiError] = field(default_factory=list)
    message_count: int = 0  # UNH segments seen (kept when messages are not)

    @property
    def reference(self) -> str:
        return (self.header.value(5) if self.header is not None else None) or ""

    @property
    def label(self) -> str:
        if self.header is None:
            return "messages outside groups"
        return f"group {self.reference}" if self.reference else f"group at segment {self.header.number}"


@dataclass(slots=True, eq=False)
class EdifactInterchange(Interchange):
    errors: list[EdiError] = field(default_factory=list)
    file: str | None = None
    message_count: int = 0  # UNH segments seen (kept when messages are not)

    @property
    def control(self) -> str:
        """UNB05, the interchange control reference."""
        return self.header.value(5) or ""

    @property
    def syntax(self) -> str:
        """UNB01 component 1 (UNOA, UNOB, UNOC, ...)."""
        return self.header.value(1, 1) or ""

    @property
    def sender(self) -> str:
        return self.header.value(2, 1) or ""

    @property
    def recipient(self) -> str:
        return self.header.value(3, 1) or ""

    @property
    def label(self) -> str:
        return f"interchange {self.control}" if self.control else f"interchange at segment {self.header.number}"

    def messages(self) -> list[EdifactMessage]:
        return self.transactions()  # type: ignore[return-value]


@dataclass(slots=True, eq=False)
class Stray:
    """Segments outside any interchange (before the first UNB, between UNZ and the next UNB, or in a file with
    none); ``errors`` holds the one error that reports them."""

    segments: list[Segment]
    errors: list[EdiError] = field(default_factory=list)
    file: str | None = None

    @property
    def problems(self) -> list[EdiError]:
        return list(self.errors)

    @property
    def problem(self) -> EdiError | None:
        return self.errors[0] if self.errors else None

    @property
    def line(self) -> int:
        return self.segments[0].line if self.segments else 1

    @property
    def raw(self) -> str:
        return "".join(f"{s.text()}{s.delimiters.segment}\n" for s in self.segments)


@dataclass(slots=True)
class Document:
    """A whole file: its interchanges, stray segment runs, and every error sorted by position."""

    interchanges: list[EdifactInterchange]
    stray: list[Stray]
    errors: list[EdiError]

    def messages(self) -> list[EdifactMessage]:
        return [m for i in self.interchanges for m in i.messages()]


def _differs(d: Delimiters) -> bool:
    return (d.segment, d.element, d.component, d.release) != (DEFAULT_DELIMITERS.segment, DEFAULT_DELIMITERS.element,
                                                              DEFAULT_DELIMITERS.component, DEFAULT_DELIMITERS.release)


def _count(segment: Segment, n: int) -> int | None:
    text = segment.value(n)
    return int(text) if text is not None and text.isdigit() else None


class EnvelopeReader:
    """The state machine behind the functions below: feed segments, get closed interchanges and stray runs."""

    def __init__(self, source: Source, *, file: str | None = None, keep_segments: bool = True,
                 chunk_size: int | None = None) -> None:
        self.file = file
        self.keep = keep_segments
        self.errors: list[EdiError] = []  # every error, in the order found
        self._tokenizer_errors: list[EdiError] = []
        options = {"chunk_size": chunk_size} if chunk_size else {}
        self._reader = SegmentReader(source, file=file, errors=self._tokenizer_errors, **options)
        self._interchange: EdifactInterchange | None = None
        self._group: EdifactGroup | None = None  # the open explicit group (UNG seen, UNE not yet)
        self._message: EdifactMessage | None = None
        self._stray: Stray | None = None
        self._last: Segment | None = None
        self._out: list[EdifactInterchange | Stray] = []
        self._handlers: dict[str, Callable[[Segment], list[EdiError]]] = {
            "UNB": self._unb, "UNG": self._ung, "UNH": self._unh, "UNT": self._unt, "UNE": self._une, "UNZ": self._unz,
        }

    # -- driving ------------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[EdifactInterchange | Stray]:
        seen = 0
        tokenizer_errors = self._tokenizer_errors
        handlers = self._handlers
        out = self._out
        for segment in self._reader:
            self._last = segment
            message = self._message
            handler = handlers.get(segment.tag)
            if handler is None and message is not None:  # the body of a message: the common case
                message.count += 1
                if self.keep:
                    message.segments.append(segment)
                target = message.errors
            else:
                target = (handler or self._body)(segment)
            if len(tokenizer_errors) > seen:
                new = tokenizer_errors[seen:]
                seen = len(tokenizer_errors)
                target.extend(new)
                self.errors.extend(new)
            if out:
                yield from out
                out.clear()
        self._end()
        yield from out
        out.clear()

    def _error(self, target: list[EdiError], message: str, segment: Segment | None, element: int | None = None,
               *, expected: str | None = None, found: str | None = None, control: str | None = None) -> None:
        location = at(self.file, segment, element) if segment is not None else Location(file=self.file)
        error = EdiError(message, location=location, expected=expected, found=found, control=control)
        target.append(error)
        self.errors.append(error)

    # -- closing ------------------------------------------------------------------------------------------
    def _close_message(self, found: Segment | None, why: str) -> None:
        message = self._message
        if message is None:
            return
        self._message = None
        where = found if found is not None else self._last
        self._error(message.errors, f"{message.label}: UNT missing{why}", where, expected="UNT",
                    found=f"{found.tag}" if found is not None else "end of file", control=message.reference)

    def _close_group(self, found: Segment | None, why: str) -> None:
        group = self._group
        if group is None:
            return
        self._group = None
        where = found if found is not None else self._last
        self._error(group.errors, f"{group.label}: UNE missing{why}", where, expected="UNE",
                    found=f"{found.tag}" if found is not None else "end of file", control=group.reference)

    def _close_interchange(self, found: Segment | None) -> None:
        interchange = self._interchange
        if interchange is None:
            return
        self._close_message(found, "" if found is not None else " (file truncated?)")
        self._close_group(found, "" if found is not None else " (file truncated?)")
        if interchange.trailer is None:
            where = found if found is not None else self._last
            why = f" before the next {found.tag}" if found is not None else " (file truncated?)"
            self._error(interchange.errors, f"{interchange.label}: UNZ missing{why}", where, expected="UNZ",
                        found=found.tag if found is not None else "end of file", control=interchange.control)
        self._interchange = None
        self._out.append(interchange)

    def _flush_stray(self) -> None:
        if self._stray is not None:
            self._out.append(self._stray)
            self._stray = None

    def _end(self) -> None:
        self._close_interchange(None)
        self._flush_stray()

    # -- segments -----------------------------------------------------------------------------------------
    def _outside(self, segment: Segment) -> list[EdiError]:
        """A segment outside any interchange: one error per run of them."""
        if self._stray is None:
            self._stray = Stray([], file=self.file)
            self._error(self._stray.errors, "segment outside an interchange", segment,
                        expected="UNB (or UNA) first", found=segment.tag)
        self._stray.segments.append(segment)
        return self._stray.errors

    def _body(self, segment: Segment) -> list[EdiError]:
        """A segment that is no envelope segment, with no message open."""
        interchange = self._interchange
        if interchange is None:
            return self._outside(segment)
        self._error(interchange.errors, f"{interchange.label}: segment outside a message", segment,
                    expected="UNH before it", found=segment.tag, control=interchange.control)
        return interchange.errors

    def _required(self, target: list[EdiError], owner: str, segment: Segment, *elements: int) -> None:
        for n in elements:
            if segment.value(n) is None:
                name = f"{segment.tag}{n:02d}"
                self._error(target, f"{owner}: {name} {_NAMES.get(name, 'element')}", segment,
                            n if segment.raw(n) is not None else None, expected="a value", found="nothing")

    def _unb(self, segment: Segment) -> list[EdiError]:
        if self._interchange is not None:
            self._close_interchange(segment)
        self._flush_stray()
        interchange = EdifactInterchange(header=segment, delimiters=segment.delimiters, file=self.file)
        self._interchange = interchange
        self._required(interchange.errors, interchange.label, segment, 1, 2, 3, 4, 5)
        return interchange.errors

    def _ung(self, segment: Segment) -> list[EdiError]:
        interchange = self._interchange
        if interchange is None:
            return self._outside(segment)
        self._close_message(segment, " before UNG")
        self._close_group(segment, " before the next UNG")
        if any(g.header is None for g in interchange.groups):
            self._error(interchange.errors, f"{interchange.label}: UNG after messages outside groups", segment,
                        expected="every message in a group, or none", found="both", control=interchange.control)
        group = EdifactGroup(header=segment)
        interchange.groups.append(group)
        self._group = group
        self._required(group.errors, group.label, segment, 5)
        return group.errors

    def _unh(self, segment: Segment) -> list[EdiError]:
        interchange = self._interchange
        if interchange is None:
            return self._outside(segment)
        self._close_message(segment, " before the next UNH")
        group = self._group
        if group is None:
            explicit = [g for g in interchange.groups if g.header is not None]
            if explicit:
                self._error(interchange.errors, f"{interchange.label}: message outside a group", segment,
                            expected="UNG before it (the interchange uses groups)", found="UNH",
                            control=interchange.control)
            group = next((g for g in interchange.groups if g.header is None), None)  # type: ignore[assignment]
            if group is None:
                group = EdifactGroup(header=None)
                interchange.groups.append(group)
        message = EdifactMessage(header=segment, interchange=interchange, group=group, file=self.file)
        group.message_count += 1
        interchange.message_count += 1
        if self.keep:
            group.transactions.append(message)
        self._message = message
        self._required(message.errors, message.label, segment, 1, 2)
        return message.errors

    def _unt(self, segment: Segment) -> list[EdiError]:
        message = self._message
        if message is None:
            interchange = self._interchange
            if interchange is None:
                return self._outside(segment)
            self._error(interchange.errors, f"{interchange.label}: UNT without UNH", segment, expected="UNH first",
                        found="UNT", control=interchange.control)
            return interchange.errors
        message.count += 1
        message.trailer = segment
        self._message = None
        ref = message.reference
        found = _count(segment, 1)
        if found != message.count:
            self._error(message.errors, f"{message.label}: segment count", segment, 1 if segment.raw(1) else None,
                        expected=str(message.count), found=segment.value(1) or "nothing", control=ref)
        if segment.value(2) != (ref or None):
            self._error(message.errors, f"{message.label}: UNT02 message reference", segment,
                        2 if segment.raw(2) else None, expected=f"{ref!r} (UNH01)" if ref else "UNH01",
                        found=repr(segment.value(2)) if segment.value(2) else "nothing", control=ref)
        return message.errors

    def _une(self, segment: Segment) -> list[EdiError]:
        interchange = self._interchange
        if interchange is None:
            return self._outside(segment)
        self._close_message(segment, " before UNE")
        group = self._group
        if group is None:
            self._error(interchange.errors, f"{interchange.label}: UNE without UNG", segment, expected="UNG first",
                        found="UNE", control=interchange.control)
            return interchange.errors
        group.trailer = segment
        self._group = None
        ref = group.reference
        n = group.message_count
        if _count(segment, 1) != n:
            self._error(group.errors, f"{group.label}: message count", segment, 1 if segment.raw(1) else None,
                        expected=str(n), found=segment.value(1) or "nothing", control=ref)
        if segment.value(2) != (ref or None):
            self._error(group.errors, f"{group.label}: UNE02 group reference", segment,
                        2 if segment.raw(2) else None, expected=f"{ref!r} (UNG05)" if ref else "UNG05",
                        found=repr(segment.value(2)) if segment.value(2) else "nothing", control=ref)
        return group.errors

    def _unz(self, segment: Segment) -> list[EdiError]:
        interchange = self._interchange
        if interchange is None:
            return self._outside(segment)
        self._close_message(segment, " before UNZ")
        self._close_group(segment, " before UNZ")
        interchange.trailer = segment
        ref = interchange.control
        explicit = [g for g in interchange.groups if g.header is not None]
        n, what = (len(explicit), "group count") if explicit else (interchange.message_count, "message count")
        if _count(segment, 1) != n:
            self._error(interchange.errors, f"{interchange.label}: {what}", segment, 1 if segment.raw(1) else None,
                        expected=str(n), found=segment.value(1) or "nothing", control=ref)
        if segment.value(2) != (ref or None):
            self._error(interchange.errors, f"{interchange.label}: UNZ02 control reference", segment,
                        2 if segment.raw(2) else None, expected=f"{ref!r} (UNB05)" if ref else "UNB05",
                        found=repr(segment.value(2)) if segment.value(2) else "nothing", control=ref)
        self._close_interchange(segment)
        return interchange.errors


_NAMES = {
    "UNB01": "syntax identifier", "UNB02": "interchange sender", "UNB03": "interchange recipient",
    "UNB04": "date and time of preparation", "UNB05": "interchange control reference",
    "UNG05": "group reference number", "UNH01": "message reference number", "UNH02": "message identifier",
}


def iter_interchanges(source: Source, *, file: str | None = None,
                      errors: list[EdiError] | None = None) -> Iterator[EdifactInterchange]:
    """Each interchange of ``source`` as soon as it is closed; every error (stray segments' too) is appended to
    ``errors`` when given."""
    reader = EnvelopeReader(source, file=file)
    done = 0
    for unit in reader:
        if errors is not None:
            errors.extend(reader.errors[done:])
            done = len(reader.errors)
        if isinstance(unit, EdifactInterchange):
            yield unit
    if errors is not None:
        errors.extend(reader.errors[done:])


def iter_messages(source: Source, *, file: str | None = None,
                  chunk_size: int | None = None) -> Iterator[EdifactMessage | Stray]:
    """Every message of ``source`` (and every run of stray segments) in file order, one interchange at a time."""
    for unit in EnvelopeReader(source, file=file, chunk_size=chunk_size):
        if isinstance(unit, Stray):
            yield unit
        else:
            yield from unit.messages()


def parse(source: Source, *, file: str | None = None) -> Document:
    """The whole file as a tree, with every error sorted by position."""
    reader = EnvelopeReader(source, file=file)
    interchanges: list[EdifactInterchange] = []
    stray: list[Stray] = []
    for unit in reader:
        (stray if isinstance(unit, Stray) else interchanges).append(unit)  # type: ignore[arg-type]
    return Document(interchanges, stray, errors_sorted(reader.errors))  # type: ignore[arg-type]


def validate(source: Source, *, file: str | None = None) -> list[EdiError]:
    """Every error of ``source``, sorted by position; keeps no segments (bounded memory on any file)."""
    reader = EnvelopeReader(source, file=file, keep_segments=False)
    for _ in reader:
        pass
    return errors_sorted(reader.errors)  # type: ignore[arg-type]
