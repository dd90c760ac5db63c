"""Quarantine replay: items go through after the cause is fixed, side effects already made are skipped, a dry run
changes nothing, and every replay is audited.

The pilot config runs against the simulated network; the vendor is wrapped in a spy that counts ``reserve`` and
``book`` calls, can hide a locker (it is "unknown" until shown) and can fail bookings after the vendor made them
(a time-out on the way back). Names and ids are synthetic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lockerhub.errors import LockerhubError, TransientError
from lockerhub.model import ParcelEvent, ParcelStatus
from lockerhub.runtime import quarantine
from lockerhub.runtime.booking import book_pending
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import ingest_file
from lockerhub.runtime.replay import REPLAYERS, Done, ReplayFilter, discard, replay, replayer
from lockerhub.runtime.retry import RetryPolicy
from lockerhub.simulator.tms_drops import render, rows
from lockerhub.store import AuditRow, EventRow, OutboxRow, ParcelRow, QuarantineRow

FIXTURES = Path(__file__).resolve().parents[2] / "e2e" / "fixtures"
NEW_LOCKER = "NOPE-0001"  # requested by the second tender of mixed_outcomes_204.edi
FIXED_TEMPERATURE = ("      temperature: {op: lookup, of: temperature, table: {AMB: ambient, ambient: ambient}}\n")


class VendorSpy:
    """The real vendor connector, counted; ``hidden`` lockers are left out of the network listing."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: list[tuple[str, str]] = []  # (verb, idempotency key)
        self.hidden: set[str] = set()
        self.lose_book_answers = False  # the vendor books, then the answer is lost

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def list_lockers(self) -> Iterator[Any]:
        return (lk for lk in self.real.list_lockers() if lk.locker_id not in self.hidden)

    def reserve(self, locker_id: str, size_class: str, *, idempotency_key: str) -> Any:
        self.calls.append(("reserve", idempotency_key))
        return self.real.reserve(locker_id, size_class, idempotency_key=idempotency_key)

    def book(self, reservation_id: str, *, idempotency_key: str) -> Any:
        self.calls.append(("book", idempotency_key))
        result = self.real.book(reservation_id, idempotency_key=idempotency_key)
        if self.lose_book_answers:
            raise TransientError("fake vendor: read timed out")
        return result

    def count(self, verb: str) -> int:
        return sum(v == verb for v, _ in self.calls)


@pytest.fixture
def network(network):  # type: ignore[no-untyped-def]
    """The shared network plus a locker the spy can hide (a copy of a Krakow locker, near the tender's
    recipient)."""
    krk = next(lk for lk in network if lk.region == "KRK")
    return [*network, krk.model_copy(update={"locker_id": NEW_LOCKER})]


@pytest.fixture
def open_hub(pilot: Path, sim) -> Iterator[Callable[[], Hub]]:  # type: ignore[no-untyped-def]
    """Opens the pilot hub as a command would (mappings read afresh), always with the same spy as vendor."""
    hubs: list[Hub] = []
    state: dict[str, VendorSpy] = {}

    def opener() -> Hub:
        hub = Hub.open(pilot, retry=RetryPolicy(sleep=lambda _: None))
        if "spy" not in state:  # one spy, one set of counts, whichever hub asks
            real = hub.vendor()
            state["spy"] = type("Spy", (VendorSpy,), {"capabilities": type(real).capabilities})(real)
        hub._connectors[("vendors", hub.vendor_name)] = state["spy"]
        hubs.append(hub)
        return hub

    yield opener
    for hub in hubs:
        hub.close()


def spy_of(hub: Hub) -> VendorSpy:
    return hub.vendor()  # type: ignore[return-value]


def counts(hub: Hub) -> dict[str, int]:
    with hub.store.transaction() as s:
        return {t.__tablename__: s.scalar(select(func.count()).select_from(t)) or 0
                for t in (ParcelRow, EventRow, OutboxRow, QuarantineRow)}


def items(hub: Hub) -> list[QuarantineRow]:
    with hub.store.transaction() as s:
        return list(s.scalars(select(QuarantineRow).order_by(QuarantineRow.id)))


def audit_entries(hub: Hub, action: str = "quarantine.replay") -> list[AuditRow]:
    with hub.store.transaction() as s:
        return list(s.scalars(select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.seq)))


def parcel(hub: Hub, parcel_id: str) -> ParcelRow:
    with hub.store.transaction() as s:
        row = s.scalar(select(ParcelRow).where(ParcelRow.parcel_id == parcel_id))
        assert row is not None
        return row


def csv_drop(pilot: Path, network, *, amb_row: int | None = 1) -> Path:  # type: ignore[no-untyped-def]
    data = rows(3, [lk for lk in network if lk.region == "WAW"], seed=11)
    for r in data:
        r[9:13] = ["30", "20", "5", "1.5"]  # fits the smallest class everywhere
    if amb_row is not None:
        data[amb_row][13] = "AMB"  # the TMS's code for ambient: the mapping does not know it yet
    path = pilot.parent / "inbox" / "acme-tms" / "drop.csv"
    path.write_bytes(render(data))
    return path


def fix_mapping(pilot: Path) -> None:
    mapping = pilot.parents[2] / "mappings" / "acme-tms" / "shipments.yaml"
    lines = mapping.read_text("utf-8").splitlines(keepends=True)
    mapping.write_text("".join(FIXED_TEMPERATURE if "temperature:" in ln else ln for ln in lines), "utf-8")


@pytest.fixture
def map_item(open_hub, pilot: Path, network) -> tuple[Hub, QuarantineRow]:  # type: ignore[no-untyped-def]
    """A CSV drop whose row 2 (line 3) uses a temperature code the mapping does not know, ingested and booked;
    then the mapping fixed and a new hub opened."""
    hub = open_hub()
    report = ingest_file(hub, "acme-tms", csv_drop(pilot, network))
    assert (report.accepted, report.quarantined) == (2, 1)
    assert book_pending(hub).booked == 2
    [item] = items(hub)
    assert item.stage == "map" and item.location.endswith("drop.csv:3")
    fix_mapping(pilot)
    return open_hub(), item


def test_map_item_replays_after_the_mapping_is_fixed_and_books_once(map_item) -> None:  # type: ignore[no-untyped-def]
    hub, item = map_item
    spy = spy_of(hub)
    booked_before = spy.count("book")
    report = replay(hub, [item.qid], dry_run=False, actor="ops:test")
    [result] = report.results
    assert (result.outcome, result.code, report.failed) == ("replayed", "created", 0)
    assert result.vendor_calls[0].startswith("reserve(") and result.vendor_calls[1].startswith("book(")
    assert spy.count("book") == booked_before + 1
    booked = parcel(hub, "P0000002")
    assert booked.status == ParcelStatus.BOOKED.value and booked.reservation_id is not None
    assert booked.parcel["temperature"] == "ambient"
    assert [(r.state, r.attempts) for r in items(hub)] == [("replayed", 1)]

    again = replay(hub, [item.qid], dry_run=False, actor="ops:test")  # by id: skipped, it is not open
    assert (again.results[0].outcome, again.results[0].code) == ("skipped", "already_replayed")
    assert replay(hub, ReplayFilter(), dry_run=False).results == []  # --all: nothing open
    assert spy.count("book") == booked_before + 1
    entries = audit_entries(hub)
    assert [(e.actor, e.subject, e.details["outcome"]) for e in entries] == [
        ("ops:test", item.qid, "replayed"), ("ops:test", item.qid, "skipped")]
    assert entries[0].details == {"stage": "map", "outcome": "replayed", "code": "created", "dry_run": False}


def test_dry_run_changes_nothing_and_calls_no_vendor_write(map_item) -> None:  # type: ignore[no-untyped-def]
    hub, item = map_item
    spy = spy_of(hub)
    before, calls = counts(hub), list(spy.calls)
    report = replay(hub, ReplayFilter(stage="map"), dry_run=True, actor="ops:test")
    [result] = report.results
    assert report.dry_run and result.outcome == "replayed"
    assert "1 parcel(s) created" in result.detail
    assert [c.split("(")[0] for c in result.vendor_calls] == ["would call reserve", "would call book"]
    assert counts(hub) == before and spy.calls == calls
    assert [(r.state, r.attempts) for r in items(hub)] == [("open", 1)]
    [entry] = audit_entries(hub)
    assert entry.details["dry_run"] is True and entry.subject == item.qid
    assert replay(hub, [item.qid], dry_run=False).results[0].outcome == "replayed"  # the real one still works


def test_failing_again_stays_open_with_the_new_error(open_hub, pilot: Path, network) -> None:  # type: ignore[no-untyped-def]
    hub = open_hub()
    ingest_file(hub, "acme-tms", csv_drop(pilot, network))
    [item] = items(hub)
    report = replay(hub, ReplayFilter(), dry_run=False)  # the mapping is not fixed
    assert (report.failed, report.results[0].code) == (1, "failed_again")
    [after] = items(hub)
    assert (after.state, after.attempts) == ("open", 2)
    assert "temperature" in after.errors[0] and "drop.csv:3" in after.errors[0]
    assert audit_entries(hub)[0].details["outcome"] == "failed"


def test_admit_item_for_an_unknown_locker_replays_once_the_locker_is_known(open_hub, pilot: Path) -> None:  # type: ignore[no-untyped-def]
    hub = open_hub()
    spy = spy_of(hub)
    spy.hidden.add(NEW_LOCKER)
    inbox = pilot.parent / "inbox" / "acme-x12"
    (inbox / "tenders.edi").write_bytes((FIXTURES / "mixed_outcomes_204.edi").read_bytes())
    ingest_file(hub, "acme-x12", inbox / "tenders.edi")
    [unknown] = [i for i in items(hub) if i.stage == "admit" and "unknown locker" in " ".join(i.errors)]
    assert replay(hub, [unknown.qid], dry_run=False).failed == 1  # still unknown

    spy.hidden.clear()  # the vendor installed it
    books = spy.count("book")
    report = replay(open_hub(), [unknown.qid], dry_run=False)
    assert report.results[0].outcome == "replayed", report.results[0].errors
    assert parcel(hub, "P040102").locker_id == NEW_LOCKER
    assert spy.count("book") == books + 1


def test_book_item_already_booked_is_skipped_without_a_vendor_call(open_hub, pilot: Path, network) -> None:  # type: ignore[no-untyped-def]
    hub = open_hub()
    ingest_file(hub, "acme-tms", csv_drop(pilot, network, amb_row=None))
    book_pending(hub)
    row = parcel(hub, "P0000001")
    with hub.store.transaction() as s:  # the item a time-out left before a later run booked the parcel
        qid = quarantine.put(s, hub.cipher, source="simlocker", partner=row.partner,
                             location=quarantine.parcel_location(row), stage="book",
                             errors=["vendor unreachable"], payload=row.key).qid
    calls = list(spy_of(hub).calls)
    for dry_run in (True, False):
        [result] = replay(hub, [qid], dry_run=dry_run).results
        assert (result.outcome, result.code) == ("replayed", "already_booked")
        assert "already booked" in result.detail and result.vendor_calls == []
    assert spy_of(hub).calls == calls
    assert parcel(hub, "P0000001").reservation_id == row.reservation_id


def test_book_item_replays_with_the_same_idempotency_keys(open_hub, pilot: Path, network, world) -> None:  # type: ignore[no-untyped-def]
    hub = open_hub()
    hub.max_booking_attempts = 1
    ingest_file(hub, "acme-tms", csv_drop(pilot, network, amb_row=None))
    spy = spy_of(hub)
    spy.lose_book_answers = True  # the vendor books, the hub never hears: quarantined at stage book
    assert book_pending(hub, limit=1).quarantined == 1
    [item] = items(hub)
    assert item.stage == "book"
    first_keys = [k for _, k in spy.calls]
    held = world.reservations_page()[0]

    spy.lose_book_answers = False
    spy.calls.clear()
    [result] = replay(hub, [item.qid], dry_run=False).results
    assert result.outcome == "replayed" and result.code == "booked"
    assert {k for _, k in spy.calls} <= set(first_keys)  # the same domain keys as the normal path
    assert len(world.reservations_page()[0]) == len(held)  # the vendor returned its booking, made no second
    booked = parcel(hub, "P0000001")
    assert booked.status == ParcelStatus.BOOKED.value and booked.reservation_id == held[0].reservation_id


LATER = datetime.now(UTC) + timedelta(days=1)  # after the booking, whenever the tests run


def _status_item(hub: Hub, row: ParcelRow, status: ParcelStatus, event_id: str, hour: int) -> str:
    event = ParcelEvent(status=status, occurred_at=LATER + timedelta(hours=hour), source="simlocker",
                        event_id=event_id)
    with hub.store.transaction() as s:
        return quarantine.put(s, hub.cipher, source="simlocker", partner=row.partner,
                              location=quarantine.parcel_location(row), stage="status",
                              errors=["forbidden transition"], payload=event.model_dump_json()).qid


def test_status_item_applies_forward_only_and_a_duplicate_is_a_no_op(open_hub, pilot: Path, network) -> None:  # type: ignore[no-untyped-def]
    hub = open_hub()
    ingest_file(hub, "acme-tms", csv_drop(pilot, network, amb_row=None))
    book_pending(hub)
    row = parcel(hub, "P0000001")
    deposited = _status_item(hub, row, ParcelStatus.DEPOSITED, "ev-1", 2)
    [result] = replay(hub, [deposited], dry_run=False).results
    assert (result.outcome, result.code) == ("replayed", "applied")
    assert parcel(hub, "P0000001").status == ParcelStatus.DEPOSITED.value

    outbox = counts(hub)["outbox"]
    again = _status_item(hub, row, ParcelStatus.DEPOSITED, "ev-1", 2)  # the same event quarantined once more
    late = _status_item(hub, row, ParcelStatus.IN_TRANSIT, "ev-0", 1)
    codes = {r.qid: r.code for r in replay(hub, [again, late], dry_run=False).results}
    assert codes == {again: "duplicate", late: "stale"}
    assert parcel(hub, "P0000001").status == ParcelStatus.DEPOSITED.value
    assert counts(hub)["outbox"] == outbox  # nothing new for the TMS

    no_reason = _status_item(hub, row, ParcelStatus.EXCEPTION, "ev-3", 3)  # still refused: no reason given
    assert replay(hub, [no_reason], dry_run=False).failed == 1
    item = next(i for i in items(hub) if i.qid == no_reason)
    assert (item.state, item.attempts) == ("open", 2)
    assert "EXCEPTION needs a reason" in item.errors[0]
    assert parcel(hub, "P0000001").status == ParcelStatus.DEPOSITED.value


def test_read_item_replays_the_whole_file_after_the_mapping_is_fixed(open_hub, pilot: Path, network) -> None:  # type: ignore[no-untyped-def]
    mapping = pilot.parents[2] / "mappings" / "acme-tms" / "shipments.yaml"
    original = mapping.read_text("utf-8")
    mapping.write_text(original.replace("of: weight_kg", "of: weight_in_kg"), "utf-8")  # a required column missing
    hub = open_hub()
    report = ingest_file(hub, "acme-tms", csv_drop(pilot, network))
    assert report.error is not None and report.accepted == 0
    [item] = items(hub)
    assert item.stage == "read"

    mapping.write_text(original, "utf-8")  # fixed; the AMB row still fails and becomes an item of its own
    [result] = replay(open_hub(), [item.qid], dry_run=False).results
    assert result.outcome == "replayed" and "2 parcel(s) created" in result.detail
    assert [(i.stage, i.state) for i in items(hub)] == [("read", "replayed"), ("map", "open")]
    assert parcel(hub, "P0000001").status == ParcelStatus.BOOKED.value


def test_a_new_stage_registers_without_touching_the_dispatcher(open_hub) -> None:  # type: ignore[no-untyped-def]
    hub = open_hub()
    with hub.store.transaction() as s:
        qid = quarantine.put(s, hub.cipher, source="mqtt", partner=None, location="topic lockers/telemetry",
                             stage="telemetry", errors=["dead-lettered"], payload='{"n": 1}').qid
    unsupported = replay(hub, [qid], dry_run=False).results[0]
    assert (unsupported.outcome, unsupported.code) == ("failed", "unsupported")
    assert items(hub)[0].attempts == 1  # nothing was tried

    seen: list[str | None] = []

    def replay_telemetry(ctx: Any, item: quarantine.QuarantineItem) -> Done:
        seen.append(item.payload)
        return Done("republished", "message sent again")

    try:
        assert replayer("telemetry")(replay_telemetry) is replay_telemetry
        with pytest.raises(ValueError, match="already has a replayer"):
            replayer("telemetry")(lambda ctx, item: Done("x", "y"))
        [result] = replay(hub, [qid], dry_run=False).results
    finally:
        REPLAYERS.pop("telemetry", None)
    assert (result.outcome, result.code, seen) == ("replayed", "republished", ['{"n": 1}'])


def test_discard_closes_an_item_with_an_audited_reason(open_hub, pilot: Path, network) -> None:  # type: ignore[no-untyped-def]
    hub = open_hub()
    ingest_file(hub, "acme-tms", csv_drop(pilot, network))
    [item] = items(hub)
    with pytest.raises(LockerhubError, match="needs a reason"):
        discard(hub.store, item.qid, reason=" ")
    assert discard(hub.store, item.qid, reason="resent as ACME-9", actor="ops:test").state == "discarded"
    with pytest.raises(LockerhubError, match="is discarded"):
        discard(hub.store, item.qid, reason="again")
    [entry] = audit_entries(hub, "quarantine.discard")
    assert (entry.actor, entry.subject, entry.details) == ("ops:test", item.qid,
                                                           {"stage": "map", "reason": "resent as ACME-9"})
    assert replay(hub, ReplayFilter(), dry_run=False).results == []
    with pytest.raises(LockerhubError, match="no quarantine item q-009999"):
        replay(hub, ["q-009999"], dry_run=False)
