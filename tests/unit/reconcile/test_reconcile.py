"""Reconciliation over a real store, a vendor held in memory and manifest files: what is found, what is done."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lockerhub.errors import ConfigError, TransientError
from lockerhub.model import ParcelStatus
from lockerhub.plugins.protocols import Capability, ReservationPage
from lockerhub.reconcile import Action, Kind
from lockerhub.reconcile.actions import STAGE
from lockerhub.store import EventRow, OutboxRow, ParcelRow

S = ParcelStatus


def seed_every_kind(scene) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """One discrepancy of each kind, among parcels and reservations that must not be reported."""
    t0 = scene.t0
    v = scene.vendor
    pks = {
        "ok": scene.parcel("P-OK", "BOOKED", "rsv-ok"),
        "deposited": scene.parcel("P-DEP", "DEPOSITED", "rsv-dep"),
        "exception": scene.parcel("P-EXC", "EXCEPTION", "rsv-exc", interrupted="DEPOSITED"),
        "ahead": scene.parcel("P-AHEAD", "BOOKED", "rsv-ahead"),
        "lost": scene.parcel("P-LOST", "BOOKED", "rsv-lost"),
        "created": scene.parcel("P-NEW", "CREATED"),
        "rejected": scene.parcel("P-REJ", "REJECTED"),
        "purged": scene.parcel("P-OLD", "COLLECTED", "rsv-purged"),  # the vendor no longer lists finished ones
        "elsewhere": scene.parcel("P-ELSE", "BOOKED", "other-1", vendor="otherlocker"),
    }
    v.add("rsv-ok", "booked")
    v.add("rsv-dep", "deposited")
    v.add("rsv-exc", "deposited")
    v.add("rsv-ahead", "deposited")
    v.add("rsv-orphan", "booked", locker="LK-0009")
    v.add("rsv-stale", "soft", expires=t0 + timedelta(minutes=15))
    v.add("rsv-flight", "soft", created=t0 + timedelta(hours=2), expires=t0 + timedelta(hours=2, minutes=15))
    v.add("rsv-lapsed", "expired", expires=t0 + timedelta(minutes=15))
    v.add("rsv-history", "collected")  # an old booking the hub never had: history, not an orphan
    manifest = scene.manifest([
        ("acme-tms", "SH-1", "P-OK", "BOOKED"), ("acme-tms", "SH-1", "P-DEP", ""),
        ("acme-tms", "SH-1", "P-AHEAD", "BOOKED"), ("acme-tms", "SH-1", "P-LOST", ""),
        ("acme-tms", "SH-1", "P-NEW", ""), ("acme-tms", "SH-1", "P-EXC", "EXCEPTION"),
        ("acme-tms", "SH-9", "P-GONE", "BOOKED"),
    ])
    return {"pks": pks, "manifest": manifest}


def by_kind(result) -> dict[Kind, list]:  # type: ignore[no-untyped-def]
    out: dict[Kind, list] = {}
    for d in result.discrepancies:
        out.setdefault(d.kind, []).append(d)
    return out


def test_each_seeded_kind_is_found_exactly_once_and_nothing_else(scene) -> None:  # type: ignore[no-untyped-def]
    seeded = seed_every_kind(scene)
    result = scene.run(seeded["manifest"], dry_run=True)
    found = by_kind(result)
    assert result.counts == dict.fromkeys([str(k) for k in Kind], 1)
    assert len(result.discrepancies) == 5
    (missing_vendor,) = found[Kind.MISSING_IN_VENDOR]
    assert (missing_vendor.parcel, missing_vendor.reservation_id) == ("acme-tms/SH-1/P-LOST", "rsv-lost")
    assert (missing_vendor.hub_status, missing_vendor.vendor_status, missing_vendor.manifest_line) == (
        "BOOKED", None, 5)
    (missing_hub,) = found[Kind.MISSING_IN_HUB]
    assert (missing_hub.parcel, missing_hub.manifest_line, missing_hub.manifest_status) == (
        "acme-tms/SH-9/P-GONE", 8, "BOOKED")
    assert missing_hub.hub_status is None
    (mismatch,) = found[Kind.STATUS_MISMATCH]
    assert (mismatch.parcel, mismatch.hub_status, mismatch.vendor_status, mismatch.action) == (
        "acme-tms/SH-1/P-AHEAD", "BOOKED", "DEPOSITED", Action.APPLY_VENDOR_STATUS)
    assert (mismatch.manifest_line, mismatch.manifest_status) == (4, "BOOKED")
    (orphan,) = found[Kind.ORPHAN_BOOKING]
    assert (orphan.reservation_id, orphan.locker_id, orphan.parcel, orphan.action) == (
        "rsv-orphan", "LK-0009", None, Action.QUARANTINE)
    (stale,) = found[Kind.STALE_RESERVATION]
    assert (stale.reservation_id, stale.action) == ("rsv-stale", Action.CANCEL_AT_VENDOR)
    assert (result.manifest_rows, result.hub_parcels, result.vendor_reservations) == (7, 9, 9)


def test_a_clean_state_finds_nothing(scene) -> None:  # type: ignore[no-untyped-def]
    scene.parcel("P-1", "BOOKED", "rsv-1")
    scene.parcel("P-2", "DEPOSITED", "rsv-2")
    scene.parcel("P-3", "COLLECTED", "rsv-3")
    scene.parcel("P-4", "CREATED")
    for rid, state in (("rsv-1", "booked"), ("rsv-2", "deposited"), ("rsv-3", "collected")):
        scene.vendor.add(rid, state)
    manifest = scene.manifest([("acme-tms", "SH-1", f"P-{i}", "") for i in range(1, 5)])
    before = scene.snapshot()
    result = scene.run(manifest)
    assert result.discrepancies == [] and result.counts == dict.fromkeys([str(k) for k in Kind], 0)
    assert result.bad_rows == 0 and result.manifest_errors == []
    assert scene.snapshot() == before
    assert result.csv_path is not None and result.csv_path.read_text("utf-8").count("\n") == 1  # the header only


def test_apply_fixes_forward_only_and_a_second_run_changes_nothing(scene) -> None:  # type: ignore[no-untyped-def]
    seeded = seed_every_kind(scene)
    pks = seeded["pks"]
    first = scene.run(seeded["manifest"])
    outcome = {d.kind: d.outcome for d in first.discrepancies}
    assert outcome[Kind.STATUS_MISMATCH] == "applied"
    assert outcome[Kind.STALE_RESERVATION] == "cancelled"
    assert all(outcome[k].startswith("q-") for k in (Kind.MISSING_IN_VENDOR, Kind.MISSING_IN_HUB,
                                                     Kind.ORPHAN_BOOKING))
    assert scene.row(pks["ahead"]).status == "DEPOSITED"
    assert scene.vendor.cancelled == ["rsv-stale"]
    with scene.store.transaction() as s:
        events = list(s.scalars(select(EventRow).where(EventRow.parcel_pk == pks["ahead"])))
        outbox = list(s.scalars(select(OutboxRow)))
    assert [(e.status, e.outcome, e.source, e.source_event_id) for e in events] == [
        ("DEPOSITED", "applied", "fakelocker", "reconcile:rsv-ahead:DEPOSITED")]
    assert [(o.destination, o.payload["parcel_id"], o.payload["event"]["status"]) for o in outbox] == [
        ("acme-tms", "P-AHEAD", "DEPOSITED")]
    items = scene.quarantine()
    assert {i.stage for i in items} == {STAGE} and len(items) == 3
    by_location = {i.location: i for i in items}
    assert set(by_location) == {"parcel acme-tms/SH-1/P-LOST", f"{seeded['manifest']}:8",
                                "reservation rsv-orphan at fakelocker"}
    assert by_location["parcel acme-tms/SH-1/P-LOST"].errors == [
        ("parcel acme-tms/SH-1/P-LOST: error: missing_in_vendor: the hub has it BOOKED at LK-0001 under reservation "
        "rsv-lost; the vendor lists no such reservation (manifest: line 5; hub: BOOKED; vendor: no such reservation)")]

    after_first = scene.snapshot()
    second = scene.run(seeded["manifest"], out="out2")
    assert sorted(str(d.kind) for d in second.discrepancies) == sorted(
        ["missing_in_vendor", "missing_in_hub", "orphan_booking"])  # fixed ones are gone
    assert [d.outcome for d in second.discrepancies] == [d.outcome for d in first.discrepancies
                                                         if d.outcome.startswith("q-")]
    assert scene.vendor.cancelled == ["rsv-stale"]
    again = scene.snapshot()
    assert again["parcels"] == after_first["parcels"]
    assert again["events"] == after_first["events"] and again["outbox"] == after_first["outbox"]
    assert [q.attempts for q in scene.quarantine()] == [2, 2, 2]  # the same items, seen again


def test_tomorrows_manifest_in_another_order_finds_the_same_open_items(scene) -> None:  # type: ignore[no-untyped-def]
    seeded = seed_every_kind(scene)
    first = scene.run(seeded["manifest"])
    lines = seeded["manifest"].read_text("utf-8").splitlines(keepends=True)
    tomorrow = scene.folder / "manifest-tomorrow.csv"
    tomorrow.write_text(lines[0] + "".join(reversed(lines[1:])), "utf-8")  # every line number changes
    second = scene.run(tomorrow, out="out2")
    assert [d.manifest_line for d in second.discrepancies if d.kind is Kind.MISSING_IN_HUB] == [2]
    assert {d.outcome for d in second.discrepancies} == {d.outcome for d in first.discrepancies
                                                         if d.outcome.startswith("q-")}
    assert len(scene.quarantine()) == 3


def test_dry_run_changes_nothing_and_says_what_it_would_do(scene) -> None:  # type: ignore[no-untyped-def]
    seeded = seed_every_kind(scene)
    manifest = seeded["manifest"]
    manifest.write_text(manifest.read_text("utf-8") + "acme-tms,,P-BAD,\n", "utf-8")
    before = scene.snapshot()
    result = scene.run(manifest, dry_run=True)
    assert scene.snapshot() == before
    assert scene.vendor.cancelled == []
    assert {d.kind: d.outcome for d in result.discrepancies} == {
        Kind.MISSING_IN_VENDOR: "would quarantine", Kind.MISSING_IN_HUB: "would quarantine",
        Kind.STATUS_MISMATCH: "would apply", Kind.ORPHAN_BOOKING: "would quarantine",
        Kind.STALE_RESERVATION: "would cancel"}
    assert result.bad_rows == 1 and result.bad_rows_quarantined == []
    assert result.manifest_errors == [(f"{manifest}:9:2: error: column shipment_ref: expected a value, found an empty "
                                      "cell; row not compared")]
    assert result.html_path is not None and "dry run" in result.html_path.read_text("utf-8")


@pytest.mark.parametrize(("hub", "over", "vendor_state", "vendor_status", "reason"), [
    ("DEPOSITED", None, "booked", None, None),  # the hub is ahead: never moved back
    ("COLLECTED", None, "cancelled", None, None),  # forbidden by the lifecycle
    ("BOOKED", None, "deposited", S.EXCEPTION, None),  # an exception without a reason
])
def test_anything_but_a_forward_move_is_quarantined_and_the_hub_keeps_its_state(  # type: ignore[no-untyped-def]
        scene, hub, over, vendor_state, vendor_status, reason) -> None:
    pk = scene.parcel("P-1", hub, "rsv-1", interrupted=over)
    scene.vendor.add("rsv-1", vendor_state, status=vendor_status, reason=reason)
    result = scene.run(scene.manifest([]))
    (d,) = result.discrepancies
    assert (d.kind, d.action) == (Kind.STATUS_MISMATCH, Action.QUARANTINE)
    assert d.outcome.startswith("q-")
    assert scene.row(pk).status == hub
    with scene.store.transaction() as s:
        assert s.scalars(select(EventRow)).first() is None


def test_vendor_exception_with_a_reason_is_applied_over_the_hub_status(scene) -> None:  # type: ignore[no-untyped-def]
    pk = scene.parcel("P-1", "DEPOSITED", "rsv-1")
    scene.vendor.add("rsv-1", "deposited", status=S.EXCEPTION, reason="door_fault")
    (d,) = scene.run(scene.manifest([])).discrepancies
    assert (d.kind, d.outcome) == (Kind.STATUS_MISMATCH, "applied")
    row = scene.row(pk)
    assert (row.status, row.interrupted, row.reason) == ("EXCEPTION", "DEPOSITED", "door_fault")


def test_a_hub_exception_is_not_undone_by_the_vendors_plain_state(scene) -> None:  # type: ignore[no-untyped-def]
    scene.parcel("P-1", "EXCEPTION", "rsv-1", interrupted="DEPOSITED")
    scene.vendor.add("rsv-1", "deposited")
    assert scene.run(scene.manifest([])).discrepancies == []


def test_an_active_parcel_without_a_reservation_id_is_missing_in_vendor(scene) -> None:  # type: ignore[no-untyped-def]
    scene.parcel("P-1", "BOOKED", None)
    (d,) = scene.run(scene.manifest([])).discrepancies
    assert (d.kind, d.reservation_id, d.parcel) == (Kind.MISSING_IN_VENDOR, None, "acme-tms/SH-1/P-1")
    assert "holds no reservation id" in d.why


def test_a_soft_hold_without_expiry_is_stale_after_the_ttl_by_the_vendors_clock(scene) -> None:  # type: ignore[no-untyped-def]
    t0 = scene.t0
    scene.vendor.as_of = t0 + timedelta(minutes=40)
    scene.vendor.add("rsv-old", "soft", created=t0)  # 40 min old
    scene.vendor.add("rsv-young", "soft", created=t0 + timedelta(minutes=20))  # 20 min old
    result = scene.run(scene.manifest([]), soft_ttl=timedelta(minutes=30))
    assert [(d.kind, d.reservation_id) for d in result.discrepancies] == [(Kind.STALE_RESERVATION, "rsv-old")]
    assert scene.vendor.cancelled == ["rsv-old"]


def test_a_stale_hold_is_quarantined_when_the_vendor_cannot_cancel_or_refuses(scene) -> None:  # type: ignore[no-untyped-def]
    scene.vendor.add("rsv-stale", "soft", expires=scene.t0)
    scene.vendor.refuse_cancel = True
    (refused,) = scene.run(scene.manifest([])).discrepancies
    assert refused.outcome.startswith("q-") and "cancelling it failed" in refused.why

    class NoCancel(type(scene.vendor)):  # type: ignore[misc]
        capabilities = frozenset({Capability.LIST_RESERVATIONS})

    plain = NoCancel(reservations=dict(scene.vendor.reservations))
    (d,) = scene.reconciler(plain).run(scene.manifest([]), out_dir=scene.folder / "o2").discrepancies
    assert (d.kind, d.action) == (Kind.STALE_RESERVATION, Action.QUARANTINE) and plain.cancelled == []


def test_a_reservation_listed_twice_by_the_vendor_is_judged_once(scene) -> None:  # type: ignore[no-untyped-def]
    scene.parcel("P-1", "BOOKED", "rsv-1")
    scene.vendor.add("rsv-1", "deposited")
    scene.vendor.add("rsv-9", "booked")
    page = scene.vendor.list_reservations().items
    pages = [ReservationPage(page, "1", scene.vendor.as_of), ReservationPage(page, None, scene.vendor.as_of)]
    result = scene.reconciler().run(scene.manifest([]), out_dir=scene.folder / "o", dry_run=True, pages=pages)
    assert sorted(str(d.kind) for d in result.discrepancies) == ["orphan_booking", "status_mismatch"]


def test_a_booking_finished_while_the_vendor_was_read_is_no_orphan(scene) -> None:  # type: ignore[no-untyped-def]
    pk = scene.parcel("P-1", "CREATED")
    scene.vendor.add("rsv-1", "booked")

    def pages() -> Iterator[ReservationPage]:
        yield from [scene.vendor.list_reservations()]
        with scene.store.transaction() as s:  # the booking stage records it after the hub was read
            row = s.get(ParcelRow, pk)
            row.status, row.vendor, row.reservation_id = "BOOKED", "fakelocker", "rsv-1"

    result = scene.reconciler().run(scene.manifest([]), out_dir=scene.folder / "o", pages=pages())
    assert result.discrepancies == []


def test_a_parcel_that_moved_before_the_fix_is_judged_again(scene) -> None:  # type: ignore[no-untyped-def]
    pk = scene.parcel("P-1", "BOOKED", "rsv-1")
    scene.vendor.add("rsv-1", "deposited")

    def pages() -> Iterator[ReservationPage]:
        yield scene.vendor.list_reservations()
        with scene.store.transaction() as s:  # the status sync applied the deposit meanwhile
            s.get(ParcelRow, pk).status = "DEPOSITED"

    (d,) = scene.reconciler().run(scene.manifest([]), out_dir=scene.folder / "o", pages=pages()).discrepancies
    assert d.outcome == "resolved"
    with scene.store.transaction() as s:
        assert s.scalars(select(EventRow)).first() is None


def test_a_parcel_that_moved_past_the_vendor_before_the_fix_is_quarantined(scene) -> None:  # type: ignore[no-untyped-def]
    pk = scene.parcel("P-1", "BOOKED", "rsv-1")
    scene.vendor.add("rsv-1", "deposited")

    def pages() -> Iterator[ReservationPage]:
        yield scene.vendor.list_reservations()
        with scene.store.transaction() as s:  # the sync saw the pickup meanwhile
            s.get(ParcelRow, pk).status = "COLLECTED"

    (d,) = scene.reconciler().run(scene.manifest([]), out_dir=scene.folder / "o", pages=pages()).discrepancies
    assert (d.action, d.hub_status) == (Action.QUARANTINE, "COLLECTED") and d.outcome.startswith("q-")
    assert "the hub is ahead of the vendor" in d.why
    assert scene.row(pk).status == "COLLECTED"


def test_vendor_pages_are_retried_and_an_unreadable_vendor_changes_nothing(scene) -> None:  # type: ignore[no-untyped-def]
    scene.parcel("P-1", "BOOKED", "rsv-1")
    scene.parcel("P-2", "BOOKED", "rsv-2")
    for rid in ("rsv-1", "rsv-2", "rsv-3"):
        scene.vendor.add(rid, "booked")
    failures = {"left": 2}
    real = scene.vendor.list_reservations

    def flaky(*, cursor: str | None = None) -> ReservationPage:
        if cursor is not None and failures["left"] > 0:
            failures["left"] -= 1
            raise TransientError("fakelocker GET returned HTTP 503")
        return real(cursor=cursor)

    scene.vendor.list_reservations = flaky  # type: ignore[method-assign]
    result = scene.run(scene.manifest([]), dry_run=True)
    assert [d.reservation_id for d in result.discrepancies] == ["rsv-3"]  # page 2 came after two retries

    failures["left"] = 99
    before = scene.snapshot()
    with pytest.raises(TransientError):
        scene.run(scene.manifest([]))
    assert scene.snapshot() == before  # no partial listing: nothing looks missing, nothing is quarantined


def test_a_vendor_without_the_capability_is_a_config_error(scene) -> None:  # type: ignore[no-untyped-def]
    class Plain:
        capabilities = frozenset({Capability.CANCEL})

    with pytest.raises(ConfigError) as err:
        scene.reconciler(Plain()).run(scene.manifest([]), out_dir=scene.folder / "o")
    assert "cannot list its reservations" in str(err.value) and "list_reservations capability" in str(err.value)


def test_bad_manifest_rows_are_quarantined_with_their_position_not_dropped(scene) -> None:  # type: ignore[no-untyped-def]
    scene.parcel("P-1", "BOOKED", "rsv-1")
    scene.vendor.add("rsv-1", "booked")
    manifest = scene.manifest([
        ("acme-tms", "SH-1", "P-1", "BOOKED"),
        ("acme-tms", "SH-1", "P-2", "SHIPPED"),  # line 3: no such status
        ("acme-tnz", "SH-1", "P-3", ""),  # line 4: unknown partner
        ("acme-tms", "SH-1", "P-1", ""),  # line 5: listed twice
    ])
    result = scene.run(manifest)
    assert result.bad_rows == 3 and result.discrepancies == []
    assert [line.split(": error: ")[0] for line in result.manifest_errors] == [
        f"{manifest}:3:4", f"{manifest}:4:1", f"{manifest}:5:1"]
    assert "did you mean 'SHIPPED'" not in result.manifest_errors[0]
    assert "found 'acme-tnz' (did you mean 'acme-tms'?)" in result.manifest_errors[1]
    assert "parcel listed twice" in result.manifest_errors[2] and "after line 2" in result.manifest_errors[2]
    items = scene.quarantine()
    assert [i.location for i in items] == [f"{manifest}:3", f"{manifest}:4", f"{manifest}:5"]
    assert [i.stage for i in items] == [STAGE] * 3
    assert [i.partner for i in items] == ["acme-tms", None, "acme-tms"]
    assert all(line.endswith(f"row quarantined as {q}") for line, q in
               zip(result.manifest_errors, result.bad_rows_quarantined, strict=True))
    from lockerhub.runtime.quarantine import PAYLOAD_CONTEXT

    assert scene.cipher.decrypt(items[0].payload_enc, context=PAYLOAD_CONTEXT) == "acme-tms,SH-1,P-2,SHIPPED\n"
    again = scene.run(manifest, out="again")
    assert again.bad_rows_quarantined == result.bad_rows_quarantined
    assert [i.attempts for i in scene.quarantine()] == [2, 2, 2]


def test_a_file_level_manifest_problem_stops_before_anything_changes(scene, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from lockerhub.errors import ParseError

    scene.parcel("P-1", "BOOKED", "rsv-404")
    manifest = scene.manifest([("acme-tms", "SH-1", "P-1")], header="partner,shipment,parcel_id")
    before = scene.snapshot()
    with pytest.raises(ParseError) as err:
        scene.run(manifest)
    assert str(err.value).startswith(f"{manifest}:1:2: error: header: required column 'shipment_ref' missing")
    assert "did you mean 'shipment_ref'?" in str(err.value)
    assert scene.snapshot() == before and not (scene.folder / "out").exists()
