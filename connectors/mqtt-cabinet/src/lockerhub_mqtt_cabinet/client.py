"""MQTT plumbing of the mqtt-cabinet connector, and nothing else (no mapping, no retries).

One paho client per connector, connected on first use. It subscribes (QoS 1) to ``<prefix>/+/ack``,
``<prefix>/+/events``, ``<prefix>/+/telemetry`` and ``<prefix>/+/info``, drops every message whose ``message_id``
it has already seen (delivery is at least once), hands each ack to the command waiting for its ``correlation_id``,
keeps events and telemetry in bounded buffers until they are taken, and keeps the latest retained info message per
cabinet (an empty retained message removes the cabinet).

Errors: a broker that refuses the credentials is an :class:`AuthError`; one that cannot be reached or does not
confirm the subscriptions in time is a :class:`TransientError`, and so is a command without an ack within its
timeout. Error acks are returned as they are: the connector maps them. Messages name the broker (scheme, host and
port), the cabinet and the command, never a payload.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lockerhub.errors import AuthError, TransientError

logger = logging.getLogger("lockerhub_mqtt_cabinet")

VENDOR = "mqtt-cabinet"
CHANNELS = ("ack", "events", "telemetry", "info")
_AUTH_REFUSALS = {134, 135}  # Bad user name or password, Not authorized (paho maps MQTT 3.1.1 codes 4/5 to these)


@dataclass(slots=True)
class ClientStats:
    messages: int = 0
    duplicates: int = 0  # same message_id again (at-least-once delivery)
    invalid: int = 0  # not a JSON object with a message_id, or on an unexpected topic
    late_acks: int = 0  # acks nobody waits for any more (after a timeout)
    overflowed: int = 0  # buffered events or readings dropped because nobody took them in time


class _SeenIds:
    """The last ``capacity`` message ids, for dropping duplicates."""

    def __init__(self, capacity: int) -> None:
        self._order: deque[str] = deque()
        self._ids: set[str] = set()
        self._capacity = capacity

    def add(self, message_id: str) -> bool:
        """True when the id is new (and is now remembered)."""
        if message_id in self._ids:
            return False
        self._ids.add(message_id)
        self._order.append(message_id)
        if len(self._order) > self._capacity:
            self._ids.discard(self._order.popleft())
        return True


@dataclass(slots=True)
class _Waiter:
    done: threading.Event = field(default_factory=threading.Event)
    ack: dict[str, Any] | None = None


class CabinetClient:
    """The connector's one MQTT session (see the module docstring). Thread-safe."""

    def __init__(self, *, host: str, port: int, tls: bool = False, username: str | None = None,
                 password: str | None = None, prefix: str = "cabinets", client_id: str | None = None,
                 connect_timeout_s: float = 10.0, buffer_size: int = 10_000) -> None:
        self.host, self.port, self.tls = host, port, tls
        self._username, self._password = username, password
        self.prefix = prefix
        self.client_id = client_id
        self.connect_timeout_s = connect_timeout_s
        self.stats = ClientStats()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._seen = _SeenIds(4 * buffer_size)
        self._waiters: dict[str, _Waiter] = {}
        self._events: deque[tuple[str, dict[str, Any]]] = deque(maxlen=buffer_size)
        self._telemetry: deque[tuple[str, dict[str, Any]]] = deque(maxlen=buffer_size)
        self._infos: dict[str, dict[str, Any]] = {}
        self._client: Any = None
        self._ready = threading.Event()
        self._refused: Any = None
        self._subscribed_at: float | None = None

    @property
    def where(self) -> str:
        """The broker as ``scheme://host:port`` (never credentials)."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"CabinetClient({self.where}, prefix={self.prefix!r})"

    def topic(self, cabinet_id: str, channel: str) -> str:
        return f"{self.prefix}/{cabinet_id}/{channel}"

    # --- session ------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect and subscribe, once; later calls return at once."""
        with self._lock:
            if self._client is not None:
                return
            from lockerhub.health.mqtt import Broker  # paho and the broker helper load on first use only

            broker = Broker(self.host, self.port, self.tls, self._username, self._password)
            client = broker.client(self.client_id)
            client.on_connect = self._on_connect
            client.on_subscribe = self._on_subscribe
            client.on_message = self._on_message
            self._ready.clear()
            self._refused = None
            broker.connect(client)  # TransientError when the broker cannot be reached
            client.loop_start()
            self._client = client
        ready = self._ready.wait(self.connect_timeout_s)
        refused = self._refused
        if refused is not None or not ready:
            self.close()
        if refused is not None and getattr(refused, "value", None) in _AUTH_REFUSALS:
            raise AuthError(f"MQTT broker {self.where} refused the connection ({refused})",
                            hint="check the username and password for this connector")
        if refused is not None:
            raise TransientError(f"MQTT broker {self.where} refused the connection ({refused})")
        if not ready:
            raise TransientError(f"MQTT broker {self.where} did not confirm the connection and subscriptions "
                                 f"within {self.connect_timeout_s:g} s")

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            self._subscribed_at = None
        if client is not None:
            client.disconnect()
            client.loop_stop()

    # --- commands -----------------------------------------------------------------------------------------

    def command(self, cabinet_id: str, command: str, args: dict[str, Any], *, timeout: float,
                idempotency_key: str | None = None) -> dict[str, Any]:
        """Publish a command to ``<prefix>/<cabinet>/cmd`` and return its ack (``ok`` true or false)."""
        self.start()
        correlation_id = uuid.uuid4().hex
        message: dict[str, Any] = {"message_id": uuid.uuid4().hex, "correlation_id": correlation_id,
                                   "command": command, "args": args, "sent_at": datetime.now(UTC).isoformat()}
        if idempotency_key is not None:
            message["idempotency_key"] = idempotency_key
        waiter = _Waiter()
        with self._lock:
            client = self._client
            self._waiters[correlation_id] = waiter
        try:
            if client is None:
                raise TransientError(f"{VENDOR} {command} to cabinet {cabinet_id}: the MQTT session was closed")
            info = client.publish(self.topic(cabinet_id, "cmd"), json.dumps(message), qos=1)
            if info.rc != 0:
                raise TransientError(f"{VENDOR} {command} to cabinet {cabinet_id} was not sent: MQTT broker "
                                     f"{self.where} is not connected")
            if not waiter.done.wait(timeout):
                raise TransientError(f"{VENDOR} {command} on cabinet {cabinet_id}: no ack within {timeout:g} s",
                                     hint="the cabinet may be offline; a retry with the same idempotency key is "
                                          "safe")
            assert waiter.ack is not None
            return waiter.ack
        finally:
            with self._lock:
                self._waiters.pop(correlation_id, None)

    # --- what the cabinets publish ------------------------------------------------------------------------

    def infos(self, window: float) -> dict[str, dict[str, Any]]:
        """The latest info message per cabinet, once the subscription is at least ``window`` seconds old (the
        broker sends the retained ones right after subscribing)."""
        self.start()
        with self._lock:
            since = self._subscribed_at
        if since is not None:
            time.sleep(max(0.0, since + window - time.monotonic()))
        with self._lock:
            return dict(self._infos)

    def take_events(self, wait: float = 0.0) -> list[tuple[str, dict[str, Any]]]:
        """Every event message received since the last call, as ``(cabinet id, payload)`` in arrival order;
        with ``wait``, blocks up to that long for the first one."""
        self.start()
        with self._changed:
            if wait > 0:
                self._changed.wait_for(lambda: bool(self._events), wait)
            taken = list(self._events)
            self._events.clear()
            return taken

    def take_telemetry(self) -> list[tuple[str, dict[str, Any]]]:
        """Every telemetry message received since the last call, as ``(cabinet id, payload)``."""
        self.start()
        with self._lock:
            taken = list(self._telemetry)
            self._telemetry.clear()
            return taken

    # --- paho callbacks (network thread) ------------------------------------------------------------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if getattr(reason_code, "is_failure", False):
            self._refused = reason_code
            self._ready.set()
            client.disconnect()  # no reconnect loop against a broker that refuses us
            return
        client.subscribe([(f"{self.prefix}/+/{channel}", 1) for channel in CHANNELS])

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        if any(getattr(rc, "is_failure", False) for rc in reason_codes):
            logger.error("MQTT broker %s refused a subscription under %s/", self.where, self.prefix)
            return
        with self._lock:
            self._subscribed_at = time.monotonic()
        self._ready.set()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        self.handle(message.topic, message.payload)

    def handle(self, topic: str, payload: bytes) -> None:
        """Route one message (what the network thread does for each)."""
        levels = topic.split("/")
        depth = self.prefix.count("/") + 1
        cabinet_id, channel = (levels[depth], levels[depth + 1]) if len(levels) == depth + 2 else ("", "")
        with self._changed:
            self.stats.messages += 1
            if channel == "info" and cabinet_id and not payload:  # a cleared retained message: cabinet removed
                self._infos.pop(cabinet_id, None)
                return
            data = _json_object(payload)
            message_id = data.get("message_id") if data is not None else None
            if not cabinet_id or channel not in CHANNELS or not isinstance(message_id, str) or not message_id:
                self.stats.invalid += 1
                logger.warning("%s: expected a JSON object with a message_id (message skipped)", topic)
                return
            if not self._seen.add(message_id):
                self.stats.duplicates += 1
                return
            assert data is not None
            if channel == "ack":
                waiter = self._waiters.get(str(data.get("correlation_id")))
                if waiter is None or waiter.ack is not None:
                    self.stats.late_acks += 1
                    return
                waiter.ack = data
                waiter.done.set()
            elif channel == "info":
                self._infos[cabinet_id] = data
            else:
                buffer = self._events if channel == "events" else self._telemetry
                if len(buffer) == buffer.maxlen:
                    self.stats.overflowed += 1
                    if self.stats.overflowed % 1000 == 1:  # once per thousand, not once per message
                        logger.warning("%s: the %s buffer is full; the oldest messages are being dropped (%d so "
                                       "far)", topic, channel, self.stats.overflowed)
                buffer.append((cabinet_id, data))
                self._changed.notify_all()


def _json_object(payload: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None
