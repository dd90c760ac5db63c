"""Telemetry over a real Mosquitto on 127.0.0.1:1883: the simulator publishes as a device gateway, the subscriber
stores each reading once, and the health score finds the degrading lockers from what arrived."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from lockerhub.health import HealthPolicy, assess
from lockerhub.health.mqtt import Broker, TelemetrySubscriber, publish_readings, topic_for
from lockerhub.simulator import World
from lockerhub.simulator.gateway import publish_world_telemetry, world_readings
from lockerhub.simulator.telemetry import Degradation
from lockerhub.store import Store, TelemetryRow
from tests.integration.conftest import service_missing

pytestmark = pytest.mark.integration

MQTT_URL = os.environ.get("LOCKERHUB_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


@pytest.fixture
def broker_url() -> str:
    parts = urlsplit(MQTT_URL)
    try:
        import paho.mqtt.client  # noqa: F401
    except ImportError as exc:
        service_missing("paho-mqtt (the mqtt extra)", exc)
    try:
        socket.create_connection((parts.hostname, parts.port or 1883), timeout=3).close()
    except OSError as exc:
        service_missing(f"Mosquitto at {parts.hostname}:{parts.port or 1883}", exc)
    return MQTT_URL


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(f"sqlite:///{tmp_path / 'mqtt.db'}")
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def prefix() -> str:
    """A topic prefix of this test's own, so parallel or earlier runs on the same broker do not interfere."""
    return f"lockerhub-it-{uuid.uuid4().hex[:10]}"


def rows(store: Store) -> int:
    with store.transaction() as s:
        return s.scalar(select(func.count()).select_from(TelemetryRow).where(TelemetryRow.source == "mqtt")) or 0


def test_readings_arrive_once_and_the_health_score_uses_them(broker_url: str, store: Store, prefix: str,
                                                             world: World) -> None:
    with TelemetrySubscriber(store, broker_url, prefix=prefix) as sub:
        sent = publish_world_telemetry(world, broker_url, prefix=prefix, per_message=50)
        assert sub.wait_for(stored=sent, timeout=60), sub.stats
        assert rows(store) == sent == len(world.telemetry_readings())

        # at-least-once: the gateway sends the last day again, one reading per message
        before = sub.stats.messages
        last_day = publish_world_telemetry(world, broker_url, prefix=prefix,
                                           since=world.now - timedelta(days=1))
        assert sub.wait_for(messages=before + last_day, timeout=60), sub.stats
        assert sub.stats.duplicates == last_day and rows(store) == sent

        # a broken message is counted and skipped; the next good one is stored
        client = Broker.from_url(broker_url).client()
        Broker.from_url(broker_url).connect(client)
        client.loop_start()
        try:
            locker_id = world.telemetry_profiles()[0].locker_id
            client.publish(topic_for(locker_id, prefix), b"{not json", qos=1).wait_for_publish(10)
            good = {"kind": "door_fault", "value": 1, "observed_at": (world.now + timedelta(minutes=1)).isoformat()}
            client.publish(topic_for(locker_id, prefix), json.dumps(good), qos=1).wait_for_publish(10)
        finally:
            client.disconnect()
            client.loop_stop()
        assert sub.wait_for(stored=sent + 1, timeout=30), sub.stats
        assert sub.stats.invalid == 1

    as_of, healths = assess(store, HealthPolicy(), as_of=world.now)
    flagged = {h.locker_id for h in healths if h.flags}
    degrading = {p.locker_id for p in world.telemetry_profiles() if p.degradation}
    assert as_of == world.now and flagged == degrading


def test_a_persistent_session_gets_what_was_published_while_away(broker_url: str, store: Store, prefix: str,
                                                                 world: World) -> None:
    client_id = f"{prefix}-sub"
    with TelemetrySubscriber(store, broker_url, prefix=prefix, client_id=client_id):
        pass  # the broker now knows the session and its subscription
    [door] = [p.locker_id for p in world.telemetry_profiles() if p.degradation is Degradation.DOOR]
    readings = [r for r in world_readings(world, world.now - timedelta(hours=6)) if r.locker_id == door]
    assert publish_readings(readings, broker_url, prefix=prefix) == len(readings) > 0  # nobody is listening
    with TelemetrySubscriber(store, broker_url, prefix=prefix, client_id=client_id) as sub:
        assert sub.wait_for(stored=len(readings), timeout=30), sub.stats
    assert rows(store) == len(readings)
