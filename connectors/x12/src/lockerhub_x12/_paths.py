"""X12 mapping paths: parse once, read fast (compiled), read plainly (reference), and locate.

Grammar (``path`` op and ``repeat``)::

    path     = step ("/" step)* "/" element        B2/04   N1[CN]/N3/01   AT8/03-1   ISA/06
    loop     = step ("/" step)*                    S5      HL[03=P]       S5[CU]/L5
    step     = TAG [ "[" [NN "="] CODE ("|" CODE)* "]" ]
    element  = NN [ "-" N ]                        element 01..99, component 1..99 (1-based)

A step finds the first segment with that tag in the current scope whose qualifier element holds one of the codes
(element 01 unless written ``NN=``; ``HL`` compares HL03 and ``L11`` L1102 by default, see ``segments.yaml``). A
step followed by another one narrows the scope to its loop: that segment and the segments after it up to the next
segment with the same tag (or the end of the enclosing scope). ``ISA``, ``GS``, ``ST``, ``SE``, ``GE`` and ``IEA``
read the transaction's own envelope, wherever the path is used. Values are trimmed; an empty value reads as none.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from lockerhub_edi import Segment

from lockerhub_x12.dictionary import ENVELOPE, dictionary

_STEP = re.compile(r"([A-Z][A-Z0-9]{1,2})(?:\[(?:([0-9]{1,2})=)?([^\]\[/=|]+(?:\|[^\]\[/=|]+)*)\])?")
_ELEMENT = re.compile(r"([0-9]{1,2})(?:-([0-9]{1,2}))?")
SYNTAX = "an X12 path such as B2/04, N1[CN]/N3/01, L11[02=BM]/01 or AT8/03-1"
LOOP_SYNTAX = "an X12 loop such as S5, HL[03=P] or S5[CU]/L5"


class Scope(Protocol):
    """What paths read: a run of segments of one transaction (the whole transaction, or one loop of it)."""

    root: Any  # the X12Transaction: segments, index, interchange, group, transaction, file
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Step:
    tag: str
    qualifier: int  # element compared (1-based)
    codes: frozenset[str] | None  # None: any segment with the tag

    def matches(self, segment: Segment) -> bool:
        if self.codes is None:
            return True
        elements = segment.elements
        q = self.qualifier
        return q <= len(elements) and elements[q - 1].strip() in self.codes


@dataclass(frozen=True, slots=True)
class Path:
    text: str
    steps: tuple[Step, ...]
    element: int | None  # None for a loop path
    component: int | None

    @property
    def envelope(self) -> bool:
        return self.steps[0].tag in ENVELOPE

    def element_name(self) -> str | None:
        if self.element is None:
            return None
        name = f"{self.steps[-1].tag}{self.element:02d}"
        return f"{name}-{self.component}" if self.component else name


def parse(text: str, *, loop: bool = False, version: str | None = None) -> Path:
    """A path (or with ``loop``, a loop path); ValueError saying what was expected. With ``version``, every
    segment and element must exist in that X12 version."""
    parts = text.split("/")
    element = component = None
    if not loop:
        if len(parts) < 2:
            raise ValueError(f"expected {SYNTAX} (a segment, then /, then an element number), found {text!r}")
        match = _ELEMENT.fullmatch(parts.pop())
        if match is None:
            raise ValueError(f"expected {SYNTAX}, found {text!r}")
        element = int(match.group(1))
        component = int(match.group(2)) if match.group(2) else None
        if element == 0 or component == 0:
            raise ValueError(f"element and component numbers start at 1 (B2/04, AT8/03-1), found {text!r}")
    elif parts and _ELEMENT.fullmatch(parts[-1]):
        raise ValueError(f"expected {LOOP_SYNTAX}: segments only, no element number, found {text!r}")
    steps = []
    table = dictionary()
    for part in parts:
        match = _STEP.fullmatch(part)
        if match is None:
            upper = " (segment ids are upper case)" if _STEP.fullmatch(part.upper()) else ""
            raise ValueError(f"expected {LOOP_SYNTAX if loop else SYNTAX}, found {text!r}{upper}")
        tag, qualifier, codes = match.group(1), match.group(2), match.group(3)
        q = int(qualifier) if qualifier else table.qualifier_element(tag)
        if q == 0:
            raise ValueError(f"element numbers start at 1 (L11[02=BM]), found {text!r}")
        steps.append(Step(tag, q, frozenset(c.strip() for c in codes.split("|")) if codes else None))
        if version is not None:
            table.check(tag, None, version=version)
            if codes:
                table.check(tag, q, version=version, what="qualifier element")
    if len(steps) > 1 and any(s.tag in ENVELOPE for s in steps):
        raise ValueError(f"envelope segments ({', '.join(ENVELOPE)}) are read from the transaction's envelope and "
                         f"hold no other segments: write ISA/06 or GS/02, found {text!r}")
    if loop and steps[-1].tag in ENVELOPE:
        raise ValueError(f"expected {LOOP_SYNTAX}: envelope segments are not loops, found {text!r}")
    if version is not None and element is not None:
        table.check(steps[-1].tag, element, version=version)
    return Path(text, tuple(steps), element, component)


# --------------------------------------------------------------------------- reading


def value_of(segment: Segment | None, element: int, component: int | None) -> str | None:
    """Element ``element`` (or its ``component``) of ``segment``, trimmed; None when absent or blank."""
    if segment is None:
        return None
    elements = segment.elements
    if element > len(elements):
        return None
    text = elements[element - 1]
    if component is not None:
        parts = text.split(segment.delimiters.component)
        if component > len(parts):
            return None
        text = parts[component - 1]
    text = text.strip()
    return text or None


def envelope_segment(root: Any, step: Step) -> Segment | None:
    """ISA/IEA, GS/GE, ST/SE of the transaction ``root``, when the step's qualifier (if any) matches."""
    tag = step.tag
    if tag in ("ISA", "IEA"):
        node = root.interchange
    elif tag in ("GS", "GE"):
        node = root.group
    else:
        node = root.transaction
    segment = node.header if tag in ("ISA", "GS", "ST") else node.trailer
    return segment if segment is not None and step.matches(segment) else None


def _find(root: Any, step: Step, start: int, end: int) -> int:
    positions = root.index.get(step.tag)
    if not positions:
        return -1
    segments = root.segments
    for i in range(bisect_left(positions, start) if start else 0, len(positions)):
        at = positions[i]
        if at >= end:
            return -1
        if step.matches(segments[at]):
            return at
    return -1


def _loop_end(root: Any, tag: str, at: int, end: int) -> int:
    positions = root.index[tag]
    k = bisect_right(positions, at)
    return positions[k] if k < len(positions) and positions[k] < end else end


def locate_segment(path: Path, item: Scope) -> Segment | None:
    """The segment a path reads from (indexed), or None when there is none."""
    root = item.root
    if path.envelope:
        return envelope_segment(root, path.steps[0])
    start, end = item.start, item.end
    steps = path.steps
    for step in steps[:-1]:
        at = _find(root, step, start, end)
        if at < 0:
            return None
        start, end = at, _loop_end(root, step.tag, at, end)
    at = _find(root, steps[-1], start, end)
    return root.segments[at] if at >= 0 else None


def compile_read(path: Path) -> Callable[[Scope], str | None]:
    """A reader for one path (the common one-step shape gets a closure without loops)."""
    element, component = path.element, path.component
    assert element is not None
    if path.envelope:
        step = path.steps[0]
        return lambda item: value_of(envelope_segment(item.root, step), element, component)
    if len(path.steps) == 1:
        step = path.steps[0]
        tag, codes = step.tag, step.codes

        def read_one(item: Scope) -> str | None:
            root = item.root
            positions = root.index.get(tag)
            if not positions:
                return None
            segments, start, end = root.segments, item.start, item.end
            for at in positions:
                if at < start:
                    continue
                if at >= end:
                    return None
                segment = segments[at]
                if codes is None or step.matches(segment):
                    return value_of(segment, element, component)
            return None
        return read_one
    return lambda item: value_of(locate_segment(path, item), element, component)


def compile_loops(path: Path, make: Callable[[Any, int, int], Scope]) -> Callable[[Scope], list[Scope]]:
    """The loops a ``repeat`` path selects: every matching segment of the last step, each with the segments after
    it up to the next one with its tag, within the scope the earlier steps narrow to."""
    steps, last = path.steps[:-1], path.steps[-1]

    def loops(item: Scope) -> list[Scope]:
        root, start, end = item.root, item.start, item.end
        for step in steps:
            at = _find(root, step, start, end)
            if at < 0:
                return []
            start, end = at, _loop_end(root, step.tag, at, end)
        positions = root.index.get(last.tag) or []
        segments = root.segments
        out = []
        k = bisect_left(positions, start)
        for i in range(k, len(positions)):
            at = positions[i]
            if at >= end:
                break
            if last.matches(segments[at]):
                stop = positions[i + 1] if i + 1 < len(positions) and positions[i + 1] < end else end
                out.append(make(root, at, stop))
        return out
    return loops


# --------------------------------------------------------------------------- reference semantics


def reference_read(path: Path, item: Scope) -> str | None:
    """The same read as :func:`compile_read`, by plain scanning (no index): what property tests compare against."""
    root = item.root
    assert path.element is not None
    if path.envelope:
        return value_of(envelope_segment(root, path.steps[0]), path.element, path.component)
    segments = root.segments
    start, end = item.start, item.end
    found: Segment | None = None
    for depth, step in enumerate(path.steps):
        found = None
        for at in range(start, end):
            if segments[at].tag == step.tag and step.matches(segments[at]):
                found = segments[at]
                if depth < len(path.steps) - 1:
                    stop = next((j for j in range(at + 1, end) if segments[j].tag == step.tag), end)
                    start, end = at, stop
                break
        if found is None:
            return None
    return value_of(found, path.element, path.component)
