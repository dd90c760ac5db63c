"""The inpost connector end to end against the ShipX-style simulator over real HTTP."""

from __future__ import annotations

import json

import pytest
from lockerhub_inpost import InpostConnector

from lockerhub.errors import RejectedError
from lockerhub.model import LockerState, ParcelStatus, ReservationKind, apply_event
from lockerhub.model.state_machine import ParcelState
from lockerhub.plugins.protocols import Capability, ConnectorKind, LockerVendor
from lockerhub.plugins.registry import Registry
from lockerhub.simulator import World
from lockerhub.simulator.vendors.inpost import Server

from .conftest import LOCKERS, PER_PAGE, locker


def test_registry_loads_it_without_webhooks(connector: InpostConnector) -> None:
    cls = Registry().load("inpost")
    assert cls is InpostConnector and cls.kind == ConnectorKind.LOCKER_VENDOR and cls.version == "0.1.0"
    assert cls.capabilities == {Capability.LIST_LOCKERS, Capability.SOFT_RESERVE, Capability.HARD_BOOK,
                                Capability.CANCEL, Capability.POLL_STATUS, Capability.ACCESS_CODES}
    assert isinstance(connector, LockerVendor)
    assert not hasattr(connector, "verify_webhook") and callable(connector.webhook_hint)


def test_list_lockers_pages_to_the_end(connector: InpostConnector, world: World) -> None:
    lockers = list(connector.list_lockers())
    assert len(lockers) == LOCKERS > 2 * PER_PAGE
    assert [lk.locker_id for lk in lockers] == [lk.locker_id for lk in world.lockers(per_page=LOCKERS)[0]]
    first, truth = lockers[0], world.lockers(per_page=1)[0][0]
    assert (first.region, first.city, first.postal_code, first.name) == (truth.region, truth.city,
                                                                          truth.postal_code, truth.name)
    assert first.state == LockerState.ONLINE and first.latitude == truth.latitude


def test_size_classes_are_the_parcel_templates(connector: InpostConnector) -> None:
    classes = connector.size_classes()
    assert [s.code for s in classes] == ["small", "medium", "large"]
    assert [s.inner.height_mm for s in classes] == [80, 190, 410] and {s.max_weight_g for s in classes} == {25_000}


def test_reserve_then_book_once_per_key(connector: InpostConnector, world: World, server: Server) -> None:
    before = len(server.shipment_ids())
    soft = connector.reserve(locker(world), "medium", idempotency_key="parcel-1")
    assert soft.kind == ReservationKind.SOFT and soft.access_code is None and soft.size_class == "medium"
    assert connector.reserve(locker(world), "medium", idempotency_key="parcel-1") == soft
    hard = connector.book(soft.reservation_id, idempotency_key="parcel-1")
    assert hard.kind == ReservationKind.HARD and hard.reservation_id == soft.reservation_id
    assert hard.access_code is not None and hard.access_code.valid_until is not None
    code = hard.access_code.reveal()
    assert len(code) == 6 and code.isdigit()
    assert code not in repr(hard) and code not in hard.model_dump_json()
    assert json.loads(hard.model_dump_json())["access_code"]["code"] == "**********"
    replay = connector.book(soft.reservation_id, idempotency_key="parcel-1")
    assert replay.access_code is not None and replay.access_code.reveal() == code
    assert len(server.shipment_ids()) == before + 1


def test_status_history_through_pickup(connector: InpostConnector, world: World, server: Server) -> None:
    soft = connector.reserve(locker(world, 1), "small", idempotency_key="parcel-2")
    assert [e.event.raw_code for e in connector.get_status(soft.reservation_id)] == ["offers_prepared"]
    hard = connector.book(soft.reservation_id, idempotency_key="parcel-2")
    assert hard.access_code is not None
    rid = server.reservation_id(soft.reservation_id)
    world.deposit(rid)
    world.pickup(rid, hard.access_code.reveal())
    events = connector.get_status(soft.reservation_id)
    assert [e.event.raw_code for e in events] == [
        "created", "offers_prepared", "confirmed", "taken_by_courier", "adopted_at_sorting_center",
        "sent_from_sorting_center", "out_for_delivery", "ready_to_pickup", "delivered"]
    assert [e.event.status for e in events][-2:] == [ParcelStatus.DEPOSITED, ParcelStatus.COLLECTED]
    assert {e.reservation_id for e in events} == {soft.reservation_id}
    assert all(e.event.source == "inpost" and e.event.locker_id == soft.locker_id for e in events)
    assert len({e.event.event_id for e in events}) == len(events)
    assert events[0].event.occurred_at.utcoffset() is not None
    state = ParcelState()
    for e in events:  # the mapped history is a legal canonical lifecycle
        _, state = apply_event(state, e.event.status, e.event.reason)
    assert state.status == ParcelStatus.COLLECTED


def test_cancel_expiry_and_return(connector: InpostConnector, world: World, server: Server) -> None:
    at = locker(world, 2)
    dropped = connector.reserve(at, "small", idempotency_key="c-1")
    connector.cancel(dropped.reservation_id)
    connector.cancel(dropped.reservation_id)  # twice is a no-op
    booked = connector.book(connector.reserve(at, "small", idempotency_key="c-2").reservation_id,
                            idempotency_key="c-2")
    connector.cancel(booked.reservation_id)
    kept = connector.book(connector.reserve(at, "small", idempotency_key="c-3").reservation_id,
                          idempotency_key="c-3")
    lapsed = connector.reserve(at, "small", idempotency_key="c-4")
    world.deposit(server.reservation_id(kept.reservation_id))
    world.advance(49 * 3600)
    world.return_collect(server.reservation_id(kept.reservation_id))

    last = connector.get_status(dropped.reservation_id)[-1].event
    assert (last.raw_code, last.status) == ("canceled", ParcelStatus.CANCELLED)
    assert connector.get_status(booked.reservation_id)[-1].event.status == ParcelStatus.CANCELLED
    assert [e.event.status for e in connector.get_status(kept.reservation_id)][-2:] == [
        ParcelStatus.PICKUP_EXPIRED, ParcelStatus.RETURNING]
    assert connector.get_status(lapsed.reservation_id)[-1].event.status == ParcelStatus.CANCELLED  # hold lapsed
    with pytest.raises(RejectedError, match="HTTP 410: offer_expired"):
        connector.book(lapsed.reservation_id, idempotency_key="c-4")
    with pytest.raises(RejectedError, match="HTTP 409: invalid_status"):
        connector.cancel(kept.reservation_id)


def test_unknown_locker_is_rejected_naming_it(connector: InpostConnector) -> None:
    with pytest.raises(RejectedError) as err:
        connector.reserve("SIM-XXX-9999", "small", idempotency_key="u-1")
    assert "validation_failed (custom_attributes.target_point: does_not_exist)" in str(err.value)
    assert "'SIM-XXX-9999'" in str(err.value)


def test_offline_locker_is_refused(connector: InpostConnector, world: World) -> None:
    at = locker(world, 3)
    world.set_locker_state(at, LockerState.OFFLINE)
    try:
        assert next(lk for lk in connector.list_lockers() if lk.locker_id == at).state == LockerState.OFFLINE
        with pytest.raises(RejectedError, match=f"target_point: not_operating\\); target point '{at}'"):
            connector.reserve(at, "small", idempotency_key="off-1")
    finally:
        world.set_locker_state(at, LockerState.ONLINE)
    assert connector.reserve(at, "small", idempotency_key="off-1").kind == ReservationKind.SOFT


def test_full_locker_unknown_template_and_reused_key(connector: InpostConnector, world: World) -> None:
    full = world.lockers(page=5, per_page=1)[0][0]
    keys = [f"fill-{c.compartment_id}" for c in full.compartments() if c.size_class == "C"]
    for key in keys:
        connector.reserve(full.locker_id, "large", idempotency_key=key)
    with pytest.raises(RejectedError, match="parcels.template: no_free_compartment"):
        connector.reserve(full.locker_id, "large", idempotency_key="one-too-many")
    with pytest.raises(RejectedError, match="parcels.template: invalid"):
        connector.reserve(full.locker_id, "xxl", idempotency_key="xxl")
    with pytest.raises(RejectedError, match="HTTP 422: idempotency_key_reused"):
        connector.reserve(locker(world, 6), "large", idempotency_key=keys[0])


def test_unknown_shipment_is_rejected(connector: InpostConnector) -> None:
    with pytest.raises(RejectedError, match="HTTP 404: resource_not_found"):
        connector.get_status("99999999")
    with pytest.raises(RejectedError, match="HTTP 404: resource_not_found"):
        connector.book("99999999", idempotency_key="nope")
