"""``SourceRecord.lineage`` for records made by a mapping: canonical path -> where in the source its value came from.

Every TMS source connector that reads through a mapping (CSV, X12, EDIFACT) builds its records' lineage the same
way, so the class lives here once. Locations are computed only when looked at (most records are never explained).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from lockerhub.errors import Location
from lockerhub.mapping import MapResult


class MappedLineage(Mapping[str, Location]):
    """Canonical path (``parcels[0].weight_g``) -> the source position that fed it, from a :class:`MapResult`."""

    def __init__(self, result: MapResult) -> None:
        self._result = result

    def __getitem__(self, key: str) -> Location:
        result = self._result
        location = result.mapping.locate_target(result.item, key, result.filled[key])
        if location is None:
            raise KeyError(key)
        return location

    def __iter__(self) -> Iterator[str]:
        filled = self._result.filled
        return (k for k in filled if next(filled[k].paths(), None) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)
