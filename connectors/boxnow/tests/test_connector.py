"""The boxnow connector end to end against the BoxNow-style simulator over real HTTP."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from lockerhub_boxnow import BoxnowConnector
from lockerhub_boxnow.connector import crosswalk

from lockerhub.errors import AuthError, MappingError, RejectedError, TransientError
from lockerhub.model import LockerState, ParcelStatus, ReservationKind, apply_event
from lockerhub.model.state_machine import ParcelState
from lockerhub.plugins.protocols import Capability, ConnectorKind, LockerVendor
from lockerhub.plugins.registry import Registry
from lockerhub.simulator import World
from lockerhub.simulator.faults import FaultKind, FaultRate
from lockerhub.simulator.vendors.boxnow import EVENT_TYPES, Server

Sim = Callable[..., dict[str, Any]]
DOCUMENTED = {"new", "delivered", "returned", "expired", "accepted-for-return", "accepted-to-locker", "in-depot",
              "final-destination", "canceled", "lost", "missing"}  # BoxNow partner API 1.65, parcel event types


def locker_ids(world: World) -> list[str]:
    return [lk.locker_id for lk in world.lockers(per_page=1000)[0]]


def test_registry_loads_and_verifies_it(server: Server, kit: SimpleNamespace) -> None:
    cls = Registry().load("boxnow")
    assert cls is BoxnowConnector and cls.kind == ConnectorKind.LOCKER_VENDOR and cls.version == "0.1.0"
    assert cls.capabilities == {Capability.LIST_LOCKERS, Capability.SOFT_RESERVE, Capability.HARD_BOOK,
                                Capability.CANCEL, Capability.POLL_STATUS, Capability.ACCESS_CODES,
                                Capability.WEBHOOKS}
    assert isinstance(kit.boxnow(server.url), LockerVendor)


def test_list_lockers_follows_the_cursor_to_the_last_page(connector: BoxnowConnector, world: World,
                                                          kit: SimpleNamespace) -> None:
    lockers = list(connector.list_lockers())
    assert len(lockers) == kit.LOCKERS > 2 * kit.PAGE_SIZE
    assert [lk.locker_id for lk in lockers] == locker_ids(world)
    first = world.locker(lockers[0].locker_id)
    assert (lockers[0].name, lockers[0].city, lockers[0].postal_code, lockers[0].region) == (
        first.name, first.city, first.postal_code, first.region)
    assert lockers[0].state == LockerState.ONLINE and lockers[0].latitude == first.latitude


def test_size_classes_are_boxnow_sizes(connector: BoxnowConnector) -> None:
    sizes = connector.size_classes()
    assert [s.code for s in sizes] == ["1", "2", "3"]
    assert [s.inner.volume_mm3 for s in sizes] == sorted(s.inner.volume_mm3 for s in sizes)


def test_reserve_book_deposit_pickup_and_status(connector: BoxnowConnector, world: World, sim: Sim) -> None:
    locker = locker_ids(world)[0]
    before = len(world.reservations_page(limit=1000)[0])
    soft = connector.reserve(locker, "2", idempotency_key="order-1")
    assert (soft.kind, soft.size_class, soft.locker_id, soft.access_code) == (ReservationKind.SOFT, "2", locker, None)
    assert soft.expires_at is not None
    assert connector.reserve(locker, "2", idempotency_key="order-1") == soft  # P410, found by order number
    assert len(world.reservations_page(limit=1000)[0]) == before + 1
    assert world.reservation("rsv-" + soft.reservation_id[-6:]).size_class == "B"  # size 2 is the World's B

    hard = connector.book(soft.reservation_id, idempotency_key="order-1")
    assert hard.kind == ReservationKind.HARD and hard.access_code is not None
    pin = hard.access_code.reveal()
    assert len(pin) == 6 and pin.isdigit() and hard.access_code.valid_until is not None
    assert pin not in repr(hard) and pin not in str(hard)
    assert json.loads(hard.model_dump_json())["access_code"]["code"] == "**********"
    replay = connector.book(soft.reservation_id, idempotency_key="order-1")
    assert replay.access_code is not None and replay.access_code.reveal() == pin
    again = connector.reserve(locker, "2", idempotency_key="order-1")
    assert again.kind == ReservationKind.HARD and again.access_code is None  # the lookup never shows the PIN

    sim("deposit", parcel=soft.reservation_id)
    sim("pickup", parcel=soft.reservation_id, access_code=pin)
    events = connector.get_status(soft.reservation_id)
    assert [e.event.raw_code for e in events] == ["new", "final-destination", "delivered"]
    assert [e.event.status for e in events] == [ParcelStatus.CREATED, ParcelStatus.DEPOSITED, ParcelStatus.COLLECTED]
    assert all(e.reservation_id == soft.reservation_id and e.event.locker_id == locker for e in events)
    assert all(e.event.source == "boxnow" and e.event.occurred_at.utcoffset() is not None for e in events)
    assert len({e.event.event_id for e in events}) == 3
    state = ParcelState()
    for e in events:
        _, state = apply_event(state, e.event.status, e.event.reason)
    assert state.status == ParcelStatus.COLLECTED


def test_the_same_key_for_another_locker_is_refused(connector: BoxnowConnector, world: World) -> None:
    first, second = locker_ids(world)[:2]
    connector.reserve(first, "1", idempotency_key="order-2")
    with pytest.raises(RejectedError, match="another locker or size"):
        connector.reserve(second, "1", idempotency_key="order-2")
    with pytest.raises(RejectedError, match="another locker or size"):
        connector.reserve(first, "3", idempotency_key="order-2")


def test_a_timed_out_reserve_retried_with_its_key_is_one_delivery_request(server: Server, world: World,
                                                                          kit: SimpleNamespace) -> None:
    with kit.boxnow(server.url, timeout_s=0.3) as conn:
        conn.size_classes()
        list(conn.list_lockers())  # a token in hand before the fault
        world.inject_fault_rate(FaultRate(1.0, (FaultKind.TIMEOUT,), seed=1, timeout_s=0.6))
        try:
            with pytest.raises(TransientError, match="request failed: ReadTimeout"):
                conn.reserve(locker_ids(world)[3], "1", idempotency_key="order-3")
        finally:
            world.inject_fault_rate(None)
        before = len(world.reservations_page(limit=1000)[0])
        retried = conn.reserve(locker_ids(world)[3], "1", idempotency_key="order-3")
    assert len(world.reservations_page(limit=1000)[0]) == before
    assert retried.kind == ReservationKind.SOFT and retried.locker_id == locker_ids(world)[3]


def test_cancel_is_idempotent_and_maps_to_cancelled(connector: BoxnowConnector, world: World) -> None:
    soft = connector.reserve(locker_ids(world)[1], "1", idempotency_key="order-4")
    connector.cancel(soft.reservation_id)
    connector.cancel(soft.reservation_id)  # cancelling a cancelled parcel has no effect
    last = connector.get_status(soft.reservation_id)[-1].event
    assert (last.raw_code, last.status) == ("canceled", ParcelStatus.CANCELLED)
    with pytest.raises(RejectedError, match="P430"):
        connector.book(soft.reservation_id, idempotency_key="order-4")


def test_unknown_and_offline_lockers_are_refused_by_name(connector: BoxnowConnector, world: World) -> None:
    with pytest.raises(RejectedError) as unknown:
        connector.reserve("BN-GONE-0001", "1", idempotency_key="order-5")
    assert "'BN-GONE-0001'" in str(unknown.value) and "P402" in str(unknown.value)
    offline = locker_ids(world)[-1]
    world.set_locker_state(offline, LockerState.OFFLINE)
    assert [lk.state for lk in connector.list_lockers() if lk.locker_id == offline] == [LockerState.OFFLINE]
    with pytest.raises(RejectedError, match=f"'{offline}' is unknown or not Box Now Ready"):
        connector.reserve(offline, "1", idempotency_key="order-6")


def test_unknown_parcels_and_sizes_are_rejections(connector: BoxnowConnector, world: World) -> None:
    with pytest.raises(RejectedError, match="unknown parcel '9299999999'"):
        connector.get_status("9299999999")
    with pytest.raises(RejectedError, match="404: NOT_FOUND"):
        connector.cancel("12345")
    with pytest.raises(RejectedError, match="unknown compartment size: expected 1, 2 or 3, found 'A'"):
        connector.reserve(locker_ids(world)[0], "A", idempotency_key="order-7")


@pytest.mark.parametrize(("status", "retry_after"), [(429, 2.0), (429, None), (500, None), (503, 1.0)])
def test_429_and_5xx_are_transient(connector: BoxnowConnector, world: World, status: int,
                                   retry_after: float | None, kit: SimpleNamespace) -> None:
    list(connector.list_lockers())
    world.inject_fault(status, 1, retry_after)
    with pytest.raises(TransientError) as err:
        list(connector.list_lockers())
    assert err.value.retry_after == retry_after and f"HTTP {status}" in str(err.value)
    assert len(list(connector.list_lockers())) == kit.LOCKERS


def test_wrong_client_secret_is_an_auth_error(server: Server, kit: SimpleNamespace) -> None:
    secret = "definitely-not-the-client-secret"
    with kit.boxnow(server.url, client_secret=secret) as conn:
        with pytest.raises(AuthError, match="refused the client credentials") as err:
            list(conn.list_lockers())
        assert secret not in str(err.value) and kit.CLIENT_SECRET not in str(err.value)
        result = conn.check()
    assert [(i.name, i.ok) for i in result.items] == [("config", True), ("auth", False)]
    assert "LOCKERHUB_BOXNOW_CLIENT_SECRET" in result.items[-1].message and secret not in result.items[-1].message


def test_check_passes_and_unreachable_is_named(connector: BoxnowConnector, kit: SimpleNamespace) -> None:
    result = connector.check()
    assert result.ok and [i.name for i in result.items] == ["config", "reachable", "auth"]
    with socket.socket() as bound:  # bound, never listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}"
        result = kit.boxnow(url, timeout_s=2).check()
    assert [(i.name, i.ok) for i in result.items] == [("config", True), ("reachable", False)]
    assert f"cannot reach {url}" in result.items[-1].message


def test_no_io_in_init_and_no_secret_in_repr(kit: SimpleNamespace) -> None:
    conn = kit.boxnow("http://127.0.0.1:9")
    assert conn._client is None
    assert kit.CLIENT_SECRET not in repr(conn) and kit.CLIENT_SECRET not in repr(conn.config)
    assert kit.CLIENT_SECRET not in repr(conn.client) and conn.client._session is None


def test_crosswalk_maps_every_documented_code_and_refuses_others() -> None:
    table = crosswalk()
    assert table.source == "boxnow" and set(table.codes) == DOCUMENTED
    assert {t for t in EVENT_TYPES.values() if t is not None} <= set(table.codes)  # the simulator sends only these
    assert (table.map("lost").status, table.map("lost").reason) == (ParcelStatus.EXCEPTION, "lost")
    assert (table.map("missing").status, table.map("missing").reason) == (ParcelStatus.EXCEPTION, "missing")
    with pytest.raises(MappingError):
        table.map("out-for-delivery")


def test_expiry_return_lapse_and_late_cancel(connector: BoxnowConnector, world: World, sim: Sim) -> None:
    locker = locker_ids(world)[2]
    kept = connector.book(connector.reserve(locker, "1", idempotency_key="order-8").reservation_id,
                          idempotency_key="order-8")
    lapsed = connector.reserve(locker, "1", idempotency_key="order-9")
    sim("deposit", parcel=kept.reservation_id)
    sim("clock/advance", seconds=49 * 3600)  # the cached access token expires too: renewed on the 401
    sim("return-collect", parcel=kept.reservation_id)
    assert [(e.event.raw_code, e.event.status) for e in connector.get_status(kept.reservation_id)][-2:] == [
        ("expired", ParcelStatus.PICKUP_EXPIRED), ("accepted-for-return", ParcelStatus.RETURNING)]
    assert connector.get_status(lapsed.reservation_id)[-1].event.status == ParcelStatus.CANCELLED
    with pytest.raises(RejectedError, match="P430"):
        connector.book(lapsed.reservation_id, idempotency_key="order-9")
    with pytest.raises(RejectedError, match="P420"):
        connector.cancel(kept.reservation_id)
