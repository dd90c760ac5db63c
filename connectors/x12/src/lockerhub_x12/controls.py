"""Control numbers per trading partner, kept across runs: ISA13 (interchange), GS06 (group), ST02 (transaction).

Capabilities:
    ``ControlNumbers(folder).next(partner, kind)`` returns the next number for ``kind`` (``interchange``, ``group``
    or ``transaction``) of ``partner``: 1 the first time, then one more each call, wrapping from 999999999 back to
    1. The numbers live in ``control_numbers.json`` in ``folder`` (created on first use), rewritten atomically (a
    temporary file in the same folder, then ``os.replace``) while an exclusive ``fcntl`` lock is held on
    ``control_numbers.lock``, so two processes never hand out the same number.

Limits/Pitfalls:
    - POSIX only (``fcntl``); the database-backed counter replaces this one later behind the same ``next`` call.
    - A damaged JSON file is an error, never silently reset (that would reuse numbers a partner has seen).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from lockerhub.errors import ConfigError, Location, ValidationError

Kind = Literal["interchange", "group", "transaction"]
KINDS: tuple[str, ...] = ("interchange", "group", "transaction")
MAXIMUM = 999_999_999  # ISA13 is 9 digits; GS06 (N0 1/9) and ST02 (AN 4/9) fit the same range
FILE = "control_numbers.json"
LOCK = "control_numbers.lock"


class ControlNumbers:
    """A persistent, monotonic (until it wraps) counter per partner and kind; see the module docstring."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    @property
    def file(self) -> Path:
        return self.folder / FILE

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / LOCK, "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _load(self) -> dict[str, dict[str, int]]:
        try:
            text = self.file.read_text("utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError("control number file is damaged", location=Location(file=str(self.file),
                              line=exc.lineno, column=exc.colno), expected="JSON", found=exc.msg,
                              hint="restore it from a backup; resetting it would reuse control numbers") from None
        if not isinstance(data, dict):
            raise ConfigError("control number file is damaged", location=Location(file=str(self.file)),
                              expected="a JSON object of partners", found=type(data).__name__)
        return data

    def _save(self, data: dict[str, dict[str, int]]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".control_numbers.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def next(self, partner: str, kind: Kind) -> int:
        """The next control number of ``kind`` for ``partner`` (1..999999999), recorded before it is returned."""
        if kind not in KINDS:
            raise ValidationError("control number kind", expected=" | ".join(KINDS), found=repr(kind))
        if not partner:
            raise ValidationError("control number partner", expected="a partner id", found="''")
        with self._locked():
            data = self._load()
            numbers = data.setdefault(partner, {})
            last = int(numbers.get(kind, 0))
            value = last + 1 if last < MAXIMUM else 1
            numbers[kind] = value
            self._save(data)
        return value

    def last(self, partner: str, kind: Kind) -> int:
        """The last number handed out (0 when none yet); reads only."""
        with self._locked():
            return int(self._load().get(partner, {}).get(kind, 0))
