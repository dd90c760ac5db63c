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
from typing import Any

from lockerhub.errors import ConfigError, Location, ValidationError

KEYS = "_keys"  # batch key -> number, per partner and kind (not a partner id: ids are validated non-empty text)
KEYS_KEPT = 1000


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

    def _read(self) -> dict[str, Any]:
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
        ok = isinstance(data, dict) and isinstance(data.get(KEYS, {}), dict) and all(
            isinstance(v, dict) and all(isinstance(n, int) and n >= 0 for n in v.values())
            for p, v in data.items() if p != KEYS)
        if not ok:
            raise ConfigError("control number file is damaged", location=Location(file=str(self.path)),
                              expected='{"partner": {"interchange": 1, ...}}', found="something else", hint=hint)
        return data

    def _write(self, data: dict[str, Any]) -> None:
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
        if not partner or partner == KEYS:
            raise ValidationError("control number partner", expected="a partner id", found=repr(partner))

    def last(self, partner: str, kind: str) -> int:
        """The last number handed out (0 when none yet)."""
        self._check(partner, kind)
        with self._locked():
            return int(self._read().get(partner, {}).get(kind, 0))



    def next(self, partner: str, kind: str, *, key: str | None = None) -> int:
        """The next number for ``partner`` and ``kind``, recorded before it is returned.

        With ``key`` (e.g. the outbox batch being written), asking again for the same key returns the same number:
        a retried write of the same batch re-sends the same control numbers instead of new ones. The last
        ``KEYS_KEPT`` keys per partner and kind are remembered."""
        self._check(partner, kind)
        with self._locked():
            data = self._read()
            keys = data.setdefault(KEYS, {}).setdefault(partner, {}).setdefault(kind, {}) if key else {}
            if key and key in keys:
                return int(keys[key])
            n = int(data.get(partner, {}).get(kind, 0)) + 1
            if n > self.maximum:
                if not self.wrap:
                    raise ConfigError(f"control number {kind} for {partner}", location=Location(file=str(self.path)),
                                      expected=f"at most {self.maximum}", found=str(n),
                                      hint="references are never reused; agree a new range with the partner")
                n = 1
            data.setdefault(partner, {})[kind] = n
            if key:
                keys[key] = n
                for old in list(keys)[:-KEYS_KEPT]:
                    del keys[old]
            self._write(data)
            return n
