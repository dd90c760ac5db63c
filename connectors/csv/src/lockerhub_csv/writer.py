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
    ``outbox`` (LOCKERHUB_CSV_OUTBOX); created when missing.

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
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from lockerhub.plugins.protocols import StatusUpdate

COLUMNS = (
    "sequence",
    "partner",
    "shipment_ref",
    "parcel_id",
    "status",
    "reason",
    "occurred_at",
    "locker_id",
    "source",
    "raw_code",
)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def status_file_name(partner: str, updates: Sequence[StatusUpdate]) -> str:
    """``status_<partner>_<first:08d>-<last:08d>.csv`` for updates already sorted by sequence."""
    safe = _UNSAFE.sub("-", partner).strip("-") or "partner"
    return f"status_{safe}_{updates[0].sequence:08d}-{updates[-1].sequence:08d}.csv"


def row(update: StatusUpdate) -> list[str]:
    event = update.event
    return [
        str(update.sequence),
        update.partner,
        update.shipment_reference,
        update.parcel_id,
        str(event.status),
        event.reason or "",
        event.occurred_at.isoformat(),
        event.locker_id or "",
        event.source,
        event.raw_code or "",
    ]


def render(updates: Sequence[StatusUpdate]) -> bytes:
    """The file content: header plus one row per update, UTF-8, LF line endings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(row(update) for update in updates)
    return buffer.getvalue().encode("utf-8")


def write_atomically(path: Path, content: bytes) -> Path:
    """Temp file in the same folder, fsync, ``os.replace``; the folder is fsynced where the OS allows it."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open folders (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on folders
        pass
    finally:
        os.close(fd)


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
        written.append(write_atomically(outbox / status_file_name(partner, batch), render(batch)))
    return written
