"""Key rotation, GDPR export/erase and the audit log on a real PostgreSQL, through the CLI: rotation interrupted and
resumed; erase leaves no trace of the subject in a pg_dump (decrypting every ciphertext in it too) and every other
recipient as it was; the audit chain verifies, its table refuses changes, and a direct edit is named."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from lockerhub.errors import ConfigError
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.pipeline import run_hub
from lockerhub.security.crypto import FieldCipher
from lockerhub.security.fields import ENCRYPTED_FIELDS
from lockerhub.settings import Settings
from lockerhub.store import Store

pytestmark = pytest.mark.integration

KEY_A = "ka:" + base64.b64encode(bytes([1]) * 32).decode()  # test-only keys, not secrets
KEY_B = "kb:" + base64.b64encode(bytes([2]) * 32).decode()
TOKEN = re.compile(r"v1:[A-Za-z0-9_.-]+:[A-Za-z0-9+/]+={0,2}")


def cli(*args: str, keys: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOCKERHUB_PII_KEYS": keys}
    return subprocess.run([sys.executable, "-m", "lockerhub.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def live(keys: str) -> dict[tuple[str, int], tuple[str, str]]:
    """``{(field, row id): (key id, plaintext)}`` of every encrypted value in the database."""
    cipher = FieldCipher.from_env_or_file(keys, Settings().data_dir)
    store = Store(Settings().resolved_database_url())
    try:
        with store.transaction() as s:
            return {(f.name, pk): (FieldCipher.key_id_of(token) or "?", cipher.decrypt(token, context=f.context) or "")
                    for f in ENCRYPTED_FIELDS
                    for pk, token in s.execute(select(f.pk, f.attr).where(f.attr.is_not(None), f.attr != ""))}
    finally:
        store.dispose()


def pg_dump(url: str) -> str:
    binary = shutil.which("pg_dump")
    if binary is None:
        pytest.fail("pg_dump is needed to check the database for personal data")
    return subprocess.run([binary, "--data-only", url], capture_output=True, text=True, check=True).stdout


def decrypted_dump(dump: str, keys: str) -> list[str]:
    cipher = FieldCipher.from_env_or_file(keys, Path("/nonexistent"))
    out = []
    for token in set(TOKEN.findall(dump)):
        value = decrypt_any(cipher, token)
        if value is not None:
            out.append(value)
    return out


def decrypt_any(cipher: FieldCipher, token: str) -> str | None:
    """The plaintext of a ciphertext of any encrypted column, or None (cut off, or not one of ours)."""
    for f in ENCRYPTED_FIELDS:
        with contextlib.suppress(ConfigError):
            return cipher.decrypt(token, context=f.context) or ""
    return None


def traces(texts: list[str] | str, subject: dict[str, str]) -> list[str]:
    joined = (texts if isinstance(texts, str) else "\n".join(texts)).lower()
    return [v for v in subject.values() if v.lower() in joined]


def test_rotation_privacy_and_audit_on_postgres(pilot: Path, sim, privacy_drops: dict[str, str], pg_url: str,  # type: ignore[no-untyped-def]
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKERHUB_DATABASE_URL", pg_url)
    monkeypatch.setenv("LOCKERHUB_PII_KEYS", KEY_A)
    subject = privacy_drops
    hub = Hub.open(pilot)
    try:
        assert hub.store.engine.dialect.name == "postgresql"
        run_hub(hub)
    finally:
        hub.close()
    before = live(KEY_A)
    total = len(before)

    # key rotation: interrupted after two batches, then resumed; the new key alone decrypts everything
    partial = json.loads(cli("keys", "rotate", "--batch", "5", "--max-batches", "2", "--json",
                             keys=f"{KEY_B},{KEY_A}").stdout)
    assert (partial["rotated_total"], partial["remaining"], partial["complete"]) == (10, total - 10, False)
    done = json.loads(cli("keys", "rotate", "--batch", "5", "--json", keys=f"{KEY_B},{KEY_A}").stdout)
    assert (done["rotated_total"], done["complete"]) == (total - 10, True)
    after = live(KEY_B)
    assert {kid for kid, _ in after.values()} == {"kb"}
    assert {k: v for k, (_, v) in after.items()} == {k: v for k, (_, v) in before.items()}

    # GDPR: export finds the subject; erase removes every trace and nothing else
    export = json.loads(cli("privacy", "export", subject["phone"], "--json", keys=KEY_B).stdout)
    assert sorted(p["parcel_id"] for p in export["parcels"]) == ["P0000003", "P0000006"]
    assert len(export["quarantine"]) == 2
    theirs = {pk for (name, pk), (_, v) in after.items() if name == "parcels.recipient" and traces(v, subject)}
    others = {k: v for k, (_, v) in after.items()
              if not traces(v, subject) and not (k[0].startswith("parcels.") and k[1] in theirs)}
    assert traces(decrypted_dump(pg_dump(pg_url), KEY_B), subject)  # the check below can see the subject
    erased = json.loads(cli("privacy", "erase", subject["email"], "--json", keys=KEY_B).stdout)
    assert (erased["parcels"], erased["quarantine_payloads"], erased["compacted"]) == (2, 2, False)
    dump = pg_dump(pg_url)
    assert "ACME-" in dump and not traces(dump, subject)
    assert not traces(decrypted_dump(dump, KEY_B), subject)
    assert {k: v for k, (_, v) in live(KEY_B).items()} == others

    # audit: the chain verifies; the table refuses changes; a direct edit (trigger dropped) is named
    verified = json.loads(cli("audit", "verify", "--json", keys=KEY_B).stdout)
    assert verified["ok"] and verified["entries"] == 4  # two rotations, one export, one erasure
    store = Store(pg_url)
    try:
        with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
        with store.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
            conn.execute(text("UPDATE audit_log SET actor = 'user:someone' WHERE seq = 3"))
    finally:
        store.dispose()
    proc = cli("audit", "verify", "--json", keys=KEY_B)
    assert proc.returncode == 1
    assert [(p["seq"], p["kind"]) for p in json.loads(proc.stdout)["problems"]] == [(3, "edited")]
