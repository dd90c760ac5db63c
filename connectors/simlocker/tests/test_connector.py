"""The simlocker connector end to end against a real simulator server."""

from __future__ import annotations

import json
import socket

import pytest
import requests
from lockerhub_simlocker import SimlockerConfig, SimlockerConnector
from lockerhub_simlocker.connector import crosswalk
from pydantic import SecretStr

from lockerhub.errors import AuthError, MappingError, RejectedError, TransientError
from lockerhub.model import Dimensions, Parcel, ParcelStatus, ReservationKind, apply_event
from lockerhub.model.state_machine import ParcelState
from lockerhub.plugins.protocols import Capability, ConnectorKind, LockerVendor
from lockerhub.plugins.registry import Registry
from lockerhub.simulator import EventCode, SimulatorServer, World

PARCEL = Parcel(parcel_id="P-1", dimensions=Dimensions.of(30, 20, 5, "cm"), weight_g=1200)


def first_locker(world: World) -> str:
    return world.lockers(per_page=1)[0][0].locker_id


def test_registry_loads_and_verifies_it(server: SimulatorServer) -> None:
    cls = Registry().load("simlocker")
    assert cls is SimlockerConnector
    assert cls.kind == ConnectorKind.LOCKER_VENDOR and cls.version == "0.1.0"
    assert Capability.ACCESS_CODES in cls.capabilities and Capability.WEBHOOKS in cls.capabilities
    created = Registry().create("simlocker", {"base_url": server.url, "api_key": "k"})
    assert isinstance(created, LockerVendor)


def test_list_lockers_across_pages(connector: SimlockerConnector, world: World) -> None:
    lockers = list(connector.list_lockers())
    assert len(lockers) == 120 > 2 * connector.client.per_page
    assert [lk.locker_id for lk in lockers] == [lk.locker_id for lk in world.lockers(per_page=100)[0]] + [
        lk.locker_id for lk in world.lockers(page=2, per_page=100)[0]]
    assert lockers[0].modules and lockers[0].compartments()[0].size_class in {"A", "B", "C"}


def test_size_classes(connector: SimlockerConnector) -> None:
    assert [s.code for s in connector.size_classes()] == ["A", "B", "C"]


def test_precheck(connector: SimlockerConnector, world: World) -> None:
    locker_id = first_locker(world)
    assert connector.precheck(locker_id, PARCEL) == ["A", "B", "C"]
    tall = PARCEL.model_copy(update={"dimensions": Dimensions.of(30, 30, 30, "cm")})
    assert connector.precheck(locker_id, tall) == ["C"]
    with pytest.raises(RejectedError, match="404: unknown_locker"):
        connector.precheck("SIM-XXX-0001", PARCEL)


def test_reserve_book_deposit_pickup_and_status(
    connector: SimlockerConnector, world: World, sim: requests.Session, server: SimulatorServer
) -> None:
    soft = connector.reserve(first_locker(world), "B", idempotency_key="parcel-1")
    assert soft.kind == ReservationKind.SOFT and soft.expires_at is not None and soft.access_code is None
    assert connector.reserve(first_locker(world), "B", idempotency_key="parcel-1") == soft
    hard = connector.book(soft.reservation_id, idempotency_key="parcel-1")
    assert hard.kind == ReservationKind.HARD and hard.access_code is not None
    code = hard.access_code.reveal()
    assert len(code) == 6 and code.isdigit() and hard.access_code.valid_until is not None
    assert code not in repr(hard) and code not in str(hard) and code not in hard.model_dump_json()
    assert json.loads(hard.model_dump_json())["access_code"]["code"] == "**********"
    replay = connector.book(soft.reservation_id, idempotency_key="parcel-1")
    assert replay.access_code is not None and replay.access_code.reveal() == code

    sim.post(f"{server.url}/sim/deposit", json={"reservation_id": soft.reservation_id}, timeout=5).raise_for_status()
    sim.post(f"{server.url}/sim/pickup", json={"reservation_id": soft.reservation_id, "access_code": code},
             timeout=5).raise_for_status()

    events = connector.get_status(soft.reservation_id)
    assert [e.event.status for e in events] == [ParcelStatus.CREATED, ParcelStatus.BOOKED, ParcelStatus.DEPOSITED,
                                                ParcelStatus.COLLECTED]
    assert [e.event.raw_code for e in events] == ["RESERVATION_CREATED", "BOOKING_CONFIRMED", "COURIER_DEPOSITED",
                                                  "CONSIGNEE_PICKED_UP"]
    assert {e.reservation_id for e in events} == {soft.reservation_id}
    assert all(e.event.source == "simlocker" and e.event.locker_id == soft.locker_id for e in events)
    assert len({e.event.event_id for e in events}) == 4
    assert events[0].event.occurred_at.utcoffset() is not None
    state = ParcelState()
    for e in events:  # the mapped sequence is a legal canonical lifecycle
        _, state = apply_event(state, e.event.status, e.event.reason)
    assert state.status == ParcelStatus.COLLECTED


def test_expiry_return_and_cancel_map_to_canonical(
    connector: SimlockerConnector, world: World, sim: requests.Session, server: SimulatorServer
) -> None:
    locker_id = first_locker(world)
    kept = connector.book(connector.reserve(locker_id, "A", idempotency_key="r-1").reservation_id,
                          idempotency_key="r-1")
    dropped = connector.reserve(locker_id, "A", idempotency_key="r-2")
    connector.cancel(dropped.reservation_id)
    connector.cancel(dropped.reservation_id)  # idempotent
    lapsed = connector.reserve(locker_id, "A", idempotency_key="r-3")
    sim.post(f"{server.url}/sim/deposit", json={"reservation_id": kept.reservation_id}, timeout=5).raise_for_status()
    sim.post(f"{server.url}/sim/clock/advance", json={"seconds": 49 * 3600}, timeout=5).raise_for_status()
    sim.post(f"{server.url}/sim/return-collect", json={"reservation_id": kept.reservation_id},
             timeout=5).raise_for_status()

    assert [e.event.status for e in connector.get_status(kept.reservation_id)][-2:] == [
        ParcelStatus.PICKUP_EXPIRED, ParcelStatus.RETURNING]
    assert connector.get_status(dropped.reservation_id)[-1].event.raw_code == "BOOKING_CANCELLED"
    last = connector.get_status(lapsed.reservation_id)[-1].event
    assert (last.raw_code, last.status) == ("RESERVATION_EXPIRED", ParcelStatus.CANCELLED)
    with pytest.raises(RejectedError, match="410: reservation_expired"):
        connector.book(lapsed.reservation_id, idempotency_key="r-3")
    with pytest.raises(RejectedError, match="409: invalid_state"):
        connector.cancel(kept.reservation_id)


def test_no_free_compartment_is_a_rejection(connector: SimlockerConnector, world: World) -> None:
    locker = world.lockers(page=2, per_page=1)[0][0]
    for n, c in enumerate(locker.compartments()):
        if c.size_class == "C":
            connector.reserve(locker.locker_id, "C", idempotency_key=f"fill-{n}")
    with pytest.raises(RejectedError, match="409: no_free_compartment"):
        connector.reserve(locker.locker_id, "C", idempotency_key="one-too-many")


def test_503_fault_is_transient_with_retry_after(connector: SimlockerConnector, sim: requests.Session,
                                                 server: SimulatorServer) -> None:
    sim.post(f"{server.url}/sim/faults", json={"status": 503, "count": 2, "retry_after": 1},
             timeout=5).raise_for_status()
    for _ in range(2):
        with pytest.raises(TransientError) as err:
            connector.size_classes()
        assert err.value.retry_after == 1.0
        assert "HTTP 503" in str(err.value)
    assert len(connector.size_classes()) == 3


def test_429_is_transient_too(connector: SimlockerConnector, sim: requests.Session, server: SimulatorServer) -> None:
    sim.post(f"{server.url}/sim/faults", json={"status": 429, "count": 1}, timeout=5).raise_for_status()
    with pytest.raises(TransientError) as err:
        list(connector.list_lockers())
    assert err.value.retry_after is None


def test_wrong_api_key_is_an_auth_error(server: SimulatorServer) -> None:
    secret = "definitely-wrong-key"
    with SimlockerConnector(SimlockerConfig(base_url=server.url, api_key=secret)) as conn:
        with pytest.raises(AuthError) as err:
            conn.size_classes()
        assert secret not in str(err.value)
        result = conn.check()
    assert not result.ok
    assert [(i.name, i.ok) for i in result.items] == [("config", True), ("auth", False)]
    assert "refused the API key" in result.items[-1].message and secret not in result.items[-1].message


def test_check_passes(connector: SimlockerConnector) -> None:
    result = connector.check()
    assert result.ok and [i.name for i in result.items] == ["config", "reachable", "auth"]


def test_check_unreachable() -> None:
    with socket.socket() as bound:  # bound, never listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}"
        conn = SimlockerConnector(SimlockerConfig(base_url=url + "/", api_key=SecretStr("x"), timeout_s=2))
        result = conn.check()
        assert [(i.name, i.ok) for i in result.items] == [("config", True), ("reachable", False)]
        assert f"cannot reach {url}" in result.items[-1].message
        with pytest.raises(TransientError, match="request failed: ConnectionError"):
            conn.size_classes()


def test_no_io_in_init_and_no_secret_in_repr(server: SimulatorServer) -> None:
    conn = SimlockerConnector(SimlockerConfig(base_url="http://127.0.0.1:9", api_key="top-secret"))
    assert conn._client is None
    assert "top-secret" not in repr(conn) and "top-secret" not in repr(conn.config)
    assert "top-secret" not in repr(conn.client) and conn.client._session is None


def test_crosswalk_covers_every_simulator_code() -> None:
    table = crosswalk()
    assert table.source == "simlocker"
    assert {c.value for c in EventCode} <= set(table.codes)
    assert table.map("DOOR_FAULT").reason == "door_fault"
    with pytest.raises(MappingError):
        table.map("SOMETHING_NEW")
