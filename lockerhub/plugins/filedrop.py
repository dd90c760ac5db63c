"""The shared half of every file-drop TMS source (CSV, X12, EDIFACT): config fields, the shipment mapping,
``check()``, ``pending()`` and ``archive()``. A connector subclasses :class:`FileDropSource` and adds ``read``
(and anything else it does); the template method ``check`` calls the ``extra_checks`` hook.

Like Meltano's SDK base classes: the plugin author writes what differs, the base owns what must not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import field_validator
from pydantic_settings import BaseSettings

from lockerhub.errors import ConfigError, Location, LockerhubError
from lockerhub.mapping import CompiledMapping, load_mapping
from lockerhub.plugins.inbox import archive_file, flat_glob, pending_files, readable_dir
from lockerhub.plugins.protocols import CheckResult


class FileDropConfig(BaseSettings):
    """Fields every file-drop source has; subclasses set ``env_prefix`` and may add fields."""

    inbox: Path
    mapping: Path
    file_glob: str = "*"

    @field_validator("file_glob")
    @classmethod
    def _flat_glob(cls, value: str) -> str:
        return flat_glob(value)

    @property
    def done_dir(self) -> Path:
        return self.inbox / "done"

    @property
    def failed_dir(self) -> Path:
        return self.inbox / "failed"


def load_shipment_mapping(path: Path, source_format: str) -> CompiledMapping:
    """Load a mapping and insist it reads ``source_format`` and makes shipments."""
    mapping = load_mapping(path)
    doc = mapping.doc
    if doc.source.format != source_format or doc.target != "shipment":
        raise ConfigError(f"mapping for the {source_format} connector",
                          location=Location(file=str(path), line=1, column=1),
                          expected=f"source format {source_format} and target shipment",
                          found=f"source format {doc.source.format} and target {doc.target}")
    return mapping


class FileDropSource:
    """Base of file-drop TMS connectors. Subclasses set ``id`` (= the mapping format), ``config_model`` and
    implement ``read``."""

    id: ClassVar[str]
    config_model: ClassVar[type[FileDropConfig]]

    def __init__(self, config: FileDropConfig) -> None:
        self.config = config
        self._mapping: CompiledMapping | None = None

    @classmethod
    def spec(cls) -> dict[str, Any]:
        """JSON Schema of the config."""
        return cls.config_model.model_json_schema()

    @property
    def env_prefix(self) -> str:
        return str(self.config_model.model_config.get("env_prefix", ""))

    @property
    def mapping(self) -> CompiledMapping:
        """The shipment mapping (``source: {format: <id>}``, ``target: shipment``), loaded on first use."""
        if self._mapping is None:
            self._mapping = load_shipment_mapping(self.config.mapping, self.id)
        return self._mapping

    def check(self) -> CheckResult:
        """Mapping valid and of the right kind, inbox readable, then the connector's own checks."""
        result = CheckResult()
        try:
            self._mapping = load_shipment_mapping(self.config.mapping, self.id)
            result.add("mapping", True, f"{self._mapping.doc.mapping} v{self._mapping.doc.version}")
        except LockerhubError as exc:
            result.add("mapping", False, exc.render())
        result.add("inbox", *readable_dir(self.config.inbox, "inbox", f"{self.env_prefix}INBOX"))
        self.extra_checks(result)
        return result

    def require(self, field: str) -> Any:
        """A config value an optional feature needs (e.g. ``outbox`` for status files), or a ConfigError naming
        the field and its environment variable."""
        value = getattr(self.config, field)
        if value is None:
            raise ConfigError(f"{self.id} status files need '{field}'",
                              hint=f"set {field} in the partner's config or {self.env_prefix}{field.upper()}")
        return value

    def extra_checks(self, result: CheckResult) -> None:
        """Hook: add the connector's own check items (outbox, status mapping, ...)."""

    def pending(self) -> list[Path]:
        """Files matching ``file_glob`` directly in the inbox, by name, skipping partially written ones."""
        return pending_files(self.config.inbox, self.config.file_glob, env=f"{self.env_prefix}INBOX")

    def archive(self, path: Path, *, failed: bool) -> Path:
        """Move ``path`` to ``inbox/failed`` or ``inbox/done`` (a numeric suffix avoids overwriting)."""
        return archive_file(path, self.config.failed_dir if failed else self.config.done_dir)
