"""The mqtt-cabinet connector end to end: the cabinet simulator and the connector over a real Mosquitto."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from lockerhub_mqtt_cabinet import MqttCabinetConfig, MqttCabinetConnector
from lockerhub_mqtt_cabinet.connector import crosswalk

from lockerhub.errors import AuthError, MappingError, RejectedError, TransientError
from lockerhub.model import LockerState, ParcelStatus, ReservationKind
from lockerhub.plugins.protocols import Capability, ConnectorKind, LockerVendor
from lockerhub.plugins.registry import Registry
from lockerhub.simulator import World
from lockerhub.simulator.vendors.cabinet import CabinetSimulator, status_codes

from .conftest import eventually

pytestmark = pytest.mark.integration


def own_id(reservation_id: str) -> str:
    """The World's reservation id inside the connector's ``<cabinet>/<id>``."""
    return reservation_id.split("/", 1)[1]


def test_registry_loads_and_verifies_it(connector: MqttCabinetConnector) -> None:
    cls = Registry().load("mqtt-cabinet")
    assert cls is MqttCabinetConnector and cls.kind == ConnectorKind.LOCKER_VENDOR and cls.version == "0.1.0"
    assert Capability.TELEMETRY in cls.capabilities and Capability.WEBHOOKS not in cls.capabilities
    assert isinstance(connector, LockerVendor)


def test_check_counts_the_cabinets(connector: MqttCabinetConnector) -> None:
    result = connector.check()
    assert result.ok, result
    assert result.items[-1].message == "12 cabinets"


def test_list_lockers_collects_every_retained_info(connector: MqttCabinetConnector, world: World) -> None:
    lockers = list(connector.list_lockers())
    expected = world.lockers(per_page=100)[0]
    assert [lk.locker_id for lk in lockers] == sorted(lk.locker_id for lk in expected)
    mine = {lk.locker_id: lk for lk in lockers}
    for truth in expected:
        seen = mine[truth.locker_id]
        assert (seen.region, seen.city, seen.postal_code, seen.latitude) == (
            truth.region, truth.city, truth.postal_code, truth.latitude)
        assert [c.compartment_id for c in seen.compartments()] == [c.compartment_id for c in truth.compartments()]
        assert [c.inner for c in seen.compartments()] == [c.inner for c in truth.compartments()]
        assert seen.state == LockerState.ONLINE
    assert {c.size_class for lk in lockers for c in lk.compartments()} == {"S", "M", "L"}


def test_size_classes_from_the_info_messages(connector: MqttCabinetConnector) -> None:
    sizes = connector.size_classes()
    assert [s.code for s in sizes] == ["S", "M", "L"]
    assert [s.inner.height_mm for s in sizes] == [80, 190, 410]


def test_reserve_and_book_once_per_idempotency_key(connector: MqttCabinetConnector, world: World,
                                                   cabinet: str) -> None:
    soft = connector.reserve(cabinet, "M", idempotency_key="parcel-1")
    assert soft.kind == ReservationKind.SOFT and soft.access_code is None and soft.expires_at is not None
    assert soft.reservation_id.startswith(f"{cabinet}/") and soft.size_class == "M"
    assert connector.reserve(cabinet, "M", idempotency_key="parcel-1") == soft
    assert len(world.reservations_page()[0]) == 1

    hard = connector.book(soft.reservation_id, idempotency_key="parcel-1")
    assert hard.kind == ReservationKind.HARD and hard.access_code is not None
    code = hard.access_code.reveal()
    assert len(code) == 6 and code.isdigit() and hard.access_code.valid_until is not None
    assert code not in repr(hard) and code not in str(hard)
    assert json.loads(hard.model_dump_json())["access_code"]["code"] == "**********"
    replay = connector.book(soft.reservation_id, idempotency_key="parcel-1")
    assert replay.access_code is not None and replay.access_code.reveal() == code
    assert world.reservation(own_id(soft.reservation_id)).state == "booked"


def test_a_dropped_ack_times_out_and_the_retry_is_not_a_second_reservation(
        connector: MqttCabinetConnector, sim: CabinetSimulator, world: World, cabinet: str) -> None:
    sim.drop_acks(1)
    with pytest.raises(TransientError, match=f"reserve on cabinet {cabinet}: no ack within"):
        connector.reserve(cabinet, "S", idempotency_key="parcel-2")
    assert len(world.reservations_page()[0]) == 1  # the cabinet did reserve; only its ack was lost
    again = connector.reserve(cabinet, "S", idempotency_key="parcel-2")
    assert [v.reservation_id for v in world.reservations_page()[0]] == [own_id(again.reservation_id)]


def test_a_slow_ack_times_out_then_the_retry_replays_the_answer(
        connector: MqttCabinetConnector, world: World, cabinet: str) -> None:
    from lockerhub.simulator.faults import FaultKind, FaultRate

    world.inject_fault_rate(FaultRate(1.0, kinds=(FaultKind.TIMEOUT,), timeout_s=1.5))
    with pytest.raises(TransientError, match="no ack within"):
        connector.reserve(cabinet, "L", idempotency_key="parcel-3")
    world.inject_fault_rate(None)
    again = connector.reserve(cabinet, "L", idempotency_key="parcel-3")
    assert [v.reservation_id for v in world.reservations_page()[0]] == [own_id(again.reservation_id)]


@pytest.mark.parametrize(("status", "retry_after", "error"), [
    (429, 2.5, TransientError), (503, None, TransientError), (500, None, TransientError),
    (401, None, AuthError), (403, None, AuthError),
])
def test_error_acks_map_like_http(connector: MqttCabinetConnector, world: World, cabinet: str, status: int,
                                  retry_after: float | None, error: type[Exception]) -> None:
    world.inject_fault(status, 1, retry_after)
    with pytest.raises(error, match=f"reserve on cabinet {cabinet} answered {status}") as caught:
        connector.reserve(cabinet, "S", idempotency_key="parcel-4")
    if isinstance(caught.value, TransientError):
        assert caught.value.retry_after == retry_after
    assert world.reservations_page()[0] == []  # an error ack applied nothing
    assert connector.reserve(cabinet, "S", idempotency_key="parcel-4").kind == ReservationKind.SOFT


def test_refusals_are_rejected_with_the_cabinets_error_code(connector: MqttCabinetConnector, world: World,
                                                             cabinet: str) -> None:
    with pytest.raises(RejectedError, match="reserve on cabinet .* refused: 422 unknown_size"):
        connector.reserve(cabinet, "A", idempotency_key="k-size")  # the World's code, not the cabinet's
    with pytest.raises(RejectedError, match="confirm on cabinet .* refused: 404 unknown_reservation"):
        connector.book(f"{cabinet}/rsv-999999", idempotency_key="k-unknown")
    other = world.lockers(page=2, per_page=1)[0][0].locker_id
    soft = connector.reserve(other, "S", idempotency_key="k-other")
    with pytest.raises(RejectedError, match="404 unknown_reservation"):  # a cabinet knows only its own
        connector.book(f"{cabinet}/{own_id(soft.reservation_id)}", idempotency_key="k-wrong-cabinet")
    with pytest.raises(RejectedError, match="expected <cabinet id>/<reservation id>"):
        connector.get_status("rsv-000001")


def test_unknown_and_stale_cabinets_are_rejected_by_name(connector: MqttCabinetConnector, sim: CabinetSimulator,
                                                         publish: Callable[..., None]) -> None:
    with pytest.raises(RejectedError, match="reserve on cabinet SIM-XXX-0001 refused: unknown_locker"):
        connector.reserve("SIM-XXX-0001", "S", idempotency_key="k-x")
    # a cabinet removed from the network whose retained info lingers: the vendor's cloud answers 404
    topic = sim.topic("SIM-GONE-0001", "info")
    stale = {"message_id": "stale-info-1", "cabinet_id": "SIM-GONE-0001", "state": "online", "modules": []}
    publish(topic, json.dumps(stale), retain=True)
    try:
        eventually(lambda: "SIM-GONE-0001" in connector.client.infos(0))
        with pytest.raises(RejectedError, match="reserve on cabinet SIM-GONE-0001 refused: 404 unknown_locker"):
            connector.reserve("SIM-GONE-0001", "S", idempotency_key="k-gone")
    finally:
        publish(topic, b"", retain=True)
    eventually(lambda: "SIM-GONE-0001" not in connector.client.infos(0))  # a cleared info removes the cabinet


def test_an_offline_cabinet_is_refused_and_a_silent_one_times_out(
        connector: MqttCabinetConnector, sim: CabinetSimulator, world: World, cabinet: str) -> None:
    sim.set_state(cabinet, LockerState.OFFLINE)
    eventually(lambda: connector.client.infos(0).get(cabinet, {}).get("state") == "offline")
    states = {lk.locker_id: lk.state for lk in connector.list_lockers()}
    assert states[cabinet] == LockerState.OFFLINE
    with pytest.raises(TransientError, match="reports that it is offline"):
        connector.reserve(cabinet, "S", idempotency_key="k-off")
    assert sim.heartbeat() == len(states) - 1  # its heartbeat stopped

    # a cabinet that went silent without its info saying so: no ack, nothing applied
    silent = world.lockers(page=2, per_page=1)[0][0].locker_id
    world.set_locker_state(silent, LockerState.OFFLINE)
    with pytest.raises(TransientError, match=f"reserve on cabinet {silent}: no ack within"):
        connector.reserve(silent, "S", idempotency_key="k-silent")
    assert world.reservations_page()[0] == []

    sim.set_state(cabinet, LockerState.MAINTENANCE)  # reachable, but refuses bookings
    eventually(lambda: connector.client.infos(0).get(cabinet, {}).get("state") == "maintenance")
    with pytest.raises(RejectedError, match="refused: 409 locker_offline"):
        connector.reserve(cabinet, "S", idempotency_key="k-maint")


def test_cancel_and_cancel_after_deposit(connector: MqttCabinetConnector, world: World, cabinet: str) -> None:
    soft = connector.reserve(cabinet, "S", idempotency_key="k-c1")
    connector.cancel(soft.reservation_id)
    connector.cancel(soft.reservation_id)  # twice is a no-op
    assert world.reservation(own_id(soft.reservation_id)).state == "cancelled"

    hard = connector.book(connector.reserve(cabinet, "S", idempotency_key="k-c2").reservation_id,
                          idempotency_key="k-c2")
    world.deposit(own_id(hard.reservation_id))
    with pytest.raises(RejectedError, match="cancel on cabinet .* refused: 409 invalid_state"):
        connector.cancel(hard.reservation_id)


def test_get_status_maps_the_whole_lifecycle(connector: MqttCabinetConnector, sim: CabinetSimulator,
                                             world: World, cabinet: str) -> None:
    hard = connector.book(connector.reserve(cabinet, "M", idempotency_key="k-s").reservation_id,
                          idempotency_key="k-s")
    assert hard.access_code is not None and hard.compartment_id is not None
    rid = own_id(hard.reservation_id)
    assert sim.door_fault(cabinet, hard.compartment_id) == rid
    world.deposit(rid)
    world.advance(world.pickup_window.total_seconds() + 1)
    world.return_collect(rid)
    events = connector.get_status(hard.reservation_id)
    assert [e.event.status for e in events] == [
        ParcelStatus.CREATED, ParcelStatus.BOOKED, ParcelStatus.EXCEPTION, ParcelStatus.DEPOSITED,
        ParcelStatus.PICKUP_EXPIRED, ParcelStatus.RETURNING]
    assert [e.event.raw_code for e in events] == [
        "compartment_reserved", "code_assigned", "door_fault", "parcel_deposited", "pickup_overdue",
        "parcel_retrieved"]
    assert events[2].event.reason == "door_fault"
    assert all(e.reservation_id == hard.reservation_id and e.event.locker_id == cabinet for e in events)
    assert len({e.event.event_id for e in events}) == len(events)


EXPECTED = {
    "compartment_reserved": ParcelStatus.CREATED, "code_assigned": ParcelStatus.BOOKED,
    "parcel_deposited": ParcelStatus.DEPOSITED, "parcel_picked_up": ParcelStatus.COLLECTED,
    "pickup_overdue": ParcelStatus.PICKUP_EXPIRED, "parcel_retrieved": ParcelStatus.RETURNING,
    "reservation_released": ParcelStatus.CANCELLED, "hold_lapsed": ParcelStatus.CANCELLED,
    "door_fault": ParcelStatus.EXCEPTION,
}


def test_the_crosswalk_lists_every_code_the_cabinets_send() -> None:
    assert crosswalk().source == "mqtt-cabinet"
    assert sorted(crosswalk().codes) == sorted(status_codes()) == sorted(EXPECTED)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_each_code_maps_to_its_canonical_status(code: str) -> None:
    mapped = crosswalk().map(code)
    assert mapped.status == EXPECTED[code]
    assert mapped.reason == ("door_fault" if code == "door_fault" else None)


def test_an_unknown_code_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match="unknown mqtt-cabinet status code") as caught:
        crosswalk().map("parcel_teleported")
    assert "statuses.yaml" in str(caught.value)


def test_open_door_is_acknowledged_and_replayed_without_opening_again(
        connector: MqttCabinetConnector, world: World, cabinet: str) -> None:
    compartment = world.locker(cabinet).compartments()[0].compartment_id
    opened = connector.open_door(cabinet, compartment, idempotency_key="door-1")
    assert opened == world.now
    assert connector.open_door(cabinet, compartment, idempotency_key="door-1") == opened
    doors: list[tuple[str | None, str | None]] = []
    eventually(lambda: doors.extend((e.compartment_id, e.door) for e in connector.events() if e.type == "door")
               or len(doors) >= 2)
    assert doors == [(compartment, "open"), (compartment, "closed")]  # once, though asked twice
    assert connector.events(wait=0.2) == []
    with pytest.raises(RejectedError, match="open_door on cabinet .* refused: 404 unknown_compartment"):
        connector.open_door(cabinet, "NO-SUCH-DOOR")


def test_the_client_is_built_lazily_and_names_no_secret(config: MqttCabinetConfig) -> None:
    conn = MqttCabinetConnector(config.model_copy(update={"broker_url": "mqtt://127.0.0.1:1"}))
    assert conn._client is None  # no I/O in __init__
    result = conn.check()
    assert not result.ok and result.items[-1].name == "reachable"
    assert "mqtt://127.0.0.1:1" in result.items[-1].message


def test_check_says_when_no_cabinet_announces_itself(broker_url: str, config: MqttCabinetConfig) -> None:
    with MqttCabinetConnector(config.model_copy(update={"topic_prefix": config.topic_prefix + "-empty"})) as conn:
        result = conn.check()
    assert not result.ok and result.items[-1].name == "cabinets" and "topic_prefix" in result.items[-1].message
