"""The ``csv`` source format for mappings: a row is a record; a path is a column.

Paths:
    ``weight_kg`` reads the column with that header name; ``#3`` reads the third cell (1-based), for files whose
    header is unreliable. Cells are trimmed; an empty cell reads as no value (so ``default`` and ``required``
    apply). CSV has no loops: ``repeat`` is refused at load time (one row is one record).

Positions:
    ``locate(row, path)`` is ``file:line:column`` with the header name as ``path``; lines are physical and 1-based
    (the header is line 1), so a quoted cell spanning lines keeps later rows' numbers right.
"""

from __future__ import annotations

import csv
import operator
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lockerhub.errors import Location, MappingError, ParseError
from lockerhub_csv.decode import decode

_INDEX = re.compile(r"#([1-9][0-9]*)")


class CsvRow(dict[str, str | None]):
    """One data row: header name -> trimmed cell (None when empty or absent), plus where it came from."""

    __slots__ = ("cells", "columns", "file", "header", "header_line", "last_line", "line", "problem", "raw")

    def __init__(self, values: dict[str, str | None], *, cells: list[str], header: list[str], header_line: int,
                 columns: dict[str, int], file: str, line: int, last_line: int, raw: str,
                 problem: MappingError | None = None) -> None:
        super().__init__(values)
        self.cells, self.header, self.header_line, self.columns = cells, header, header_line, columns
        self.file, self.line, self.last_line, self.raw, self.problem = file, line, last_line, raw, problem

    def __missing__(self, key: str) -> None:  # a column the header does not have reads as no value
        return None


def _cell(text: str) -> str | None:
    text = text.strip()
    return text or None


class CsvFormat:
    name = "csv"

    def compile_path(self, path: str, *, version: str | None = None) -> Callable[[CsvRow], Any]:
        match = _INDEX.fullmatch(path)
        if match:
            index = int(match.group(1)) - 1
            return lambda row: _cell(row.cells[index]) if index < len(row.cells) else None
        if path.startswith("#") or not path.strip():
            raise ValueError("a CSV header name or a 1-based cell index like #3")
        return operator.itemgetter(path)  # C-level lookup; absent columns read as None via __missing__

    def label(self, path: str) -> str:
        return f"cell {path}" if path.startswith("#") else f"column {path}"

    def read_path(self, item: CsvRow, path: str) -> Any:
        return self.compile_path(path)(item)

    def compile_repeat(self, path: str, *, version: str | None = None) -> Callable[[Any], list[Any]]:
        raise ValueError("no loops in CSV: one row is one record (remove `repeat`)")

    def locate(self, item: CsvRow, path: str) -> Location:
        match = _INDEX.fullmatch(path)
        column = int(match.group(1)) if match else item.columns.get(path, -1) + 1
        return Location(file=item.file, line=item.line, column=column or None, path=path)

    def read(self, path: Path, *, encoding: str | None = None, delimiter: str | None = None,
             **options: Any) -> Iterator[CsvRow]:
        """Rows of a CSV file (the first non-blank row is the header). Rows with the wrong number of cells carry a
        ``problem`` instead of being guessed at."""
        file = str(path)
        decoded = decode(Path(path).read_bytes(), encoding=encoding, delimiter=delimiter, file=file)
        lines = decoded.text.split("\n")
        rows = _rows(lines, decoded.delimiter, file)
        first = next(rows, None)
        if first is None:
            raise ParseError("file has no header row", location=Location(file=file, line=1, column=1),
                             expected="a header row naming the columns", found="an empty file")
        header = [name.strip() for name in first[2]]
        columns: dict[str, int] = {}
        for index, name in enumerate(header):
            columns.setdefault(name, index)
        width = len(header)
        for start, end, cells in rows:
            raw = "\n".join(lines[start - 1:end])
            problem = None
            if len(cells) != width:
                column = min(len(cells), width) + 1
                problem = MappingError(
                    "row has the wrong number of cells",
                    location=Location(file, start, column, path=header[column - 1] if column <= width else None),
                    expected=f"{width} cells (one per header column)", found=f"{len(cells)} cells")
            values = dict(zip(header, map(_cell, cells), strict=False)) if problem is None else {}
            yield CsvRow(values, cells=cells, header=header, header_line=first[0], columns=columns, file=file,
                         line=start, last_line=end, raw=raw, problem=problem)


def _rows(lines: list[str], delimiter: str, file: str) -> Iterator[tuple[int, int, list[str]]]:
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
