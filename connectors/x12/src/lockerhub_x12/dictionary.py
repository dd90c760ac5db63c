"""The X12 segment dictionary (``segments.yaml`` beside this module): which segments a version has, how many
elements each may carry, and which element a bare path qualifier compares.

Capabilities:
    ``dictionary()`` loads the table once. ``Dictionary.check(tag, element, version=...)`` raises ``ValueError``
    with what was expected when ``tag`` is not a segment of that version or has fewer elements; the format calls it
    when a mapping with ``source.version`` loads. ``qualifier_element(tag)`` is 3 for ``HL``, 2 for ``L11`` and 1
    for every other segment.

Limits/Pitfalls:
    - Versions: 003040, 004010 and 005010. A version written with an implementation suffix (``005010X214``) is
      looked up by its first six digits; any other version is refused, so a typo cannot silently skip the checks.
    - Element counts come from the Bots EDI translator's X12 tables (see the file's header for provenance and what
      was cross-checked); components of composite elements are not counted or checked.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

ENVELOPE = ("ISA", "GS", "ST", "SE", "GE", "IEA")


@dataclass(frozen=True, slots=True)
class Dictionary:
    segments: dict[str, dict[str, int]]  # version -> segment id -> highest element position
    transaction_sets: dict[str, dict[str, list[str]]]  # version -> set id -> segment ids it uses
    qualifiers: dict[str, int]  # segment id -> element a bare qualifier compares

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(sorted(self.segments))

    def qualifier_element(self, tag: str) -> int:
        return self.qualifiers.get(tag, 1)

    def version(self, version: str) -> str:
        """The table key for ``version`` (``005010X214`` -> ``005010``); ValueError for an unknown version."""
        key = version[:6]
        if key not in self.segments or not key.isdigit():
            known = ", ".join(self.versions)
            raise ValueError(f"expected an X12 version among {known} (source.version), found {version!r}; "
                             "remove source.version to skip the path checks")
        return key

    def check(self, tag: str, element: int | None, *, version: str, what: str = "element") -> None:
        """ValueError unless ``tag`` is a segment of ``version`` with at least ``element`` elements."""
        key = self.version(version)
        table = self.segments[key]
        size = table.get(tag)
        if size is None:
            raise ValueError(f"expected a segment of X12 {key}, found {tag!r}{self._guess(tag, key)}")
        if element is not None and element > size:
            raise ValueError(f"{what} {element:02d} of {tag}: {tag} has {size} element{'s' if size != 1 else ''} "
                             f"at most in X12 {key}")

    def _guess(self, tag: str, key: str) -> str:
        """`` (did you mean 'B2'?)``, preferring segments of the transport sets over the rest of the version."""
        used = dict.fromkeys(t for tags in self.transaction_sets.get(key, {}).values() for t in tags)
        pools = ([*ENVELOPE, *used], list(self.segments[key]))
        for pool in pools:
            close = difflib.get_close_matches(tag, pool, n=1, cutoff=0.5)
            if close:
                return f" (did you mean {close[0]!r}?)"
        return ""


@cache
def dictionary() -> Dictionary:
    """The table from ``segments.yaml``, loaded on first use."""
    text = resources.files("lockerhub_x12").joinpath("segments.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return Dictionary(
        segments={str(v): {str(t): int(n) for t, n in table.items()} for v, table in data["segments"].items()},
        transaction_sets={str(v): {str(s): [str(t) for t in tags] for s, tags in sets.items()}
                          for v, sets in data["transaction_sets"].items()},
        qualifiers={str(t): int(n) for t, n in data["qualifier_elements"].items()},
    )
