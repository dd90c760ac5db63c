"""The audit log: entries chain by hash; the table refuses UPDATE and DELETE; `audit verify` names the exact entry
that was edited, deleted or moved when someone tampers with the table directly (triggers dropped first)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from lockerhub.security import audit
from lockerhub.store import AuditRow, Store

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("LOCKERHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LOCKERHUB_DATABASE_URL", raising=False)
    s = Store(f"sqlite:///{tmp_path / 'lockerhub.db'}")
    s.migrate()
    with s.transaction() as session:
        for n in range(1, 6):
            audit.record(session, "keys.rotate", subject=f"key:k{n}", actor="user:test",
                         details={"rotated": {"parcels.recipient": n}, "complete": True}, at=T0.replace(minute=n))
    yield s
    s.dispose()


def tamper(store: Store, *statements: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        for statement in statements:
            conn.execute(text(statement))


def verify_cli() -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "lockerhub.cli", "audit", "verify", "--json"], capture_output=True,
                          text=True, env=dict(os.environ), timeout=60, check=False)
    return proc.returncode, json.loads(proc.stdout)


def problems(result: dict) -> list[tuple[int, str]]:
    return [(p["seq"], p["kind"]) for p in result["problems"]]


def test_each_entry_hashes_its_content_and_the_previous_hash(store: Store) -> None:
    rows = audit.entries(store)
    assert [e.seq for e in rows] == [5, 4, 3, 2, 1]
    with store.transaction() as s:
        first, second = s.get(AuditRow, 1), s.get(AuditRow, 2)
        assert first is not None and second is not None
        assert first.prev_hash == audit.GENESIS and second.prev_hash == first.hash
        assert first.hash == audit.entry_hash(1, T0.replace(minute=1), "user:test", "keys.rotate", "key:k1",
                                              {"rotated": {"parcels.recipient": 1}, "complete": True}, audit.GENESIS)
    code, result = verify_cli()
    assert code == 0 and result["ok"] and result["entries"] == 5 and result["head"]["seq"] == 5


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'someone' WHERE seq = 2",
                                       "DELETE FROM audit_log WHERE seq = 2"])
def test_the_table_refuses_changes(store: Store, statement: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(statement))


def test_an_edited_entry_is_named(store: Store) -> None:
    tamper(store, """UPDATE audit_log SET details = '{"rotated": {"parcels.recipient": 0}, "complete": true}'
                     WHERE seq = 3""")
    code, result = verify_cli()
    assert code == 1 and problems(result) == [(3, "edited")]


def test_an_edited_entry_with_its_hash_recomputed_is_named(store: Store) -> None:
    with store.transaction() as s:
        row = s.get(AuditRow, 3)
        assert row is not None
        forged = audit.entry_hash(3, row.at, "user:someone", row.action, row.subject, row.details, row.prev_hash)
    tamper(store, f"UPDATE audit_log SET actor = 'user:someone', hash = '{forged}' WHERE seq = 3")
    assert problems(audit.verify(store).as_dict()) == [(3, "relinked")]


def test_a_deleted_entry_is_named(store: Store) -> None:
    tamper(store, "DELETE FROM audit_log WHERE seq = 3")
    code, result = verify_cli()
    assert code == 1 and problems(result) == [(3, "deleted")]
    assert result["problems"][0]["message"] == "entry 3 is missing"


def test_reordered_entries_are_named(store: Store) -> None:
    tamper(store, "UPDATE audit_log SET seq = 100 WHERE seq = 2", "UPDATE audit_log SET seq = 2 WHERE seq = 4",
           "UPDATE audit_log SET seq = 4 WHERE seq = 100")
    code, result = verify_cli()
    assert code == 1 and problems(result) == [(2, "moved"), (4, "moved")]
    assert [p["message"] for p in result["problems"]] == [
        "entry 2 holds the entry written as 4 (entries were reordered)",
        "entry 4 holds the entry written as 2 (entries were reordered)"]


def test_a_cut_tail_is_caught_by_an_anchor(store: Store) -> None:
    head = audit.verify(store)
    anchor = f"{head.head_seq}:{head.head_hash}"
    tamper(store, "DELETE FROM audit_log WHERE seq = 5")
    assert audit.verify(store).ok  # a shorter chain is still a chain
    proc = subprocess.run([sys.executable, "-m", "lockerhub.cli", "audit", "verify", "--anchor", anchor],
                          capture_output=True, text=True, env=dict(os.environ), timeout=60, check=False)
    assert proc.returncode == 1
    assert "audit_log: entry 5: error: deleted: entry 5 (the anchor) is missing" in proc.stderr


def test_entries_go_on_from_the_head_and_verify_streams_past_a_batch(store: Store) -> None:
    with store.transaction() as s:
        for _ in range(1200):
            audit.record(s, "quarantine.reveal", subject="q-000001", details={"stage": "map"})
    result = audit.verify(store)
    assert result.ok and result.entries == 1205 and result.head_seq == 1205
