"""A CSV drop to :class:`~lockerhub.plugins.protocols.SourceRecord` s: one per data row, with positions.

Capabilities:
    ``read_records(path, mapping, *, partner)`` yields one record per non-blank data row. A good row carries a
    ``Shipment`` with exactly one ``Parcel``; a bad row carries ``shipment=None`` and every
    :class:`~lockerhub.errors.MappingError` found in it (conversion errors and the canonical model's own
    validation, e.g. an SSCC check digit), each at ``file:line:column`` with the column's header name as
    ``path``. ``raw`` is the row's text as decoded; ``lineage`` maps canonical paths (``parcels[0].weight_g``) to
    the cell (or mapping default) that fed them. Line numbers are physical and 1-based (the header is line 1);
    columns are 1-based cell indexes.

    File-level problems stop the file instead: no header, a required column missing from the header or a mapped
    column given twice (:class:`~lockerhub.errors.ParseError` at ``file:1:col``; several at once come as an
    :class:`~lockerhub.errors.ErrorGroup`), an explicit encoding that does not fit, or a CSV syntax error.

Config:
    ``encoding``/``delimiter`` (LOCKERHUB_CSV_ENCODING/LOCKERHUB_CSV_DELIMITER) are passed through to
    :mod:`lockerhub_csv.decode`; the mapping comes from LOCKERHUB_CSV_MAPPING via the connector.

Limits/Pitfalls:
    - Recipient PII (name, phone, email, street) is never echoed in an error: messages say what was wrong and give
      the length, not the value. ``raw`` does hold it, for quarantine (which encrypts it at rest).
    - Cells are trimmed. Rows whose cells are all empty (``,,,,`` as spreadsheets export them) count as blank.
    - A row with the wrong number of cells is reported as that alone: with shifted cells, other messages would
      only mislead. An unclosed quote swallows the following lines into one cell, and so one row.
    - Header-level errors surface on the first ``next()`` of the generator, not when it is created.
    - A mapped optional column absent from the header is not an error: its field simply stays empty.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pydantic

from lockerhub.errors import ErrorGroup, Location, LockerhubError, MappingError, ParseError, ValidationError
from lockerhub.model import Shipment
from lockerhub.plugins.protocols import SourceRecord
from lockerhub_csv._model_errors import VALUE_FREE, describe, lockerhub_cause, mask, path_of, put
from lockerhub_csv._targets import PII_PATHS
from lockerhub_csv.decode import decode
from lockerhub_csv.mapping import ColumnRule, CsvMapping

_Row = tuple[int, int, list[str]]  # first line, last line, cells


def read_records(
    path: str | Path,
    mapping: CsvMapping,
    *,
    partner: str,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Iterator[SourceRecord]:
    """Yield one SourceRecord per data row of ``path``; see the module docstring."""
    if not partner:
        raise ValueError("partner must be a non-empty trading partner id")
    file = str(path)
    decoded = decode(Path(path).read_bytes(), encoding=encoding, delimiter=delimiter, file=file)
    lines = decoded.text.split("\n")
    rows = _rows(lines, decoded.delimiter, file)
    first = next(rows, None)
    if first is None:
        raise ParseError(
            "file has no header row",
            location=Location(file=file, line=1, column=1),
            expected="a header row naming the columns",
            found="an empty file",
        )
    mapper = RowMapper(file, mapping, first[2], partner, header_line=first[0])
    for start, end, cells in rows:
        yield mapper.record(start, "\n".join(lines[start - 1 : end]), cells)


def _rows(lines: list[str], delimiter: str, file: str) -> Iterator[_Row]:
    reader = csv.reader((line + "\n" for line in lines), delimiter=delimiter)
    last = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ParseError(f"CSV syntax: {exc}", location=Location(file=file, line=reader.line_num)) from None
        start, last = last + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            yield start, last, cells


class RowMapper:
    """Maps the cells of one row through the mapping; built once per file from its header."""

    def __init__(self, file: str, mapping: CsvMapping, header: Sequence[str], partner: str, *, header_line: int = 1):
        self.file, self.mapping, self.partner = file, mapping, partner
        self.header = [name.strip() for name in header]
        self.columns: list[tuple[ColumnRule, int]] = []
        self.sources: dict[str, tuple[ColumnRule, int]] = {}
        self._check_header(header_line)
        for rule in mapping.columns:
            if rule.column in self.header:
                index = self.header.index(rule.column)
                self.columns.append((rule, index))
                self.sources[rule.target.path] = (rule, index)

    def _check_header(self, line: int) -> None:
        errors: list[LockerhubError] = []
        mapped = {rule.column for rule in self.mapping.columns}
        seen: dict[str, int] = {}
        for index, name in enumerate(self.header):
            if name in seen and name in mapped:
                errors.append(
                    ParseError(
                        f"header: column '{name}' appears twice",
                        location=Location(self.file, line, index + 1, path=name),
                        expected="each mapped column once",
                        found=f"columns {seen[name] + 1} and {index + 1}",
                    )
                )
            seen.setdefault(name, index)
        missing = [col for col in self.mapping.required_columns if col not in seen]
        if missing:
            errors.append(self._missing(missing, line))
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ErrorGroup(errors)

    def _missing(self, missing: list[str], line: int) -> ParseError:
        names = ", ".join(f"'{col}'" for col in missing)
        plural = "s" if len(missing) > 1 else ""
        guesses = {
            col: close[0] for col in missing if (close := difflib.get_close_matches(col, self.header, n=1, cutoff=0.6))
        }
        column = self.header.index(next(iter(guesses.values()))) + 1 if guesses else 1
        hint = "; ".join(
            f"column {self.header.index(g) + 1} is '{g}': did you mean '{col}'?" for col, g in guesses.items()
        )
        return ParseError(
            f"header: required column{plural} {names} missing",
            location=Location(self.file, line, column, path=missing[0]),
            expected=f"column{plural} named {names}",
            found=f"a header of {len(self.header)} columns without {'them' if plural else 'it'}",
            hint=hint or None,
        )

    def record(self, line: int, raw: str, cells: list[str]) -> SourceRecord:
        where = Location(file=self.file, line=line)
        if len(cells) != len(self.header):
            column = min(len(cells), len(self.header)) + 1
            name = self.header[column - 1] if column <= len(self.header) else None
            error = MappingError(
                "row has the wrong number of cells",
                location=Location(self.file, line, column, path=name),
                expected=f"{len(self.header)} cells (one per header column)",
                found=f"{len(cells)} cells",
            )
            return SourceRecord(location=where, raw=raw, errors=(error,))
        shipment, errors, lineage = self.map(line, cells)
        return SourceRecord(location=where, raw=raw, shipment=shipment, errors=errors, lineage=lineage)

    def cell(self, line: int, index: int, rule: ColumnRule) -> Location:
        return Location(file=self.file, line=line, column=index + 1, path=rule.column)

    def map(
        self, line: int, cells: list[str]
    ) -> tuple[Shipment | None, tuple[LockerhubError, ...], dict[str, Location]]:
        data: dict[str, Any] = {"partner": self.partner, "recipient": {}, "parcels": [{}]}
        lineage: dict[str, Location] = {}
        errors: list[LockerhubError] = []
        failed: set[str] = set()
        for rule, index in self.columns:
            path, text = rule.target.path, cells[index].strip()
            source = self.cell(line, index, rule)
            if not text and rule.default is not None:
                text, source = rule.default, rule.default_location or source
            if not text:
                if rule.required:
                    failed.add(path)
                    errors.append(
                        MappingError(
                            f"column {rule.column}",
                            location=source,
                            expected="a value (required column)",
                            found="an empty cell",
                        )
                    )
                continue
            try:
                put(data, rule.target.keys, rule.convert(text))
            except ValidationError as exc:
                failed.add(path)
                errors.append(
                    MappingError(
                        f"column {rule.column}",
                        location=source,
                        expected=exc.expected,
                        found=mask(text) if rule.target.pii else exc.found,
                    )
                )
                continue
            lineage[path] = source
        for default in self.mapping.defaults:
            if default.target.path not in lineage and default.target.path not in failed:
                put(data, default.target.keys, default.value)
                lineage[default.target.path] = default.location
        try:
            shipment = Shipment.model_validate(data)
        except pydantic.ValidationError as exc:
            errors.extend(self.translate(err, line) for err in exc.errors() if path_of(err["loc"]) not in failed)
            shipment = None
        if errors:
            return None, tuple(sorted(errors, key=lambda e: (e.location.column or 0) if e.location else 0)), lineage
        return shipment, (), lineage

    def translate(self, err: Any, line: int) -> MappingError:
        """A pydantic error on a canonical path, reported at the CSV column that fed that path."""
        path = path_of(err["loc"])
        fed = self.sources.get(path) or next(
            (src for p, src in sorted(self.sources.items(), key=lambda i: i[1][1]) if p.startswith(path + ".")), None
        )
        if fed is not None:
            rule, index = fed
            label, location, pii = f"column {rule.column}", self.cell(line, index, rule), rule.target.pii
        else:
            label, location, pii = f"field {path}", Location(file=self.file, line=line), path in PII_PATHS
        cause = lockerhub_cause(err)
        if cause is not None and not pii:
            return MappingError(
                f"{label}: {cause.message}",
                location=location,
                expected=cause.expected,
                found=cause.found,
                hint=cause.hint,
            )
        expected, found = describe(err)
        if pii and err["type"] != "missing":
            found = mask(err["input"])
            if err["type"] not in VALUE_FREE:  # a validator's message may quote the value
                expected = "a valid value"
        return MappingError(label, location=location, expected=expected, found=found)
