"""IoT locker cabinets over MQTT (Bloq.it-style devices behind an AWS IoT-like broker), over the shared World.

One MQTT client emulates every World locker as a cabinet (the World's locker id is the cabinet id)::

    with CabinetSimulator(World.generate(12, seed=1), "mqtt://127.0.0.1:1883", prefix="cabinets") as sim:
        ...  # point the mqtt-cabinet connector at the same broker and prefix

The wire protocol is emulated (IoT cabinet vendors do not publish their device protocols); it follows AWS IoT
habits: topics per device, a client token (``correlation_id``) echoed in every answer, QoS 1, a retained
description. Every message is UTF-8 JSON with a ``message_id``; the same message may come twice.

Topics under ``<prefix>/<cabinet id>/``:

- ``cmd`` (to the cabinet): ``{message_id, correlation_id, command, args, idempotency_key?}``. Commands:
  ``reserve {size}``, ``confirm {reservation_id}`` (answers the access code), ``cancel {reservation_id}``,
  ``open_door {compartment_id}``, ``status {reservation_id}`` (the reservation and its parcel events).
  The same ``idempotency_key`` with the same command replays the first answer (nothing is applied twice).
- ``ack``: ``{message_id, correlation_id, command, ok: true, result}`` or
  ``{..., ok: false, status, error, retry_after, detail}`` (HTTP-like statuses; ``error`` a snake_case code).
- ``events``: ``{message_id, cabinet_id, seq, type, occurred_at, compartment_id, ...}`` with ``type`` ``door``
  (``state`` open | closed | fault), ``occupancy`` (``occupied``) or ``parcel`` (``code``, ``reservation_id``,
  ``event_id``; codes in :data:`PARCEL_CODES` plus ``door_fault``). ``seq`` counts per cabinet.
- ``telemetry``: ``{message_id, cabinet_id, kind, value, observed_at}``; kinds in :data:`TELEMETRY_KINDS`
  (``heartbeat`` 1/0, ``battery`` %, ``temperature`` deg C, and event counts), units those of
  :mod:`lockerhub.model.telemetry`.
- ``info`` (retained): cabinet id, name, region, address, location, ``state`` (online | offline | maintenance)
  and modules of compartments with ``size`` (S/M/L for the World's A/B/C) and ``inner`` dimensions in mm.

Faults: the World's own plans (``world.inject_fault``, ``inject_fault_rate``) turn the next commands into error
acks (``{"ok": false, "status": 429, "retry_after": 2}``; not applied) or, for timeouts, into late acks (applied,
answered ``delay_s`` later). Beside them: ``duplicate`` (every event, telemetry and ack message is sent twice with
the same message_id), ``reorder`` (event messages go out in swapped pairs), :meth:`CabinetSimulator.drop_acks`
(commands applied, their acks never sent), :meth:`CabinetSimulator.set_state` (an offline cabinet answers nothing
and sends no heartbeat; ``maintenance`` refuses with 409 ``locker_offline``), :meth:`CabinetSimulator.door_fault`.
A command to a cabinet the World does not know answers 404 ``unknown_locker`` (the vendor cloud's answer for a
stale id).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from lockerhub.errors import TransientError
from lockerhub.model import LockerState
from lockerhub.model.telemetry import TelemetryKind
from lockerhub.simulator.server import SimulatorStartError
from lockerhub.simulator.state import EventCode, ReservationView, SimError, SimEvent, World, iso

logger = logging.getLogger("lockerhub.simulator.cabinet")

SIZES: dict[str, str] = {"A": "S", "B": "M", "C": "L"}
"""World size class -> the cabinet's size code (other World classes keep their code)."""

PARCEL_CODES: dict[EventCode, str] = {
    EventCode.RESERVATION_CREATED: "compartment_reserved",
    EventCode.BOOKING_CONFIRMED: "code_assigned",
    EventCode.COURIER_DEPOSITED: "parcel_deposited",
    EventCode.CONSIGNEE_PICKED_UP: "parcel_picked_up",
    EventCode.PICKUP_EXPIRED: "pickup_overdue",
    EventCode.COURIER_COLLECTED_RETURN: "parcel_retrieved",
    EventCode.BOOKING_CANCELLED: "reservation_released",
    EventCode.RESERVATION_EXPIRED: "hold_lapsed",
}
"""World event code -> the cabinet's parcel event code."""
DOOR_FAULT = "door_fault"

# Parcel events a door opens and closes around, and whether the compartment is occupied afterwards.
_PHYSICAL: dict[EventCode, bool] = {
    EventCode.COURIER_DEPOSITED: True,
    EventCode.CONSIGNEE_PICKED_UP: False,
    EventCode.COURIER_COLLECTED_RETURN: False,
}

TELEMETRY_KINDS: dict[TelemetryKind, str] = {
    TelemetryKind.ONLINE: "heartbeat",
    TelemetryKind.BATTERY: "battery",
    TelemetryKind.TEMPERATURE: "temperature",
    TelemetryKind.DOOR_FAULT: "door_fault",
    TelemetryKind.OPEN_FAILED: "open_failed",
    TelemetryKind.API_ERROR: "command_failed",
}
"""Canonical telemetry kind -> the cabinet's telemetry kind (same units)."""

_FAULT_ERRORS = {401: "unauthorized", 403: "forbidden", 429: "rate_limited", 500: "internal_error",
                 502: "bad_gateway", 503: "unavailable", 504: "gateway_timeout"}
_LIVE = ("soft", "booked", "deposited", "pickup_expired")  # booking states that hold a compartment


def status_codes() -> list[str]:
    """Every parcel event code a cabinet sends."""
    return [*PARCEL_CODES.values(), DOOR_FAULT]


class CabinetSimulator:
    """Every World locker as an MQTT cabinet; a context manager, or :meth:`start` and :meth:`stop`."""

    def __init__(self, world: World, url: str = "mqtt://127.0.0.1:1883", *, prefix: str = "cabinets",
                 heartbeat_s: float | None = None, timeout: float = 10.0) -> None:
        self.world = world
        self.url = url
        self.prefix = prefix
        self.heartbeat_s = heartbeat_s
        self.timeout = timeout
        self.duplicate = False
        self.reorder = False
        self._drop_acks = 0
        self._lock = threading.Lock()
        self._seq: dict[str, int] = {}
        self._fault_seq = 0
        self._door_faults: dict[str, list[tuple[int, dict[str, Any]]]] = {}  # reservation -> (position, event)
        self._outbox: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._cabinets: dict[str, set[str]] = {}  # cabinet -> compartment ids
        self._client: Any = None
        self._threads: list[threading.Thread] = []
        self._timers: list[threading.Timer] = []
        self._stopping = threading.Event()
        self._subscribed = threading.Event()

    def topic(self, cabinet_id: str, channel: str) -> str:
        return f"{self.prefix}/{cabinet_id}/{channel}"

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._client is not None:
            raise RuntimeError("the cabinet simulator is already running")
        from lockerhub.health.mqtt import Broker

        lockers, _ = self.world.lockers(per_page=1_000_000)
        bad = [lk.locker_id for lk in lockers if any(c in lk.locker_id for c in "/+#")]
        if bad:
            raise ValueError(f"locker id {bad[0]!r} cannot be a topic level ('/', '+' and '#' are not allowed)")
        self._cabinets = {lk.locker_id: {c.compartment_id for c in lk.compartments()} for lk in lockers}
        broker = Broker.from_url(self.url)
        client = broker.client()
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        try:
            broker.connect(client)
        except TransientError as exc:
            raise SimulatorStartError(exc.message) from exc
        client.loop_start()
        self._client = client
        self._stopping.clear()
        self._outbox = queue.Queue()  # a fresh one: a failed start may have left the stop marker in the old
        if not self._subscribed.wait(self.timeout):
            self.stop()
            raise SimulatorStartError(f"MQTT broker {broker} did not confirm the subscription to "
                                      f"{self.prefix}/+/cmd within {self.timeout:g} s")
        self._wait([self._publish(self.topic(c, "info"), self._info(c), retain=True) for c in self._cabinets])
        self.world.listeners.append(self._on_world_event)
        self._spawn(self._publish_events, "cabinet-events")
        if self.heartbeat_s is not None:
            self._spawn(self._beat, "cabinet-heartbeat")
        return self

    def stop(self) -> None:
        """Stop answering and publishing, clear the retained info messages, disconnect."""
        client = self._client
        if client is None:
            return
        if self._on_world_event in self.world.listeners:
            self.world.listeners.remove(self._on_world_event)
        self._stopping.set()
        self._outbox.put(None)
        for thread in self._threads:
            thread.join(self.timeout)
        for timer in self._timers:
            timer.cancel()
        self._threads, self._timers = [], []
        try:
            self._wait([client.publish(self.topic(c, "info"), b"", qos=1, retain=True) for c in self._cabinets])
        except (RuntimeError, ValueError) as exc:  # the broker went away: the retained infos stay behind
            logger.warning("could not clear the retained info messages under %s/: %s", self.prefix, exc)
        client.disconnect()
        client.loop_stop()
        self._client = None
        self._subscribed.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- faults and what the cabinets report on their own -------------------------------------------------

    def drop_acks(self, count: int = 1) -> None:
        """The next ``count`` commands are applied but never acknowledged."""
        with self._lock:
            self._drop_acks += count

    def set_state(self, cabinet_id: str, state: LockerState | str) -> None:
        """Take a cabinet offline (no acks, no heartbeat), into maintenance (refuses bookings) or back online;
        its retained info says so."""
        self.world.set_locker_state(cabinet_id, LockerState(state))
        self._wait([self._publish(self.topic(cabinet_id, "info"), self._info(cabinet_id), retain=True)])

    def door_fault(self, cabinet_id: str, compartment_id: str) -> str | None:
        """A door that fails to close or latch: a door event, a door_fault reading, and a ``door_fault`` parcel
        event for the reservation holding the compartment (returned; None when it is empty)."""
        if compartment_id not in self._cabinets.get(cabinet_id, set()):
            raise ValueError(f"cabinet {cabinet_id!r} has no compartment {compartment_id!r}")
        now = self.world.now
        self._emit(cabinet_id, {"type": "door", "compartment_id": compartment_id, "state": "fault",
                                "occurred_at": iso(now)})
        self._wait([self._reading(cabinet_id, TelemetryKind.DOOR_FAULT, 1.0, now)])
        holder = self._holder(cabinet_id, compartment_id)
        if holder is None:
            return None
        position = len(self.world.events(holder))  # outside our lock: the World's listener takes it under its own
        with self._lock:
            self._fault_seq += 1
            event = {"event_id": f"df-{self._fault_seq:06d}", "code": DOOR_FAULT, "occurred_at": iso(now),
                     "compartment_id": compartment_id}
            self._door_faults.setdefault(holder, []).append((position, event))
        self._emit(cabinet_id, {"type": "parcel", "reservation_id": holder, **event})
        return holder

    def publish_telemetry(self, since: datetime | None = None, until: datetime | None = None) -> int:
        """Publish the World's readings with ``since <= observed_at <= until`` of every cabinet not offline now
        (what each cabinet uploads); returns how many, once the broker has them all."""
        offline = {c for c in self._cabinets if self.world.locker(c).state == LockerState.OFFLINE}
        readings = [r for r in self.world.telemetry_readings(since, until) if r.locker_id not in offline]
        self._wait([self._reading(r.locker_id, r.kind, r.value, r.observed_at) for r in readings])
        return len(readings)

    def heartbeat(self) -> int:
        """One heartbeat (``online`` = 1 at the simulated now) from each cabinet that is not offline."""
        now = self.world.now
        alive = [c for c in self._cabinets if self.world.locker(c).state != LockerState.OFFLINE]
        self._wait([self._reading(c, TelemetryKind.ONLINE, 1.0, now) for c in alive])
        return len(alive)

    # --- commands (paho's network thread) -----------------------------------------------------------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if not getattr(reason_code, "is_failure", False):
            client.subscribe(f"{self.prefix}/+/cmd", qos=1)

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        if all(not getattr(rc, "is_failure", False) for rc in reason_codes):
            self._subscribed.set()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        try:
            command = json.loads(message.payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            command = None
        if not isinstance(command, dict) or not isinstance(command.get("correlation_id"), str):
            logger.warning("%s: expected a JSON command with a correlation_id (ignored)", message.topic)
            return
        self._handle(message.topic.split("/")[-2], command)

    def _handle(self, cabinet_id: str, command: dict[str, Any]) -> None:
        known = cabinet_id in self._cabinets
        if known and self.world.locker(cabinet_id).state == LockerState.OFFLINE:
            return  # unreachable: nothing applied, nothing answered
        fault = self.world.take_fault()
        if fault is not None and fault.delay_s is None:
            error = _FAULT_ERRORS.get(fault.status, "error")
            self._ack(cabinet_id, command, {"ok": False, "status": fault.status, "error": error,
                                            "retry_after": fault.retry_after, "detail": {}})
            return
        try:
            if not known:
                raise SimError(404, "unknown_locker", locker_id=cabinet_id)
            handler = _COMMANDS.get(str(command.get("command")))
            if handler is None:
                raise SimError(400, "unknown_command", command=str(command.get("command"))[:40])
            key = command.get("idempotency_key")
            result = handler(self, cabinet_id, command.get("args") or {}, key if isinstance(key, str) else None)
            answer: dict[str, Any] = {"ok": True, "result": result}
        except SimError as exc:
            answer = {"ok": False, "status": exc.status, "error": exc.error, "retry_after": None,
                      "detail": exc.detail}
        except (KeyError, TypeError, AttributeError):
            answer = {"ok": False, "status": 400, "error": "bad_command", "retry_after": None, "detail": {}}
        with self._lock:
            if self._drop_acks > 0:
                self._drop_acks -= 1
                return
        if fault is not None and fault.delay_s is not None:
            timer = threading.Timer(fault.delay_s, self._ack, (cabinet_id, command, answer))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
        else:
            self._ack(cabinet_id, command, answer)

    def _ack(self, cabinet_id: str, command: dict[str, Any], answer: dict[str, Any]) -> None:
        if self._stopping.is_set():
            return
        self._publish(self.topic(cabinet_id, "ack"), {
            "message_id": uuid.uuid4().hex, "correlation_id": command["correlation_id"],
            "command": command.get("command"), **answer})

    def _reserve(self, cabinet_id: str, args: dict[str, Any], key: str | None) -> dict[str, Any]:
        size = str(args["size"])
        world_size = {SIZES.get(s.code, s.code): s.code for s in self.world.size_classes()}.get(size)
        if world_size is None:
            raise SimError(422, "unknown_size", size=size[:20])
        return _reservation(self.world.reserve(cabinet_id, world_size, idempotency_key=key))

    def _confirm(self, cabinet_id: str, args: dict[str, Any], key: str | None) -> dict[str, Any]:
        reservation_id = self._owned(cabinet_id, args)
        return _reservation(self.world.confirm(reservation_id, idempotency_key=key))

    def _cancel(self, cabinet_id: str, args: dict[str, Any], key: str | None) -> dict[str, Any]:
        reservation_id = self._owned(cabinet_id, args)
        view = self.world.idempotent("cabinet_cancel", key, reservation_id,
                                     lambda: self.world.cancel(reservation_id))
        return _reservation(view)

    def _open_door(self, cabinet_id: str, args: dict[str, Any], key: str | None) -> dict[str, Any]:
        compartment_id = str(args["compartment_id"])
        if compartment_id not in self._cabinets[cabinet_id]:
            raise SimError(404, "unknown_compartment", compartment_id=compartment_id[:64])

        def open_and_close() -> tuple[tuple[str, str | None], ...]:
            when = iso(self.world.now)
            for state in ("open", "closed"):
                self._emit(cabinet_id, {"type": "door", "compartment_id": compartment_id, "state": state,
                                        "occurred_at": when})
            return (("compartment_id", compartment_id), ("opened_at", when))

        return dict(self.world.idempotent("open_door", key, f"{cabinet_id}|{compartment_id}", open_and_close))

    def _status(self, cabinet_id: str, args: dict[str, Any], key: str | None) -> dict[str, Any]:
        reservation_id = self._owned(cabinet_id, args)
        events: list[dict[str, Any]] = [
            {"event_id": e.event_id, "code": PARCEL_CODES[e.code], "occurred_at": iso(e.occurred_at),
             "compartment_id": e.compartment_id} for e in self.world.events(reservation_id)]
        with self._lock:
            faults = list(self._door_faults.get(reservation_id, ()))
        for position, event in reversed(faults):
            events.insert(position, event)
        return {"reservation": _reservation(self.world.reservation(reservation_id)), "events": events}

    def _owned(self, cabinet_id: str, args: dict[str, Any]) -> str:
        """The command's reservation id, if the reservation is at this cabinet (404 otherwise)."""
        reservation_id = str(args["reservation_id"])
        try:
            at_this_cabinet = self.world.reservation(reservation_id).locker_id == cabinet_id
        except SimError:
            at_this_cabinet = False
        if not at_this_cabinet:
            raise SimError(404, "unknown_reservation", reservation_id=reservation_id[:64])
        return reservation_id

    def _holder(self, cabinet_id: str, compartment_id: str) -> str | None:
        cursor: str | None = None
        while True:
            page, cursor = self.world.reservations_page(cursor, limit=500)
            for view in page:
                if (view.locker_id, view.compartment_id) == (cabinet_id, compartment_id) and view.state in _LIVE:
                    return view.reservation_id
            if cursor is None:
                return None

    # --- events (the World's listener enqueues; one thread publishes) -------------------------------------

    def _on_world_event(self, event: SimEvent) -> None:
        """Called under the World's lock: only enqueues."""
        if event.locker_id not in self._cabinets:
            return
        when, compartment = iso(event.occurred_at), event.compartment_id
        occupied = _PHYSICAL.get(event.code)
        if occupied is not None:
            self._emit(event.locker_id, {"type": "door", "compartment_id": compartment, "state": "open",
                                         "occurred_at": when})
        self._emit(event.locker_id, {"type": "parcel", "code": PARCEL_CODES[event.code],
                                     "reservation_id": event.reservation_id, "event_id": event.event_id,
                                     "compartment_id": compartment, "occurred_at": when})
        if occupied is not None:
            self._emit(event.locker_id, {"type": "occupancy", "compartment_id": compartment, "occupied": occupied,
                                         "occurred_at": when})
            self._emit(event.locker_id, {"type": "door", "compartment_id": compartment, "state": "closed",
                                         "occurred_at": when})

    def _emit(self, cabinet_id: str, body: dict[str, Any]) -> None:
        with self._lock:
            seq = self._seq[cabinet_id] = self._seq.get(cabinet_id, 0) + 1
        message = {"message_id": uuid.uuid4().hex, "cabinet_id": cabinet_id, "seq": seq, **body}
        self._outbox.put((self.topic(cabinet_id, "events"), message))

    def _publish_events(self) -> None:
        held: tuple[str, dict[str, Any]] | None = None
        while True:
            try:
                item = self._outbox.get(timeout=0.05)
            except queue.Empty:
                if held is not None:
                    self._publish(*held)
                    held = None
                continue
            if item is None:
                if held is not None:
                    self._publish(*held)
                return
            if self.reorder and held is None:
                held = item
                continue
            self._publish(*item)
            if held is not None:
                self._publish(*held)
                held = None

    def _beat(self) -> None:
        assert self.heartbeat_s is not None
        while not self._stopping.wait(self.heartbeat_s):
            self.heartbeat()

    # --- publishing ---------------------------------------------------------------------------------------

    def _reading(self, cabinet_id: str, kind: TelemetryKind, value: float, when: datetime) -> Any:
        return self._publish(self.topic(cabinet_id, "telemetry"), {
            "message_id": uuid.uuid4().hex, "cabinet_id": cabinet_id, "kind": TELEMETRY_KINDS[kind],
            "value": value, "observed_at": iso(when)})

    def _publish(self, topic: str, body: dict[str, Any], *, retain: bool = False) -> Any:
        payload = json.dumps(body)
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if self.duplicate and not retain:
            info = self._client.publish(topic, payload, qos=1)
        return info

    def _wait(self, infos: list[Any]) -> None:
        for info in infos:
            info.wait_for_publish(self.timeout)

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=f"{name}:{self.prefix}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _info(self, cabinet_id: str) -> dict[str, Any]:
        locker = self.world.locker(cabinet_id)
        return {
            "message_id": uuid.uuid4().hex, "cabinet_id": cabinet_id, "name": locker.name, "region": locker.region,
            "state": str(locker.state),
            "address": {"postal_code": locker.postal_code, "city": locker.city, "country": locker.country},
            "location": {"lat": locker.latitude, "lon": locker.longitude},
            "modules": [{"module_id": m.module_id, "compartments": [{
                "compartment_id": c.compartment_id, "size": SIZES.get(c.size_class, c.size_class),
                "inner": {"width_mm": c.inner.width_mm, "height_mm": c.inner.height_mm,
                          "depth_mm": c.inner.length_mm},
                "max_weight_g": c.max_weight_g, "temperature": str(c.temperature)} for c in m.compartments]}
                for m in locker.modules],
            "published_at": iso(self.world.now),
        }


def _reservation(view: ReservationView) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reservation_id": view.reservation_id, "compartment_id": view.compartment_id,
        "size": SIZES.get(view.size_class, view.size_class), "kind": "hold" if view.kind == "soft" else "booking",
        "held_until": iso(view.expires_at), "created_at": iso(view.created_at)}
    if view.kind == "hard":
        body["code_valid_until"] = iso(view.valid_until)
    if view.access_code is not None:
        body["access_code"] = view.access_code
    return body


_COMMANDS = {
    "reserve": CabinetSimulator._reserve,
    "confirm": CabinetSimulator._confirm,
    "cancel": CabinetSimulator._cancel,
    "open_door": CabinetSimulator._open_door,
    "status": CabinetSimulator._status,
}
