"""Persistent, per-partner control numbers for outbound EDI (X12 ISA13/GS06/ST02, EDIFACT UNB05/UNG05/UNH01).

Capabilities:
    ``ControlCounter(path, kinds=..., maximum=..., wrap=...)``: ``next(partner, kind)`` returns the next number
    (1 first) and records it before returning; ``last(partner, kind)`` reads without changing. The state is a
    small JSON file (``{"acme": {"interchange": 41, ...}}``) rewritten atomically (temporary file in the same
    folder, fsync, ``os.replace``) under an exclusive ``fcntl`` lock on ``<file>.lock``, so several processes on
    one host never hand out the same number. Past ``maximum`` the counter wraps to 1 (``wrap=True``, X12) or
    stops with an error (EDIFACT references are never reused).

Errors:
    A damaged state file is a :class:`~lockerhub.errors.ConfigError` naming the file, never silently reset
    (that would reuse numbers a partner has seen). An unknown kind is a :class:`~lockerhub.errors.ValidationError`.

Limits/Pitfalls:
    - POSIX only (``fcntl``); the lock does not hold across hosts (NFS): give each host its own file. The
      database-backed counter replaces this one later behind the same ``next`` call.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lockerhub.errors import ConfigError, Location, ValidationError


class ControlCounter:
    def __init__(self, path: str | Path, *, kinds: Iterable[str], maximum: int, wrap: bool) -> None:
        self.path = Path(path)
        self.kinds = tuple(kinds)
        self.maximum = maximum
        self.wrap = wrap

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
        hint = "restore it from a backup; resetting it would reuse control numbers"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError("control number file is damaged", location=Location(
                file=str(self.path), line=exc.lineno, column=exc.colno), expected="JSON", found=exc.msg,
                hint=hint) from None
        ok = isinstance(data, dict) and all(
            isinstance(v, dict) and all(isinstance(n, int) and n >= 0 for n in v.values()) for v in data.values())
        if not ok:
            raise ConfigError("control number file is damaged", location=Location(file=str(self.path)),
                              expected='{"partner": {"interchange": 1, ...}}', found="something else", hint=hint)
        return data

    def _write(self, data: dict[str, dict[str, int]]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _check(self, partner: str, kind: str) -> None:
        if kind not in self.kinds:
            raise ValidationError("control number kind", expected=" | ".join(self.kinds), found=repr(kind))
        if not partner:
            raise ValidationError("control number partner", expected="a partner id", found="''")

    def last(self, partner: str, kind: str) -> int:
        """The last number handed out (0 when none yet)."""
        self._check(partner, kind)
        with self._locked():
            return int(self._read().get(partner, {}).get(kind, 0))

    def next(self, partner: str, kind: str) -> int:
        """The next number for ``partner`` and ``kind``, recorded before it is returned."""
        self._check(partner, kind)
        with self._locked():
            data = self._read()
            n = int(data.get(partner, {}).get(kind, 0)) + 1
            if n > self.maximum:
                if not self.wrap:
                    raise ConfigError(f"control number {kind} for {partner}", location=Location(file=str(self.path)),
                                      expected=f"at most {self.maximum}", found=str(n),
                                      hint="references are never reused; agree a new range with the partner")
                n = 1
            data.setdefault(partner, {})[kind] = n
            self._write(data)
            return n
