from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lockerhub.model import CompartmentState, Dimensions, LockerState, TemperatureClass
from lockerhub.simulator import BookingState, EventCode, SimError, World, build_network

SMALL = Dimensions(length_mm=300, width_mm=200, height_mm=50)


def compartment_state(world: World, reservation_id: str) -> CompartmentState:
    view = world.reservation(reservation_id)
    return next(c.state for c in world.locker(view.locker_id).compartments()
                if c.compartment_id == view.compartment_id)


def codes(world: World, reservation_id: str) -> list[str]:
    return [e.code for e in world.events(reservation_id)]


def booked(world: World, locker_id: str, size: str = "A") -> tuple[str, str]:
    rid = world.reserve(locker_id, size).reservation_id
    code = world.confirm(rid).access_code
    assert code is not None
    return rid, code


def test_clock_starts_fixed_and_moves_only_when_told(world: World) -> None:
    assert world.now == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    assert world.advance(90) == datetime(2026, 1, 5, 8, 1, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        world.advance(-1)


def test_same_seed_same_codes_and_ids() -> None:
    def run() -> list[object]:
        w = World.generate(3, seed=9)
        lid = w.lockers()[0][0].locker_id
        rid, code = booked(w, lid)
        return [rid, code, [e.event_id for e in w.events(rid)]]

    assert run() == run()
    assert run()[2] == ["ev-000001", "ev-000002"]


def test_soft_reservation_holds_a_compartment_until_expiry(world: World, locker_id: str) -> None:
    view = world.reserve(locker_id, "B")
    assert view.kind == "soft" and view.state == BookingState.SOFT and view.size_class == "B"
    assert view.expires_at == world.now + timedelta(minutes=15)
    assert compartment_state(world, view.reservation_id) == CompartmentState.RESERVED
    world.advance(timedelta(minutes=14, seconds=59))
    assert codes(world, view.reservation_id) == ["RESERVATION_CREATED"]
    world.advance(1)
    assert codes(world, view.reservation_id) == ["RESERVATION_CREATED", "RESERVATION_EXPIRED"]
    assert world.events(view.reservation_id)[-1].occurred_at == view.expires_at
    assert compartment_state(world, view.reservation_id) == CompartmentState.FREE
    with pytest.raises(SimError) as err:
        world.confirm(view.reservation_id)
    assert (err.value.status, err.value.error) == (410, "reservation_expired")


def test_confirm_issues_a_six_digit_code(world: World, locker_id: str) -> None:
    rid = world.reserve(locker_id, "A").reservation_id
    world.advance(600)
    hard = world.confirm(rid)
    assert hard.kind == "hard" and hard.state == BookingState.BOOKED and hard.expires_at is None
    assert hard.access_code is not None and len(hard.access_code) == 6 and hard.access_code.isdigit()
    assert hard.valid_until == world.now + timedelta(hours=48)
    assert world.reservation(rid).access_code is None  # shown once, in the confirm answer only
    world.advance(3600)  # a hard booking does not expire like a soft one
    assert codes(world, rid) == ["RESERVATION_CREATED", "BOOKING_CONFIRMED"]
    with pytest.raises(SimError) as err:
        world.confirm(rid)
    assert (err.value.status, err.value.error) == (409, "invalid_state")


def test_deposit_then_pickup_with_the_right_code(world: World, locker_id: str) -> None:
    rid, code = booked(world, locker_id)
    world.advance(3600)
    deposited = world.deposit(rid)
    assert deposited.pickup_deadline == world.now + timedelta(hours=48) == deposited.valid_until
    assert compartment_state(world, rid) == CompartmentState.OCCUPIED
    world.pickup(rid, code)
    assert compartment_state(world, rid) == CompartmentState.FREE
    events = world.events(rid)
    assert [e.code for e in events] == ["RESERVATION_CREATED", "BOOKING_CONFIRMED", "COURIER_DEPOSITED",
                                        "CONSIGNEE_PICKED_UP"]
    assert all(e.locker_id == locker_id and e.compartment_id == deposited.compartment_id for e in events)
    assert len({e.event_id for e in events}) == 4


def test_wrong_code_is_403_and_changes_nothing(world: World, locker_id: str) -> None:
    rid, code = booked(world, locker_id)
    world.deposit(rid)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(SimError) as err:
        world.pickup(rid, wrong)
    assert (err.value.status, err.value.error) == (403, "wrong_access_code")
    assert world.reservation(rid).state == BookingState.DEPOSITED
    assert compartment_state(world, rid) == CompartmentState.OCCUPIED
    assert codes(world, rid)[-1] == "COURIER_DEPOSITED"


def test_deposit_needs_a_hard_booking(world: World, locker_id: str) -> None:
    rid = world.reserve(locker_id, "A").reservation_id
    with pytest.raises(SimError) as err:
        world.deposit(rid)
    assert err.value.status == 409


def test_pickup_expiry_then_return_collection(world: World, locker_id: str) -> None:
    rid, code = booked(world, locker_id, "C")
    world.deposit(rid)
    deadline = world.reservation(rid).pickup_deadline
    with pytest.raises(SimError):
        world.return_collect(rid)  # not expired yet
    world.advance(timedelta(hours=49))
    assert codes(world, rid)[-1] == "PICKUP_EXPIRED"
    assert world.events(rid)[-1].occurred_at == deadline
    assert compartment_state(world, rid) == CompartmentState.OCCUPIED  # still inside until the courier comes
    with pytest.raises(SimError) as err:
        world.pickup(rid, code)
    assert err.value.status == 410
    world.return_collect(rid)
    assert codes(world, rid)[-2:] == ["PICKUP_EXPIRED", "COURIER_COLLECTED_RETURN"]
    assert compartment_state(world, rid) == CompartmentState.FREE


def test_cancel_before_deposit_frees_the_compartment(world: World, locker_id: str) -> None:
    soft = world.reserve(locker_id, "A").reservation_id
    hard, _ = booked(world, locker_id)
    for rid in (soft, hard):
        world.cancel(rid)
        assert codes(world, rid)[-1] == "BOOKING_CANCELLED"
        assert compartment_state(world, rid) == CompartmentState.FREE
        world.cancel(rid)  # twice is a no-op
        assert codes(world, rid).count("BOOKING_CANCELLED") == 1


def test_cancel_after_deposit_is_refused(world: World, locker_id: str) -> None:
    rid, _ = booked(world, locker_id)
    world.deposit(rid)
    with pytest.raises(SimError) as err:
        world.cancel(rid)
    assert (err.value.status, err.value.error) == (409, "invalid_state")


def test_no_free_compartment_and_unknowns(world: World, locker_id: str) -> None:
    count = sum(1 for c in world.locker(locker_id).compartments() if c.size_class == "C")
    for _ in range(count):
        world.reserve(locker_id, "C")
    with pytest.raises(SimError) as err:
        world.reserve(locker_id, "C")
    assert (err.value.status, err.value.error) == (409, "no_free_compartment")
    for call, status, error in (
        (lambda: world.reserve("SIM-XXX-0001", "A"), 404, "unknown_locker"),
        (lambda: world.reserve(locker_id, "Z"), 422, "unknown_size_class"),
        (lambda: world.confirm("rsv-999999"), 404, "unknown_reservation"),
    ):
        with pytest.raises(SimError) as err:
            call()
        assert (err.value.status, err.value.error) == (status, error)
        assert err.value.body()["error"] == error


def test_idempotent_reserve_and_confirm(world: World, locker_id: str) -> None:
    first = world.reserve(locker_id, "A", idempotency_key="k1")
    assert world.reserve(locker_id, "A", idempotency_key="k1") == first
    reserved = [c for c in world.locker(locker_id).compartments() if c.state == CompartmentState.RESERVED]
    assert len(reserved) == 1
    hard = world.confirm(first.reservation_id, idempotency_key="k1")  # keys are scoped per operation
    assert world.confirm(first.reservation_id, idempotency_key="k1") == hard  # same code, no second event
    assert codes(world, first.reservation_id) == ["RESERVATION_CREATED", "BOOKING_CONFIRMED"]
    assert world.reserve(locker_id, "A", idempotency_key="k1") == first  # the original answer, still soft
    with pytest.raises(SimError) as err:
        world.reserve(locker_id, "B", idempotency_key="k1")
    assert (err.value.status, err.value.error) == (422, "idempotency_key_reused")


def test_refusals_are_not_remembered(world: World, locker_id: str) -> None:
    world.set_locker_state(locker_id, LockerState.OFFLINE)
    with pytest.raises(SimError):
        world.reserve(locker_id, "A", idempotency_key="retry-me")
    world.set_locker_state(locker_id, LockerState.ONLINE)
    assert world.reserve(locker_id, "A", idempotency_key="retry-me").kind == "soft"


def test_precheck_fit_and_availability(world: World, locker_id: str) -> None:
    assert world.precheck(locker_id, SMALL, 1000) == ["A", "B", "C"]
    assert world.precheck(locker_id, Dimensions(length_mm=600, width_mm=300, height_mm=150), 1000) == ["B", "C"]
    assert world.precheck(locker_id, Dimensions(length_mm=700, width_mm=100, height_mm=100), 1000) == []
    assert world.precheck(locker_id, SMALL, 25_001) == []
    assert world.precheck(locker_id, SMALL, 1000, TemperatureClass.CHILLED) == []
    for c in world.locker(locker_id).compartments():
        if c.size_class == "A":
            world.reserve(locker_id, "A")
    assert world.precheck(locker_id, SMALL, 1000) == ["B", "C"]
    world.set_locker_state(locker_id, LockerState.OFFLINE)
    with pytest.raises(SimError) as err:
        world.precheck(locker_id, SMALL, 1000)
    assert (err.value.status, err.value.error) == (409, "locker_offline")


def test_expiries_apply_in_deadline_order() -> None:
    world = World(build_network(1, seed=5), seed=5)
    lid = world.lockers()[0][0].locker_id
    early = world.reserve(lid, "A").reservation_id
    world.advance(300)
    late = world.reserve(lid, "A").reservation_id
    world.advance(3600)
    assert world.events(early)[-1].event_id < world.events(late)[-1].event_id
    assert {world.reservation(r).state for r in (early, late)} == {BookingState.EXPIRED}


def test_every_emitted_code_is_declared() -> None:
    assert {c.value for c in EventCode} == {
        "RESERVATION_CREATED", "RESERVATION_EXPIRED", "BOOKING_CONFIRMED", "BOOKING_CANCELLED", "COURIER_DEPOSITED",
        "CONSIGNEE_PICKED_UP", "PICKUP_EXPIRED", "COURIER_COLLECTED_RETURN",
    }


def test_faults_are_counted(world: World) -> None:
    world.inject_fault(503, 2, retry_after=1)
    assert [world.take_fault() is not None for _ in range(3)] == [True, True, False]
    with pytest.raises(ValueError):
        world.inject_fault(200, 1)


def test_pagination(world: World) -> None:
    page1, total = world.lockers(page=1, per_page=4)
    page2, _ = world.lockers(page=2, per_page=4)
    assert total == 6 and len(page1) == 4 and len(page2) == 2
    page1[0].state = LockerState.OFFLINE  # a snapshot: the world is not changed through it
    assert world.locker(page1[0].locker_id).state == LockerState.ONLINE
