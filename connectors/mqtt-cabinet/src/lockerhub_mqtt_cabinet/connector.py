"""mqtt-cabinet: IoT locker cabinets (Bloq.it-style devices, AWS IoT-style topics) booked over an MQTT broker.

Each cabinet has topics ``<prefix>/<cabinet id>/cmd|ack|events|telemetry|info``. Commands (reserve, confirm,
cancel, open door, status) are acknowledged on ``ack`` with the command's ``correlation_id``; the retained ``info``
message describes the cabinet; ``events`` and ``telemetry`` arrive at least once (QoS 1) and are deduplicated by
``message_id``. The device protocol is emulated (cabinet vendors do not publish theirs): the tests run against
lockerhub's bundled simulator (:mod:`lockerhub.simulator.vendors.cabinet`) on a real Mosquitto broker, not
against a vendor's service. See docs/vendors/mqtt-cabinet.md.

Capabilities
    list_lockers, soft_reserve, hard_book, cancel, poll_status (the ``status`` command), access_codes,
    telemetry. Beyond the protocol: :meth:`MqttCabinetConnector.events` (door, occupancy and parcel events,
    deduplicated, parcel statuses applied forward-only) and :meth:`MqttCabinetConnector.open_door`. No webhooks.

Config (:class:`~lockerhub_mqtt_cabinet.config.MqttCabinetConfig`)
    ``broker_url`` (``LOCKERHUB_MQTT_CABINET_BROKER_URL``, ``mqtt://host:port`` or ``mqtts://``), ``username`` and
    ``password`` (``..._USERNAME``, ``..._PASSWORD``), ``topic_prefix`` (default ``cabinets``), ``client_id``
    (a persistent session), ``ack_timeout_s`` (5), ``info_window_s`` (1), ``connect_timeout_s`` (10),
    ``buffer_size`` (10,000).

Status crosswalk file
    ``statuses.yaml`` beside this module: every parcel event code a cabinet sends, to a canonical status.

Limits / Pitfalls
    - A command without an ack within ``ack_timeout_s`` is a ``TransientError``: the cabinet may be offline, or
      it may have applied the command and lost the ack. Retry with the same idempotency key: the cabinet replays
      its first answer (the same reservation, the same access code), nothing is booked twice.
    - Error acks map like HTTP: 429/5xx ``TransientError`` (with ``retry_after``), 401/403 ``AuthError``, other
      4xx ``RejectedError`` naming the error code (``no_free_compartment``, ``unknown_locker``, ...).
    - A cabinet without a retained info message is unknown: commands to it are refused at once
      (``RejectedError``) once the info window has passed. A cabinet whose info says ``offline`` is refused with
      a ``TransientError`` without sending anything; one that went silent without saying so times out.
    - Reservation ids are ``<cabinet id>/<the cabinet's reservation id>``: a cabinet only knows its own.
    - Events and telemetry only reach a session that is subscribed: without ``client_id`` (a persistent session)
      what cabinets publish while the connector is not connected is lost to it; poll ``get_status`` as the
      source of truth. Every connector instance receives every cabinet's acks, events and telemetry.
    - ``list_lockers`` reports compartments as free: occupancy comes as events, not in the info message.
    - The access code travels in the ``confirm`` ack; it is never logged and is masked in ``Reservation``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pydantic
from pydantic import SecretStr

from lockerhub.errors import (
    AuthError,
    MappingError,
    RejectedError,
    TransientError,
    TransitionError,
    ValidationError,
    VendorError,
)
from lockerhub.model import (
    AccessCode,
    Compartment,
    Dimensions,
    Locker,
    LockerState,
    Module,
    ParcelEvent,
    Reservation,
    ReservationKind,
    SizeClass,
    apply_event,
)
from lockerhub.model.crosswalk import Crosswalk, load_crosswalk
from lockerhub.model.state_machine import Outcome, ParcelState
from lockerhub.model.telemetry import TelemetryKind, TelemetryReading
from lockerhub.plugins.lifecycle import ClientOwner
from lockerhub.plugins.protocols import Capability, CheckResult, ConnectorKind, VendorEvent
from lockerhub.plugins.registry import package_version
from lockerhub_mqtt_cabinet.client import CabinetClient
from lockerhub_mqtt_cabinet.config import ENV_PREFIX, MqttCabinetConfig

logger = logging.getLogger("lockerhub_mqtt_cabinet")

TELEMETRY_KINDS: dict[str, TelemetryKind] = {
    "heartbeat": TelemetryKind.ONLINE,
    "battery": TelemetryKind.BATTERY,
    "temperature": TelemetryKind.TEMPERATURE,
    "door_fault": TelemetryKind.DOOR_FAULT,
    "open_failed": TelemetryKind.OPEN_FAILED,
    "command_failed": TelemetryKind.API_ERROR,
}
"""The cabinet's telemetry kind -> canonical kind (the units are the canonical ones)."""


@cache
def crosswalk() -> Crosswalk:
    """The cabinet parcel event code to canonical status table, loaded once from ``statuses.yaml``."""
    return load_crosswalk(Path(__file__).with_name("statuses.yaml"))


@dataclass(frozen=True, slots=True)
class CabinetEvent:
    """One message of a cabinet's events topic.

    ``type`` is ``door`` (``door``: open, closed or fault), ``occupancy`` (``occupied``) or ``parcel`` (``code``
    and, when the code maps and moved the reservation forward, ``vendor_event``; when the code is unknown,
    ``error`` holds the :class:`MappingError` and the event is for the quarantine)."""

    message_id: str
    cabinet_id: str
    seq: int
    type: str
    occurred_at: datetime
    compartment_id: str | None = None
    door: str | None = None
    occupied: bool | None = None
    code: str | None = None
    vendor_event: VendorEvent | None = None
    error: MappingError | None = None


@dataclass(slots=True)
class EventStats:
    invalid: int = 0  # messages that are not a cabinet event (logged, skipped)
    stale: int = 0  # parcel events that came late or twice: the reservation had moved on
    refused: int = 0  # parcel events the lifecycle forbids (e.g. released after collected)


class MqttCabinetConnector(ClientOwner[CabinetClient]):
    """Locker-vendor connector for MQTT cabinets (see the module docstring)."""

    id = "mqtt-cabinet"
    kind = ConnectorKind.LOCKER_VENDOR
    version = package_version("lockerhub-mqtt-cabinet")
    capabilities = frozenset({
        Capability.LIST_LOCKERS, Capability.SOFT_RESERVE, Capability.HARD_BOOK, Capability.CANCEL,
        Capability.POLL_STATUS, Capability.ACCESS_CODES, Capability.TELEMETRY,
    })
    config_model = MqttCabinetConfig

    def __init__(self, config: MqttCabinetConfig) -> None:
        self.config = config
        self.event_stats = EventStats()
        self._states: dict[str, ParcelState] = {}
        self._readings: deque[TelemetryReading] = deque(maxlen=config.buffer_size)

    def __repr__(self) -> str:
        return f"MqttCabinetConnector(broker_url={self.config.broker_url!s}, prefix={self.config.topic_prefix!r})"

    def _new_client(self) -> CabinetClient:
        c = self.config
        return CabinetClient(
            host=c.host, port=c.port, tls=c.tls, username=c.username,
            password=c.password.get_secret_value() if c.password is not None else None,
            prefix=c.topic_prefix, client_id=c.client_id, connect_timeout_s=c.connect_timeout_s,
            buffer_size=c.buffer_size)

    # --- check --------------------------------------------------------------------------------------------

    def check(self) -> CheckResult:
        """Validate the config, then connect, subscribe and count the cabinets' retained info messages."""
        result = CheckResult()
        try:
            MqttCabinetConfig.model_validate(self.config.model_dump())
        except pydantic.ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "config" for e in exc.errors())
            return result.add("config", False, f"invalid field(s): {fields}")
        result.add("config", True)
        where = self.client.where
        try:
            infos = self.client.infos(self.config.info_window_s)
        except AuthError:
            return result.add("auth", False, f"{where} refused the credentials; check username and password "
                                             f"({ENV_PREFIX}USERNAME, {ENV_PREFIX}PASSWORD)")
        except TransientError as exc:
            return result.add("reachable", False, f"{exc.message}; check broker_url ({ENV_PREFIX}BROKER_URL) "
                                                  "and that the broker is up")
        result.add("reachable", True, where)
        if not infos:
            return result.add("cabinets", False, f"no cabinet has a retained info message under "
                                                 f"{self.config.topic_prefix}/+/info within "
                                                 f"{self.config.info_window_s:g} s; check topic_prefix "
                                                 f"({ENV_PREFIX}TOPIC_PREFIX)")
        return result.add("cabinets", True, f"{len(infos)} cabinets")

    # --- locker network -----------------------------------------------------------------------------------

    def list_lockers(self) -> Iterator[Locker]:
        """Every cabinet that has a retained info message, by id (collected for ``info_window_s``)."""
        infos = self.client.infos(self.config.info_window_s)
        for cabinet_id in sorted(infos):
            locker = self._locker(cabinet_id, infos[cabinet_id])
            if locker is not None:
                yield locker

    def size_classes(self) -> list[SizeClass]:
        """The size codes of every listed cabinet's compartments, smallest first."""
        classes: dict[str, SizeClass] = {}
        for locker in self.list_lockers():
            for c in locker.compartments():
                classes.setdefault(c.size_class, SizeClass(code=c.size_class, inner=c.inner,
                                                           max_weight_g=c.max_weight_g, temperature=c.temperature))
        return sorted(classes.values(), key=lambda s: (s.inner.length_mm * s.inner.width_mm * s.inner.height_mm,
                                                       s.code))

    def _locker(self, cabinet_id: str, info: dict[str, Any]) -> Locker | None:
        try:
            address, location = info.get("address") or {}, info.get("location") or {}
            return Locker(
                locker_id=cabinet_id, name=info.get("name"), region=info.get("region"),
                postal_code=address.get("postal_code"), city=address.get("city"),
                country=address.get("country") or "PL", latitude=location.get("lat"),
                longitude=location.get("lon"), state=LockerState(info["state"]),
                modules=[Module(module_id=m["module_id"], compartments=[_compartment(c) for c in m["compartments"]])
                         for m in info["modules"]])
        except (KeyError, TypeError, AttributeError, ValueError) as exc:  # pydantic's errors are ValueErrors
            logger.warning("%s: the info message is not a cabinet description (%s; cabinet skipped)",
                           self.client.topic(cabinet_id, "info"), type(exc).__name__)
            return None

    # --- reservations -------------------------------------------------------------------------------------

    def reserve(self, locker_id: str, size_class: str, *, idempotency_key: str) -> Reservation:
        result = self._command(locker_id, "reserve", {"size": size_class}, idempotency_key=idempotency_key)
        return _reservation(locker_id, result)

    def book(self, reservation_id: str, *, idempotency_key: str) -> Reservation:
        cabinet_id, own_id = _split(reservation_id)
        result = self._command(cabinet_id, "confirm", {"reservation_id": own_id}, idempotency_key=idempotency_key)
        return _reservation(cabinet_id, result)

    def cancel(self, reservation_id: str) -> None:
        cabinet_id, own_id = _split(reservation_id)
        self._command(cabinet_id, "cancel", {"reservation_id": own_id})

    def get_status(self, reservation_id: str) -> list[VendorEvent]:
        cabinet_id, own_id = _split(reservation_id)
        result = self._command(cabinet_id, "status", {"reservation_id": own_id})
        return [self._vendor_event(reservation_id, cabinet_id, raw) for raw in result["events"]]

    def open_door(self, locker_id: str, compartment_id: str, *, idempotency_key: str | None = None) -> datetime:
        """Open one compartment's door; returns when it opened. With an idempotency key, a repeated command
        replays the first answer and does not open the door again."""
        result = self._command(locker_id, "open_door", {"compartment_id": compartment_id},
                               idempotency_key=idempotency_key)
        return datetime.fromisoformat(result["opened_at"])

    def _command(self, cabinet_id: str, command: str, args: dict[str, Any], *,
                 idempotency_key: str | None = None) -> dict[str, Any]:
        """Send one command and return its ack's result; error acks raise (see the module docstring)."""
        what = f"{self.id} {command} on cabinet {cabinet_id}"
        if any(c in cabinet_id for c in "/+#") or not cabinet_id:
            raise RejectedError(f"{what}: not a cabinet id", expected="an id without '/', '+' or '#'")
        info = self.client.infos(self.config.info_window_s).get(cabinet_id)
        if info is None:
            raise RejectedError(f"{what} refused: unknown_locker",
                                hint=f"no retained info message on {self.client.topic(cabinet_id, 'info')}")
        if info.get("state") == LockerState.OFFLINE:
            raise TransientError(f"{what}: the cabinet reports that it is offline (nothing was sent)")
        ack = self.client.command(cabinet_id, command, args, timeout=self.config.ack_timeout_s,
                                  idempotency_key=idempotency_key)
        if ack.get("ok") is True:
            result = ack.get("result")
            return result if isinstance(result, dict) else {}
        raise _ack_error(what, ack)

    def _vendor_event(self, reservation_id: str, cabinet_id: str, raw: dict[str, Any]) -> VendorEvent:
        mapped = crosswalk().map(raw["code"])
        event = ParcelEvent(
            status=mapped.status, reason=mapped.reason, occurred_at=datetime.fromisoformat(raw["occurred_at"]),
            source=self.id, raw_code=raw["code"], locker_id=cabinet_id, event_id=raw.get("event_id"))
        return VendorEvent(reservation_id=reservation_id, event=event)

    # --- what cabinets publish ----------------------------------------------------------------------------

    def events(self, *, wait: float = 0.0) -> list[CabinetEvent]:
        """The cabinet events received since the last call (waiting up to ``wait`` seconds for the first),
        each message once, ordered by time and per-cabinet sequence. Parcel events are applied forward-only
        per reservation: one that came late or twice is left out (counted in ``event_stats``)."""
        parsed = [e for e in (self._event(c, p) for c, p in self.client.take_events(wait)) if e is not None]
        parsed.sort(key=lambda e: (e.occurred_at, e.cabinet_id, e.seq))
        return [e for e in map(self._forward, parsed) if e is not None]

    def _event(self, cabinet_id: str, raw: dict[str, Any]) -> CabinetEvent | None:
        try:
            kind = raw["type"]
            if kind not in ("door", "occupancy", "parcel"):
                raise ValueError(kind)
            vendor_event, error = None, None
            if kind == "parcel":
                try:
                    vendor_event = self._vendor_event(f"{cabinet_id}/{raw['reservation_id']}", cabinet_id, raw)
                except MappingError as exc:
                    error = exc
            return CabinetEvent(
                message_id=raw["message_id"], cabinet_id=cabinet_id, seq=int(raw["seq"]), type=kind,
                occurred_at=_aware(raw["occurred_at"]), compartment_id=raw.get("compartment_id"),
                door=raw["state"] if kind == "door" else None,
                occupied=bool(raw["occupied"]) if kind == "occupancy" else None,
                code=raw["code"] if kind == "parcel" else None, vendor_event=vendor_event, error=error)
        except (KeyError, TypeError, ValueError) as exc:
            self.event_stats.invalid += 1
            logger.warning("%s: not a cabinet event (%s; skipped)", self.client.topic(cabinet_id, "events"),
                           type(exc).__name__)
            return None

    def _forward(self, event: CabinetEvent) -> CabinetEvent | None:
        if event.vendor_event is None:  # not a parcel event, or one for the quarantine (error)
            return event
        key, parcel = event.vendor_event.reservation_id, event.vendor_event.event
        known = self._states.get(key)
        try:
            outcome, state = apply_event(known or ParcelState(), parcel.status, parcel.reason)
        except (TransitionError, ValidationError) as exc:
            self.event_stats.refused += 1
            logger.warning("%s: %s (event %s left out)", self.client.topic(event.cabinet_id, "events"),
                           exc.message, parcel.event_id)
            return None
        first = known is None and outcome is Outcome.DUPLICATE  # the reservation's first event, CREATED
        if outcome is not Outcome.APPLIED and not first:
            self.event_stats.stale += 1
            return None
        self._states[key] = state
        return event

    def telemetry(self, since: datetime | None = None) -> Iterator[TelemetryReading]:
        """Readings received from the cabinets (each message once), at or after ``since``, oldest first; the
        last ``buffer_size`` are kept, so a reading may come again on the next call."""
        for cabinet_id, raw in self.client.take_telemetry():
            reading = self._reading(cabinet_id, raw)
            if reading is not None:
                self._readings.append(reading)
        chosen = [r for r in self._readings if since is None or r.observed_at >= since]
        yield from sorted(chosen, key=lambda r: (r.observed_at, r.locker_id, r.kind.value))

    def _reading(self, cabinet_id: str, raw: dict[str, Any]) -> TelemetryReading | None:
        try:
            return TelemetryReading(locker_id=cabinet_id, kind=TELEMETRY_KINDS[raw["kind"]], value=raw["value"],
                                    observed_at=raw["observed_at"], source=self.id)
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning("%s: not a telemetry reading (%s; skipped)", self.client.topic(cabinet_id, "telemetry"),
                           type(exc).__name__)
            return None


def _split(reservation_id: str) -> tuple[str, str]:
    cabinet_id, _, own_id = reservation_id.partition("/")
    if not cabinet_id or not own_id:
        raise RejectedError("mqtt-cabinet: not a reservation id of this connector",
                            expected="<cabinet id>/<reservation id>", found=repr(reservation_id[:80]))
    return cabinet_id, own_id


def _ack_error(what: str, ack: dict[str, Any]) -> VendorError:
    """An error ack as an error, like HTTP: 429/5xx transient, 401/403 auth, other 4xx rejected."""
    status = ack.get("status") if isinstance(ack.get("status"), int) else 0
    error = str(ack.get("error") or "error")[:48]
    retry_after = ack.get("retry_after")
    if status == 429 or status >= 500:
        return TransientError(f"{what} answered {status} {error}",
                              retry_after=float(retry_after) if isinstance(retry_after, int | float) else None)
    if status in (401, 403):
        return AuthError(f"{what} answered {status} {error}", hint="check the broker credentials and the "
                                                                  "cabinet's permissions for this account")
    if 400 <= status < 500:
        return RejectedError(f"{what} refused: {status} {error}")
    return VendorError(f"{what} answered an error without a valid status", found=repr(ack.get("status"))[:20])


def _reservation(cabinet_id: str, body: dict[str, Any]) -> Reservation:
    code = body.get("access_code")
    access = None
    if code is not None:
        access = AccessCode(code=SecretStr(str(code)), valid_until=body.get("code_valid_until"))
    return Reservation(
        reservation_id=f"{cabinet_id}/{body['reservation_id']}", locker_id=cabinet_id,
        compartment_id=body.get("compartment_id"), size_class=body["size"],
        kind=ReservationKind.SOFT if body["kind"] == "hold" else ReservationKind.HARD,
        expires_at=body.get("held_until"), access_code=access)


def _compartment(raw: dict[str, Any]) -> Compartment:
    inner = raw["inner"]
    return Compartment(
        compartment_id=raw["compartment_id"], size_class=raw["size"],
        inner=Dimensions(length_mm=inner["depth_mm"], width_mm=inner["width_mm"], height_mm=inner["height_mm"]),
        max_weight_g=raw["max_weight_g"], temperature=raw.get("temperature") or "ambient")


def _aware(value: str) -> datetime:
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        raise ValueError("occurred_at without an offset")
    return when
