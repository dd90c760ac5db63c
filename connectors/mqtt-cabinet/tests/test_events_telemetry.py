"""What cabinets publish on their own: events (deduplicated, reordered, applied forward-only) and telemetry."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from lockerhub_mqtt_cabinet import CabinetEvent, MqttCabinetConfig, MqttCabinetConnector

from lockerhub.model import ParcelStatus
from lockerhub.model.telemetry import TelemetryKind
from lockerhub.simulator import World
from lockerhub.simulator.gateway import world_readings
from lockerhub.simulator.vendors.cabinet import CabinetSimulator

from .conftest import eventually

pytestmark = pytest.mark.integration


def collect(connector: MqttCabinetConnector, until: Callable[[list[CabinetEvent]], bool]) -> list[CabinetEvent]:
    """events() until ``until(events so far)`` holds."""
    seen: list[CabinetEvent] = []
    eventually(lambda: seen.extend(connector.events()) or until(seen))
    return seen


def test_events_come_once_in_order_though_sent_twice_and_swapped(
        connector: MqttCabinetConnector, sim: CabinetSimulator, world: World, cabinet: str) -> None:
    connector.events()  # subscribed before anything happens
    sim.duplicate = sim.reorder = True
    hard = connector.book(connector.reserve(cabinet, "S", idempotency_key="ev-1").reservation_id,
                          idempotency_key="ev-1")
    rid = hard.reservation_id.split("/", 1)[1]
    world.deposit(rid)
    assert hard.access_code is not None
    world.pickup(rid, hard.access_code.reveal())

    events = collect(connector, lambda seen: any(e.code == "parcel_picked_up" for e in seen)
                     and sum(e.type == "door" for e in seen) == 4)
    assert len({e.message_id for e in events}) == len(events)  # each message once
    parcel = [e.vendor_event.event.status for e in events if e.vendor_event is not None]
    assert parcel == [ParcelStatus.CREATED, ParcelStatus.BOOKED, ParcelStatus.DEPOSITED, ParcelStatus.COLLECTED]
    physical = [(e.type, e.door if e.type == "door" else e.occupied) for e in events if e.type != "parcel"]
    assert physical == [("door", "open"), ("occupancy", True), ("door", "closed"),
                        ("door", "open"), ("occupancy", False), ("door", "closed")]
    assert all(e.compartment_id == hard.compartment_id and e.cabinet_id == cabinet for e in events)
    assert connector.client.stats.duplicates >= len(events)


def test_a_late_parcel_event_never_moves_a_reservation_back(
        connector: MqttCabinetConnector, sim: CabinetSimulator, world: World, cabinet: str,
        publish: Callable[..., None]) -> None:
    connector.events()
    hard = connector.book(connector.reserve(cabinet, "S", idempotency_key="ev-2").reservation_id,
                          idempotency_key="ev-2")
    world.deposit(hard.reservation_id.split("/", 1)[1])
    first = collect(connector, lambda seen: any(e.code == "parcel_deposited" for e in seen))
    assert [e.code for e in first if e.type == "parcel"][-1] == "parcel_deposited"

    # the cabinet re-sends its code_assigned event (a new message id: a retry after a reconnect), then a fault
    late = {"message_id": "late-1", "cabinet_id": cabinet, "seq": 1, "type": "parcel", "code": "code_assigned",
            "reservation_id": hard.reservation_id.split("/", 1)[1], "event_id": "ev-late",
            "compartment_id": hard.compartment_id, "occurred_at": world.now.isoformat()}
    unknown = {**late, "message_id": "late-2", "code": "parcel_teleported"}
    for body in (late, unknown):
        publish(sim.topic(cabinet, "events"), json.dumps(body))
    assert sim.door_fault(cabinet, hard.compartment_id) is not None

    later = collect(connector, lambda seen: any(e.code == "door_fault" for e in seen)
                    and any(e.code == "parcel_teleported" for e in seen))
    assert "code_assigned" not in [e.code for e in later]  # stale: left out
    assert connector.event_stats.stale == 1
    [teleported] = [e for e in later if e.code == "parcel_teleported"]
    assert teleported.vendor_event is None and teleported.error is not None  # for the quarantine
    [fault] = [e for e in later if e.code == "door_fault"]
    assert fault.vendor_event is not None and fault.vendor_event.event.status == ParcelStatus.EXCEPTION
    assert [e.door for e in later if e.type == "door"] == ["fault"]


def test_telemetry_is_deduplicated_by_message_id_and_filtered_by_time(
        connector: MqttCabinetConnector, sim: CabinetSimulator, world: World) -> None:
    assert list(connector.telemetry()) == []  # subscribed now
    since = world.now - timedelta(hours=6)
    sim.duplicate = True
    sent = sim.publish_telemetry(since=since)
    expected = sorted(world_readings(world, since), key=lambda r: (r.observed_at, r.locker_id, r.kind.value))
    assert sent == len(expected) > 0
    eventually(lambda: len(list(connector.telemetry())) >= sent)
    readings = list(connector.telemetry())
    assert [(r.locker_id, r.kind, r.observed_at, r.value) for r in readings] == [
        (r.locker_id, r.kind, r.observed_at, r.value) for r in expected]
    assert {r.source for r in readings} == {"mqtt-cabinet"}
    assert list(connector.telemetry(since=world.now)) == [r for r in readings if r.observed_at >= world.now]

    sim.duplicate = False
    assert sim.heartbeat() == 12
    eventually(lambda: len(list(connector.telemetry())) > len(readings))
    beats = [r for r in connector.telemetry(since=world.now) if r.kind == TelemetryKind.ONLINE]
    assert {r.value for r in beats} == {1.0}


def test_a_broken_message_is_skipped_and_the_next_one_is_read(
        connector: MqttCabinetConnector, sim: CabinetSimulator, world: World, cabinet: str,
        publish: Callable[..., None]) -> None:
    assert list(connector.telemetry()) == []
    topic = sim.topic(cabinet, "telemetry")
    for payload in (b"{not json", json.dumps({"message_id": "t-1", "kind": "humidity", "value": 40,
                                              "observed_at": world.now.isoformat()}).encode()):
        publish(topic, payload)
    assert sim.heartbeat() == 12
    eventually(lambda: len(list(connector.telemetry())) == 12)
    assert connector.client.stats.invalid == 1  # not JSON; the unknown kind is logged and skipped


def test_a_periodic_heartbeat_stops_when_the_cabinet_goes_offline(
        config: MqttCabinetConfig, world: World, broker_url: str, prefix: str) -> None:
    cabinet, other = (lk.locker_id for lk in world.lockers(per_page=2)[0])
    with (CabinetSimulator(world, broker_url, prefix=prefix, heartbeat_s=0.05) as sim,
          MqttCabinetConnector(config) as listener):
        beats: list[str] = []

        def heard(cabinet_id: str, times: int) -> bool:
            beats.extend(cab for cab, raw in listener.client.take_telemetry() if raw["kind"] == "heartbeat")
            return beats.count(cabinet_id) >= times

        eventually(lambda: heard(cabinet, 1))
        sim.set_state(cabinet, "offline")
        beats.clear()
        eventually(lambda: heard(other, 3))
        assert beats.count(cabinet) <= 1  # at most a beat that was on its way when the cabinet went offline
