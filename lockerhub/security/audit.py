"""Audit log: an append-only, hash-chained record of what was done with personal data and keys.

Recorded actions: ``keys.rotate``, ``privacy.export``, ``privacy.erase``, ``quarantine.reveal`` and
``retention.erase``. Each entry holds ``seq`` (1, 2, 3, ...), ``at`` (UTC), ``actor`` (``LOCKERHUB_ACTOR`` or
``user:<OS user>``), ``action``, ``subject`` (a key id, a quarantine id, or a recipient's pseudonym: never the
personal data itself), ``details`` (counts and ids as JSON, never PII), ``prev_hash`` (the previous entry's
``hash``; 64 zeros for the first) and ``hash`` = sha256 over the entry's canonical JSON (sorted keys, no spaces,
ASCII) followed by ``prev_hash``.

:func:`verify` walks the chain and names each entry that was edited (its content no longer gives its hash), deleted
(its number is missing), or moved (an intact entry found at another number than the one it was written with).

Limits/Pitfalls:
    - An entry removed from the end leaves a valid, shorter chain. Keep the head (``lockerhub audit verify --json``
      prints it) somewhere else, e.g. in the operations log, and pass it back as ``--anchor SEQ:HASH``.
    - Someone able to rewrite the whole table and recompute every hash after an edit is only caught by an anchor.
    - Entries are written in the caller's transaction (the erasure and its entry commit together). On PostgreSQL an
      advisory lock orders concurrent writers; on SQLite the database's single writer does.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from lockerhub.errors import LockerhubError
from lockerhub.store import Store
from lockerhub.store.audit import AuditRow

GENESIS = "0" * 64
ACTOR_ENV = "LOCKERHUB_ACTOR"
_PG_LOCK = 0x6C6B6175  # advisory lock id for appends ("lkau")
_BATCH = 1000
_MAX_SEARCH = 1_000_000  # numbers tried to place a moved entry


def current_actor() -> str:
    """Who is acting: ``LOCKERHUB_ACTOR`` when set (an Airflow task, a service account), else the OS user."""
    if os.environ.get(ACTOR_ENV):
        return os.environ[ACTOR_ENV]
    try:
        return f"user:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry for the uid (containers)
        return f"uid:{os.getuid()}"


def _at_text(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def entry_hash(seq: int, at: datetime, actor: str, action: str, subject: str | None, details: Mapping[str, Any],
               prev_hash: str) -> str:
    """sha256 over the canonical JSON of the entry, then ``prev_hash``."""
    canonical = json.dumps({"seq": seq, "at": _at_text(at), "actor": actor, "action": action, "subject": subject,
                            "details": details}, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256((canonical + prev_hash).encode("ascii")).hexdigest()


def _row_hash(row: AuditRow, *, seq: int | None = None, prev_hash: str | None = None) -> str:
    return entry_hash(row.seq if seq is None else seq, row.at, row.actor, row.action, row.subject, row.details,
                      row.prev_hash if prev_hash is None else prev_hash)


def record(session: Session, action: str, *, subject: str | None = None, details: Mapping[str, Any] | None = None,
           actor: str | None = None, at: datetime | None = None) -> AuditRow:
    """Append an entry in ``session``'s transaction (it commits or rolls back with the action it records)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK})
    head = session.execute(select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    plain = json.loads(json.dumps(dict(details or {}), default=str))  # as the JSON column will give it back
    moment = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    who = actor or current_actor()
    row = AuditRow(seq=seq, at=moment, actor=who, action=action, subject=subject, details=plain, prev_hash=prev,
                   hash=entry_hash(seq, moment, who, action, subject, plain, prev))
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int
    kind: str  # edited | deleted | moved | relinked
    message: str


@dataclass(slots=True)
class Verification:
    entries: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head": {"seq": self.head_seq, "hash": self.head_hash},
                "problems": [asdict(p) for p in self.problems]}


def _rows(store: Store) -> Iterator[AuditRow]:
    last = 0
    while True:
        with store.transaction() as s:
            batch = list(s.scalars(select(AuditRow).where(AuditRow.seq > last).order_by(AuditRow.seq).limit(_BATCH)))
        if not batch:
            return
        yield from batch
        last = batch[-1].seq


def parse_anchor(anchor: str) -> tuple[int, str]:
    seq, sep, digest = anchor.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        raise LockerhubError("--anchor", expected="SEQ:HASH as printed by `lockerhub audit verify --json`",
                             found=repr(anchor))
    return int(seq), digest.lower()


def _written_as(row: AuditRow, last_seq: int) -> int | None:
    """The number an intact entry was written with, when it now sits at another one."""
    for seq in range(1, min(last_seq, _MAX_SEARCH) + 2):
        if seq != row.seq and _row_hash(row, seq=seq) == row.hash:
            return seq
    return None


def verify(store: Store, *, anchor: tuple[int, str] | None = None) -> Verification:
    """Walk the chain in ``seq`` order and report every entry that was edited, deleted or moved."""
    result = Verification()
    with store.transaction() as s:
        last_seq = int(s.scalar(select(func.max(AuditRow.seq))) or 0)
    expected, prev_hash, prev_reported = 1, GENESIS, False
    anchor_seen = False
    for row in _rows(store):
        result.entries += 1
        for missing in range(expected, row.seq):
            result.problems.append(Problem(missing, "deleted", f"entry {missing} is missing"))
        gap = row.seq != expected
        reported = False
        if _row_hash(row) != row.hash:
            origin = _written_as(row, last_seq)
            if origin is not None:
                result.problems.append(Problem(row.seq, "moved", f"entry {row.seq} holds the entry written as "
                                                                 f"{origin} (entries were reordered)"))
            else:
                result.problems.append(Problem(row.seq, "edited", f"entry {row.seq} was changed after it was "
                                                                  "written (its content does not give its hash)"))
            reported = True
        elif row.prev_hash != prev_hash and not gap and not prev_reported:
            result.problems.append(Problem(row.seq - 1, "relinked", f"entry {row.seq - 1} was replaced and its hash "
                                                                    f"recomputed (entry {row.seq} does not link to "
                                                                    "it)"))
        if anchor is not None and row.seq == anchor[0]:
            anchor_seen = True
            if row.hash != anchor[1] and not reported:
                result.problems.append(Problem(row.seq, "edited", f"entry {row.seq} differs from the anchor"))
        expected, prev_hash, prev_reported = row.seq + 1, row.hash, reported
        result.head_seq, result.head_hash = row.seq, row.hash
    if anchor is not None and not anchor_seen:
        result.problems.append(Problem(anchor[0], "deleted", f"entry {anchor[0]} (the anchor) is missing"))
    return result


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str | None
    details: dict[str, Any]
    hash: str


def entries(store: Store, *, action: str | None = None, limit: int | None = None) -> list[Entry]:
    """The newest entries first (all, or of one action)."""
    with store.transaction() as s:
        query = select(AuditRow).order_by(AuditRow.seq.desc())
        if action:
            query = query.where(AuditRow.action == action)
        if limit:
            query = query.limit(limit)
        return [Entry(r.seq, r.at, r.actor, r.action, r.subject, dict(r.details), r.hash) for r in s.scalars(query)]


__all__ = ["GENESIS", "Entry", "Problem", "Verification", "current_actor", "entries", "entry_hash", "parse_anchor",
           "record", "verify"]
