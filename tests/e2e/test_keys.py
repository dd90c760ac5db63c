"""Key rotation through the CLI: data written under key A; the ring becomes "B,A"; `keys rotate` (interrupted, then
run again) moves everything under B; the ring "B" alone then decrypts every value, unchanged."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from lockerhub.runtime.hub import Hub
from lockerhub.runtime.pipeline import run_hub
from lockerhub.security.access import TOTP_CONTEXT
from lockerhub.security.crypto import FieldCipher
from lockerhub.security.fields import ENCRYPTED_FIELDS
from lockerhub.settings import Settings
from lockerhub.store import OpsUserRow, Store


def key(kid: str, fill: int) -> str:
    return f"{kid}:{base64.b64encode(bytes([fill]) * 32).decode()}"  # test-only keys, not secrets


KEY_A, KEY_B = key("ka", 1), key("kb", 2)


def cli(*args: str, keys: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOCKERHUB_PII_KEYS": keys}
    return subprocess.run([sys.executable, "-m", "lockerhub.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def snapshot(keys: str) -> dict[tuple[str, int], tuple[str, str]]:
    """``{(field, row id): (key id, plaintext)}`` of every encrypted value, decrypted with the ring ``keys``."""
    settings = Settings()
    cipher = FieldCipher.from_env_or_file(keys, settings.data_dir)
    store = Store(settings.resolved_database_url())
    try:
        with store.transaction() as s:
            return {(f.name, pk): (FieldCipher.key_id_of(token) or "?", cipher.decrypt(token, context=f.context) or "")
                    for f in ENCRYPTED_FIELDS
                    for pk, token in s.execute(select(f.pk, f.attr).where(f.attr.is_not(None), f.attr != ""))}
    finally:
        store.dispose()


@pytest.fixture
def written_under_a(pilot: Path, sim, privacy_drops, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LOCKERHUB_PII_KEYS", KEY_A)
    hub = Hub.open(pilot)
    try:
        run_hub(hub)
        with hub.store.transaction() as s:  # an ops user's TOTP secret is rotated too
            s.add(OpsUserRow(name="test-operator", role="operator", password_hash="not-a-hash",
                             totp_secret_enc=hub.cipher.encrypt("TESTONLYTOTPSECRET", context=TOTP_CONTEXT) or ""))
    finally:
        hub.close()
    before = snapshot(KEY_A)
    assert {kid for kid, _ in before.values()} == {"ka"}
    assert {name for name, _ in before} == {f.name for f in ENCRYPTED_FIELDS}  # every field has values
    return before


def test_rotate_interrupted_then_completed_and_the_new_key_alone_decrypts_everything(written_under_a) -> None:  # type: ignore[no-untyped-def]
    before = written_under_a
    total = len(before)
    first = cli("keys", "rotate", "--batch", "4", "--max-batches", "2", "--json", keys=f"{KEY_B},{KEY_A}")
    assert first.returncode == 0, first.stderr
    partial = json.loads(first.stdout)
    assert (partial["rotated_total"], partial["batches"], partial["complete"]) == (8, 2, False)
    assert partial["remaining"] == total - 8
    status = json.loads(cli("keys", "status", "--json", keys=f"{KEY_B},{KEY_A}").stdout)
    assert sum(status["fields"]["parcels.recipient"].values()) == sum(1 for n, _ in before if n == "parcels.recipient")
    assert status["fields"]["parcels.recipient"].get("kb") == 8

    second = cli("keys", "rotate", "--batch", "4", "--json", keys=f"{KEY_B},{KEY_A}")
    assert second.returncode == 0, second.stderr
    done = json.loads(second.stdout)
    assert (done["rotated_total"], done["remaining"], done["complete"]) == (total - 8, 0, True)
    assert "re-encrypt under kb" in second.stderr  # the progress bar

    after = snapshot(KEY_B)  # the old key is gone from the ring
    assert {kid for kid, _ in after.values()} == {"kb"}
    assert {k: v for k, (_, v) in after.items()} == {k: v for k, (_, v) in before.items()}
    status = json.loads(cli("keys", "status", "--json", keys=KEY_B).stdout)
    assert status["active_kid"] == "kb" and all(set(c) == {"kb"} for c in status["fields"].values())
    again = json.loads(cli("keys", "rotate", "--json", keys=KEY_B).stdout)
    assert (again["rotated_total"], again["complete"]) == (0, True)  # nothing left: a re-run is a no-op

    listing = json.loads(cli("quarantine", "list", "--json", keys=KEY_B).stdout)
    for item in listing[:2]:  # quarantined payloads were rotated too: revealed with the new key alone
        shown = json.loads(cli("quarantine", "show", item["qid"], "--reveal", "--json", keys=KEY_B).stdout)
        assert shown["payload"] == before[("quarantine.payload", int(item["qid"].removeprefix("q-")))][1]
    audit = json.loads(cli("audit", "list", "--json", keys=KEY_B).stdout)
    assert [e["action"] for e in audit] == ["quarantine.reveal", "quarantine.reveal", "keys.rotate", "keys.rotate",
                                            "keys.rotate"]
    assert audit[-1]["details"]["complete"] is False and audit[-2]["details"]["complete"] is True
    assert cli("audit", "verify", keys=KEY_B).returncode == 0


def test_rotation_refuses_values_under_a_key_the_ring_lacks(written_under_a) -> None:  # type: ignore[no-untyped-def]
    proc = cli("keys", "rotate", keys=KEY_B)
    assert proc.returncode == 1
    assert "some values are under keys the ring does not hold" in proc.stderr and "'ka'" in proc.stderr
    assert KEY_B.split(":")[1] not in proc.stderr + proc.stdout
    assert {kid for kid, _ in snapshot(KEY_A).values()} == {"ka"}  # nothing was changed
    table = cli("keys", "status", keys=KEY_B)
    assert "not in the ring" in table.stdout
