"""X12 envelopes: segments to ``Interchange -> Group -> Transaction`` trees, with every envelope error collected.

Capabilities:
    ``EnvelopeReader(source, *, file)`` is iterated for the interchanges of a file, each yielded when it ends (at its
    IEA, at the next ISA, or at the end of the input), so memory holds one interchange at a time. It checks, and
    reports as :class:`~lockerhub_edi.EdiError` s rather than stopping:

    - ISA13 is 9 digits and IEA02 repeats it; IEA01 is the number of functional groups;
    - GE02 repeats GS06 (numerically: both are N0); GE01 is the number of transaction sets; GS06 is unique within
      its interchange;
    - SE02 repeats ST02; SE01 is the number of segments from ST to SE inclusive; ST02 is unique within its group;
    - a missing SE, GE or IEA (a truncated file, or a trailer left out), segments outside a transaction set,
      outside a functional group or outside any interchange, and an interchange header that cannot be read.

    Each error belongs to the innermost envelope open where it is found and is kept on that tree node's ``errors``
    (``Transaction.errors``, ``Group.errors``, ``Interchange.errors``); errors outside every interchange are in
    ``reader.outside``, and ``reader.errors`` lists them all in the order found. An envelope's errors concern every
    transaction inside it (:func:`problems`), so a later step can accept the good transactions of a file and reject
    the others: an error in one group never hides the transactions of another. A transaction set found directly
    under an ISA gets a group with no header (``Group.header is None``) carrying the error, so it is not lost.

    Every error reads as one line: ``in/acme.edi:12:5 (segment 40 SE-SE01): error: transaction set 0001: segment
    count: expected 12, found 11``. ``EdiError.control`` names the envelope as ``ISA13/GS06/ST02`` (as far as
    known). ``parse`` keeps a whole file; ``validate`` only reads it (bounded memory) and returns the errors.

Limits/Pitfalls:
    - Only envelopes are checked here, not the segments of a transaction set against its standard (that is the
      mapping's job, with the version table in ``segments.yaml``).
    - A run of segments outside an envelope is one error (at its first segment), not one per segment.
    - SE01 is checked against the segments actually read; a transaction whose SE is missing gets that error alone.
    - ``parse`` keeps every segment of the file and pauses Python's cyclic garbage collector while it reads (the
      trees hold no cycles); it is re-enabled afterwards, even on an error. Stream large files instead.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lockerhub_edi import EdiError, Group, Interchange, Segment, Transaction, edi_location

from lockerhub.errors import Location
from lockerhub_x12.tokenizer import CHUNK, Source, iter_segments

ENVELOPE_TAGS = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})
END_OF_FILE = "end of file"


def problems(interchange: Interchange, group: Group, transaction: Transaction) -> list[EdiError]:
    """Every envelope error that concerns ``transaction``: its own, its group's and its interchange's."""
    return [*transaction.errors, *group.errors, *interchange.errors]


def _at(file: str | None, segment: Segment, element: int | None = None) -> Location:
    """The segment (its first column) or one of its elements."""
    if element:
        return edi_location(file, segment, element)
    return Location(file=file, line=segment.line, column=segment.col,
                    segment=f"segment {segment.number} {segment.tag}")


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _shown(text: str | None) -> str:
    return repr(text or "")


class EnvelopeReader:
    """The interchanges of one X12 source, checked as they stream by; see the module docstring."""

    def __init__(self, source: Source, *, file: str | None = None, encoding: str = "utf-8",
                 keep_segments: bool = True, chunk_size: int = CHUNK) -> None:
        self.source, self.file, self.encoding, self.chunk_size = source, file, encoding, chunk_size
        self.keep_segments = keep_segments
        self.errors: list[EdiError] = []  # every error, in the order found
        self.outside: list[EdiError] = []  # errors outside every interchange
        self._interchange: Interchange | None = None
        self._group: Group | None = None
        self._transaction: Transaction | None = None
        self._stray: Segment | None = None  # first segment of the current run outside an envelope
        self._stray_count = 0
        self._last: Segment | None = None
        self._groups: dict[str, Segment] = {}  # GS06 -> GS, within the open interchange
        self._sets: dict[str, Segment] = {}  # ST02 -> ST, within the open group
        self._done: list[Interchange] = []
        self._handlers: dict[str, Callable[[Segment], None]] = {
            "ISA": self._isa, "GS": self._gs, "ST": self._st, "SE": self._se, "GE": self._ge, "IEA": self._iea}

    # -- iteration ----------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Interchange]:
        handlers, done = self._handlers, self._done
        keep = self.keep_segments
        segments = iter_segments(self.source, file=self.file, encoding=self.encoding, chunk_size=self.chunk_size)
        try:
            for segment in segments:
                handler = handlers.get(segment.tag)
                if handler is not None:
                    handler(segment)
                    if done:
                        yield from done
                        done.clear()
                elif self._transaction is not None:
                    if keep:
                        self._transaction.segments.append(segment)
                else:
                    self._stray_segment(segment)
                self._last = segment
        except EdiError as exc:  # an interchange header that cannot be read: report it, keep what came before
            self._end_stray()
            self._record(exc, None)
            self._close_all("an unreadable interchange header", None)
        else:
            self._end_stray()
            self._close_all(END_OF_FILE, None)
        yield from done
        done.clear()

    # -- errors -------------------------------------------------------------------------------------------
    def _record(self, error: EdiError, node: Interchange | Group | Transaction | None) -> None:
        self.errors.append(error)
        (node.errors if node is not None else self.outside).append(error)

    def _error(self, node: Interchange | Group | Transaction | None, message: str, where: Location, *,
               expected: str | None = None, found: str | None = None, hint: str | None = None) -> None:
        self._record(EdiError(message, location=where, expected=expected, found=found, hint=hint,
                              control=self._control()), node)

    def _control(self) -> str | None:
        parts = []
        if self._interchange is not None:
            parts.append(self._interchange.header.value(13) or "?")
            if self._group is not None:
                parts.append(self._group.header.value(6) or "?" if self._group.header is not None else "-")
                if self._transaction is not None:
                    parts.append(self._transaction.header.value(2) or "?")
        return "/".join(parts) or None

    # -- names used in messages ---------------------------------------------------------------------------
    def _ic_name(self) -> str:
        assert self._interchange is not None
        return f"interchange {self._interchange.header.value(13) or '?'}"

    def _group_name(self) -> str:
        assert self._group is not None
        header = self._group.header
        return "functional group (no GS)" if header is None else f"functional group {header.value(6) or '?'}"

    def _set_name(self) -> str:
        assert self._transaction is not None
        return f"transaction set {self._transaction.header.value(2) or '?'}"

    # -- segments outside an envelope ---------------------------------------------------------------------
    def _stray_segment(self, segment: Segment) -> None:
        if self._stray is None:
            self._stray = segment
        self._stray_count += 1

    def _end_stray(self) -> None:
        first = self._stray
        if first is None:
            return
        count, last = self._stray_count, self._last
        self._stray, self._stray_count = None, 0
        hint = f"{count} segments, up to segment {last.number}" if count > 1 and last is not None else None
        where = _at(self.file, first)
        if self._group is not None:
            self._error(self._group, "segment outside a transaction set", where, expected="ST or GE",
                        found=first.tag, hint=hint)
        elif self._interchange is not None:
            self._error(self._interchange, "segment outside a functional group", where, expected="GS or IEA",
                        found=first.tag, hint=hint)
        else:
            self._error(None, "segment outside an interchange", where, expected="ISA", found=first.tag, hint=hint)

    # -- closing envelopes --------------------------------------------------------------------------------
    def _missing(self, trailer: str, found: Segment | None, found_text: str, name: str,
                 node: Interchange | Group | Transaction) -> None:
        """``node`` ended without its trailer: at the segment that ended it, or at the last segment read."""
        at = found or self._last
        where = _at(self.file, at) if at is not None else Location(file=self.file)
        self._error(node, f"{name}: no {trailer} trailer", where, expected=trailer,
                    found=found.tag if found is not None else found_text)

    def _close_transaction(self, found: Segment | None, found_text: str = END_OF_FILE) -> None:
        if self._transaction is not None:
            self._missing("SE", found, found_text, self._set_name(), self._transaction)
            self._transaction = None

    def _close_group(self, found: Segment | None, found_text: str = END_OF_FILE) -> None:
        self._close_transaction(found, found_text)
        if self._group is not None:
            if self._group.header is not None:
                self._missing("GE", found, found_text, self._group_name(), self._group)
            self._group = None

    def _close_all(self, found_text: str, found: Segment | None) -> None:
        self._close_group(found, found_text)
        if self._interchange is not None:
            self._missing("IEA", found, found_text, self._ic_name(), self._interchange)
            self._done.append(self._interchange)
            self._interchange = None

    # -- envelope segments --------------------------------------------------------------------------------
    def _isa(self, segment: Segment) -> None:
        self._end_stray()
        self._close_all(END_OF_FILE, segment)
        self._interchange = Interchange(header=segment, delimiters=segment.delimiters)
        self._groups = {}
        control = segment.raw(13) or ""
        if not (len(control) == 9 and control.isdigit()):
            self._error(self._interchange, f"{self._ic_name()}: control number", _at(self.file, segment, 13),
                        expected="9 digits", found=_shown(control))

    def _gs(self, segment: Segment) -> None:
        if self._interchange is None:
            self._stray_segment(segment)
            return
        self._end_stray()
        self._close_group(segment)
        self._group = Group(header=segment)
        self._interchange.groups.append(self._group)
        self._sets = {}
        control = segment.value(6) or ""
        first = self._groups.setdefault(control, segment)
        if first is not segment:
            self._error(self._group, f"{self._group_name()}: control number", _at(self.file, segment, 6),
                        expected=f"a number not used before in {self._ic_name()}",
                        found=f"{control}, as the group at segment {first.number}")

    def _st(self, segment: Segment) -> None:
        if self._interchange is None:
            self._stray_segment(segment)
            return
        self._end_stray()
        self._close_transaction(segment)
        if self._group is None:
            self._group = Group(header=None)
            self._interchange.groups.append(self._group)
            self._sets = {}
            self._error(self._group, f"transaction set {segment.value(2) or '?'} outside a functional group",
                        _at(self.file, segment), expected="GS", found="ST")
        self._transaction = Transaction(header=segment)
        self._group.transactions.append(self._transaction)
        control = segment.value(2) or ""
        first = self._sets.setdefault(control, segment)
        if first is not segment:
            self._error(self._transaction, f"{self._set_name()}: control number", _at(self.file, segment, 2),
                        expected=f"a number not used before in {self._group_name()}",
                        found=f"{control}, as the transaction set at segment {first.number}")

    def _se(self, segment: Segment) -> None:
        txn = self._transaction
        if txn is None:
            self._stray_segment(segment)
            return
        txn.trailer = segment
        name = self._set_name()
        count = segment.number - txn.header.number + 1
        if _number(segment.value(1)) != count:
            self._error(txn, f"{name}: segment count", _at(self.file, segment, 1), expected=str(count),
                        found=segment.value(1) if _number(segment.value(1)) is not None else _shown(segment.value(1)))
        if segment.value(2) != txn.header.value(2):
            self._error(txn, f"{name}: control number", _at(self.file, segment, 2),
                        expected=f"{txn.header.value(2) or '?'} (ST02)", found=_shown(segment.value(2)))
        self._transaction = None

    def _ge(self, segment: Segment) -> None:
        self._close_transaction(segment)
        group = self._group
        if group is None or group.header is None:  # no GS open (an implicit group ends here)
            self._group = None
            self._stray_segment(segment)
            return
        self._end_stray()
        group.trailer = segment
        name = self._group_name()
        count = len(group.transactions)
        if _number(segment.value(1)) != count:
            self._error(group, f"{name}: transaction set count", _at(self.file, segment, 1), expected=str(count),
                        found=segment.value(1) if _number(segment.value(1)) is not None else _shown(segment.value(1)))
        gs06, ge02 = group.header.value(6), segment.value(2)
        if ge02 != gs06 and (_number(ge02) is None or _number(ge02) != _number(gs06)):  # N0: 0001 is 1
            self._error(group, f"{name}: control number", _at(self.file, segment, 2),
                        expected=f"{group.header.value(6) or '?'} (GS06)", found=_shown(segment.value(2)))
        self._group = None

    def _iea(self, segment: Segment) -> None:
        ic = self._interchange
        if ic is None:
            self._stray_segment(segment)
            return
        self._end_stray()
        self._close_group(segment)
        ic.trailer = segment
        name = self._ic_name()
        count = len(ic.groups)
        if _number(segment.value(1)) != count:
            self._error(ic, f"{name}: functional group count", _at(self.file, segment, 1), expected=str(count),
                        found=segment.value(1) if _number(segment.value(1)) is not None else _shown(segment.value(1)))
        if segment.raw(2) != ic.header.raw(13):
            self._error(ic, f"{name}: control number", _at(self.file, segment, 2),
                        expected=f"{ic.header.raw(13) or '?'} (ISA13)", found=_shown(segment.raw(2)))
        self._done.append(ic)
        self._interchange = None


@dataclass(slots=True)
class X12Document:
    """A whole file: its interchanges and every error (sorted by position, as the CLI prints them)."""

    file: str | None
    interchanges: list[Interchange] = field(default_factory=list)
    errors: list[EdiError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def transactions(self) -> Iterator[tuple[Interchange, Group, Transaction]]:
        for interchange in self.interchanges:
            for group in interchange.groups:
                for transaction in group.transactions:
                    yield interchange, group, transaction


def _sorted(errors: list[EdiError]) -> list[EdiError]:
    return sorted(errors, key=lambda e: e.location.sort_key() if e.location else ("", 0, 0))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Cyclic garbage collection off while a whole file's segments are built: they form no reference cycles (plain
    reference counting frees them), and with collection on, a file of a million segments spends most of its time
    in the collector re-scanning the segments already kept."""
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse(source: Source, *, file: str | None = None, encoding: str = "utf-8") -> X12Document:
    """Every interchange of ``source`` with all its segments, and every error (the whole file in memory; see
    :class:`EnvelopeReader` to stream)."""
    reader = EnvelopeReader(source, file=file, encoding=encoding)
    with _gc_paused():
        interchanges = list(reader)
    return X12Document(file, interchanges, _sorted(reader.errors))


def validate(source: Source, *, file: str | None = None, encoding: str = "utf-8") -> list[EdiError]:
    """Every envelope error of ``source``, sorted by position; reads with bounded memory (no segments kept)."""
    reader = EnvelopeReader(source, file=file, encoding=encoding, keep_segments=False)
    for _ in reader:
        pass
    return _sorted(reader.errors)


def parse_file(path: str | Path, *, encoding: str = "utf-8") -> X12Document:
    """:func:`parse` of a file (streamed; errors name it as given)."""
    with open(path, "rb") as stream:
        return parse(stream, file=str(path), encoding=encoding)


def validate_file(path: str | Path, *, encoding: str = "utf-8") -> list[EdiError]:
    """:func:`validate` of a file, streamed in chunks (bounded memory)."""
    with open(path, "rb") as stream:
        return validate(stream, file=str(path), encoding=encoding)
