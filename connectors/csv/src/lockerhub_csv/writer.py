"""Canonical status updates to CSV status files in the outbox, written atomically.

Capabilities:
    ``write_status_files(outbox, updates) -> list[Path]`` writes one file per trading partner in ``updates``::

        sequence,partner,shipment_ref,parcel_id,status,reason,occurred_at,locker_id,source,raw_code
        17,acme,SHP-1,PCL-1,DEPOSITED,,2025-01-02T10:00:00+01:00,KRA01,simlocker,COURIER_DEPOSITED

    Rows are ordered by ``sequence``; ``occurred_at`` is ISO 8601 with its UTC offset. The file name comes from
    the content, ``status_<partner>_<first sequence:08d>-<last sequence:08d>.csv``, so writing the same batch
    again replaces the file with identical bytes instead of adding a duplicate. Files are UTF-8 (no BOM) with LF
    line endings and a header row. Each file is written to a hidden temporary file in the outbox, fsynced and
    moved into place with ``os.replace``: a TMS polling the outbox never sees half a file. Empty input writes
    nothing.

Config:
    ``outbox`` (LOCKERHUB_CSV_OUTBOX); created when missing. ``status_mapping`` (LOCKERHUB_CSV_STATUS_MAPPING):
    the outbound mapping from a status update to a row (default ``status_default.yaml`` beside this module, the
    columns above); its field names are the columns.

Limits/Pitfalls:
    - A TMS that picks up ``*`` rather than ``status_*.csv`` will also see the ``.status_*.tmp`` file of a write in
      progress; tell the partner to ignore names starting with a dot.
    - Characters in the partner id other than letters, digits, ``-`` and ``_`` become ``-`` in the file name.
    - Values are written as they are: a ``raw_code`` starting with ``=`` is not defused against spreadsheet formula
      injection (the consumer is a TMS, not a person with a spreadsheet).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from lockerhub.errors import ConfigError, ErrorGroup, Location
from lockerhub.mapping import CompiledMapping, load_mapping
from lockerhub.plugins.inbox import batch_file_name, write_atomically
from lockerhub.plugins.protocols import StatusUpdate

DEFAULT_STATUS_MAPPING = Path(__file__).with_name("status_default.yaml")


@cache
def status_mapping(path: Path = DEFAULT_STATUS_MAPPING) -> CompiledMapping:
    """An outbound mapping (``source: {format: canonical}``, ``target: json``) from a status update to one row;
    its top-level field names are the file's columns, in order."""
    mapping = load_mapping(path)
    doc = mapping.doc
    if doc.source.format != "canonical" or doc.target != "json" or mapping.groups:
        raise ConfigError("status mapping for the csv connector", location=Location(file=str(path), line=1, column=1),
                          expected="source format canonical, target json and no list groups",
                          found=f"source format {doc.source.format}, target {doc.target}")
    return mapping


def columns(mapping: CompiledMapping) -> tuple[str, ...]:
    return tuple(step.name for step in mapping.fields)


COLUMNS = columns(status_mapping())


def status_file_name(partner: str, updates: Sequence[StatusUpdate]) -> str:
    """``status_<partner>_<first:08d>-<last:08d>.csv`` for updates already sorted by sequence."""
    return batch_file_name("status", partner, updates[0].sequence, updates[-1].sequence, ".csv")


def row(update: StatusUpdate, mapping: CompiledMapping, names: tuple[str, ...]) -> list[str]:
    source = {"partner": update.partner, "shipment_reference": update.shipment_reference,
              "parcel_id": update.parcel_id, "sequence": update.sequence,
              "event": update.event.model_dump(mode="json")}
    result = mapping.map(source)
    if not result.ok:
        raise ErrorGroup(list(result.errors))
    return ["" if result.value.get(name) is None else str(result.value[name]) for name in names]


def render(updates: Sequence[StatusUpdate], mapping: CompiledMapping | None = None) -> bytes:
    """The file content: header plus one row per update, UTF-8, LF line endings."""
    mapping = mapping or status_mapping()
    names = columns(mapping)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(row(update, mapping, names) for update in updates)
    return buffer.getvalue().encode("utf-8")


def write_status_files(outbox: Path, updates: Sequence[StatusUpdate],
                       mapping: CompiledMapping | None = None) -> list[Path]:
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
        written.append(write_atomically(outbox / status_file_name(partner, batch), render(batch, mapping)))
    return written
