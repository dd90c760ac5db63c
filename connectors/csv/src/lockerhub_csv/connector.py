"""CSV drop connector: a TMS drops shipment CSV files into an inbox and picks status CSV files up from an outbox.

Capabilities:
    ``read`` (rows -> canonical shipments with positions), ``watch_inbox`` (``pending`` lists files ready to read,
    ``archive`` moves a processed file to ``inbox/done`` or ``inbox/failed``), ``write_status`` (status updates ->
    CSV files in the outbox, written atomically). Kind ``tms``: source and sink.

Config (:class:`~lockerhub_csv.config.CsvConfig`):
    LOCKERHUB_CSV_INBOX, LOCKERHUB_CSV_OUTBOX, LOCKERHUB_CSV_MAPPING, LOCKERHUB_CSV_DELIMITER,
    LOCKERHUB_CSV_ENCODING, LOCKERHUB_CSV_FILE_GLOB.

Status crosswalk file:
    None: status files carry canonical statuses.

Limits/Pitfalls:
    - ``pending`` and ``archive`` are :mod:`lockerhub.plugins.inbox` (shared by the file connectors): names
      starting with ``.`` or ending ``.part``/``.tmp`` are skipped as still being written; a TMS that writes in
      place under the final name can still be read half written. Run one inbox watcher per inbox.
    - The mapping is loaded once per connector instance (on first ``read``); edit the file and create a new
      connector to pick changes up.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

from lockerhub.errors import LockerhubError
from lockerhub.plugins.filedrop import FileDropSource
from lockerhub.plugins.inbox import writable_dir
from lockerhub.plugins.protocols import Capability, CheckResult, ConnectorKind, SourceRecord, StatusUpdate
from lockerhub.plugins.registry import package_version
from lockerhub_csv.config import CsvConfig
from lockerhub_csv.format import CsvFormat
from lockerhub_csv.reader import read_records
from lockerhub_csv.writer import status_mapping, write_status_files


class CsvConnector(FileDropSource):
    """Inbox of CSV shipment files in, outbox of CSV status files out."""

    id: ClassVar[str] = "csv"
    kind: ClassVar[ConnectorKind] = ConnectorKind.TMS
    version: ClassVar[str] = package_version("lockerhub-csv")
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.READ, Capability.WATCH_INBOX, Capability.WRITE_STATUS}
    )
    config_model: ClassVar[type[CsvConfig]] = CsvConfig
    source_format: ClassVar[type[CsvFormat]] = CsvFormat

    def extra_checks(self, result: CheckResult) -> None:
        """The status mapping (when set) loads; the outbox is writable or can be created."""
        if self.config.status_mapping is not None:
            try:
                status_mapping(self.config.status_mapping)
                result.add("status mapping", True, str(self.config.status_mapping))
            except LockerhubError as exc:
                result.add("status mapping", False, exc.render())
        result.add("outbox", *writable_dir(self.config.outbox, "outbox", "LOCKERHUB_CSV_OUTBOX"))

    def read(self, path: Path, *, partner: str) -> Iterator[SourceRecord]:
        """One SourceRecord per data row of ``path``; see :mod:`lockerhub_csv.reader`."""
        yield from read_records(
            path, self.mapping, partner=partner, encoding=self.config.encoding, delimiter=self.config.delimiter
        )

    def write_status(self, updates: Sequence[StatusUpdate]) -> list[Path]:
        """Status files written to the outbox; see :mod:`lockerhub_csv.writer`."""
        mapping = status_mapping(self.config.status_mapping) if self.config.status_mapping else None
        return write_status_files(self.config.outbox, updates, mapping)


