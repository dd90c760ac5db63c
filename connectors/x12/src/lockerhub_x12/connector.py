"""X12 connector: a trading partner drops X12 files (204 load tenders, ...) into an inbox; each transaction set
becomes a canonical shipment through a mapping.

Capabilities:
    ``read`` (every transaction set of every interchange of a file -> one :class:`SourceRecord` each, with the
    shipment or its errors), ``watch_inbox`` (``pending`` lists files ready to read, ``archive`` moves a processed
    file to ``inbox/done`` or ``inbox/failed``), ``write_status`` (214 files, :mod:`lockerhub_x12.status`) and
    ``write_ack`` (997/999 with every transaction set's outcome, and 990 tender responses:
    :mod:`lockerhub_x12.respond`). Kind ``tms``.

    A record's ``location`` is its ST segment (``file:line:col (segment N ST)``) and ``raw`` the transaction set's
    text from ST to SE. Envelope errors (SE01 count, ST02/SE02, GE01/GE02, IEA01/IEA02, missing trailers) are
    attached to every transaction set they concern and such a set is not mapped; the other sets of the same file
    are (see :mod:`lockerhub_x12.envelope`). Segments outside every interchange are one record holding the error.

Config (:class:`~lockerhub_x12.config.X12Config`):
    LOCKERHUB_X12_INBOX, LOCKERHUB_X12_MAPPING, LOCKERHUB_X12_FILE_GLOB.

Status crosswalk file:
    ``statuses_214.yaml`` (canonical status -> AT7 code); acknowledgement codes in ``acks.yaml``.

Limits/Pitfalls:
    - The mapping decides which transaction sets are read (``source.options.transaction_sets``); without it every
      set is mapped with it, and a 997 dropped into a 204 inbox yields "required" errors instead of one clear one.
    - ``pending`` and ``archive`` are :mod:`lockerhub.plugins.inbox`, shared with the other file connectors.
    - The mapping is loaded once per connector instance (on first ``read``); create a new connector to pick up
      changes.
    - Memory is bounded by the largest interchange of a file, not by the file (interchanges are read one at a time).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from lockerhub.errors import Location, errors_sorted
from lockerhub.plugins.filedrop import FileDropSource
from lockerhub.plugins.lineage import MappedLineage
from lockerhub.plugins.protocols import Capability, ConnectorKind, RecordOutcome, SourceRecord, StatusUpdate
from lockerhub.plugins.registry import package_version
from lockerhub_x12 import envelope
from lockerhub_x12.config import X12Config
from lockerhub_x12.format import X12Format, X12Stray, X12Transaction
from lockerhub_x12.respond import delimiters_of, write_responses
from lockerhub_x12.status import write_214_files
from lockerhub_x12.tokenizer import iter_segments


class X12Connector(FileDropSource):
    """Inbox of X12 files in; one shipment per transaction set."""

    id: ClassVar[str] = "x12"
    kind: ClassVar[ConnectorKind] = ConnectorKind.TMS
    version: ClassVar[str] = package_version("lockerhub-x12")
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.READ, Capability.WATCH_INBOX, Capability.WRITE_STATUS, Capability.WRITE_ACK})
    config_model: ClassVar[type[X12Config]] = X12Config
    source_format: ClassVar[type[X12Format]] = X12Format

    @classmethod
    def parse_file(cls, path: Path) -> tuple[list[Any], list[Any]]:
        """(interchanges, errors) of a whole file, for ``lockerhub edi parse``."""
        document = envelope.parse_file(path)
        return list(document.interchanges), list(document.errors)

    @classmethod
    def sender_of(cls, path: Path) -> str | None:
        """The interchange sender id (ISA06, trimmed) of the file's first interchange, or None."""
        with Path(path).open("rb") as stream:
            first = next(iter_segments(stream, file=str(path)), None)
        if first is None or first.tag != "ISA":
            return None
        return (first.value(6) or "").strip() or None

    @classmethod
    def validate_file(cls, path: Path) -> list[Any]:
        """Every syntax and envelope error of a file (streamed, bounded memory), for ``lockerhub edi validate``."""
        return list(envelope.validate_file(path))

    def write_status(self, updates: Sequence[StatusUpdate]) -> list[Path]:
        """214 files for these updates in the outbox; see :mod:`lockerhub_x12.status`. Without an ``outbox`` this
        is a ConfigError (the hub keeps the messages and says so)."""
        cfg = self.config
        outbox, partner_id = self.require("outbox"), self.require("partner_id")
        return write_214_files(updates, outbox=outbox, interchange_id=cfg.interchange_id, partner_id=partner_id,
                               delimiters=delimiters_of(cfg), version=cfg.version, scac=cfg.scac)

    def write_ack(self, path: Path, outcomes: Sequence[RecordOutcome], *, partner: str) -> list[Path]:
        """The 997/999 (and 990s) answering the received file ``path``, in the outbox; nothing without one. See
        :mod:`lockerhub_x12.respond`."""
        return write_responses(Path(path), outcomes, cfg=self.config)

    def read(self, path: Path, *, partner: str) -> Iterator[SourceRecord]:
        """One SourceRecord per transaction set of ``path`` (per ``repeat`` item when the mapping has a top-level
        ``repeat``), in file order; see the module docstring."""
        if not partner:
            raise ValueError("partner must be a non-empty trading partner id")
        mapping = self.mapping
        extra = {"partner": partner}
        for record in mapping.format.read(Path(path), **mapping.doc.source.options):
            where, key = _where(record), _ack_key(record)
            if record.problem is not None:
                yield SourceRecord(location=where, raw=record.raw, errors=tuple(record.errors), ack_key=key)
                continue
            for result in mapping.map_document(record, extra=extra):
                errors = tuple(errors_sorted(list(result.errors)))
                yield SourceRecord(location=where, raw=record.raw, shipment=None if errors else result.value,
                                   errors=errors, lineage=MappedLineage(result), ack_key=key)


def _ack_key(record: X12Transaction | X12Stray) -> tuple[str, str, str] | None:
    """(ISA13, GS06, ST02) as :func:`lockerhub_x12.messages.acknowledge` keys a transaction set."""
    if isinstance(record, X12Stray) or record.group.header is None:
        return None
    return (record.interchange.header.raw(13) or "", record.group.header.value(6) or "",
            record.transaction.control or "")


def _where(record: X12Transaction | X12Stray) -> Location:
    if isinstance(record, X12Stray):
        return record.problem.location or Location(file=record.file)
    header = record.transaction.header
    return Location(file=record.file, line=header.line, column=header.col,
                    segment=f"segment {header.number} {header.tag}")

