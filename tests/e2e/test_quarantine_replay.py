"""`lockerhub quarantine replay|discard` through the CLI (typer's CliRunner, in process, so the simulated network's
reservations can be counted): a CSV row the mapping could not read is fixed and replayed, booked once; a dry run
changes nothing; a status item applies forward-only; every replay is audited; exit codes say what failed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from lockerhub.cli import app
from lockerhub.model import ParcelEvent, ParcelStatus
from lockerhub.runtime import quarantine
from lockerhub.security.crypto import FieldCipher
from lockerhub.settings import Settings
from lockerhub.simulator.tms_drops import render, rows
from lockerhub.store import AuditRow, EventRow, OutboxRow, ParcelRow, QuarantineRow, Store


def lockerhub(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def as_json(*args: str, code: int = 0) -> Any:
    result = lockerhub(*args, "--json")
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


@pytest.fixture
def store(pilot: Path) -> Any:
    settings = Settings()
    hub_store = Store(settings.resolved_database_url())
    hub_store.migrate()
    yield hub_store
    hub_store.dispose()


def counts(store: Store) -> dict[str, int]:
    with store.transaction() as s:
        return {t.__tablename__: s.scalar(select(func.count()).select_from(t)) or 0
                for t in (ParcelRow, EventRow, OutboxRow, QuarantineRow, AuditRow)}


def reservations(world) -> int:  # type: ignore[no-untyped-def]
    return len(world.reservations_page(limit=1000)[0])


def parcel(store: Store, parcel_id: str) -> ParcelRow:
    with store.transaction() as s:
        row = s.scalar(select(ParcelRow).where(ParcelRow.parcel_id == parcel_id))
        assert row is not None
        return row


def test_fix_then_replay_books_once_dry_run_changes_nothing_and_all_is_audited(  # type: ignore[no-untyped-def]
        pilot: Path, sim, world, network, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKERHUB_ACTOR", "ops:night-shift")
    data = rows(3, [lk for lk in network if lk.region == "WAW"], seed=21)
    for r in data:
        r[9:13] = ["30", "20", "5", "1.5"]
    data[1][13] = "AMB"  # line 3: a temperature code the mapping does not know yet
    (pilot.parent / "inbox" / "acme-tms" / "drop.csv").write_bytes(render(data))
    first = as_json("run", str(pilot))
    assert (first["ingested"][0]["quarantined"], first["booking"]["booked"]) == (1, 2)
    [item] = as_json("quarantine", "list")
    qid, config = item["qid"], str(pilot)

    still = as_json("quarantine", "replay", "--all", "--config", config, code=1)  # not fixed yet: fails again
    assert still["failed"] == 1 and "temperature" in still["results"][0]["detail"]
    assert as_json("quarantine", "list")[0]["attempts"] == 2

    mapping = pilot.parents[2] / "mappings" / "acme-tms" / "shipments.yaml"
    text = mapping.read_text("utf-8")
    mapping.write_text(text.replace("{op: text, of: temperature, case: lower, default: ambient}",
                                    "{op: lookup, of: temperature, table: {AMB: ambient, ambient: ambient}}"), "utf-8")

    before, held = counts(store), reservations(world)
    dry = as_json("quarantine", "replay", qid, "--config", config, "--dry-run")
    assert dry["dry_run"] is True and dry["results"][0]["outcome"] == "replayed"
    assert any(c.startswith("would call book(") for c in dry["results"][0]["vendor_calls"])
    after = counts(store)
    assert after.pop("audit_log") == before.pop("audit_log") + 1  # only the audit entry of the dry run
    assert after == before and reservations(world) == held

    table = lockerhub("quarantine", "replay", qid, "--config", config, "--actor", "ops:alice")
    assert table.exit_code == 0, table.output
    assert qid in table.stdout and "replayed" in table.stdout
    booked = parcel(store, "P0000002")
    assert booked.status == ParcelStatus.BOOKED.value and reservations(world) == held + 1

    twice = as_json("quarantine", "replay", qid, "--config", config)
    assert twice["results"][0]["outcome"] == "skipped" and reservations(world) == held + 1
    assert as_json("quarantine", "replay", "--all", "--config", config)["results"] == []

    with store.transaction() as s:
        entries = [(e.actor, e.subject, e.details["outcome"], e.details["dry_run"])
                   for e in s.scalars(select(AuditRow).where(AuditRow.action == "quarantine.replay")
                                      .order_by(AuditRow.seq))]
    assert entries == [("ops:night-shift", qid, "failed", False), ("ops:night-shift", qid, "replayed", True),
                       ("ops:alice", qid, "replayed", False), ("ops:night-shift", qid, "skipped", False)]
    assert lockerhub("audit", "verify").exit_code == 0  # the hash chain is intact


def test_status_item_replays_forward_only_and_discard_closes_an_item(  # type: ignore[no-untyped-def]
        pilot: Path, sim, network, store: Store) -> None:
    data = rows(1, [lk for lk in network if lk.region == "WAW"], seed=22)
    data[0][9:13] = ["30", "20", "5", "1.5"]
    (pilot.parent / "inbox" / "acme-tms" / "one.csv").write_bytes(render(data))
    assert as_json("run", str(pilot))["booking"]["booked"] == 1
    row = parcel(store, "P0000001")
    settings = Settings()
    cipher = FieldCipher.from_env_or_file(None, settings.data_dir)
    qids = []
    later = datetime.now(UTC) + timedelta(days=1)  # after the booking; IN_TRANSIT happened before DEPOSITED
    for status, event_id, hour in ((ParcelStatus.DEPOSITED, "ev-2", 2), (ParcelStatus.IN_TRANSIT, "ev-1", 1)):
        event = ParcelEvent(status=status, occurred_at=later + timedelta(hours=hour), source="simlocker",
                            event_id=event_id)
        with store.transaction() as s:
            qids.append(quarantine.put(s, cipher, source="simlocker", partner=row.partner,
                                       location=quarantine.parcel_location(row), stage="status",
                                       errors=["forbidden transition"], payload=event.model_dump_json()).qid)
    report = as_json("quarantine", "replay", "--all", "--stage", "status", "--config", str(pilot))
    assert [(r["qid"], r["code"]) for r in report["results"]] == [(qids[0], "applied"), (qids[1], "stale")]
    assert parcel(store, "P0000001").status == ParcelStatus.DEPOSITED.value

    with store.transaction() as s:
        extra = quarantine.put(s, cipher, source="simlocker", partner=row.partner,
                               location=quarantine.parcel_location(row), stage="reconcile",
                               errors=["hub and vendor disagree"], payload="{}").qid
    unsupported = as_json("quarantine", "replay", extra, "--config", str(pilot), code=1)
    assert unsupported["results"][0]["code"] == "unsupported"
    done = lockerhub("quarantine", "discard", extra, "--reason", "fixed at the vendor by hand")
    assert done.exit_code == 0 and f"{extra} discarded" in done.stdout
    assert lockerhub("quarantine", "discard", extra, "--reason", "again").exit_code == 1
    assert as_json("quarantine", "list") == []


def test_usage_errors_and_help(pilot: Path, sim) -> None:  # type: ignore[no-untyped-def]
    assert lockerhub("quarantine", "replay", "--config", str(pilot)).exit_code == 1  # neither ids nor --all
    assert lockerhub("quarantine", "replay", "q-000001", "--all", "--config", str(pilot)).exit_code == 1
    unknown = lockerhub("quarantine", "replay", "q-000042", "--config", str(pilot))
    assert unknown.exit_code == 1 and "no quarantine item q-000042" in str(unknown.exception)
    for command in ("replay", "discard"):
        shown = lockerhub("quarantine", command, "--help")
        assert shown.exit_code == 0 and "Example" in shown.stdout
