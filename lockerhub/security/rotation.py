"""Key rotation: re-encrypt every encrypted value under the active key, in committed batches, resumably.

How to rotate (the full procedure is in docs/security.md): put a new key first in the ring and keep the old ones
after it (``LOCKERHUB_PII_KEYS=new:...,old:...``), run ``lockerhub keys rotate``, check ``lockerhub keys status``
shows nothing left under the old key ids, then drop them from the ring.

Each batch selects values *not* under the active key id, re-encrypts them and commits; a value changed by someone
else in between is left alone (the update matches the old ciphertext). An interrupted run (Ctrl-C, a crash, or
``max_batches``) has committed what it did, and the next run carries on with what is left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select, update

from lockerhub.errors import ConfigError
from lockerhub.security import audit
from lockerhub.security.crypto import FieldCipher
from lockerhub.security.fields import ENCRYPTED_FIELDS, EncryptedField
from lockerhub.store import Store

DEFAULT_BATCH = 500
Progress = Callable[[str, int], None]  # (field name, values done in this batch)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _present(f: EncryptedField) -> Any:
    return and_(f.attr.is_not(None), f.attr != "")


def _stale(f: EncryptedField, cipher: FieldCipher) -> Any:
    return and_(_present(f), f.attr.not_like(_escape_like(cipher.token_prefix()) + "%", escape="\\"))


def _scan(store: Store, f: EncryptedField, condition: Any, batch: int = 5000) -> Iterator[str]:
    """The ciphertexts of one field matching ``condition``, read in batches by primary key."""
    last = None
    while True:
        with store.transaction() as s:
            query = select(f.pk, f.attr).where(condition).order_by(f.pk).limit(batch)
            rows = s.execute(query if last is None else query.where(f.pk > last)).all()
        if not rows:
            return
        yield from (value for _, value in rows)
        last = rows[-1][0]


def key_status(store: Store, *, batch: int = 5000) -> dict[str, dict[str, int]]:
    """``{field: {key id: values}}`` for every encrypted field (values not in our format count under ``?``)."""
    out: dict[str, dict[str, int]] = {}
    for f in ENCRYPTED_FIELDS:
        counts: dict[str, int] = {}
        for value in _scan(store, f, _present(f), batch):
            kid = FieldCipher.key_id_of(value) or "?"
            counts[kid] = counts.get(kid, 0) + 1
        out[f.name] = dict(sorted(counts.items()))
    return out


@dataclass(slots=True)
class RotationReport:
    active_kid: str
    total: int = 0  # values not under the active key when the run started
    rotated: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # changed by someone else while this run worked on them; the next run looks again
    batches: int = 0
    remaining: int = 0
    complete: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"active_kid": self.active_kid, "total": self.total, "rotated": dict(self.rotated),
                "rotated_total": sum(self.rotated.values()), "skipped": self.skipped, "batches": self.batches,
                "remaining": self.remaining, "complete": self.complete}


def pending(store: Store, cipher: FieldCipher) -> dict[str, int]:
    """Values per field not yet under the active key."""
    with store.transaction() as s:
        return {f.name: int(s.scalar(select(func.count()).select_from(f.row).where(_stale(f, cipher))) or 0)
                for f in ENCRYPTED_FIELDS}


def _check_ring(store: Store, cipher: FieldCipher) -> None:
    unknown: dict[str, int] = {}
    for f in ENCRYPTED_FIELDS:
        for value in _scan(store, f, _stale(f, cipher)):
            kid = FieldCipher.key_id_of(value) or "?"
            if kid not in cipher.key_ids:
                unknown[kid] = unknown.get(kid, 0) + 1
    if unknown:
        found = ", ".join(f"{n} value(s) under {kid!r}" for kid, n in sorted(unknown.items()))
        raise ConfigError("key rotation: some values are under keys the ring does not hold",
                          expected="every old key id in LOCKERHUB_PII_KEYS after the new one", found=found,
                          hint="nothing was changed")


def rotate(store: Store, cipher: FieldCipher, *, batch: int = DEFAULT_BATCH, max_batches: int | None = None,
           progress: Progress | None = None, actor: str | None = None) -> RotationReport:
    """Re-encrypt everything not under ``cipher.active_kid``; each batch commits. Records ``keys.rotate``."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    report = RotationReport(active_kid=cipher.active_kid)
    todo = pending(store, cipher)
    report.total = sum(todo.values())
    _check_ring(store, cipher)
    stopped = False
    for f in ENCRYPTED_FIELDS:
        report.rotated[f.name] = 0
        after = None  # values left alone (changed concurrently) are not picked again in this run
        while not stopped:
            if max_batches is not None and report.batches >= max_batches:
                stopped = True
                break
            with store.transaction() as s:
                query = select(f.pk, f.attr).where(_stale(f, cipher)).order_by(f.pk).limit(batch)
                rows = s.execute(query if after is None else query.where(f.pk > after)).all()
                if not rows:
                    break
                done = 0
                for pk, token in rows:
                    fresh = cipher.encrypt(cipher.decrypt(token, context=f.context), context=f.context)
                    changed = s.execute(update(f.row).where(f.pk == pk, f.attr == token).values({f.column: fresh})
                                        .execution_options(synchronize_session=False)).rowcount
                    done += changed
                    report.skipped += 1 - changed
                after = rows[-1][0]
            report.batches += 1
            report.rotated[f.name] += done
            if progress:
                progress(f.name, len(rows))
    report.remaining = sum(pending(store, cipher).values())
    report.complete = report.remaining == 0
    with store.transaction() as s:
        audit.record(s, "keys.rotate", subject=f"key:{cipher.active_kid}", actor=actor,
                     details={"rotated": report.rotated, "batches": report.batches, "remaining": report.remaining,
                              "complete": report.complete, "ring": list(cipher.key_ids)})
    return report


__all__ = ["DEFAULT_BATCH", "RotationReport", "key_status", "pending", "rotate"]
