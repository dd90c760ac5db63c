"""The EDIFACT segment directories that mapping paths are checked against (data: ``directory.yaml``).

``directory(version)`` gives the :class:`Directory` of ``D96A`` or ``D04A`` (``D.04A`` and ``D:04A`` are accepted
too), or of no version (positional paths only, any segment tag). A directory answers three questions at load
time, each with a ``ValueError`` whose text says what was expected (and a did-you-mean):

- is this segment tag known (``NDA`` -> did you mean ``NAD``?),
- where is element ``n`` / component ``m`` of it, and is it in range,
- which position do named data elements take (``NAD`` ``C080`` ``3036`` -> element 4, component 1; a simple
  element inside a composite may be named alone: ``NAD/3036``; a repeated composite or component resolves to its
  first occurrence: use a positional path for the others).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

VERSIONS = ("D96A", "D04A")
SERVICE_TAGS = frozenset({"UNB", "UNG", "UNH", "UNT", "UNE", "UNZ"})
_VERSION = re.compile(r"D[.:]?([0-9]{2}[ABC])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """One segment of a directory: element ids in order, and each composite's component ids."""

    tag: str
    elements: tuple[str, ...]
    composites: dict[str, tuple[str, ...]]

    def components(self, element: int) -> tuple[str, ...] | None:
        """Component ids of element ``element`` (1-based); None for a simple data element."""
        return self.composites.get(self.elements[element - 1])

    def describe(self, element: int) -> str:
        ident = self.elements[element - 1]
        return f"{ident} composite" if ident in self.composites else f"{ident} simple data element"

    def check(self, element: int, component: int | None, version: str) -> None:
        if not 0 < element <= len(self.elements):
            raise ValueError(f"{self.tag} has {len(self.elements)} elements in {version}, found element {element:02d}")
        if component is None:
            return
        parts = self.components(element)
        if parts is None:
            if component != 1:
                raise ValueError(f"{self.tag} element {element:02d} is the {self.describe(element)} (no components)"
                                 f" in {version}, found component {component}")
            return
        if not 0 < component <= len(parts):
            raise ValueError(f"{self.tag} element {element:02d} ({self.describe(element)}) has {len(parts)} "
                             f"components in {version}, found component {component}")

    def resolve(self, names: list[str], version: str) -> tuple[int, int | None]:
        """``["C080", "3036"]``, ``["C080"]`` or ``["3036"]`` -> (element, component or None)."""
        first = names[0]
        if first in self.elements:
            element = self.elements.index(first) + 1
            if len(names) == 1:
                return element, None
            parts = self.composites.get(first)
            if parts is None:
                raise ValueError(f"{self.tag} {first} is a simple data element in {version}: no component "
                                 f"{names[1]!r}")
            if names[1] not in parts:
                raise ValueError(f"{first} has no component {names[1]!r} in {version}{_guess(names[1], parts)}")
            return element, parts.index(names[1]) + 1
        if len(names) == 1:  # a simple element named without its composite
            for element, ident in enumerate(self.elements, 1):
                parts = self.composites.get(ident, ())
                if first in parts:
                    return element, parts.index(first) + 1
        known = [*self.elements, *(c for e in self.elements for c in self.composites.get(e, ()))]
        raise ValueError(f"{self.tag} has no data element {first!r} in {version}{_guess(first, known)}")


def _guess(word: str, candidates: Any) -> str:
    """`` (did you mean 'X'?)``: a transposition first (1040 -> 1004, NDA -> NAD), else the closest match."""
    pool = sorted(set(candidates))
    close = [c for c in pool if sorted(c) == sorted(word) and c != word]
    close = close or difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True, slots=True)
class Directory:
    """The segments of one directory (``version`` None: no directory, positional paths on any tag)."""

    version: str | None
    segments: dict[str, SegmentSpec]
    tags: frozenset[str]  # every tag a positional path may use (empty: any)

    def segment(self, tag: str) -> SegmentSpec | None:
        """The spec of ``tag``; None for a known tag without element data (or with no directory); ValueError for a
        tag the directory does not know."""
        spec = self.segments.get(tag)
        if spec is not None or not self.tags or tag in self.tags:
            return spec
        raise ValueError(f"unknown segment {tag!r} in directory {self.version}{_guess(tag, self.tags)}")

    def named(self, tag: str) -> SegmentSpec:
        """The spec of ``tag`` for a path that names data elements."""
        spec = self.segment(tag)
        if spec is not None:
            return spec
        if self.version is None:
            raise ValueError(f"data element names in {tag} need the directory: set source.version to one of "
                             f"{', '.join(VERSIONS)} (or use a positional path like {tag}/01-1)")
        described = sorted(t for t in self.segments if t not in SERVICE_TAGS)
        raise ValueError(f"no data element names for {tag} in {self.version} (described: {', '.join(described)}); "
                         f"use a positional path like {tag}/01-1")


def normalize_version(version: str | None) -> str | None:
    """``D.04A``, ``d04a``, ``D:04A`` -> ``D04A``; ValueError for a directory this connector has no data for."""
    if version is None:
        return None
    match = _VERSION.fullmatch(version.strip())
    name = f"D{match.group(1).upper()}" if match else version.strip()
    if name not in VERSIONS:
        raise ValueError(f"EDIFACT directory {', '.join(VERSIONS)}, found {version!r}{_guess(name, VERSIONS)}")
    return name


@cache
def _data() -> dict[str, Any]:
    text = resources.files("lockerhub_edifact").joinpath("directory.yaml").read_text("utf-8")
    return yaml.safe_load(text)  # type: ignore[no-any-return]


def _specs(segments: dict[str, list[str]], composites: dict[str, list[str]]) -> dict[str, SegmentSpec]:
    out = {}
    for tag, elements in segments.items():
        used = {e: tuple(composites[e]) for e in elements if e in composites}
        missing = [e for e in elements if not e.isdigit() and e not in composites]
        if missing:  # a data bug, caught by the tests
            raise AssertionError(f"directory.yaml: {tag} uses undefined composites {missing}")
        out[tag] = SegmentSpec(tag, tuple(elements), used)
    return out


@cache
def directory(version: str | None) -> Directory:
    """The directory for a mapping's ``source.version`` (see :func:`normalize_version`)."""
    data = _data()
    service = _specs(data["service"]["segments"], data["service"]["composites"])
    name = normalize_version(version)
    if name is None:
        return Directory(None, service, frozenset())
    own = data["directories"][name]
    composites = {**data["composites"], **own.get("composites", {})}
    segments = {**_specs(own["segments"], composites), **service}
    return Directory(name, segments, frozenset({*segments, *data["tags"]}))
