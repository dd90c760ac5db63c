"""XML file-feed connector: a TMS drops XML shipment feeds into a polled folder and picks XML status files up.

Capabilities:
    ``read`` (one :class:`~lockerhub.plugins.protocols.SourceRecord` per record element of a feed, through the
    partner's ``xml`` mapping: :mod:`lockerhub_soap.xmlformat`), ``watch_inbox`` (``pending`` lists files ready to
    read, ``archive`` moves a processed file to ``inbox/done`` or ``inbox/failed``), ``write_status`` (status
    updates -> XML files in the outbox, written atomically). Kind ``tms``: source and sink.

    A record's ``location`` is its element (``file:line`` with its XPath, ``/Shipments/Shipment[3]``, as ``path``);
    ``raw`` is the element as XML text (for quarantine and replay); ``lineage`` maps canonical paths to the element
    or attribute that fed them (fields of a loop: that loop item's element). A record with a bad value carries every
    error of that record, each at the line and XPath of the element it came from (an error that names no position,
    such as the canonical model's objection to a field no rule fills, is placed at the record); the other records
    of the file are mapped as usual. A file that cannot be read as a whole (not well-formed, a DTD or entity, no
    record where ``source.options.record`` points) is one :class:`~lockerhub.errors.ParseError` at
    ``file:line:col``: ingest quarantines the file and archives it to ``failed/``.

    Status files (``status_<partner>_<first sequence:08d>-<last:08d>.xml``, one per partner, updates in sequence
    order; UTF-8, LF, an XML declaration)::

        <StatusUpdates partner="acme-xml">
          <StatusUpdate sequence="17">
            <ShipmentReference>SHP-1</ShipmentReference>
            <ParcelId>PCL-1</ParcelId>
            <Status>DEPOSITED</Status>
            <Reason/>
            <OccurredAt>2025-01-02T10:00:00+01:00</OccurredAt>
            <LockerId>KRA01M</LockerId>
            <Source>simlocker</Source>
            <RawCode>COURIER_DEPOSITED</RawCode>
          </StatusUpdate>
        </StatusUpdates>

    The name comes from the content, so writing the same batch again replaces the file with identical bytes. Each
    file is written to a hidden temporary file, fsynced and moved into place (:mod:`lockerhub.plugins.inbox`).

Config (:class:`~lockerhub_soap.xmlconfig.XmlFeedConfig`):
    LOCKERHUB_XML_INBOX, LOCKERHUB_XML_MAPPING, LOCKERHUB_XML_FILE_GLOB, LOCKERHUB_XML_OUTBOX.

Status crosswalk file:
    None: status files carry canonical statuses.

Limits/Pitfalls:
    - XML is read by :mod:`lockerhub_soap.safexml`: a feed with a DOCTYPE is refused whole, even a harmless one;
      ask the partner to drop it. The whole file is parsed in memory.
    - ``pending`` and ``archive`` are :mod:`lockerhub.plugins.inbox`, shared with the other file connectors:
      names starting with ``.`` or ending ``.part``/``.tmp`` are skipped as still being written.
    - Without an ``outbox``, ``write_status`` is a ConfigError and the hub keeps the messages until one is set.
    - Characters XML 1.0 cannot hold (control characters in a vendor's raw code) are written as U+FFFD.
    - The mapping is loaded once per connector instance (on first ``read``); create a new connector to pick up
      changes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

from lxml import etree

from lockerhub.errors import Location, LockerhubError, errors_sorted
from lockerhub.plugins.filedrop import FileDropSource
from lockerhub.plugins.inbox import batch_file_name, writable_dir, write_atomically
from lockerhub.plugins.lineage import MappedLineage
from lockerhub.plugins.protocols import Capability, CheckResult, ConnectorKind, SourceRecord, StatusUpdate
from lockerhub.plugins.registry import package_version
from lockerhub_soap.xmlconfig import ENV_PREFIX, XmlFeedConfig
from lockerhub_soap.xmlformat import OPTIONS, RECORD_SYNTAX, XmlFormat, check_record_path

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class XmlFeedConnector(FileDropSource):
    """Inbox of XML shipment feeds in, outbox of XML status files out."""

    id: ClassVar[str] = "xml"
    kind: ClassVar[ConnectorKind] = ConnectorKind.TMS
    version: ClassVar[str] = package_version("lockerhub-soap")
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.READ, Capability.WATCH_INBOX, Capability.WRITE_STATUS})
    config_model: ClassVar[type[XmlFeedConfig]] = XmlFeedConfig
    source_format: ClassVar[type[XmlFormat]] = XmlFormat

    def extra_checks(self, result: CheckResult) -> None:
        """The mapping's reader options (when it loaded); the outbox is writable or can be created (when set)."""
        if self._mapping is not None:
            options = dict(self._mapping.doc.source.options)
            unknown = sorted(set(options) - set(OPTIONS))
            record = options.get("record")
            if unknown:
                result.add("record", False, f"source.options: expected {' or '.join(OPTIONS)}, found "
                                            f"{', '.join(unknown)}")
            elif record is None:
                result.add("record", True, "every child element of the root is a record")
            else:
                try:
                    check_record_path(record if isinstance(record, str) else repr(record))
                    result.add("record", True, f"records at {record}")
                except ValueError:
                    result.add("record", False, f"source.options.record: expected {RECORD_SYNTAX}, "
                                                f"found {record!r}")
        if self.config.outbox is None:
            result.add("outbox", True, f"not set: status updates wait in the hub's outbox (set {ENV_PREFIX}OUTBOX "
                                       "or the 'outbox' config key)")
        else:
            result.add("outbox", *writable_dir(self.config.outbox, "outbox", f"{ENV_PREFIX}OUTBOX"))

    def read(self, path: Path, *, partner: str) -> Iterator[SourceRecord]:
        """One SourceRecord per record element of ``path`` (per ``repeat`` item when the mapping has a top-level
        ``repeat``), in document order; see the module docstring."""
        if not partner:
            raise ValueError("partner must be a non-empty trading partner id")
        mapping = self.mapping
        extra = {"partner": partner}
        for item in mapping.format.read(Path(path), **mapping.doc.source.options):
            where = Location(file=item.file, line=item.line, path=item.xpath)
            raw = item.raw
            for result in mapping.map_document(item, extra=extra):
                errors = tuple(errors_sorted([_placed(e, where) for e in result.errors]))
                yield SourceRecord(location=where, raw=raw, shipment=None if errors else result.value,
                                   errors=errors, lineage=MappedLineage(result))

    def write_status(self, updates: Sequence[StatusUpdate]) -> list[Path]:
        """One status file per partner in the outbox (see the module docstring); without an ``outbox`` a
        ConfigError (the hub keeps the messages)."""
        if not updates:
            return []
        return write_status_files(self.require("outbox"), updates)


def _placed(error: LockerhubError, where: Location) -> LockerhubError:
    """``error`` at the record when it names no position (the model's objection to a field no rule fills)."""
    if error.location is not None:
        return error
    placed = copy.copy(error)
    placed.location = where
    return placed


# --------------------------------------------------------------------------- status files


def _text(value: object) -> str | None:
    return None if value is None else _NOT_XML.sub("\ufffd", str(value))


def render(partner: str, updates: Sequence[StatusUpdate]) -> bytes:
    """The status file of one partner's updates (already in sequence order)."""
    root = etree.Element("StatusUpdates", partner=_text(partner) or "")
    for update in updates:
        event = update.event
        node = etree.SubElement(root, "StatusUpdate", sequence=str(update.sequence))
        for tag, value in (("ShipmentReference", update.shipment_reference), ("ParcelId", update.parcel_id),
                           ("Status", event.status.value), ("Reason", event.reason),
                           ("OccurredAt", event.occurred_at.isoformat()), ("LockerId", event.locker_id),
                           ("Source", event.source), ("RawCode", event.raw_code)):
            etree.SubElement(node, tag).text = _text(value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def status_file_name(partner: str, updates: Sequence[StatusUpdate]) -> str:
    """``status_<partner>_<first:08d>-<last:08d>.xml`` for updates already sorted by sequence."""
    return batch_file_name("status", partner, updates[0].sequence, updates[-1].sequence, ".xml")


def write_status_files(outbox: Path, updates: Sequence[StatusUpdate]) -> list[Path]:
    """Write one status file per partner (in order of first appearance); return the paths written."""
    by_partner: dict[str, list[StatusUpdate]] = {}
    for update in updates:
        by_partner.setdefault(update.partner, []).append(update)
    if not by_partner:
        return []
    outbox.mkdir(parents=True, exist_ok=True)
    written = []
    for partner, batch in by_partner.items():
        batch.sort(key=lambda u: u.sequence)
        written.append(write_atomically(outbox / status_file_name(partner, batch), render(partner, batch)))
    return written
