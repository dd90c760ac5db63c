"""Configuration of the X12 connector.

Config (pydantic-settings; keyword arguments win over environment variables):
    ``inbox``      LOCKERHUB_X12_INBOX      folder the trading partner drops X12 files into (must exist)
    ``mapping``    LOCKERHUB_X12_MAPPING    shipment mapping, X12 -> canonical (``source: {format: x12}``,
                   ``target: shipment``); its ``source.options`` set the reader's ``encoding`` and
                   ``transaction_sets``
    ``file_glob``  LOCKERHUB_X12_FILE_GLOB  which inbox files are pending (default ``*.edi``)
    ``outbox``, ``interchange_id``, ``partner_id``, ``scac``, ``version``, ``element``/``component``/``segment``/
    ``newline``: where 214 status files go and how their envelopes and delimiters look (LOCKERHUB_X12_<FIELD>)
    ``acknowledgement``  ``auto`` (999 for 005010 groups, 997 before), ``997``, ``999`` or ``none``: the functional
                   acknowledgement written to the outbox for every received file
    ``tender_response``  also answer each 204 with a 990 (accept / decline)

    Processed files move to ``<inbox>/done`` and ``<inbox>/failed``; both are created on demand. Unknown keys are
    errors (``extra="forbid"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import SettingsConfigDict

from lockerhub.plugins.filedrop import FileDropConfig


class X12Config(FileDropConfig):
    """Where X12 files arrive and how their transaction sets map to the canonical model."""

    model_config = SettingsConfigDict(env_prefix="LOCKERHUB_X12_", extra="forbid")

    file_glob: str = "*.edi"
    outbox: Path | None = None  # 214 status files go here; without it status messages wait in the hub's outbox
    interchange_id: str = "LOCKERHUB"  # our ISA06 / GS02 when sending
    partner_id: str | None = None  # their ISA08 / GS03 (required with outbox)
    scac: str = ""
    version: str = "004010"
    element: str = "*"
    component: str = ":"
    segment: str = "~"
    newline: str = "\n"
    acknowledgement: Literal["auto", "997", "999", "none"] = "auto"
    tender_response: bool = False
