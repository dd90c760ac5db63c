"""The gls connector end to end against the GLS-style simulator over real HTTP."""

from __future__ import annotations

import json
import socket
from importlib.metadata import entry_points
from typing import Any

import pytest
import requests
from lockerhub_gls import GlsConfig, GlsConnector
from lockerhub_gls.connector import carrier_parcel_id

from lockerhub.errors import AuthError, RejectedError, TransientError
from lockerhub.model import (
    Dimensions,
    LockerState,
    Parcel,
    ParcelStatus,
    ReservationKind,
    TemperatureClass,
    apply_event,
)
from lockerhub.model.state_machine import ParcelState
from lockerhub.plugins.protocols import Capability, ConnectorKind, LockerVendor
from lockerhub.plugins.registry import Registry
from lockerhub.simulator import World
from lockerhub.simulator.vendors.gls import Server

PARCEL = Parcel(parcel_id="P-1", dimensions=Dimensions.of(30, 20, 5, "cm"), weight_g=1200)


def locker(world: World, n: int) -> str:
    return world.lockers(page=n, per_page=1)[0][0].locker_id


def post(sim: requests.Session, server: Server, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = sim.post(server.url + path, json=body, timeout=5)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def test_registry_loads_and_verifies_it(server: Server) -> None:
    cls = Registry().load("gls")
    assert cls is GlsConnector and cls.kind == ConnectorKind.LOCKER_VENDOR and cls.version == "0.1.0"
    assert {Capability.WEBHOOKS, Capability.ACCESS_CODES, Capability.LIST_RESERVATIONS} <= cls.capabilities
    assert isinstance(Registry().create("gls", {"base_url": server.api_url, "api_key": "k"}), LockerVendor)
    assert [ep.value for ep in entry_points(group="lockerhub.conformance", name="gls")] == [
        "lockerhub_gls.conformance:harness"]


def test_list_lockers_pages_to_the_end(connector: GlsConnector, world: World) -> None:
    lockers = list(connector.list_lockers())
    assert len(lockers) == 120 > 2 * connector.config.page_size
    assert [lk.locker_id for lk in lockers] == [lk.locker_id for lk in world.lockers(per_page=120)[0]]
    first, source = lockers[0], world.lockers(per_page=1)[0][0]
    assert (first.name, first.region, first.city, first.postal_code, first.state) == (
        source.name, source.region, source.city, source.postal_code, LockerState.ONLINE)
    assert [m.module_id for m in first.modules] == [m.module_id for m in source.modules]
    assert [c.compartment_id for c in first.compartments()] == [c.compartment_id for c in source.compartments()]
    assert {c.size_class for c in first.compartments()} == {"SMALL", "MEDIUM", "LARGE"}


def test_size_classes_come_from_the_compartment_types(connector: GlsConnector) -> None:
    classes = connector.size_classes()
    assert [(s.code, s.inner.height_mm, s.max_weight_g) for s in classes] == [
        ("SMALL", 80, 25_000), ("MEDIUM", 190, 25_000), ("LARGE", 410, 25_000)]


def test_precheck(connector: GlsConnector, world: World) -> None:
    locker_id = locker(world, 1)
    assert connector.precheck(locker_id, PARCEL) == ["SMALL", "MEDIUM", "LARGE"]
    tall = PARCEL.model_copy(update={"dimensions": Dimensions.of(30, 30, 30, "cm")})
    assert connector.precheck(locker_id, tall) == ["LARGE"]
    assert connector.precheck(locker_id, PARCEL.model_copy(update={"temperature": TemperatureClass.CHILLED})) == []


def test_unknown_locker_is_a_rejection_naming_it(connector: GlsConnector) -> None:
    with pytest.raises(RejectedError) as info:
        connector.precheck("SIM-XXX-0001", PARCEL)
    assert "404: BOOKING_REJECTED_INVALID_LOCKER for locker 'SIM-XXX-0001'" in str(info.value)
    with pytest.raises(RejectedError, match="for locker 'SIM-XXX-0002'"):
        connector.reserve("SIM-XXX-0002", "SMALL", idempotency_key="stale-locker")


def test_an_offline_locker_is_refused_and_listed_offline(
    connector: GlsConnector, world: World, sim: requests.Session, server: Server
) -> None:
    locker_id = locker(world, 2)
    post(sim, server, f"/sim/lockers/{locker_id}/status", {"status": "INACTIVE"})
    try:
        listed = {lk.locker_id: lk.state for lk in connector.list_lockers()}
        assert listed[locker_id] == LockerState.OFFLINE
        with pytest.raises(RejectedError, match="409: BOOKING_REJECTED_LOCKER_UNAVAILABLE"):
            connector.precheck(locker_id, PARCEL)
        with pytest.raises(RejectedError, match="409: BOOKING_REJECTED_LOCKER_UNAVAILABLE"):
            connector.reserve(locker_id, "SMALL", idempotency_key="offline-1")
    finally:
        post(sim, server, f"/sim/lockers/{locker_id}/status", {"status": "ACTIVE"})
    assert connector.reserve(locker_id, "SMALL", idempotency_key="offline-1").kind == ReservationKind.SOFT


def test_reserve_and_book_once_per_key_then_deliver_and_collect(
    connector: GlsConnector, world: World, sim: requests.Session, server: Server
) -> None:
    assert server.network is not None
    before = len(server.network.carrier_parcel_ids())
    soft = connector.reserve(locker(world, 3), "MEDIUM", idempotency_key="parcel-1")
    assert soft.kind == ReservationKind.SOFT and soft.access_code is None
    assert soft.expires_at == world.now + world.soft_ttl  # type: ignore[operator]
    assert soft.size_class == "MEDIUM" and soft.compartment_id is not None
    assert connector.reserve(locker(world, 3), "MEDIUM", idempotency_key="parcel-1") == soft
    assert server.network.carrier_parcel_ids()[before:] == [carrier_parcel_id("parcel-1")]  # one per key
    assert soft.reservation_id == carrier_parcel_id("parcel-1") and len(soft.reservation_id) == 32

    hard = connector.book(soft.reservation_id, idempotency_key="book-1")
    assert hard.kind == ReservationKind.HARD and hard.access_code is not None and hard.expires_at is None
    code = hard.access_code.reveal()
    assert len(code) == 6 and code.isdigit()
    assert hard.access_code.valid_from == world.now and hard.access_code.valid_until is not None
    assert code not in repr(hard) and code not in str(hard)
    assert json.loads(hard.model_dump_json())["access_code"]["code"] == "**********"
    replay = connector.book(soft.reservation_id, idempotency_key="book-1")
    assert replay.access_code is not None and replay.access_code.reveal() == code

    post(sim, server, "/sim/courier/deliver", {"carrierParcelId": soft.reservation_id})
    post(sim, server, "/sim/consignee/collect", {"carrierParcelId": soft.reservation_id, "code": code})
    events = connector.get_status(soft.reservation_id)
    assert [(e.event.raw_code, e.event.status) for e in events] == [
        ("BOOKING_CREATED", ParcelStatus.CREATED), ("BOOKING_CONFIRMED", ParcelStatus.BOOKED),
        ("COURIER_DELIVERED", ParcelStatus.DEPOSITED), ("CONSIGNEE_COLLECTED", ParcelStatus.COLLECTED)]
    assert {e.reservation_id for e in events} == {carrier_parcel_id("parcel-1")}
    assert all(e.event.source == "gls" and e.event.locker_id == soft.locker_id for e in events)
    assert len({e.event.event_id for e in events}) == 4 and events[0].event.occurred_at.utcoffset() is not None
    state = ParcelState()
    for e in events:  # the mapped sequence is a legal canonical lifecycle
        _, state = apply_event(state, e.event.status, e.event.reason)
    assert state.status == ParcelStatus.COLLECTED


def test_expiry_cancel_and_return(
    connector: GlsConnector, world: World, sim: requests.Session, server: Server
) -> None:
    locker_id = locker(world, 4)
    kept = connector.book(connector.reserve(locker_id, "SMALL", idempotency_key="r-1").reservation_id,
                          idempotency_key="r-1")
    dropped = connector.reserve(locker_id, "SMALL", idempotency_key="r-2")
    connector.cancel(dropped.reservation_id)
    connector.cancel(dropped.reservation_id)  # cancelling twice is fine
    lapsed = connector.reserve(locker_id, "SMALL", idempotency_key="r-3")
    post(sim, server, "/sim/courier/deliver", {"carrierParcelId": kept.reservation_id})
    post(sim, server, "/sim/clock/advance", {"seconds": 49 * 3600})
    post(sim, server, "/sim/courier/collect-expired", {"carrierParcelId": kept.reservation_id})

    assert [(e.event.raw_code, e.event.status) for e in connector.get_status(kept.reservation_id)][-2:] == [
        ("CONSIGNEE_COLLECTION_EXPIRED", ParcelStatus.PICKUP_EXPIRED),
        ("COURIER_COLLECTED_EXPIRED", ParcelStatus.RETURNING)]
    assert connector.get_status(dropped.reservation_id)[-1].event.raw_code == "BOOKING_CANCELLED"
    last = connector.get_status(lapsed.reservation_id)[-1].event
    assert (last.raw_code, last.status, last.occurred_at) == ("BOOKING_EXPIRED", ParcelStatus.CANCELLED,
                                                              lapsed.expires_at)
    with pytest.raises(RejectedError, match="410: BOOKING_EXPIRED"):
        connector.book(lapsed.reservation_id, idempotency_key="r-3")
    with pytest.raises(RejectedError, match="409: BOOKING_CANCELLATION_FAILED"):
        connector.cancel(kept.reservation_id)


def test_refusals_name_the_gls_error_code(connector: GlsConnector, world: World) -> None:
    with pytest.raises(RejectedError, match="404: NOT_FOUND"):
        connector.get_status("never-booked")
    connector.reserve(locker(world, 5), "SMALL", idempotency_key="once")
    with pytest.raises(RejectedError, match="422: PARCEL_ALREADY_EXISTS"):
        connector.reserve(locker(world, 6), "SMALL", idempotency_key="once")
    full = world.lockers(page=7, per_page=1)[0][0]
    for n, c in enumerate(full.compartments()):
        if c.size_class == "C":
            connector.reserve(full.locker_id, "LARGE", idempotency_key=f"fill-{n}")
    with pytest.raises(RejectedError, match="409: BOOKING_REJECTED_NO_FREE_FITTING_COMPARTMENT"):
        connector.reserve(full.locker_id, "LARGE", idempotency_key="one-too-many")


def test_a_hard_booking_by_dimensions_as_the_real_api_takes_it(
    world: World, sim: requests.Session, server: Server
) -> None:
    body = {"eventType": "BOOKING", "carrierLockerId": locker(world, 8), "carrierParcelId": "direct-1",
            "dimensions": {"depth": 300, "width": 300, "height": 150}, "weight": 800,
            "allocationType": "HARD_RESERVATION"}
    parcel = post(sim, server, "/ooh/carrier-connector/v1/parcels/data/by-tenant-locker-id", body)
    assert (parcel["compartment"]["size"], parcel["allocationType"], parcel["shipmentStatus"]) == (
        "MEDIUM", "HARD_RESERVATION", "BOOKING_CONFIRMED")
    assert parcel["dimensionsStatus"] == "PARCEL_DIMENSIONS_OK" and parcel["accessCodes"]["consigneeCollection"]


def test_429_with_retry_after_and_5xx_are_transient(
    connector: GlsConnector, sim: requests.Session, server: Server
) -> None:
    post(sim, server, "/sim/faults", {"status": 429, "count": 1, "retry_after": 7})
    with pytest.raises(TransientError) as info:
        list(connector.list_lockers())
    assert info.value.retry_after == 7.0 and "HTTP 429" in str(info.value)
    post(sim, server, "/sim/faults", {"status": 503, "count": 1})
    with pytest.raises(TransientError) as info:
        connector.size_classes()
    assert info.value.retry_after is None and "HTTP 503" in str(info.value)
    assert len(connector.size_classes()) == 3


def test_wrong_api_key_is_an_auth_error(server: Server) -> None:
    secret = "definitely-wrong-key"
    with GlsConnector(GlsConfig(base_url=server.api_url, api_key=secret)) as conn:
        with pytest.raises(AuthError) as info:
            list(conn.list_lockers())
        assert secret not in str(info.value)
        result = conn.check()
    assert [(i.name, i.ok) for i in result.items] == [("config", True), ("auth", False)]
    assert "refused the API key" in result.items[-1].message and secret not in result.items[-1].message


def test_check_passes_and_reports_an_unreachable_host(connector: GlsConnector) -> None:
    assert [i.name for i in connector.check().items] == ["config", "reachable", "auth"]
    with socket.socket() as bound:  # bound, never listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}"
        result = GlsConnector(GlsConfig(base_url=url + "/ooh/carrier-connector/v1", api_key="x", timeout_s=2)).check()
        assert [(i.name, i.ok) for i in result.items] == [("config", True), ("reachable", False)]
        assert f"cannot reach {url}" in result.items[-1].message


def test_no_io_in_init_and_no_secret_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKERHUB_GLS_API_KEY", "top-secret")
    conn = GlsConnector(GlsConfig())
    assert conn._client is None and conn.config.base_url == "https://api.glsnxt.com/ooh/carrier-connector/v1"
    assert "top-secret" not in repr(conn) and "top-secret" not in repr(conn.config)
    assert "top-secret" not in repr(conn.client) and conn.client._session is None
    assert GlsConfig.model_json_schema()["properties"]["api_key"]["env"] == "LOCKERHUB_GLS_API_KEY"


def test_list_reservations_maps_states_and_follows_the_cursor(
    connector: GlsConnector, world: World, sim: requests.Session, server: Server
) -> None:
    start = len(world.reservations_page(limit=1_000_000)[0])
    locker_id = locker(world, 9)
    soft = connector.reserve(locker_id, "SMALL", idempotency_key="lr-soft")
    booked = connector.book(connector.reserve(locker_id, "SMALL", idempotency_key="lr-book").reservation_id,
                            idempotency_key="lr-book")
    page = connector.list_reservations()
    assert page.next_cursor is None and page.as_of == world.now
    mine = {r.reservation_id: r for r in page.items[start:]}
    assert [(mine[r.reservation_id].status, mine[r.reservation_id].state, mine[r.reservation_id].kind)
            for r in (soft, booked)] == [(ParcelStatus.CREATED, "BOOKING_CREATED", ReservationKind.SOFT),
                                         (ParcelStatus.BOOKED, "BOOKING_CONFIRMED", ReservationKind.HARD)]
    assert mine[soft.reservation_id].expires_at == soft.expires_at and mine[soft.reservation_id].created_at == world.now
    assert mine[soft.reservation_id].locker_id == locker_id and mine[booked.reservation_id].expires_at is None
    assert connector.list_reservations(cursor=str(start)).items == page.items[start:]
