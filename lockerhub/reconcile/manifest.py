"""The TMS manifest: a CSV file listing the parcels a TMS believes it sent, read row by row with positions.

Format
    UTF-8 text (a leading BOM is allowed), a header line, then one parcel per line. The delimiter is ``,`` unless
    the header line uses one of ``;`` TAB ``|`` more often. Quoting follows RFC 4180. Header names are matched
    without regard to case or surrounding spaces; columns may come in any order, and other columns are ignored.

    ============  ========  =================================================================================
    column        required  value
    ============  ========  =================================================================================
    partner       yes       the trading partner id, as in the hub config (``acme-tms``)
    shipment_ref  yes       the shipment reference the TMS sent
    parcel_id     yes       the parcel id within the shipment
    status        no        the canonical status the TMS last heard (``BOOKED``, ``DEPOSITED``, ...); may be blank
    ============  ========  =================================================================================

Errors
    A file that cannot be read as a manifest (missing, not UTF-8, no header, a required column missing, broken
    quoting) raises a :class:`~lockerhub.errors.ParseError` at ``file:line:column``, and nothing is compared.
    A bad row (an empty or over-long key, an unknown partner or status, a wrong number of cells, a parcel listed
    twice) becomes a :class:`BadRow` carrying every error of that row at ``file:line:column`` and the row's
    original text; the caller quarantines it, and the other rows are compared.

Limits/Pitfalls
    - Line numbers are physical lines: a quoted cell holding a line break makes its row span two lines, and the
      row is reported at its first line.
    - Values are compared after stripping spaces; the partner without regard to case (as the hub's idempotency
      key does).
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from lockerhub.errors import ErrorGroup, Location, LockerhubError, ParseError, ValidationError
from lockerhub.model import ParcelStatus

REQUIRED = ("partner", "shipment_ref", "parcel_id")
OPTIONAL = ("status",)
MAX_LENGTH = 64  # the store's column width for partner, shipment reference and parcel id
DELIMITERS = (",", ";", "\t", "|")
STATUSES = {s.value: s for s in ParcelStatus}

# One good row: (line, partner, shipment_ref, parcel_id, status or None). A plain tuple: a manifest has millions.
ManifestRow = tuple[int, str, str, str, ParcelStatus | None]


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that could not be compared: its errors (each located) and its original text, for the quarantine."""

    line: int
    raw: str
    partner: str | None
    errors: tuple[LockerhubError, ...]


class Manifest:
    """One manifest file. :meth:`open` (or iterating) yields :data:`ManifestRow` s for good rows, in file order;
    bad rows are collected in :attr:`bad`. Read it once."""

    def __init__(self, path: str | Path, *, partners: Collection[str] | None = None) -> None:
        self.path = Path(path)
        self.file = str(path)
        self.partners = {p.lower(): p for p in partners} if partners is not None else None
        self.bad: list[BadRow] = []  # complete once the rows have been read to the end
        self.rows = 0  # data rows read, good and bad
        self._span = (0, 0)  # first and last physical line of the current row
        self._pending: list[tuple[int, int, str | None, tuple[LockerhubError, ...]]] = []
        self._partner_cell: int | None = None

    # --- reading --------------------------------------------------------------------------------------------

    def open(self) -> Iterator[ManifestRow]:
        """Check the file and its header now (file-level errors are raised here, before anything else is read),
        and return an iterator over the good rows."""
        rows = self._iterate()
        next(rows)  # the header has been checked
        return rows  # type: ignore[return-value]

    def __iter__(self) -> Iterator[ManifestRow]:
        return self.open()

    def _iterate(self) -> Iterator[ManifestRow | None]:
        try:
            with self.path.open("r", encoding="utf-8-sig", newline="") as fh:
                yield from self._rows(fh)
            self._collect_bad()
        except FileNotFoundError:
            raise ParseError("manifest not found", location=Location(file=self.file),
                             expected="a CSV file exported by the TMS") from None
        except IsADirectoryError:
            raise ParseError("manifest is a folder", location=Location(file=self.file),
                             expected="a CSV file exported by the TMS") from None
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc) from None

    def _rows(self, fh: Iterator[str]) -> Iterator[ManifestRow | None]:
        """None once the header is checked, then the good rows."""
        skipped, header_line = 0, None
        for text in fh:
            if text.strip():
                header_line = text
                break
            skipped += 1
        if header_line is None:
            raise ParseError("manifest is empty", location=Location(file=self.file, line=1, column=1),
                             expected="a header line: " + ",".join(REQUIRED + OPTIONAL))
        reader = csv.reader(_chain(header_line, fh), delimiter=_delimiter(header_line), strict=True)
        cells = next(reader)
        end = skipped + reader.line_num  # the last physical line read
        columns = self._header(cells, skipped + 1)
        ip, ir, ii, ist = columns
        width = len(cells)
        statuses, partners = STATUSES, self.partners
        yield None
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ParseError(f"manifest is not valid CSV: {exc}",
                                 location=Location(file=self.file, line=skipped + reader.line_num)) from None
            line = end + 1
            end = skipped + reader.line_num
            if len(cells) != width:
                if any(c.strip() for c in cells):  # otherwise a blank line
                    self.rows += 1
                    self._span = (line, end)
                    self._reject_cells(line, cells, width)
                continue
            partner, ref, pid = cells[ip].strip(), cells[ir].strip(), cells[ii].strip()
            raw_status = cells[ist].strip() if ist is not None else ""
            status = statuses.get(raw_status.upper()) if raw_status else None
            if (not partner or not ref or not pid or len(partner) > MAX_LENGTH or len(ref) > MAX_LENGTH
                    or len(pid) > MAX_LENGTH or (raw_status and status is None)
                    or (partners is not None and partner.lower() not in partners)):
                if any(c.strip() for c in cells):  # a row of empty cells is a blank line
                    self.rows += 1
                    self._span = (line, end)
                    self._reject_values(line, cells, columns)
                continue
            self.rows += 1
            self._span = (line, end)
            yield line, partners[partner.lower()] if partners is not None else partner, ref, pid, status

    def _header(self, cells: list[str], line: int) -> tuple[int, int, int, int | None]:
        names = [c.strip().lower() for c in cells]
        where = {n: i for i, n in reversed(list(enumerate(names)))}  # the first of a repeated name
        errors: list[LockerhubError] = []
        for name in REQUIRED + OPTIONAL:
            if names.count(name) > 1:
                second = names.index(name, where[name] + 1)
                errors.append(ParseError(f"header: column '{name}' appears twice",
                                         location=Location(self.file, line, second + 1, path=name),
                                         expected="each column once",
                                         found=f"columns {where[name] + 1} and {second + 1}"))
        missing = [n for n in REQUIRED if n not in where]
        for name in missing:
            close = difflib.get_close_matches(name, [n for n in names if n not in REQUIRED + OPTIONAL], n=1)
            column = names.index(close[0]) + 1 if close else 1
            errors.append(ParseError(f"header: required column '{name}' missing",
                                     location=Location(self.file, line, column, path=name),
                                     expected="columns " + ", ".join(REQUIRED) + " (and optionally status)",
                                     found=f"a header of {len(names)} column(s) without it",
                                     hint=f"column {column} is '{close[0]}': did you mean '{name}'?" if close else None))
        if "status" not in where:
            close = difflib.get_close_matches("status", [n for n in names if n not in REQUIRED], n=1, cutoff=0.75)
            if close:
                column = names.index(close[0]) + 1
                errors.append(ParseError(f"header: column '{close[0]}' is not a manifest column",
                                         location=Location(self.file, line, column, path=close[0]),
                                         expected="status (optional)", found=repr(close[0]),
                                         hint="did you mean 'status'?"))
        if errors:
            raise errors[0] if len(errors) == 1 else ErrorGroup(errors)
        self._partner_cell = where["partner"]
        return where["partner"], where["shipment_ref"], where["parcel_id"], where.get("status")

    # --- bad rows -------------------------------------------------------------------------------------------

    def reject(self, line: int, error: LockerhubError, *, partner: str | None = None) -> None:
        """Record the row just yielded as bad (for checks made by the caller, such as a parcel listed twice)."""
        self._pending.append((line, self._span[1], partner, (error,)))

    def _partner_of(self, cells: list[str]) -> str | None:
        if self._partner_cell is None or len(cells) <= self._partner_cell:
            return None
        value = cells[self._partner_cell].strip()
        if self.partners is not None:
            return self.partners.get(value.lower())
        return value or None

    def _reject_cells(self, line: int, cells: list[str], width: int) -> None:
        column = min(len(cells), width) + 1
        error = ValidationError("row", location=Location(self.file, line, column),
                                expected=f"{width} cells, as in the header", found=f"{len(cells)}")
        self._pending.append((line, self._span[1], self._partner_of(cells), (error,)))

    def _reject_values(self, line: int, cells: list[str], columns: tuple[int, int, int, int | None]) -> None:
        errors: list[LockerhubError] = []
        for name, index in zip(REQUIRED + OPTIONAL, columns, strict=True):
            if index is None:
                continue
            problem = _check(name, cells[index].strip(), self.partners)
            if problem is not None:
                expected, found, hint = problem
                errors.append(ValidationError(f"column {name}", location=Location(self.file, line, index + 1,
                                                                                  path=name),
                                              expected=expected, found=found, hint=hint))
        self._pending.append((line, self._span[1], self._partner_of(cells), tuple(errors)))

    def _collect_bad(self) -> None:
        """Turn the rejected rows into :class:`BadRow` s with their original text, read again from the file (bad
        rows are rare; keeping every row's text on the way would cost every row)."""
        if not self._pending:
            return
        wanted = {n for first, last, _, _ in self._pending for n in range(first, last + 1)}
        text: dict[int, str] = {}
        with self.path.open("r", encoding="utf-8-sig", newline="") as fh:
            for n, line in enumerate(fh, start=1):
                if n in wanted:
                    text[n] = line
        self.bad.extend(BadRow(first, "".join(text.get(n, "") for n in range(first, last + 1)), partner, errors)
                        for first, last, partner, errors in sorted(self._pending, key=lambda p: p[0]))
        self._pending.clear()

    def _decode_error(self, exc: UnicodeDecodeError) -> ParseError:
        data = self.path.read_bytes()
        offset = len(data) - len(data.removeprefix(b"\xef\xbb\xbf"))
        try:
            data[offset:].decode("utf-8")
            start = offset + exc.start  # pragma: no cover - the decoder failed, so the bytes do too
        except UnicodeDecodeError as found:
            start = offset + found.start
        before = data[:start]
        line = before.count(b"\n") + 1
        column = start - (before.rfind(b"\n") + 1) + 1
        return ParseError("manifest is not valid UTF-8", location=Location(self.file, line, column),
                          expected="UTF-8 text", found=f"byte 0x{data[start]:02x}",
                          hint="export the manifest as UTF-8")


def _check(name: str, value: str, partners: dict[str, str] | None) -> tuple[str, str, str | None] | None:
    """(expected, found, hint) when ``value`` is not acceptable in column ``name``; None when it is."""
    if name == "status":
        if not value or value.upper() in STATUSES:
            return None
        close = difflib.get_close_matches(value.upper(), list(STATUSES), n=1)
        return ("a canonical status (" + ", ".join(STATUSES) + ") or nothing", repr(value),
                f"did you mean '{close[0]}'?" if close else None)
    if not value:
        return "a value", "an empty cell", None
    if len(value) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters", f"{len(value)}", None
    if name == "partner" and partners is not None and value.lower() not in partners:
        close = difflib.get_close_matches(value.lower(), list(partners), n=1)
        return ("a partner of the hub config (" + ", ".join(sorted(partners.values())) + ")", repr(value),
                f"did you mean '{partners[close[0]]}'?" if close else None)
    return None


def _delimiter(header_line: str) -> str:
    counts = [(header_line.count(d), -i, d) for i, d in enumerate(DELIMITERS)]
    best_count, _, best = max(counts)
    return best if best_count > 0 else ","


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
