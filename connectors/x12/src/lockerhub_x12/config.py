"""Configuration of the X12 connector.

Config (pydantic-settings; keyword arguments win over environment variables):
    ``inbox``      LOCKERHUB_X12_INBOX      folder the trading partner drops X12 files into (must exist)
    ``mapping``    LOCKERHUB_X12_MAPPING    shipment mapping, X12 -> canonical (``source: {format: x12}``,
                   ``target: shipment``); its ``source.options`` set the reader's ``encoding`` and
                   ``transaction_sets``
    ``file_glob``  LOCKERHUB_X12_FILE_GLOB  which inbox files are pending (default ``*.edi``)

    Processed files move to ``<inbox>/done`` and ``<inbox>/failed``; both are created on demand. Unknown keys are
    errors (``extra="forbid"``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lockerhub.plugins.inbox import flat_glob


class X12Config(BaseSettings):
    """Where X12 files arrive and how their transaction sets map to the canonical model."""

    model_config = SettingsConfigDict(env_prefix="LOCKERHUB_X12_", extra="forbid")

    inbox: Path
    mapping: Path
    file_glob: str = "*.edi"

    _flat_glob = field_validator("file_glob")(flat_glob)

    @property
    def done_dir(self) -> Path:
        return self.inbox / "done"

    @property
    def failed_dir(self) -> Path:
        return self.inbox / "failed"
