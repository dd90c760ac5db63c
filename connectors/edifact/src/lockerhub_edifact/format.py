"""The ``edifact`` source format for mappings: an item is one message (UNH..UNT) with its envelope.

Items:
    :class:`~lockerhub_edifact.envelope.EdifactMessage`: ``segments`` (between UNH and UNT), ``header``/``trailer``,
    ``interchange`` (UNB sender, recipient, control reference, syntax) and ``group``. A message with an envelope
    error (its own, its group's or its interchange's) carries it as ``problem`` (all of them in ``problems``) and
    is not mapped, as a CSV row with the wrong number of cells is not; segments outside any interchange come as a
    :class:`~lockerhub_edifact.envelope.Stray` item whose ``problem`` reports them.

Paths (checked when the mapping loads, against ``source.version``: ``D96A`` or ``D04A``). The same shape as the
``x12`` format's: segments (each with an optional ``[qualifier]``), then the element.

    ======================================  =====================================================================
    ``BGM/02``                              element 2 of the first BGM (a composite reads whole, release
                                            characters removed)
    ``NAD[CN]/04-1``                        the first NAD whose qualifier is CN: element 4, component 1
    ``NAD[CN|CZ]/04-1``                     ... whose qualifier is CN or CZ
    ``DTM[137]/01-2``                       the qualifier is component 1 of element 1 when that is a composite
    ``COM[01-2=TE]/01-1``                   a qualifier elsewhere: element 1, component 2 is TE
                                            (``COM[3155=TE]`` names it)
    ``NAD[CN]/C080/3036``                   data elements named from the directory (``directory.yaml``);
                                            ``NAD[CN]/3036`` names a component without its composite; a
                                            repeated one resolves to its first occurrence
    ``NAD[CN]/COM[3155=TE]/3148``           inside a loop: the first COM with TE after the NAD with CN, before
                                            the next NAD (the consignee's phone, not the consignor's)
    ``UNB/02-1``, ``UNG/05``, ``UNH/01``    the envelope: the message's interchange (UNB, UNZ), group (UNG, UNE)
                                            or the message itself (UNH, UNT), wherever the path is used
    ======================================  =====================================================================

    Positions are 1-based, written with one or two digits; data element ids have four characters, segment tags
    three. A value with no text (an empty element, a segment that is not there) reads as no value, so ``default``
    and ``required`` apply.

Loops (``repeat``):
    ``GID`` (or ``GID[...]`` with a qualifier) gives one item per occurrence: that segment and the segments after it
    up to the next segment with the same tag (or the end of the message): ``parcels: {repeat: GID, ...}`` with
    ``MEA[AAE]/C174/6314`` inside reads the measure of that goods item. ``CNI`` does the same for IFTSTA
    consignments; ``NAD[CN]/CTA`` loops inside a loop. A ``repeat`` inside a loop works on the loop's segments.

Positions:
    ``locate`` gives ``file:line:col (segment N TAG-TAGnn)`` of the element (column of the component when the path
    names one); for a segment that is not there, the message's UNH (or the loop's first segment).

Limits/Pitfalls:
    - The end of a loop is the next segment with the trigger's tag, not the message structure: the last GID loop of
      an IFTMIN also holds any EQD group after it. Qualify paths inside loops when that matters.
    - Without ``source.version`` only positional paths work (on any segment tag); with it, unknown segments and
      element ids are load errors (with a did-you-mean). Segments outside ``directory.yaml`` are read by position.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockerhub_edi import Segment

from lockerhub.errors import ConfigError, Location
from lockerhub_edifact.directory import SERVICE_TAGS, VERSIONS, directory
from lockerhub_edifact.envelope import EdifactMessage, Stray, iter_messages

_SEGMENT = re.compile(r"(?P<tag>[A-Z][A-Z0-9]{2})(?:\[(?P<filter>[^\]]*)\])?")
_POSITION = re.compile(r"([0-9]{1,2})(?:-([0-9]{1,2}))?")
_ID = re.compile(r"[A-Z][0-9]{3}|[0-9]{4}")
_STEP = re.compile(r"[^/\[]*(?:\[[^\]]*\])?")
_SYNTAX = "a segment path like BGM/02, NAD[CN]/04-1 or NAD[CN]/C080/3036"

Where = tuple[int, int, frozenset[str]]  # the segment's element, component must be one of the values

class SegmentLoop:
    """One loop iteration: the trigger segment and those after it, in the message ``message``."""

    __slots__ = ("message", "segments")

    def __init__(self, segments: list[Segment], message: EdifactMessage) -> None:
        self.segments = segments
        self.message = message

    @property
    def file(self) -> str | None:
        return self.message.file


@dataclass(frozen=True, slots=True)
class PathSpec:
    """A parsed path: the loops it reads inside (``scopes``), the segment ``tag`` with an optional qualifier test,
    and the element/component read."""

    text: str
    tag: str
    element: int | None  # None: a loop path (segment only)
    component: int | None
    where: Where | None
    scopes: tuple[tuple[str, Where | None], ...] = ()  # NAD[CN]/COM/...: read inside the NAD[CN] loop

    @property
    def envelope(self) -> bool:
        return self.tag in SERVICE_TAGS


def _steps(path: str) -> list[str]:
    """``NAD[CN]/COM[01-2=A/B]/01`` -> ``["NAD[CN]", "COM[01-2=A/B]", "01"]`` (no split inside brackets)."""
    steps, pos = [], 0
    while True:
        match = _STEP.match(path, pos)
        assert match is not None  # the pattern matches the empty string
        steps.append(match.group())
        pos = match.end()
        if pos >= len(path) or path[pos] != "/":
            if pos < len(path):
                raise ValueError(f"{_SYNTAX}, found {path!r}")
            return steps
        pos += 1


def parse_path(path: str, *, version: str | None = None, loop: bool = False) -> PathSpec:
    """Check ``path`` against the directory of ``version``; ValueError saying what was expected."""
    book = directory(version)
    steps = _steps(path.strip())
    segments: list[tuple[str, Where | None]] = []
    while steps and (match := _SEGMENT.fullmatch(steps[0])) is not None:
        tag, flt = match.group("tag"), match.group("filter")
        book.segment(tag)
        if flt is not None and tag in SERVICE_TAGS:
            raise ValueError(f"no qualifier on envelope segment {tag} (one per message), found {path!r}")
        segments.append((tag, None if flt is None else _where(tag, flt, book, path)))
        steps.pop(0)
    if not segments:
        raise ValueError(f"{_SYNTAX}, found {path!r}")
    (tag, where), scopes = segments[-1], tuple(segments[:-1])
    for outer, _ in scopes:
        if outer in SERVICE_TAGS:
            raise ValueError(f"envelope segment {outer} cannot start a loop, found {path!r}")
    if scopes and tag in SERVICE_TAGS:
        raise ValueError(f"envelope segment {tag} is not inside a loop: read it as {tag}/..., found {path!r}")
    if loop:
        if steps:
            raise ValueError(f"a loop is a segment (GID, GID[qualifier], NAD[CN]/CTA), without an element: found "
                             f"{path!r}")
        if tag in SERVICE_TAGS:
            raise ValueError(f"envelope segment {tag} cannot start a loop")
        return PathSpec(path, tag, None, None, where, scopes)
    if not steps:
        raise ValueError(f"{_SYNTAX}: the element to read is missing in {path!r}")
    element, component = _target(tag, "/".join(steps), book, path)
    spec = book.segment(tag)
    if spec is not None:
        spec.check(element, component, book.version or "the syntax directory")
    return PathSpec(path, tag, element, component, where, scopes)


def _target(tag: str, rest: str, book: Any, path: str) -> tuple[int, int | None]:
    position = _POSITION.fullmatch(rest)
    if position is not None:
        element = int(position.group(1))
        component = int(position.group(2)) if position.group(2) else None
        if element < 1 or component == 0:
            raise ValueError(f"positions count from 1 (01, 04-1), found {path!r}")
        return element, component
    names = rest.split("/")
    if len(names) > 2 or not all(_ID.fullmatch(n) for n in names):
        raise ValueError(f"{_SYNTAX} (an element position like 04 or 04-1, or data element ids like C080/3036), "
                         f"found {path!r}")
    return book.named(tag).resolve(names, book.version or "the syntax directory")  # type: ignore[no-any-return]


def _where(tag: str, flt: str, book: Any, path: str) -> Where:
    left, value = flt.split("=", 1) if "=" in flt else ("", flt)
    values = frozenset(value.split("|"))
    if "" in values:
        raise ValueError(f"a qualifier value in [...] (NAD[CN], NAD[CN|CZ], COM[01-2=TE]), found {path!r}")
    if not left:
        return 1, 1, values
    element, component = _target(tag, left, book, path)
    spec = book.segment(tag)
    if spec is not None:
        spec.check(element, component, book.version or "the syntax directory")
    return element, component or 1, values


# --------------------------------------------------------------------------- reading


def _envelope(tag: str) -> Callable[[Any], Segment | None]:
    """The envelope segment ``tag`` of an item's message."""
    def get(item: Any) -> Segment | None:
        message: EdifactMessage = item.message if isinstance(item, SegmentLoop) else item
        if tag == "UNH":
            return message.header
        if tag == "UNT":
            return message.trailer
        if tag in ("UNB", "UNZ"):
            interchange = message.interchange
            return None if interchange is None else (interchange.header if tag == "UNB" else interchange.trailer)
        group = message.group
        return None if group is None else (group.header if tag == "UNG" else group.trailer)
    return get


def _matches(segment: Segment, where: Where | None) -> bool:
    return where is None or segment.value(where[0], where[1]) in where[2]


def _in_loop(tag: str, where: Where | None, segments: list[Segment]) -> list[Segment]:
    """The segments of the first loop ``tag`` (qualified by ``where``) starts: up to the next ``tag``."""
    for i, segment in enumerate(segments):
        if segment.tag == tag and _matches(segment, where):
            for j in range(i + 1, len(segments)):
                if segments[j].tag == tag:
                    return segments[i:j]
            return segments[i:]
    return []


def _scoped(scopes: tuple[tuple[str, Where | None], ...], segments: list[Segment]) -> list[Segment]:
    for tag, where in scopes:
        segments = _in_loop(tag, where, segments)
    return segments


class _Scoped:
    """An item narrowed to a loop, for paths like ``NAD[CN]/COM[3155=TE]/3148``."""

    __slots__ = ("segments",)

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = segments


def _finder(spec: PathSpec) -> Callable[[Any], Segment | None]:
    """The first segment of an item that the path reads from."""
    if spec.envelope:
        return _envelope(spec.tag)
    if spec.scopes:
        inner = _finder(PathSpec(spec.text, spec.tag, spec.element, spec.component, spec.where))
        scopes = spec.scopes
        return lambda item: inner(_Scoped(_scoped(scopes, item.segments)))
    tag, where = spec.tag, spec.where
    if where is None:
        def first(item: Any) -> Segment | None:
            for segment in item.segments:
                if segment.tag == tag:
                    return segment
            return None
        return first
    element, component, values = where

    def qualified(item: Any) -> Segment | None:
        for segment in item.segments:
            if segment.tag == tag and segment.value(element, component) in values:
                return segment
        return None
    return qualified


def _reader(spec: PathSpec) -> Callable[[Any], str | None]:
    find = _finder(spec)
    element, component = spec.element, spec.component
    assert element is not None

    def read(item: Any) -> str | None:
        segment = find(item)
        return None if segment is None else segment.value(element, component)
    return read


def _version_of(message: Any) -> str | None:
    """The directory a message declares in UNH S009 (``IFTMIN:D:04A:UN`` -> ``D04A``), when this connector has it."""
    header = getattr(message, "header", None)
    if header is None or header.value(2, 2) != "D":
        return None
    name = f"D{header.value(2, 3) or ''}".upper()
    return name if name in VERSIONS else None


class EdifactFormat:
    """UN/EDIFACT messages as the source of mappings; see the module docstring."""

    name = "edifact"

    def __init__(self) -> None:
        self._specs: dict[str, PathSpec] = {}  # paths compiled by this instance (with their version), for locate

    def compile_path(self, path: str, *, version: str | None = None) -> Callable[[Any], Any]:
        spec = parse_path(path, version=version)
        self._specs[path] = spec
        return _reader(spec)

    def read_path(self, item: Any, path: str) -> Any:
        """The compiled read's reference: the version this instance compiled ``path`` with, else the directory the
        message declares in UNH (``IFTMIN:D:04A:UN``)."""
        return _reader(self._spec(item, path))(item)

    def _spec(self, item: Any, path: str) -> PathSpec:
        spec = self._specs.get(path)
        if spec is None:
            message = item.message if isinstance(item, SegmentLoop) else item
            spec = parse_path(path, version=_version_of(message))
        return spec

    def label(self, path: str) -> str:
        return f"element {path}"

    def compile_repeat(self, path: str, *, version: str | None = None) -> Callable[[Any], list[Any]]:
        spec = parse_path(path, version=version, loop=True)
        tag, where, scopes = spec.tag, spec.where, spec.scopes

        def loops(item: Any) -> list[SegmentLoop]:
            message = item.message if isinstance(item, SegmentLoop) else item
            out: list[SegmentLoop] = []
            current: list[Segment] | None = None
            for segment in _scoped(scopes, item.segments) if scopes else item.segments:
                if segment.tag == tag:
                    current = None
                    if _matches(segment, where):
                        current = [segment]
                        out.append(SegmentLoop(current, message))
                    continue
                if current is not None:
                    current.append(segment)
            return out
        return loops

    def locate(self, item: Any, path: str) -> Location | None:
        try:
            spec = self._spec(item, path)
        except ValueError:
            return None
        if spec.element is None:
            return None
        segment = _finder(spec)(item)
        file = item.file
        if segment is None:
            anchor = item.segments[0] if isinstance(item, SegmentLoop) and item.segments else getattr(item, "header",
                                                                                                        None)
            if anchor is None:
                return Location(file=file)
            return Location(file=file, line=anchor.line, column=anchor.col,
                            segment=f"segment {anchor.number} {anchor.tag}")
        column = segment.column(spec.element)
        if spec.component and spec.component > 1:
            raw = segment.raw(spec.element) or ""
            d = segment.delimiters
            parts = d.split(raw, d.component)
            column += sum(len(p) + 1 for p in parts[:spec.component - 1])
        return Location(file=file, line=segment.line, column=column, segment=f"segment {segment.number} {segment.tag}",
                        element=f"{segment.tag}{spec.element:02d}")

    def read(self, path: Path, **options: Any) -> Iterator[EdifactMessage | Stray]:
        """The messages of an EDIFACT file (and runs of stray segments), one interchange at a time."""
        unknown = set(options) - {"chunk_size"}
        if unknown:
            raise ConfigError("source.options of an edifact mapping", location=Location(path="source.options"),
                              expected="chunk_size or nothing (delimiters and character sets come from UNA/UNB)",
                              found=", ".join(sorted(unknown)))
        with open(path, "rb") as stream:
            yield from iter_messages(stream, file=str(path), chunk_size=options.get("chunk_size"))
