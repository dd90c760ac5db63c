"""Persistent per-partner control references (UNB05 interchange, UNG05 group, UNH01 message), monotonic.

Capabilities:
    ``ControlNumbers(path).next(partner, kind)`` returns the next number for that partner and kind (1 first) and
    records it before returning. The state is a small JSON file (``{"acme": {"interchange": 41, ...}}``), written
    to a temporary file in the same folder and moved over the old one with ``os.replace`` (a crash leaves the old
    or the new file, never half of one), under an exclusive ``fcntl`` lock on ``<path>.lock`` so that several
    processes on one host never hand out the same number. ``last(partner, kind)`` reads without changing it.

Errors:
    An unknown ``kind``, an unreadable or malformed state file, or a counter past ``maximum`` (UNB05 is an..14)
    is a :class:`~lockerhub.errors.ConfigError` naming the file.

Limits/Pitfalls:
    - POSIX only (``fcntl``); the lock does not hold across hosts (NFS): give each host its own file.
    - Numbers never wrap: past ``maximum`` the counter stops with an error rather than reuse a reference.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lockerhub.errors import ConfigError, Location

KINDS = frozenset({"interchange", "group", "message"})
MAXIMUM = 10**14 - 1


class ControlNumbers:
    def __init__(self, path: str | Path, *, maximum: int = MAXIMUM) -> None:
        self.path = Path(path)
        self.maximum = maximum

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _read(self) -> dict[str, dict[str, int]]:
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError("control number file", location=Location(file=str(self.path), line=exc.lineno,
                                                                        column=exc.colno),
                              expected="JSON", found=exc.msg) from None
        ok = isinstance(data, dict) and all(
            isinstance(v, dict) and all(isinstance(n, int) and n >= 0 for n in v.values()) for v in data.values())
        if not ok:
            raise ConfigError("control number file", location=Location(file=str(self.path)),
                              expected='{"partner": {"interchange": 1, ...}}', found="something else")
        return data

    def _write(self, data: dict[str, dict[str, int]]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def _kind(kind: str) -> None:
        if kind not in KINDS:
            raise ConfigError("control number kind", expected=" | ".join(sorted(KINDS)), found=repr(kind))

    def last(self, partner: str, kind: str) -> int:
        """The last number handed out (0 when none)."""
        self._kind(kind)
        with self._locked():
            return self._read().get(partner, {}).get(kind, 0)

    def next(self, partner: str, kind: str) -> int:
        """The next number for ``partner`` and ``kind``, recorded before it is returned."""
        self._kind(kind)
        with self._locked():
            data = self._read()
            n = data.get(partner, {}).get(kind, 0) + 1
            if n > self.maximum:
                raise ConfigError(f"control number {kind} for {partner}", location=Location(file=str(self.path)),
                                  expected=f"at most {self.maximum}", found=str(n),
                                  hint="references are never reused; agree a new range with the partner")
            data.setdefault(partner, {})[kind] = n
            self._write(data)
            return n
