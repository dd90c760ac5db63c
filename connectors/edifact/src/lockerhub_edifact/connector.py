"""EDIFACT connector: a TMS drops UN/EDIFACT interchanges (IFTMIN instructions) into an inbox; each message becomes
a canonical shipment through a mapping.

Capabilities:
    ``read`` (messages -> canonical shipments, with envelope errors and positions; see
    :mod:`lockerhub_edifact.reader`), ``watch_inbox`` (``pending`` lists files ready to read, ``archive`` moves a
    processed file to ``inbox/done`` or ``inbox/failed``). Kind ``tms-source``. The ``edifact`` mapping source format
    (:class:`~lockerhub_edifact.format.EdifactFormat`) is declared as ``source_format``. The engine underneath
    (:mod:`~lockerhub_edifact.tokenizer`, :mod:`~lockerhub_edifact.envelope`) works without a connector.

Config (:class:`~lockerhub_edifact.config.EdifactConfig`):
    LOCKERHUB_EDIFACT_INBOX, LOCKERHUB_EDIFACT_MAPPING, LOCKERHUB_EDIFACT_FILE_GLOB.

Status crosswalk file:
    None yet: IFTSTA status messages, CONTRL and APERAK acknowledgements come with the writers.

Limits/Pitfalls:
    - ``pending`` skips names starting with ``.`` and ending ``.part``/``.tmp`` (files still being uploaded); a TMS
      that writes in place under the final name can still be read half written (the envelope check then reports a
      missing UNZ, and no message of that interchange is mapped).
    - The mapping is loaded once per connector instance (on first ``read``); create a new connector to pick up an
      edited mapping.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from lockerhub.plugins.filedrop import FileDropSource
from lockerhub.plugins.protocols import Capability, ConnectorKind, RecordOutcome, SourceRecord, StatusUpdate
from lockerhub.plugins.registry import package_version
from lockerhub_edifact import envelope
from lockerhub_edifact.config import EdifactConfig
from lockerhub_edifact.format import EdifactFormat
from lockerhub_edifact.reader import read_records
from lockerhub_edifact.respond import write_responses
from lockerhub_edifact.status import write_iftsta_files
from lockerhub_edifact.tokenizer import iter_segments


class EdifactConnector(FileDropSource):
    """Inbox of EDIFACT files in; one canonical shipment per message."""

    id: ClassVar[str] = "edifact"
    kind: ClassVar[ConnectorKind] = ConnectorKind.TMS
    version: ClassVar[str] = package_version("lockerhub-edifact")
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.READ, Capability.WATCH_INBOX, Capability.WRITE_STATUS, Capability.WRITE_ACK})
    config_model: ClassVar[type[EdifactConfig]] = EdifactConfig
    source_format: ClassVar[type[EdifactFormat]] = EdifactFormat

    @classmethod
    def parse_file(cls, path: Path) -> tuple[list[Any], list[Any]]:
        """(interchanges, errors) of a whole file, for ``lockerhub edi parse``."""
        document = envelope.parse(Path(path).read_bytes(), file=str(path))
        return list(document.interchanges), list(document.errors)

    @classmethod
    def sender_of(cls, path: Path) -> str | None:
        """The interchange sender id (UNB02, first component) of the file's first interchange, or None."""
        with Path(path).open("rb") as stream:
            for segment in iter_segments(stream, file=str(path)):
                if segment.tag == "UNB":
                    return segment.value(2, 1)
                if segment.tag != "UNA":
                    return None
        return None

    @classmethod
    def validate_file(cls, path: Path) -> list[Any]:
        """Every syntax and envelope error of a file (streamed, bounded memory), for ``lockerhub edi validate``."""
        with Path(path).open("rb") as stream:
            return list(envelope.validate(stream, file=str(path)))

    def write_status(self, updates: Sequence[StatusUpdate]) -> list[Path]:
        """IFTSTA files for these updates in the outbox; see :mod:`lockerhub_edifact.status`. Without an
        ``outbox`` this is a ConfigError (the hub keeps the messages and says so)."""
        return write_iftsta_files(updates, outbox=self.require("outbox"), interchange_id=self.config.interchange_id,
                                  partner_id=self.require("partner_id"))

    def write_ack(self, path: Path, outcomes: Sequence[RecordOutcome], *, partner: str) -> list[Path]:
        """CONTRL and APERAK answering the received file ``path``, in the outbox; nothing without one. See
        :mod:`lockerhub_edifact.respond`."""
        return write_responses(Path(path), outcomes, cfg=self.config)

    def read(self, path: Path, *, partner: str) -> Iterator[SourceRecord]:
        """One SourceRecord per message of ``path``; see :mod:`lockerhub_edifact.reader`."""
        yield from read_records(path, self.mapping, partner=partner)


