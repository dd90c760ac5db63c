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

from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from pathlib import Path
from typing import Any, ClassVar

from lockerhub.errors import ConfigError, Location, LockerhubError
from lockerhub.mapping import CompiledMapping, load_mapping
from lockerhub.plugins.inbox import archive_file, pending_files, readable_dir
from lockerhub.plugins.protocols import Capability, CheckResult, ConnectorKind, SourceRecord
from lockerhub_edifact import envelope
from lockerhub_edifact.config import EdifactConfig
from lockerhub_edifact.format import EdifactFormat
from lockerhub_edifact.reader import read_records


def _package_version() -> str:
    try:
        return _dist_version("lockerhub-edifact")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "0.0.0"


class EdifactConnector:
    """Inbox of EDIFACT files in; one canonical shipment per message."""

    id: ClassVar[str] = "edifact"
    kind: ClassVar[ConnectorKind] = ConnectorKind.TMS_SOURCE
    version: ClassVar[str] = _package_version()
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.READ, Capability.WATCH_INBOX})
    config_model: ClassVar[type[EdifactConfig]] = EdifactConfig
    source_format: ClassVar[type[EdifactFormat]] = EdifactFormat

    def __init__(self, config: EdifactConfig) -> None:
        self.config = config
        self._mapping: CompiledMapping | None = None

    @classmethod
    def parse_file(cls, path: Path) -> tuple[list[Any], list[Any]]:
        """(interchanges, errors) of a whole file, for ``lockerhub edi parse``."""
        document = envelope.parse(Path(path).read_bytes(), file=str(path))
        return list(document.interchanges), list(document.errors)

    @classmethod
    def validate_file(cls, path: Path) -> list[Any]:
        """Every syntax and envelope error of a file (streamed, bounded memory), for ``lockerhub edi validate``."""
        with Path(path).open("rb") as stream:
            return list(envelope.validate(stream, file=str(path)))

    @classmethod
    def spec(cls) -> dict[str, Any]:
        """JSON Schema of the config."""
        return cls.config_model.model_json_schema()

    @property
    def mapping(self) -> CompiledMapping:
        """The shipment mapping (``source: {format: edifact}``, ``target: shipment``), loaded on first use."""
        if self._mapping is None:
            self._mapping = _load(self.config.mapping)
        return self._mapping

    def check(self) -> CheckResult:
        """Mapping valid and inbox usable; each item says what is wrong."""
        result = CheckResult()
        try:
            self._mapping = _load(self.config.mapping)
            result.add("mapping", True, f"{self._mapping.doc.mapping} v{self._mapping.doc.version}")
        except LockerhubError as exc:
            result.add("mapping", False, exc.render())
        result.add("inbox", *readable_dir(self.config.inbox, "inbox", "LOCKERHUB_EDIFACT_INBOX"))
        return result

    def read(self, path: Path, *, partner: str) -> Iterator[SourceRecord]:
        """One SourceRecord per message of ``path``; see :mod:`lockerhub_edifact.reader`."""
        yield from read_records(path, self.mapping, partner=partner)

    def pending(self) -> list[Path]:
        """Files matching ``file_glob`` directly in the inbox, by name, skipping partially written ones."""
        return pending_files(self.config.inbox, self.config.file_glob, env="LOCKERHUB_EDIFACT_INBOX")

    def archive(self, path: Path, *, failed: bool) -> Path:
        """Move ``path`` to ``inbox/failed`` or ``inbox/done`` (a numeric suffix avoids overwriting)."""
        return archive_file(path, self.config.failed_dir if failed else self.config.done_dir)


def _load(path: Path) -> CompiledMapping:
    mapping = load_mapping(path)
    doc = mapping.doc
    if doc.source.format != "edifact" or doc.target != "shipment":
        raise ConfigError("mapping for the edifact connector", location=Location(file=str(path), line=1, column=1),
                          expected="source format edifact and target shipment",
                          found=f"source format {doc.source.format} and target {doc.target}")
    return mapping
