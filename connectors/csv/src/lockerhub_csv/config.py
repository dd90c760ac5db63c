"""Configuration of the CSV drop connector.

Capabilities:
    Describes one inbox folder the TMS drops CSV files into, one outbox folder the hub writes status
    CSV files to, and the YAML column mapping that turns a row into a canonical ``Shipment``.

Config (pydantic-settings; keyword arguments win over environment variables):
    ``inbox``      LOCKERHUB_CSV_INBOX      folder the TMS drops files into (must exist)
    ``outbox``     LOCKERHUB_CSV_OUTBOX     folder for status files (created on first write)
    ``mapping``    LOCKERHUB_CSV_MAPPING    shipment mapping, CSV -> canonical (see ``default_mapping.yaml``)
    ``status_mapping`` LOCKERHUB_CSV_STATUS_MAPPING  status row mapping, canonical -> CSV (default
                   ``status_default.yaml``)
    ``delimiter``  LOCKERHUB_CSV_DELIMITER  one character; unset = detect among ``,`` ``;`` TAB ``|``
    ``encoding``   LOCKERHUB_CSV_ENCODING   a Python codec name; unset = detect (UTF-8 BOM, UTF-8, cp1252, latin-1)
    ``file_glob``  LOCKERHUB_CSV_FILE_GLOB  which inbox files are pending (default ``*.csv``)

    Processed files move to ``<inbox>/done`` and ``<inbox>/failed``; both are created on demand.

Status crosswalk file:
    None. The CSV status file carries canonical statuses as they are.

Limits/Pitfalls:
    - Encoding detection cannot tell cp1250 (Central European, common in Polish TMS exports) from cp1252:
      both decode any byte string. A cp1250 file is read as cp1252 and ``ł`` becomes ``³``. Set ``encoding``
      explicitly (``cp1250``) for such partners.
    - Unknown keys are errors (``extra="forbid"``): a misspelt key is reported, never silently ignored.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import SettingsConfigDict

from lockerhub.plugins.filedrop import FileDropConfig

DETECTABLE_DELIMITERS = (",", ";", "\t", "|")


class CsvConfig(FileDropConfig):
    """Where CSV drops arrive, where status files go, and how columns map to the canonical model."""

    model_config = SettingsConfigDict(env_prefix="LOCKERHUB_CSV_", extra="forbid")

    outbox: Path
    status_mapping: Path | None = None
    delimiter: str | None = None
    encoding: str | None = None
    file_glob: str = "*.csv"

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and (len(value) != 1 or value in "\r\n\"'"):
            raise ValueError(f"expected one character other than a quote or line break, found {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return codecs.lookup(value).name
        except LookupError:
            raise ValueError(
                f"expected a Python codec name (utf-8, cp1250, cp1252, latin-1), found {value!r}"
            ) from None

