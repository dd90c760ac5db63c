"""The bus worker on the embedded transport: relay -> events -> parcel state -> status files, retries,
dead-lettering, graceful stop, and re-sending what a killed embedded worker had in hand."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import delete, func, select

from lockerhub.bus.relay import requeue_unfinished
from lockerhub.runtime import quarantine
from lockerhub.runtime.booking import HELD_FIELD, RELEASED_FIELD
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.retry import RetryPolicy
from lockerhub.store import EventRow, OutboxDoneRow, OutboxRow, ParcelRow
from tests.busfixtures import T0, enqueue, final_states, seed_booked
from tests.unit.bus.conftest import RunWorker, wait_for


def _count(hub: Hub, query) -> int:  # type: ignore[no-untyped-def]
    with hub.store.transaction() as s:
        return int(s.scalar(query) or 0)


def _undone(hub: Hub) -> int:
    done = select(OutboxDoneRow.outbox_id).where(OutboxDoneRow.outbox_id == OutboxRow.id)
    return _count(hub, select(func.count()).select_from(OutboxRow).where(~done.exists()))


def test_events_reach_parcels_and_status_files(hub: Hub, run_worker: RunWorker, pilot) -> None:  # type: ignore[no-untyped-def]
    seeded = seed_booked(hub, 20)
    enqueue(hub, seeded.events)
    worker, _ = run_worker()
    wait_for(lambda: _undone(hub) == 0, what="every outbox message to take effect")
    assert final_states(hub) == seeded.final
    vendor_events = _count(hub, select(func.count()).select_from(EventRow).where(EventRow.source != "hub"))
    assert vendor_events == len(seeded.events)
    status_rows = _count(hub, select(func.count()).select_from(OutboxRow).where(OutboxRow.kind == "status"))
    assert status_rows > 0 and worker.stats.dead_lettered == 0
    written = "".join(p.read_text() for p in (pilot.parent / "outbox" / "acme-tms").iterdir())
    assert "COLLECTED" in written or "RETURNING" in written or "IN_TRANSIT" in written


def test_a_repeated_message_takes_effect_once(hub: Hub, run_worker: RunWorker) -> None:
    seeded = seed_booked(hub, 5)
    enqueue(hub, seeded.events)
    run_worker()
    wait_for(lambda: _undone(hub) == 0, what="first delivery")
    events_before = _count(hub, select(func.count()).select_from(EventRow))
    status_before = _count(hub, select(func.count()).select_from(OutboxRow).where(OutboxRow.kind == "status"))
    with hub.store.transaction() as s:  # as if the relay crashed after publishing, before marking
        for row in s.scalars(select(OutboxRow).where(OutboxRow.kind == "vendor_event")):
            row.published_at = row.published_to = None
            s.execute(delete(OutboxDoneRow).where(OutboxDoneRow.outbox_id == row.id))
    wait_for(lambda: _undone(hub) == 0, what="second delivery")
    assert _count(hub, select(func.count()).select_from(EventRow)) == events_before
    assert _count(hub, select(func.count()).select_from(OutboxRow).where(OutboxRow.kind == "status")) == status_before
    assert final_states(hub) == seeded.final


def test_unknown_reservation_is_retried_then_dead_lettered(hub: Hub, run_worker: RunWorker) -> None:
    seeded = seed_booked(hub, 1)
    stray = dict(seeded.events[0], reservation_id="r-unknown", delivery_id="d-stray")
    enqueue(hub, [stray])
    worker, _ = run_worker(max_attempts=3, retry=RetryPolicy(base_s=0.01, cap_s=0.02))
    wait_for(lambda: worker.stats.dead_lettered == 1, what="the dead letter")
    assert worker.stats.retried == 2
    (item,) = quarantine.list_items(hub.store)
    assert item.stage == "bus" and item.source == "bus:events" and item.attempts == 1
    assert "r-unknown" in item.location and "gave up after 3 attempts" in item.errors[1]
    kept = json.loads(quarantine.show(hub.store, item.qid, cipher=hub.cipher, actor="test").payload or "{}")
    assert kept["body"]["payload"]["reservation_id"] == "r-unknown"  # the original message, to replay


def test_a_forbidden_change_is_quarantined_at_once(hub: Hub, run_worker: RunWorker) -> None:
    seeded = seed_booked(hub, 1)
    rid = "r-000001"
    collected = {"vendor": hub.vendor_name, "reservation_id": rid, "delivery_id": "d1",
                 "event": {"status": "COLLECTED", "source": hub.vendor_id(), "event_id": "c1",
                           "occurred_at": (T0 + timedelta(hours=9)).isoformat()}}
    cancelled = {"vendor": hub.vendor_name, "reservation_id": rid, "delivery_id": "d2",
                 "event": {"status": "CANCELLED", "source": hub.vendor_id(), "event_id": "x1",
                           "occurred_at": (T0 + timedelta(hours=10)).isoformat()}}
    enqueue(hub, [collected, cancelled])
    worker, _ = run_worker(max_attempts=5, retry=RetryPolicy(base_s=0.01))
    wait_for(lambda: worker.stats.quarantined == 1, what="the quarantined event")
    assert worker.stats.retried == 0 and final_states(hub) == {rid: "COLLECTED"}
    (item,) = quarantine.list_items(hub.store)
    assert item.stage == "status" and item.location.startswith("parcel acme-tms/")
    assert "cannot change from COLLECTED to CANCELLED" in item.errors[0]
    assert seeded.parcels == 1


def test_graceful_stop_then_restart_finishes_the_work(hub: Hub, run_worker: RunWorker) -> None:
    seeded = seed_booked(hub, 30)
    enqueue(hub, seeded.events)
    worker, thread = run_worker(batch=5)
    wait_for(lambda: worker.stats.applied > 0, what="some progress")
    worker.stop()
    thread.join(timeout=30)
    assert not thread.is_alive()
    run_worker()
    wait_for(lambda: _undone(hub) == 0, what="the rest")
    assert final_states(hub) == seeded.final
    assert _count(hub, select(func.count()).select_from(EventRow).where(EventRow.source != "hub")) == len(
        seeded.events)


def test_messages_in_flight_at_a_crash_are_sent_again(hub: Hub) -> None:
    seeded = seed_booked(hub, 2)
    enqueue(hub, seeded.events)
    with hub.store.transaction() as s:  # published, never acknowledged with an effect (the worker died)
        for row in s.scalars(select(OutboxRow)):
            row.published_at, row.published_to = T0, "bus:events"
        s.add(OutboxRow(destination="acme-tms", kind="status", payload={}, published_at=T0, published_to="csv.txt"))
    assert requeue_unfinished(hub) == len(seeded.events)  # the batch relay's row is not the bus's to re-send
    assert _count(hub, select(func.count()).select_from(OutboxRow).where(OutboxRow.published_at.is_(None))) == len(
        seeded.events)


def test_a_dead_letter_replays_once_its_cause_is_fixed(hub: Hub, run_worker: RunWorker) -> None:
    from lockerhub.runtime.replay import replay

    seed_booked(hub, 1)
    event = {"vendor": hub.vendor_name, "reservation_id": "r-late", "delivery_id": "d-late",
             "event": {"status": "DEPOSITED", "source": hub.vendor_id(), "event_id": "late-1",
                       "occurred_at": (T0 + timedelta(hours=1)).isoformat()}}
    enqueue(hub, [event])
    worker, _ = run_worker(max_attempts=2, retry=RetryPolicy(base_s=0.01, cap_s=0.02))
    wait_for(lambda: worker.stats.dead_lettered == 1, what="the dead letter")
    with hub.store.transaction() as s:  # the booking that event was about is recorded after all
        from lockerhub.store import ParcelRow

        s.scalars(select(ParcelRow)).one().reservation_id = "r-late"
    (item,) = quarantine.list_items(hub.store)
    dry = replay(hub, [item.qid], dry_run=True, actor="test")
    assert [r.outcome for r in dry.results] == ["replayed"] and final_states(hub) == {"r-late": "BOOKED"}
    report = replay(hub, [item.qid], dry_run=False, actor="test")
    assert [(r.outcome, r.code) for r in report.results] == [("replayed", "applied")]
    assert final_states(hub) == {"r-late": "DEPOSITED"}
    again = replay(hub, [item.qid], dry_run=False, actor="test")
    assert [r.outcome for r in again.results] == ["skipped"]  # no longer open: nothing applied twice


def test_events_of_a_released_or_pending_reservation_are_not_applied_nor_dead_lettered(  # type: ignore[no-untyped-def]
        hub: Hub, run_worker: RunWorker) -> None:
    seeded = seed_booked(hub, 2)
    with hub.store.transaction() as s:
        moved, held = s.scalars(select(ParcelRow).order_by(ParcelRow.id)).all()
        moved.parcel = {RELEASED_FIELD: [{"vendor": hub.vendor_name, "reservation_id": "r-old_1%"}]}  # re-routed
        held.status, held.vendor, held.reservation_id = "CREATED", None, "r-held"  # its confirm is pending
        held.parcel = {HELD_FIELD: hub.vendor_name}
    first = seeded.events[0]
    late = [dict(first, reservation_id="r-old_1%", delivery_id="d-old"),  # the old reservation's cancellation
            dict(first, reservation_id="r-held", delivery_id="d-held"),
            dict(first, delivery_id="d-live")]
    enqueue(hub, late)
    worker, _ = run_worker(max_attempts=2, retry=RetryPolicy(base_s=0.01, cap_s=0.02))
    wait_for(lambda: _undone(hub) == 0, what="every event handled")
    assert worker.stats.dead_lettered == 0 and quarantine.list_items(hub.store) == []
    with hub.store.transaction() as s:
        statuses = dict(s.execute(select(ParcelRow.reservation_id, ParcelRow.status)).all())
    assert statuses["r-held"] == "CREATED"  # left to the booking stage
    assert statuses[first["reservation_id"]] == first["event"]["status"]  # the live one applied
    with hub.store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(EventRow).where(
            EventRow.source_event_id == first["event"]["event_id"])) == 1
