"""A CSV drop to :class:`~lockerhub.plugins.protocols.SourceRecord` s, one per data row, through a mapping.

Capabilities:
    ``read_records(path, mapping, *, partner)`` yields one record per non-blank data row. A good row carries the
    mapped ``Shipment``; a bad row carries ``shipment=None`` and every error of that row (conversions, required
    values, the canonical model's own rules such as an SSCC check digit), each at ``file:line:column`` with the
    column's header name. ``raw`` is the row's text; ``lineage`` maps canonical paths (``parcels[0].weight_g``)
    to the cell that fed them, computed when asked for.

    File-level problems stop the file: no header, a column read by a required rule missing from the header
    (one :class:`~lockerhub.errors.ParseError` at ``file:line:col`` naming all of them, with a near-miss hint),
    a mapped column given twice, an explicit encoding that does not fit, or a CSV syntax error.

Limits/Pitfalls:
    - Recipient PII is never echoed in an error (the mapping engine masks personal-data fields); ``raw`` does hold
      it, for quarantine, which encrypts it at rest.
    - A row with the wrong number of cells is reported as that alone: with shifted cells, other messages would
      only mislead.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

from lockerhub.errors import ErrorGroup, Location, LockerhubError, ParseError
from lockerhub.mapping import CompiledMapping
from lockerhub.mapping.compile import FieldStep, GroupStep
from lockerhub.plugins.lineage import MappedLineage
from lockerhub.plugins.protocols import SourceRecord
from lockerhub_csv.format import CsvFormat, CsvRow


def _columns(mapping: CompiledMapping) -> tuple[set[str], dict[str, None]]:
    """(columns any rule reads, columns read by required rules in mapping order), index paths like #3 excluded."""
    read: set[str] = set()
    required: dict[str, None] = {}

    def visit(steps: tuple[FieldStep | GroupStep, ...]) -> None:
        for step in steps:
            if isinstance(step, GroupStep):
                visit(step.steps)
                continue
            paths = {p for p in step.op.paths() if not p.startswith("#")}
            read.update(paths)
            if step.op.required and step.op.default is None:
                required.update(dict.fromkeys(p for p in step.op.paths() if p in paths))

    visit(mapping.steps)
    return read, required


def check_header(row: CsvRow, mapping: CompiledMapping) -> None:
    read, required = _columns(mapping)
    header = row.header
    errors: list[LockerhubError] = []
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        if name in seen and name in read:
            errors.append(ParseError(f"header: column '{name}' appears twice",
                                     location=Location(row.file, row.header_line, index + 1, path=name),
                                     expected="each mapped column once",
                                     found=f"columns {seen[name] + 1} and {index + 1}"))
        seen.setdefault(name, index)
    missing = [col for col in required if col not in seen]
    if missing:
        errors.append(_missing(row, header, missing))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorGroup(errors)


def _missing(row: CsvRow, header: list[str], missing: list[str]) -> ParseError:
    names = ", ".join(f"'{col}'" for col in missing)
    plural = "s" if len(missing) > 1 else ""
    guesses = {col: close[0] for col in missing
               if (close := difflib.get_close_matches(col, header, n=1, cutoff=0.6))}
    column = row.columns[next(iter(guesses.values()))] + 1 if guesses else 1
    hint = "; ".join(f"column {row.columns[g] + 1} is '{g}': did you mean '{col}'?" for col, g in guesses.items())
    return ParseError(f"header: required column{plural} {names} missing",
                      location=Location(row.file, row.header_line, column, path=missing[0]),
                      expected=f"column{plural} named {names}",
                      found=f"a header of {len(header)} columns without {'them' if plural else 'it'}",
                      hint=hint or None)


def read_records(path: str | Path, mapping: CompiledMapping, *, partner: str, encoding: str | None = None,
                 delimiter: str | None = None) -> Iterator[SourceRecord]:
    """Yield one SourceRecord per data row of ``path``; see the module docstring."""
    if not partner:
        raise ValueError("partner must be a non-empty trading partner id")
    extra = {"partner": partner}
    first = True
    for row in CsvFormat().read(Path(path), encoding=encoding, delimiter=delimiter):
        if first:
            check_header(row, mapping)
            first = False
        where = Location(file=row.file, line=row.line)
        if row.problem is not None:
            yield SourceRecord(location=where, raw=row.raw, errors=(row.problem,))
            continue
        result = mapping.map(row, extra=extra)
        errors = tuple(sorted(result.errors, key=lambda e: (e.location.column or 0) if e.location else 0))
        yield SourceRecord(location=where, raw=row.raw, shipment=None if errors else result.value, errors=errors,
                           lineage=MappedLineage(result))
