"""Configuration of the EDIFACT connector.

Capabilities:
    Describes one inbox folder a TMS (or its VAN/AS2 gateway) drops EDIFACT files into, and the mapping that turns
    each message into a canonical ``Shipment``.

Config (pydantic-settings; keyword arguments win over environment variables):
    ``inbox``      LOCKERHUB_EDIFACT_INBOX      folder the files arrive in (must exist)
    ``mapping``    LOCKERHUB_EDIFACT_MAPPING    shipment mapping, ``source: {format: edifact}`` -> ``target: shipment``
                   (e.g. ``mappings/acme-edifact/iftmin.yaml``)
    ``file_glob``  LOCKERHUB_EDIFACT_FILE_GLOB  which inbox files are pending (default ``*.edi``)
    ``outbox``, ``interchange_id``, ``partner_id``: where IFTSTA status files go and the envelope's parties
    (LOCKERHUB_EDIFACT_<FIELD>)
    ``contrl``     send a CONTRL for every received interchange (default true)
    ``aperak``     ``rejections`` (default: an APERAK for each refused message), ``all`` or ``none``

    Processed files move to ``<inbox>/done`` and ``<inbox>/failed``; both are created on demand.

Status crosswalk file:
    ``statuses_iftsta.yaml`` (IFTSTA status codes) and ``aperak_errors.yaml`` (APERAK error codes).

Limits/Pitfalls:
    - Unknown keys are errors (``extra="forbid"``): a misspelt key is reported, never silently ignored.
    - Delimiters and character sets come from each file's UNA and UNB: there is nothing to configure for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import SettingsConfigDict

from lockerhub.plugins.filedrop import FileDropConfig


class EdifactConfig(FileDropConfig):
    """Where EDIFACT files arrive and how their messages map to the canonical model."""

    model_config = SettingsConfigDict(env_prefix="LOCKERHUB_EDIFACT_", extra="forbid")

    file_glob: str = "*.edi"
    outbox: Path | None = None  # IFTSTA status files go here; without it status messages wait in the hub's outbox
    interchange_id: str = "LOCKERHUB"  # our UNB02 when sending
    partner_id: str | None = None  # their UNB03 (required with outbox)
    contrl: bool = True
    aperak: Literal["rejections", "all", "none"] = "rejections"
