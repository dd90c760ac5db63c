"""MQTT telemetry messages: topic and payload rules (no broker needed; see tests/integration for the broker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lockerhub.errors import ConfigError, ParseError
from lockerhub.health.mqtt import Broker, TelemetrySubscriber, parse_message, topic_for
from lockerhub.store import Store

AT = "2026-01-05T08:00:00+00:00"


def test_one_reading_or_a_list() -> None:
    [one] = parse_message("lockers/L-1/telemetry", json.dumps({"kind": "battery", "value": 54.5,
                                                                "observed_at": AT}).encode())
    assert (one.locker_id, one.kind, one.value, one.source) == ("L-1", "battery", 54.5, "mqtt")
    assert one.observed_at == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    many = parse_message("site/L-2/telemetry", json.dumps([
        {"kind": "online", "value": 1, "observed_at": AT},
        {"locker_id": "L-2", "kind": "door_fault", "value": 1, "observed_at": "2026-01-05T09:30:00+01:00"},
    ]).encode(), prefix="site")
    assert [(r.kind, r.observed_at.hour) for r in many] == [("online", 8), ("door_fault", 8)]


@pytest.mark.parametrize(("topic", "payload", "message"), [
    ("lockers/L-1/status", b"{}", "unexpected topic"),
    ("lockers//telemetry", b"{}", "unexpected topic"),
    ("lockers/L-1/telemetry", b"\xff", "expected UTF-8 JSON"),
    ("lockers/L-1/telemetry", b"[1]", "expected a JSON object, found int"),
    ("lockers/L-1/telemetry", json.dumps({"locker_id": "L-9", "kind": "online", "value": 1,
                                          "observed_at": AT}).encode(), "expected the topic's locker id"),
    ("lockers/L-1/telemetry", json.dumps({"kind": "humidity", "value": 1, "observed_at": AT}).encode(),
     "invalid field(s): kind"),
    ("lockers/L-1/telemetry", json.dumps({"kind": "online", "value": 1,
                                          "observed_at": "2026-01-05T08:00:00"}).encode(),
     "invalid field(s): observed_at"),
    ("lockers/L-1/telemetry", json.dumps({"kind": "online", "observed_at": AT, "code": "123456"}).encode(),
     "invalid field(s): value, code"),
])
def test_invalid_messages_name_topic_and_field_never_values(topic: str, payload: bytes, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_message(topic, payload)
    text = caught.value.render()
    assert text.startswith(f"{topic}") and message in text
    assert "123456" not in text and "L-9" not in text


def test_topic_for() -> None:
    assert topic_for("SIM-WAW-0001") == "lockers/SIM-WAW-0001/telemetry"
    for bad in ("", "a/b", "a+b", "a#"):
        with pytest.raises(ValueError):
            topic_for(bad)


def test_broker_url() -> None:
    broker = Broker.from_url("mqtts://user:s%40cret@broker.example:8884")
    assert (broker.host, broker.port, broker.tls, broker.username, broker.password) == (
        "broker.example", 8884, True, "user", "s@cret")
    assert str(broker) == "mqtts://broker.example:8884"
    assert Broker.from_url("mqtt://127.0.0.1").port == 1883
    with pytest.raises(ConfigError, match="expected mqtt://host"):
        Broker.from_url("http://127.0.0.1:1883")


def test_subscriber_counts_bad_messages_and_stores_good_ones(store: Store) -> None:
    sub = TelemetrySubscriber(store)  # not started: handle() is what the network thread calls
    good = json.dumps({"kind": "online", "value": 1, "observed_at": AT}).encode()
    sub.handle("lockers/L-1/telemetry", good)
    sub.handle("lockers/L-1/telemetry", good)  # QoS 1 redelivery
    sub.handle("lockers/L-1/telemetry", b"not json")
    assert (sub.stats.messages, sub.stats.stored, sub.stats.duplicates, sub.stats.invalid) == (3, 1, 1, 1)
    assert sub.wait_for(stored=1, messages=3, timeout=0.01)
    assert not sub.wait_for(stored=2, timeout=0.01)
