"""An EDIFACT file to :class:`~lockerhub.plugins.protocols.SourceRecord` s, one per message, through a mapping.

Capabilities:
    ``read_records(path, mapping, *, partner)`` yields one record per message (UNH..UNT) of every interchange in
    ``path``, in file order, plus one per run of segments outside any interchange. ``location`` is ``file:line``
    of the UNH; ``raw`` the message text (UNH..UNT, after a UNA when the delimiters are not the defaults).

    - A message with an envelope error (a wrong UNT count, a UNZ02 that does not match UNB05, a missing UNT or UNZ,
      bytes outside the declared character set, ...) is not mapped: its record has ``shipment=None`` and every
      such error, its own and its interchange's, each at ``file:line:col (segment N TAG-TAGnn)``.
    - Otherwise the message is mapped; a record with mapping errors (a required value missing, a canonical rule
      such as an SSCC check digit) has ``shipment=None`` and those errors, at the element they came from.
    - ``ack_key`` is (UNB05, UNH01), for the CONTRL/APERAK answering the file.
    - ``lineage`` maps canonical paths (``parcels[0].weight_g``) to the element that fed them, when asked for.

Limits/Pitfalls:
    - Messages are returned one interchange at a time (an interchange error is known only at its UNZ), so memory
      holds the largest interchange of the file.
    - Recipient PII is never echoed in an error (the mapping engine masks personal-data fields); ``raw`` does hold
      it, for quarantine, which encrypts it at rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lockerhub.errors import Location, errors_sorted
from lockerhub.mapping import CompiledMapping
from lockerhub.plugins.lineage import MappedLineage
from lockerhub.plugins.protocols import SourceRecord
from lockerhub_edifact.envelope import Stray


def read_records(path: str | Path, mapping: CompiledMapping, *, partner: str) -> Iterator[SourceRecord]:
    """One SourceRecord per message of ``path``; see the module docstring."""
    if not partner:
        raise ValueError("partner must be a non-empty trading partner id")
    extra = {"partner": partner}
    for item in mapping.format.read(Path(path), **mapping.doc.source.options):
        where = Location(file=item.file, line=item.line)
        problems = item.problems
        if isinstance(item, Stray):
            yield SourceRecord(location=where, raw=item.raw, errors=tuple(problems))
            continue
        key = (item.interchange.control if item.interchange else "", item.reference)
        if problems:
            yield SourceRecord(location=where, raw=item.raw, errors=tuple(problems), ack_key=key)
            continue
        for result in mapping.map_document(item, extra=extra):
            errors = tuple(errors_sorted(list(result.errors)))
            yield SourceRecord(location=where, raw=item.raw, shipment=None if errors else result.value,
                               errors=errors, lineage=MappedLineage(result), ack_key=key)
