"""The ``x12`` source format for mappings: a transaction set is a record; a path is a segment and an element.

Records:
    ``read(path)`` yields one :class:`X12Transaction` per transaction set of every interchange of the file, in file
    order, each carrying its envelope (``sender``/``receiver`` from ISA06/ISA08, the GS group, the control numbers)
    and every envelope error that concerns it (``errors``; the first one is ``problem``, so such a transaction is
    reported as that error and not mapped, like a CSV row with the wrong number of cells). An error outside every
    interchange (stray segments after an IEA, a header that cannot be read) is an :class:`X12Stray` record holding
    only that ``problem``. Read options (``source.options``): ``encoding`` (default ``utf-8``) and
    ``transaction_sets`` (a set id or a list, e.g. ``204``: other sets become records with a problem).

Paths (see :mod:`lockerhub_x12._paths` for the grammar):
    ``B2/04`` element 04 of the first B2; ``N1[ST]/02`` of the first N1 whose N101 is ST; ``L11[02=BM]/01`` with the
    qualifier in another element; ``AT8/03-1`` a component; ``N1[CN]/N3/01`` the N3 in the N1 loop of the
    consignee; ``ISA/06``, ``GS/02``, ``ST/02`` the envelope. ``repeat: S5`` (or ``HL[03=P]``) makes one item per
    loop: the segment and those after it up to the next segment with the same tag, and paths inside the group are
    relative to that loop. With ``source.version`` (``003040``, ``004010``, ``005010``), every segment and element of
    every path is checked against ``segments.yaml`` when the mapping loads.

Positions:
    ``locate(item, path)`` is ``file:line:column (segment N TAG-TAGnn)``: the element's own line and column. When the
    segment is missing it is the first segment of the item (its ST, or the loop's first segment), with the path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from lockerhub_edi import EdiError, Group, Interchange, Segment, Transaction, edi_location

from lockerhub.errors import Location
from lockerhub_x12 import _paths
from lockerhub_x12.dictionary import dictionary
from lockerhub_x12.envelope import EnvelopeReader, problems


def _trimmed(segment: Segment | None, n: int) -> str | None:
    if segment is None:
        return None
    text = (segment.raw(n) or "").strip()
    return text or None


class X12Transaction:
    """One transaction set (ST..SE) as a mapping record, with its envelope and envelope errors."""

    __slots__ = ("_index", "end", "errors", "file", "group", "interchange", "problem", "segments", "transaction")
    start = 0

    def __init__(self, interchange: Interchange, group: Group, transaction: Transaction, *, file: str | None,
                 errors: list[EdiError] | None = None) -> None:
        self.interchange, self.group, self.transaction, self.file = interchange, group, transaction, file
        segments = [transaction.header, *transaction.segments]
        if transaction.trailer is not None:
            segments.append(transaction.trailer)
        self.segments = segments
        self.end = len(transaction.segments) + 1  # the scope of paths and loops: ST and the body, not SE
        self.errors = errors if errors is not None else sorted(
            problems(interchange, group, transaction),
            key=lambda e: e.location.sort_key() if e.location else ("", 0, 0))
        self.problem: EdiError | None = self.errors[0] if self.errors else None
        self._index: dict[str, list[int]] | None = None

    @property
    def root(self) -> X12Transaction:
        return self

    @property
    def index(self) -> dict[str, list[int]]:
        """Segment tag -> positions in ``segments``, built on first use."""
        index = self._index
        if index is None:
            index = {}
            for at, segment in enumerate(self.segments):
                index.setdefault(segment.tag, []).append(at)
            self._index = index
        return index

    # -- envelope -----------------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """Transaction set id (ST01), e.g. ``204``."""
        return self.transaction.kind

    @property
    def control(self) -> str | None:
        """ST02."""
        return _trimmed(self.transaction.header, 2)

    @property
    def sender(self) -> str | None:
        """ISA06, trimmed (with its qualifier in ISA05)."""
        return _trimmed(self.interchange.header, 6)

    @property
    def receiver(self) -> str | None:
        """ISA08, trimmed (with its qualifier in ISA07)."""
        return _trimmed(self.interchange.header, 8)

    @property
    def interchange_control(self) -> str | None:
        """ISA13."""
        return _trimmed(self.interchange.header, 13)

    @property
    def group_control(self) -> str | None:
        """GS06 (None for a transaction set outside a functional group)."""
        return _trimmed(self.group.header, 6)

    @property
    def functional_id(self) -> str | None:
        """GS01 (``SM`` for 204)."""
        return _trimmed(self.group.header, 1)

    @property
    def version(self) -> str | None:
        """GS08 (``004010``), or ISA12 when there is no GS."""
        return _trimmed(self.group.header, 8) or _trimmed(self.interchange.header, 12)

    @property
    def line(self) -> int:
        return self.transaction.header.line

    @property
    def raw(self) -> str:
        """The transaction's text, ST to SE, each segment followed by its terminator."""
        term = self.interchange.delimiters.segment
        return "".join(segment.text() + term for segment in self.segments)

    def __repr__(self) -> str:
        return f"<X12Transaction {self.kind} {self.control} at {self.file}:{self.line}>"


class X12Loop:
    """One loop of a transaction: ``root.segments[start:end]`` (a ``repeat`` item)."""

    __slots__ = ("end", "root", "start")

    def __init__(self, root: X12Transaction, start: int, end: int) -> None:
        self.root, self.start, self.end = root, start, end

    @property
    def file(self) -> str | None:
        return self.root.file

    @property
    def segments(self) -> list[Segment]:
        return self.root.segments[self.start:self.end]

    def __repr__(self) -> str:
        first = self.root.segments[self.start]
        return f"<X12Loop {first.tag} segments {first.number}..{self.root.segments[self.end - 1].number}>"


class X12Stray:
    """An error outside every transaction set (stray segments, an unreadable header): a record that is only that."""

    __slots__ = ("errors", "file", "problem")

    def __init__(self, problem: EdiError, *, file: str | None) -> None:
        self.problem, self.errors, self.file = problem, [problem], file

    @property
    def line(self) -> int | None:
        return self.problem.location.line if self.problem.location else None

    raw = ""


@lru_cache(maxsize=1024)
def _parsed(path: str, loop: bool = False, version: str | None = None) -> _paths.Path:
    return _paths.parse(path, loop=loop, version=version)


class X12Format:
    """The ``x12`` source format (see the module docstring)."""

    name = "x12"

    def __init__(self) -> None:
        self._refused: set[str] = set()  # unknown versions already reported (one error per mapping, not per path)

    def _checked(self, path: str, loop: bool, version: str | None) -> _paths.Path:
        if version is not None and version not in self._refused:
            try:
                dictionary().version(version)
            except ValueError:
                self._refused.add(version)
                raise
        return _parsed(path, loop, None if version in self._refused else version)

    def compile_path(self, path: str, *, version: str | None = None) -> Callable[[Any], str | None]:
        return _paths.compile_read(self._checked(path, False, version))

    def read_path(self, item: Any, path: str) -> str | None:
        return _paths.reference_read(_parsed(path), item)

    def compile_repeat(self, path: str, *, version: str | None = None) -> Callable[[Any], list[Any]]:
        return _paths.compile_loops(self._checked(path, True, version), X12Loop)

    def label(self, path: str) -> str:
        return f"element {path}"

    def locate(self, item: Any, path: str) -> Location | None:
        parsed = _parsed(path)
        root = item.root
        segment = _paths.locate_segment(parsed, item)
        if segment is None or parsed.element is None:
            first = root.segments[item.start]
            return Location(file=root.file, line=first.line, column=first.col, path=path)
        where = edi_location(root.file, segment, parsed.element)
        if parsed.component and parsed.component > 1 and parsed.element <= len(segment.elements):
            parts = segment.elements[parsed.element - 1].split(segment.delimiters.component)
            shift = sum(len(p) + 1 for p in parts[:parsed.component - 1])
            where = Location(file=where.file, line=where.line, column=(where.column or 0) + shift,
                             segment=where.segment)
        return Location(file=where.file, line=where.line, column=where.column, segment=where.segment,
                        element=parsed.element_name(), path=path)

    def read(self, path: Path | str, *, encoding: str = "utf-8", transaction_sets: str | Iterable[str] | None = None,
             **options: Any) -> Iterator[X12Transaction | X12Stray]:
        """Every transaction set of the file (see the module docstring)."""
        file = str(path)
        wanted = _wanted(transaction_sets)
        with open(path, "rb") as stream:
            yield from records(EnvelopeReader(stream, file=file, encoding=encoding), wanted=wanted)


def _wanted(sets: str | Iterable[str] | None) -> frozenset[str] | None:
    if sets is None:
        return None
    if isinstance(sets, (str, int)):
        sets = [str(sets)]
    return frozenset(str(s) for s in sets)


def records(reader: EnvelopeReader, *, wanted: frozenset[str] | None = None) -> Iterator[X12Transaction | X12Stray]:
    """The records of an :class:`~lockerhub_x12.envelope.EnvelopeReader`, in file order: errors outside every
    interchange as :class:`X12Stray`, transactions with their envelope errors (a set not in ``wanted`` gets one)."""
    shown = 0
    for interchange in reader:
        for problem in reader.outside[shown:]:
            yield X12Stray(problem, file=reader.file)
        shown = len(reader.outside)
        for group in interchange.groups:
            for transaction in group.transactions:
                record = X12Transaction(interchange, group, transaction, file=reader.file)
                if wanted is not None and transaction.kind not in wanted:
                    _not_wanted(record, wanted)
                yield record
    for problem in reader.outside[shown:]:
        yield X12Stray(problem, file=reader.file)


def _not_wanted(record: X12Transaction, wanted: frozenset[str]) -> None:
    header = record.transaction.header
    error = EdiError(f"transaction set {record.control or '?'}: not read by this mapping",
                     location=edi_location(record.file, header, 1), expected=" or ".join(sorted(wanted)),
                     found=record.kind or "nothing", control=record.control)
    record.errors.insert(0, error)
    record.problem = error
