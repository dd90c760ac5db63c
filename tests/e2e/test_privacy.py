"""GDPR requests through the CLI after a pilot run over CSV, X12 and EDIFACT drops: export finds one recipient's
parcels and quarantined inputs; erase leaves no trace of them in the database file (decrypting every ciphertext in
it included) and leaves every other recipient as it was."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from lockerhub.errors import ConfigError
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.pipeline import run_hub
from lockerhub.security.crypto import FieldCipher
from lockerhub.security.fields import ENCRYPTED_FIELDS
from lockerhub.settings import Settings
from lockerhub.store import EventRow, OutboxRow, ParcelRow, QuarantineRow, Store

TOKEN = re.compile(rb"v1:[A-Za-z0-9_.-]+:[A-Za-z0-9+/]+={0,2}")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockerhub.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120, check=False)


def db_bytes(data_dir: Path) -> bytes:
    """The SQLite database as it sits on disk: the file and its write-ahead log."""
    raw = (data_dir / "lockerhub.db").read_bytes()
    for extra in ("lockerhub.db-wal", "lockerhub.db-journal"):
        if (data_dir / extra).exists():
            raw += (data_dir / extra).read_bytes()
    return raw


def decrypt_everything(raw: bytes, cipher: FieldCipher) -> list[str]:
    """Every ciphertext found anywhere in ``raw`` (live rows, free pages, old page copies), decrypted."""
    plain = []
    for token in {m.group().decode() for m in TOKEN.finditer(raw)}:
        value = decrypt_any(cipher, token)
        if value is not None:
            plain.append(value)
    return plain


def live_values(cipher: FieldCipher) -> dict[tuple[str, int], str]:
    """Every encrypted value of the store, decrypted: ``{(field, row id): plaintext}``."""
    store = Store(Settings().resolved_database_url())
    out = {}
    try:
        with store.transaction() as s:
            for f in ENCRYPTED_FIELDS:
                for pk, token in s.execute(select(f.pk, f.attr).where(f.attr.is_not(None), f.attr != "")):
                    out[(f.name, pk)] = cipher.decrypt(token, context=f.context) or ""
    finally:
        store.dispose()
    return out


def decrypt_any(cipher: FieldCipher, token: str) -> str | None:
    """The plaintext of a ciphertext of any encrypted column, or None (cut off, or not one of ours)."""
    for f in ENCRYPTED_FIELDS:
        with contextlib.suppress(ConfigError):
            return cipher.decrypt(token, context=f.context) or ""
    return None


def traces(texts: list[str] | str, subject: dict[str, str]) -> list[str]:
    joined = texts if isinstance(texts, str) else "\n".join(texts)
    return [v for v in subject.values() if v.lower() in joined.lower()]


@pytest.fixture
def hub_run(pilot: Path, sim, privacy_drops: dict[str, str]) -> tuple[Path, dict[str, str]]:  # type: ignore[no-untyped-def]
    hub = Hub.open(pilot)
    try:
        result = run_hub(hub)
    finally:
        hub.close()
    assert sum(r.accepted for r in result.ingested) == 7 + 3 + 2  # CSV (one broken row), X12 and EDIFACT parcels
    return Path(os.environ["LOCKERHUB_DATA_DIR"]), privacy_drops


def test_export_finds_the_recipients_parcels_and_quarantined_inputs(hub_run) -> None:  # type: ignore[no-untyped-def]
    _, subject = hub_run
    proc = cli("privacy", "export", subject["email"].upper(), "--json")  # e-mail addresses compare without case
    assert proc.returncode == 0, proc.stderr
    export = json.loads(proc.stdout)
    assert sorted(p["parcel_id"] for p in export["parcels"]) == ["P0000003", "P0000006"]
    assert {p["recipient"]["name"] for p in export["parcels"]} == {subject["name"]}
    assert all(p["access_code"] and p["events"] and p["status_messages"] for p in export["parcels"])
    stages = sorted((q["stage"], Path(q["location"].split(":")[0]).suffix) for q in export["quarantine"])
    assert stages == [("map", ".csv"), ("map", ".edi")]  # the broken CSV row and the broken 204 transaction
    assert all(subject["phone"] in q["payload"] for q in export["quarantine"])
    by_phone = json.loads(cli("privacy", "export", "0048 000 000 003", "--json").stdout)  # same number, other form
    assert sorted(p["parcel_id"] for p in by_phone["parcels"]) == ["P0000003", "P0000006"]
    table = cli("privacy", "export", subject["phone"])
    assert table.returncode == 0 and "P0000006" in table.stdout


def test_erase_leaves_no_trace_and_keeps_everyone_else(hub_run) -> None:  # type: ignore[no-untyped-def]
    data_dir, subject = hub_run
    settings = Settings()
    cipher = FieldCipher.from_env_or_file(None, data_dir)
    before = decrypt_everything(db_bytes(data_dir), cipher)
    assert traces(before, subject)  # the check below can see the subject's data
    values = live_values(cipher)
    theirs = {pk for (name, pk), v in values.items() if name == "parcels.recipient" and traces(v, subject)}
    others = {k: v for k, v in values.items()
              if not traces(v, subject) and not (k[0].startswith("parcels.") and k[1] in theirs)}
    assert len(others) == len(values) - 2 * 2 - 2  # their two recipients and access codes, their two payloads

    dry = json.loads(cli("privacy", "erase", subject["email"], "--dry-run", "--json").stdout)
    assert (dry["parcels"], dry["quarantine_payloads"], dry["dry_run"]) == (2, 2, True)
    assert traces(decrypt_everything(db_bytes(data_dir), cipher), subject)  # a dry run changes nothing

    proc = cli("privacy", "erase", subject["email"], "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["parcels"], report["quarantine_payloads"], report["compacted"]) == (2, 2, True)

    raw = db_bytes(data_dir)
    for value in subject.values():
        assert value.encode() not in raw and value.upper().encode() not in raw
        assert base64.b64encode(value.encode()) not in raw
    after = decrypt_everything(raw, cipher)
    assert not traces(after, subject)
    assert live_values(cipher) == others  # every other recipient, access code and payload is as it was

    store = Store(settings.resolved_database_url())
    try:
        with store.transaction() as s:
            erased = list(s.scalars(select(ParcelRow).where(ParcelRow.pii_erased_at.is_not(None))))
            assert sorted(r.parcel_id for r in erased) == ["P0000003", "P0000006"]
            assert all(r.recipient_enc is None and r.access_code_enc is None and r.status and r.parcel
                       for r in erased)  # anonymised records stay
            assert s.scalar(select(EventRow.id).where(EventRow.parcel_pk == erased[0].id)) is not None
            assert s.scalar(select(OutboxRow.id)) is not None
            items = list(s.scalars(select(QuarantineRow).where(QuarantineRow.payload_erased_at.is_not(None))))
            assert len(items) == 2 and all(i.payload_enc == "" and i.errors for i in items)
            kept = s.scalars(select(ParcelRow).where(ParcelRow.pii_erased_at.is_(None))).all()
            assert len(kept) == 10 and all(r.recipient_enc for r in kept)
    finally:
        store.dispose()

    again = json.loads(cli("privacy", "export", subject["email"], "--json").stdout)
    assert again["parcels"] == [] and again["quarantine"] == []
    audit = json.loads(cli("audit", "list", "--json").stdout)
    assert [e["action"] for e in audit][:2] == ["privacy.export", "privacy.erase"]  # newest first
    assert not traces(json.dumps(audit), subject)  # the log names a pseudonym, never the subject
    assert cli("audit", "verify").returncode == 0


def test_a_subject_that_is_neither_an_address_nor_a_number_is_refused(pilot: Path) -> None:
    proc = cli("privacy", "erase", "Test Recipient 0003")
    assert proc.returncode == 1
    assert "expected an e-mail address or a phone number" in proc.stderr
    assert "Test Recipient" not in proc.stderr  # the value is not echoed


@pytest.mark.parametrize("command", [["keys", "status"], ["keys", "rotate"], ["privacy", "export"],
                                     ["privacy", "erase"], ["audit", "verify"], ["audit", "list"]])
def test_security_commands_have_help_with_example(command: list[str]) -> None:
    proc = cli(*command, "--help")
    assert proc.returncode == 0 and "Example" in proc.stdout, command
