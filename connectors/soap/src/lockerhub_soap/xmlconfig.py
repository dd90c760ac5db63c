"""Configuration of the ``xml`` file-feed connector: a TMS drops XML shipment feeds into a polled folder.

Capabilities:
    Describes one inbox folder the TMS drops XML files into, the ``xml`` mapping that turns one record element into
    a canonical ``Shipment``, and (optionally) one outbox folder the hub writes XML status files to.

Config (pydantic-settings; keyword arguments win over environment variables):
    ``inbox``      LOCKERHUB_XML_INBOX      folder the TMS drops feeds into (must exist)
    ``mapping``    LOCKERHUB_XML_MAPPING    shipment mapping, XML -> canonical (``source: {format: xml}``,
                   ``target: shipment``); its ``source.options.record`` says which elements are records
                   (``Shipment``, ``Batch/Shipment``; default: every child of the root)
    ``file_glob``  LOCKERHUB_XML_FILE_GLOB  which inbox files are pending (default ``*.xml``)
    ``outbox``     LOCKERHUB_XML_OUTBOX     folder for XML status files (created on first write); without it
                   status updates wait in the hub's outbox

    Processed files move to ``<inbox>/done`` and ``<inbox>/failed``; both are created on demand.

Status crosswalk file:
    None. Status files carry canonical statuses as they are.

Limits/Pitfalls:
    - Unknown keys are errors (``extra="forbid"``): a misspelt key is reported, never silently ignored.
    - The character encoding comes from the file's XML declaration (UTF-8 without one); there is no encoding key.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from lockerhub.plugins.filedrop import FileDropConfig

ENV_PREFIX = "LOCKERHUB_XML_"


class XmlFeedConfig(FileDropConfig):
    """Where XML feeds arrive, how their records map to the canonical model, and where status files go."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    file_glob: str = "*.xml"
    outbox: Path | None = None
