"""Key rotation as a library: committed batches survive an interruption and a second run finishes; erased values
are left alone; every encrypted column of the schema is covered; retention runs are audited."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from lockerhub.runtime.hub import Hub
from lockerhub.security import audit
from lockerhub.security.crypto import FieldCipher
from lockerhub.security.fields import ENCRYPTED_FIELDS
from lockerhub.security.retention import erase_expired
from lockerhub.security.rotation import key_status, pending, rotate
from lockerhub.store import Base, OpsUserRow, ParcelRow, QuarantineRow, Store

KEY_A = "ka:" + base64.b64encode(bytes([1]) * 32).decode()  # test-only keys, not secrets
KEY_B = "kb:" + base64.b64encode(bytes([2]) * 32).decode()


def ring(keys: str) -> FieldCipher:
    return FieldCipher.from_env_or_file(keys, Path("/nonexistent"))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    s.migrate()
    a = ring(KEY_A)
    with s.transaction() as session:
        for n in range(1, 8):
            session.add(ParcelRow(key=f"k{n}", partner="acme-tms", shipment_ref=f"ACME-{n:06d}", parcel_id=f"P{n}",
                                  status="BOOKED", parcel={},
                                  recipient_enc=a.encrypt(f'{{"name": "Test Recipient {n:04d}"}}',
                                                          context="parcels.recipient"),
                                  access_code_enc=a.encrypt(f"{n:06d}", context="parcels.access_code") if n % 2
                                  else None))
        session.add(QuarantineRow(source="drop.csv", location="drop.csv:2", stage="map", fingerprint="f1", errors=[],
                                  payload_enc=a.encrypt("row 2", context="quarantine.payload")))
        session.add(QuarantineRow(source="drop.csv", location="drop.csv:3", stage="map", fingerprint="f2", errors=[],
                                  payload_enc=""))  # erased by retention: nothing to rotate
        session.add(OpsUserRow(name="test-operator", role="operator", password_hash="not-a-hash",
                               totp_secret_enc=a.encrypt("TESTONLYTOTPSECRET", context="ops_users.totp_secret")))
    yield s
    s.dispose()


def plain(store: Store, keys: str) -> dict[tuple[str, int], str]:
    cipher = ring(keys)
    with store.transaction() as s:
        return {(f.name, pk): cipher.decrypt(token, context=f.context) or ""
                for f in ENCRYPTED_FIELDS
                for pk, token in s.execute(select(f.pk, f.attr).where(f.attr.is_not(None), f.attr != ""))}


def test_every_encrypted_column_is_rotated() -> None:
    columns = {(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns if c.name.endswith("_enc")}
    assert columns == {(f.row.__tablename__, f.column) for f in ENCRYPTED_FIELDS}


def test_interrupted_rotation_keeps_its_batches_and_a_second_run_finishes(store: Store) -> None:
    before = plain(store, KEY_A)
    both = ring(f"{KEY_B},{KEY_A}")
    assert pending(store, both) == {"parcels.recipient": 7, "parcels.access_code": 4, "quarantine.payload": 1,
                                    "ops_users.totp_secret": 1}
    seen: list[int] = []

    def stop_after_two_batches(_field: str, n: int) -> None:
        seen.append(n)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotate(store, both, batch=3, progress=stop_after_two_batches)
    assert key_status(store)["parcels.recipient"] == {"ka": 1, "kb": 6}  # both batches committed
    report = rotate(store, both, batch=3)
    assert report.rotated == {"parcels.recipient": 1, "parcels.access_code": 4, "quarantine.payload": 1,
                              "ops_users.totp_secret": 1}
    assert report.complete and report.remaining == 0
    assert plain(store, KEY_B) == before
    assert key_status(store) == {"parcels.recipient": {"kb": 7}, "parcels.access_code": {"kb": 4},
                                 "quarantine.payload": {"kb": 1}, "ops_users.totp_secret": {"kb": 1}}
    assert [e.action for e in audit.entries(store)] == ["keys.rotate"]  # the interrupted run recorded nothing


def test_batch_must_be_positive(store: Store) -> None:
    with pytest.raises(ValueError, match="batch"):
        rotate(store, ring(KEY_B), batch=0)


def test_create_schema_creates_the_audit_log(store: Store) -> None:
    from sqlalchemy import inspect

    assert "audit_log" in inspect(store.engine).get_table_names()


def test_retention_runs_are_audited(pilot: Path, sim) -> None:  # type: ignore[no-untyped-def]
    hub = Hub.open(pilot)
    try:
        now = datetime(2026, 3, 1, tzinfo=timezone.utc)
        erase_expired(hub, now=now, dry_run=True)
        assert audit.entries(hub.store) == []  # a dry run changes nothing and records nothing
        erase_expired(hub, now=now, retention_days=30)
        (entry,) = audit.entries(hub.store)
        assert entry.action == "retention.erase" and entry.at == now
        assert entry.details == {"retention_days": 30, "cutoff": (now - timedelta(days=30)).isoformat(),
                                 "parcels": 0, "quarantine_payloads": 0}
    finally:
        hub.close()
