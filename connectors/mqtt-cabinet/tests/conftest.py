"""Fixtures over a real Mosquitto (``LOCKERHUB_TEST_MQTT_URL``, default mqtt://127.0.0.1:1883).

Without CI=true a missing broker skips these tests; with CI=true it fails them (as tests/integration does). Each
test has a topic prefix of its own, so runs on one broker do not interfere.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from lockerhub_mqtt_cabinet import MqttCabinetConfig, MqttCabinetConnector

from lockerhub.plugins.registry import Registry
from lockerhub.simulator import World
from lockerhub.simulator.vendors.cabinet import CabinetSimulator

MQTT_URL = os.environ.get("LOCKERHUB_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
CABINETS = 12
ACK_TIMEOUT_S = 0.9  # sub-second, yet with room for a loaded shared machine
INFO_WINDOW_S = 0.2


def service_missing(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable ({type(exc).__name__}: {exc})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


def eventually(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds (what the broker delivers arrives on its own thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.02)


@pytest.fixture(scope="session")
def broker_url() -> str:
    parts = urlsplit(MQTT_URL)
    try:
        socket.create_connection((parts.hostname, parts.port or 1883), timeout=3).close()
    except OSError as exc:
        service_missing(f"Mosquitto at {parts.hostname}:{parts.port or 1883}", exc)
    return MQTT_URL


@pytest.fixture
def prefix() -> str:
    return f"lockerhub-cabinet-it-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def world() -> World:
    return World.generate(CABINETS, seed=2026)


@pytest.fixture
def sim(world: World, broker_url: str, prefix: str) -> Iterator[CabinetSimulator]:
    with CabinetSimulator(world, broker_url, prefix=prefix) as running:
        yield running


@pytest.fixture
def config(broker_url: str, prefix: str) -> MqttCabinetConfig:
    return MqttCabinetConfig(broker_url=broker_url, topic_prefix=prefix, ack_timeout_s=ACK_TIMEOUT_S,
                             info_window_s=INFO_WINDOW_S)


@pytest.fixture
def connector(sim: CabinetSimulator, config: MqttCabinetConfig) -> Iterator[MqttCabinetConnector]:
    """The connector as the hub gets it: through the plugin registry, by its id."""
    conn = Registry().create("mqtt-cabinet", config)
    assert isinstance(conn, MqttCabinetConnector)
    with conn:
        yield conn


@pytest.fixture
def publish(broker_url: str) -> Iterator[Callable[..., None]]:
    """``publish(topic, payload, retain=False)`` as any other device or a stale leftover on the broker would."""
    from lockerhub.health.mqtt import Broker

    broker = Broker.from_url(broker_url)
    client = broker.client()
    broker.connect(client)
    client.loop_start()

    def send(topic: str, payload: bytes | str, *, retain: bool = False) -> None:
        client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    yield send
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def cabinet(world: World) -> str:
    return world.lockers(per_page=1)[0][0].locker_id
