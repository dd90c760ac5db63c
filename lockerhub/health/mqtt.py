"""Telemetry over MQTT: readings that lockers (or a device gateway) publish, stored as they arrive.

Topic ``<prefix>/<locker id>/telemetry`` (prefix ``lockers`` by default); payload UTF-8 JSON, one reading or a
list of them::

    {"kind": "battery", "value": 54.5, "observed_at": "2026-01-05T08:00:00+00:00"}

``locker_id`` may be given in the payload too, but must then equal the topic's. Kinds and units are those of
:mod:`lockerhub.model.telemetry`. Delivery is at least once (QoS 1): a reading that comes twice is stored once.
A payload that is not valid is counted and logged with its topic and what was wrong (never its content) and
the others go on.

Needs the ``mqtt`` extra (paho-mqtt 2). Broker URL ``mqtt://[user:password@]host[:port]`` or ``mqtts://``
(TLS); ``LOCKERHUB_MQTT_URL`` is the conventional variable for it. With a ``client_id`` the subscriber keeps a
persistent session, so the broker holds QoS 1 readings while it is away.

Pitfalls: locker ids containing ``/``, ``+`` or ``#`` cannot be topic levels. Readings are written to the
store from paho's network thread, before the message is acknowledged, so a crash re-delivers rather than
loses.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlsplit

import pydantic

from lockerhub.errors import ConfigError, Location, ParseError, TransientError
from lockerhub.health.readings import record_readings
from lockerhub.model.telemetry import TelemetryReading
from lockerhub.store import Store

logger = logging.getLogger("lockerhub.health.mqtt")

TOPIC_PREFIX = "lockers"
SOURCE = "mqtt"


def topic_for(locker_id: str, prefix: str = TOPIC_PREFIX) -> str:
    if not locker_id or any(c in locker_id for c in "/+#"):
        raise ValueError("a locker id used as a topic level must be non-empty without '/', '+' or '#'")
    return f"{prefix}/{locker_id}/telemetry"


def parse_message(topic: str, payload: bytes, prefix: str = TOPIC_PREFIX) -> list[TelemetryReading]:
    """The readings of one message; :class:`ParseError` naming the topic and the field when it is not valid."""
    where = Location(file=topic)
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != prefix or parts[2] != "telemetry" or not parts[1]:
        raise ParseError("unexpected topic", location=where, expected=f"{prefix}/<locker id>/telemetry")
    locker_id = parts[1]
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ParseError("payload", location=where, expected="UTF-8 JSON") from None
    items = data if isinstance(data, list) else [data]
    readings = []
    for i, item in enumerate(items):
        at = Location(file=topic, path=f"[{i}]" if isinstance(data, list) else None)
        if not isinstance(item, dict):
            raise ParseError("reading", location=at, expected="a JSON object", found=type(item).__name__)
        if item.get("locker_id", locker_id) != locker_id:
            raise ParseError("locker_id", location=at, expected="the topic's locker id", found="another one")
        try:
            readings.append(TelemetryReading.model_validate({**item, "locker_id": locker_id, "source": SOURCE}))
        except pydantic.ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "reading" for e in exc.errors())
            raise ParseError(f"invalid field(s): {fields}", location=at,
                             expected="kind, value and an ISO 8601 observed_at with offset") from None
    return readings


@dataclass(frozen=True, slots=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Broker:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ConfigError("MQTT broker URL", expected="mqtt://host[:port] or mqtts://host[:port]",
                              found=repr(f"{parts.scheme}://..."))
        tls = parts.scheme == "mqtts"
        return cls(parts.hostname, parts.port or (8883 if tls else 1883), tls,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)

    def __str__(self) -> str:  # never the credentials
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def client(self, client_id: str | None = None) -> Any:
        """A paho client for this broker, not yet connected."""
        try:
            import paho.mqtt.client as paho
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ConfigError("MQTT needs paho-mqtt", hint="install lockerhub[mqtt]") from exc
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id or "",
                             clean_session=client_id is None)
        if self.username is not None:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            client.tls_set()
        return client

    def connect(self, client: Any, *, keepalive: int = 30) -> None:
        try:
            client.connect(self.host, self.port, keepalive=keepalive)
        except OSError as exc:
            raise TransientError(f"MQTT broker {self} is not reachable ({type(exc).__name__})") from exc


@dataclass(slots=True)
class SubscriberStats:
    messages: int = 0
    received: int = 0  # readings
    stored: int = 0
    duplicates: int = 0
    invalid: int = 0  # messages


class TelemetrySubscriber:
    """Subscribes to ``<prefix>/+/telemetry`` and stores every reading; use as a context manager.

        with TelemetrySubscriber(store, "mqtt://127.0.0.1:1883") as sub:
            sub.wait_for(stored=100, timeout=10)
    """

    def __init__(self, store: Store, url: str = "mqtt://127.0.0.1:1883", *, prefix: str = TOPIC_PREFIX,
                 client_id: str | None = None, qos: int = 1, timeout: float = 10.0) -> None:
        self.store = store
        self.broker = Broker.from_url(url)
        self.prefix = prefix
        self.client_id = client_id
        self.qos = qos
        self.timeout = timeout
        self.stats = SubscriberStats()
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self._client: Any = None

    @property
    def topic(self) -> str:
        return f"{self.prefix}/+/telemetry"

    def start(self) -> Self:
        if self._client is not None:
            raise RuntimeError("the subscriber is already running")
        client = self.broker.client(self.client_id)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self.broker.connect(client)
        self._client = client
        client.loop_start()
        if not self._subscribed.wait(self.timeout):
            self.stop()
            raise TransientError(f"MQTT broker {self.broker} did not confirm the subscription to {self.topic} "
                                 f"within {self.timeout:g} s")
        return self

    def stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()
        self._subscribed.clear()

    def wait_for(self, *, stored: int | None = None, messages: int | None = None, timeout: float = 10.0) -> bool:
        """Block until at least ``stored`` readings were stored (or ``messages`` messages handled); False on
        timeout. For tests and short collection runs."""
        def done() -> bool:
            return ((stored is None or self.stats.stored >= stored)
                    and (messages is None or self.stats.messages >= messages))

        with self._changed:
            return self._changed.wait_for(done, timeout)

    # --- paho callbacks (network thread) ------------------------------------------------------------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if getattr(reason_code, "is_failure", False):
            logger.error("MQTT broker %s refused the connection: %s", self.broker, reason_code)
            return
        client.subscribe(self.topic, qos=self.qos)

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        if all(not getattr(rc, "is_failure", False) for rc in reason_codes):
            self._subscribed.set()
        else:
            logger.error("MQTT broker %s refused the subscription to %s", self.broker, self.topic)

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        self.handle(message.topic, message.payload)

    def handle(self, topic: str, payload: bytes) -> None:
        """Parse and store one message (what the network thread does for each)."""
        try:
            readings = parse_message(topic, payload, self.prefix)
            result = record_readings(self.store, readings, source=SOURCE)
        except ParseError as exc:
            logger.warning("%s (message skipped)", exc.render())
            with self._changed:
                self.stats.messages += 1
                self.stats.invalid += 1
                self._changed.notify_all()
            return
        with self._changed:
            self.stats.messages += 1
            self.stats.received += result.received
            self.stats.stored += result.stored
            self.stats.duplicates += result.duplicates
            self._changed.notify_all()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def publish_readings(readings: Iterable[TelemetryReading], url: str = "mqtt://127.0.0.1:1883", *,
                     prefix: str = TOPIC_PREFIX, qos: int = 1, per_message: int = 1, timeout: float = 10.0) -> int:
    """Publish readings to their locker's topic, as a device gateway does: one per message, or up to
    ``per_message`` consecutive readings of one locker as a JSON list. Returns the number of readings, once the
    broker has acknowledged every message (QoS 1)."""
    if per_message < 1:
        raise ValueError("per_message must be at least 1")
    broker = Broker.from_url(url)
    client = broker.client()
    broker.connect(client)
    client.loop_start()
    try:
        infos: list[Any] = []
        batch: list[TelemetryReading] = []
        count = 0

        def flush() -> None:
            body = [{"kind": r.kind.value, "value": r.value, "observed_at": r.observed_at.isoformat()} for r in batch]
            payload = json.dumps(body[0] if per_message == 1 else body)
            infos.append(client.publish(topic_for(batch[0].locker_id, prefix), payload, qos=qos))
            batch.clear()

        for r in readings:
            if batch and (r.locker_id != batch[0].locker_id or len(batch) == per_message):
                flush()
            batch.append(r)
            count += 1
        if batch:
            flush()
        for info in infos:
            info.wait_for_publish(timeout)
            if not info.is_published():
                raise TransientError(f"MQTT broker {broker} did not acknowledge a message within {timeout:g} s")
        return count
    finally:
        client.disconnect()
        client.loop_stop()
