"""A GLS/NXT-style out-of-home (OOH) locker API over the simulated :class:`~lockerhub.simulator.state.World`.

Modelled on the public GLS/NXT "OOH Platform Integration REST API" (carrier connector, v1): ``X-API-Key`` auth,
lockers with ``uid``/``carrier``/``provider``/``location``/``compartmentTypes``, parcels published by the carrier
with ``eventType`` PRE_CHECK or BOOKING and ``allocationType`` SOFT_RESERVATION or HARD_RESERVATION, cancelled with
``PATCH /parcels/{parcelId}``, read with ``GET /parcels?ids=``, errors as ``{"errorCode", "message"}``, and
ParcelUpdates / LockerUpdates callbacks. What the public docs do not show is emulated and marked so below; none of
this is GLS's service (see docs/vendors/gls.md).

Tenant API under ``/ooh/carrier-connector/v1`` (every call needs ``X-API-Key``)::

    GET   /lockers?page=0&size=50            [locker] one page (0-based; emulated paging), X-Total-Count header;
                                             each locker also lists its modules and compartments (emulated)
    POST  /parcels/data/by-tenant-locker-id  eventType PRE_CHECK: {"shipmentStatus": "BOOKING_PRE_CHECK",
                                             "dimensionsStatus", "compartmentSizes": [...]} (sizes emulated);
                                             eventType BOOKING: the parcel (emulated answer; the real API answers
                                             an acknowledgement and reports the booking by callback). The same
                                             carrierParcelId again is the same parcel.
    POST  /parcels/{parcelId}/confirm        SOFT_RESERVATION -> HARD_RESERVATION with access codes (emulated
                                             path; Idempotency-Key header replays the first answer). 410 BOOKING_EXPIRED
    PATCH /parcels/{parcelId}                cancel (409 BOOKING_CANCELLATION_FAILED once delivered)
    GET   /parcels?ids=a,b                   [parcel]; 404 NOT_FOUND when none is known
    GET   /parcels/all?cursor=&limit=100     {"items": [parcel], "nextCursor", "asOf"} every parcel, oldest first
                                             (emulated, for reconciliation)

``{parcelId}`` is the carrier's ``carrierParcelId``. A parcel is the ParcelUpdates shape: ``shipmentUid``,
``lockerUid``, ``carrierParcelId``, ``carrierLockerId``, ``shipmentType``, ``dimensionsStatus``,
``shipmentStatus``, ``accessCodes`` (``consigneeCollection`` and ``consigneeCollectionCode`` ``{code, validFrom,
validUntil}``; ``validFrom`` is emulated), ``consignee`` (always null here), ``events`` ``[{timestamp,
eventType}]``, ``allocationType``, ``eventTimestamp``, plus the emulated ``compartment`` ``{moduleId,
compartmentId, size}`` and ``expiresAt`` (end of a soft reservation).

Control API (``/sim``, behind ``X-API-Key``, never faulted)::

    POST /sim/courier/deliver            {"carrierParcelId"}             COURIER_DELIVERED
    POST /sim/consignee/collect          {"carrierParcelId", "code"}     CONSIGNEE_COLLECTED (403 on a wrong code)
    POST /sim/courier/collect-expired    {"carrierParcelId"}             COURIER_COLLECTED_EXPIRED
    POST /sim/lockers/{carrierLockerId}/status {"status": "ACTIVE" | "INACTIVE" | "MAINTENANCE"}  LockerUpdates
    POST /sim/clock/advance {"seconds"}, GET /sim/clock, POST /sim/faults (as lockerhub.simulator.app)
    POST /sim/callbacks   {"type": "ParcelUpdates" | "LockerUpdates", "url", "secret"?, "duplicate_rate",
                           "shuffle", "silent", "seed", "max_attempts"}     GET /sim/callbacks

Callbacks are POSTed one update per request, at least once, with the faults of
:mod:`lockerhub.simulator.webhooks` (retries, ``duplicate_rate``, ``shuffle`` = out of order, ``silent``). GLS's
own callback security is not public; the signature is lockerhub's emulation::

    X-GLS-Timestamp: <unix seconds>      X-GLS-Delivery: <id, the same on every retry and duplicate>
    X-GLS-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{delivery}.".encode() + body)>
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import requests
from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from lockerhub.model import Dimensions, Locker, LockerState
from lockerhub.model.units import Grams, Millimetres
from lockerhub.simulator.app import AdvanceBody, FaultBody
from lockerhub.simulator.server import AppServer
from lockerhub.simulator.state import EventCode, SimError, World, iso
from lockerhub.simulator.webhooks import SubscribeBody, WebhookDispatcher, _Delivery

PREFIX = "/ooh/carrier-connector/v1"
API_KEY_HEADER = "X-API-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TIMESTAMP_HEADER = "X-GLS-Timestamp"
DELIVERY_HEADER = "X-GLS-Delivery"
SIGNATURE_HEADER = "X-GLS-Signature"

SIZE_NAMES = ("SMALL", "MEDIUM", "LARGE", "XLARGE", "XXLARGE")  # GLS names sizes by volume, ascending
SHIPMENT_STATUS: dict[EventCode, str] = {
    EventCode.RESERVATION_CREATED: "BOOKING_CREATED",
    EventCode.BOOKING_CONFIRMED: "BOOKING_CONFIRMED",  # emulated: the public enum has no soft -> hard step
    EventCode.RESERVATION_EXPIRED: "BOOKING_EXPIRED",
    EventCode.BOOKING_CANCELLED: "BOOKING_CANCELLED",
    EventCode.COURIER_DEPOSITED: "COURIER_DELIVERED",
    EventCode.CONSIGNEE_PICKED_UP: "CONSIGNEE_COLLECTED",
    EventCode.PICKUP_EXPIRED: "CONSIGNEE_COLLECTION_EXPIRED",
    EventCode.COURIER_COLLECTED_RETURN: "COURIER_COLLECTED_EXPIRED",
}
LOCKER_STATUS: dict[LockerState, str] = {
    LockerState.ONLINE: "ACTIVE", LockerState.OFFLINE: "INACTIVE", LockerState.MAINTENANCE: "MAINTENANCE",
}
# World refusal -> GLS errorCode and message (the HTTP status stays the World's).
ERRORS: dict[str, tuple[str, str]] = {
    "unknown_locker": ("BOOKING_REJECTED_INVALID_LOCKER", "Locker not found"),
    "locker_offline": ("BOOKING_REJECTED_LOCKER_UNAVAILABLE", "The locker is not available"),
    "no_free_compartment": ("BOOKING_REJECTED_NO_FREE_FITTING_COMPARTMENT", "No free compartment of that size"),
    "unknown_size_class": ("INVALID_REQUEST", "Unknown compartment size"),
    "unknown_reservation": ("NOT_FOUND", "The requested resource was not found"),
    "reservation_expired": ("BOOKING_EXPIRED", "The soft reservation has expired"),
    "invalid_state": ("INVALID_STATE", "The parcel is not in a state that allows this"),
    "cancel_refused": ("BOOKING_CANCELLATION_FAILED", "Only parcels that have not been delivered can be cancelled"),
    "idempotency_key_reused": ("PARCEL_ALREADY_EXISTS", "The carrierParcelId or Idempotency-Key was used for another "
                                                    "request"),
    "invalid_cursor": ("INVALID_REQUEST", "Invalid cursor"),
    "pickup_expired": ("CONSIGNEE_COLLECTION_EXPIRED", "The pickup time has expired"),
    "wrong_access_code": ("INVALID_ACCESS_CODE", "Wrong access code"),
    "webhook_secret_missing": ("INVALID_REQUEST", "Send a secret"),
    "simulator_stopping": ("SERVER_ERROR", "The simulator is stopping"),
}


def sign(secret: str | bytes, timestamp: int, delivery_id: str, body: bytes) -> str:
    """The ``X-GLS-Signature`` value (lockerhub's emulated scheme, see the module docstring)."""
    key = secret.encode() if isinstance(secret, str) else secret
    mac = hmac.new(key, f"{timestamp}.{delivery_id}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def callback_headers(secret: str | bytes, timestamp: int, delivery_id: str, body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", TIMESTAMP_HEADER: str(timestamp), DELIVERY_HEADER: delivery_id,
            SIGNATURE_HEADER: sign(secret, timestamp, delivery_id, body)}


@dataclass(slots=True)
class _Parcel:
    carrier_parcel_id: str
    reservation_id: str
    dimensions_known: bool
    access_code: str | None = None
    confirmed_at: datetime | None = None


class GlsNetwork:
    """The World seen the GLS way: locker uids, size names, and the carrier's parcel ids (thread-safe)."""

    def __init__(self, world: World) -> None:
        classes = world.size_classes()
        if len(classes) > len(SIZE_NAMES):
            raise ValueError(f"GLS names at most {len(SIZE_NAMES)} compartment sizes, the world has {len(classes)}")
        self.world = world
        self.size_name = {sc.code: SIZE_NAMES[i] for i, sc in enumerate(classes)}  # world sorts by volume
        self.size_code = {name: code for code, name in self.size_name.items()}
        lockers, _ = world.lockers(per_page=1_000_000)
        self.uid = {lk.locker_id: str(10_000_001 + i) for i, lk in enumerate(lockers)}
        self.module_of = {c.compartment_id: m.module_id for lk in lockers for m in lk.modules for c in m.compartments}
        self._lock = threading.Lock()
        self._by_carrier_id: dict[str, _Parcel] = {}
        self._by_reservation: dict[str, _Parcel] = {}

    # --- lockers --------------------------------------------------------------------------------------------

    def locker_json(self, locker: Locker) -> dict[str, Any]:
        types: dict[str, dict[str, Any]] = {}
        for c in locker.compartments():
            entry = types.setdefault(c.size_class, {"size": self.size_name[c.size_class], "count": 0,
                                                    **_box(c.inner), "maxWeight": c.max_weight_g})
            entry["count"] += 1
        return {
            "uid": self.uid[locker.locker_id],
            "carrier": {"lockerName": locker.name, "lockerId": locker.locker_id,
                        "activationDate": "2025-01-01T00:00:00Z", "status": LOCKER_STATUS[locker.state]},
            "provider": {"name": "lockerhub simulator", "lockerModel": "SIM", "lockerVersion": "1",
                         "lockerUid": f"PRV-{self.uid[locker.locker_id]}"},
            "location": {"street": locker.name, "streetNumber": "1", "postalCode": locker.postal_code,
                         "city": locker.city, "lon": locker.longitude, "lat": locker.latitude,
                         "countryCode": locker.country},
            "features": {"hasScreen": True, "hasPinPad": True, "hasPinBarcodeReader": False},
            "metadata": [{"key": "region", "value": locker.region}] if locker.region else [],
            "compartmentTypes": [types[sc] for sc in self.size_name if sc in types],
            "modules": [{"moduleId": m.module_id, "compartments": [
                {"compartmentId": c.compartment_id, "size": self.size_name[c.size_class], **_box(c.inner),
                 "maxWeight": c.max_weight_g, "status": c.state.value.upper()} for c in m.compartments]}
                for m in locker.modules],
        }

    # --- parcels --------------------------------------------------------------------------------------------

    def publish(self, body: PublishBody) -> dict[str, Any]:
        if body.eventType == "PRE_CHECK":
            return self._precheck(body)
        size = body.compartmentSize
        if size is None and body.dimensions is None:
            raise SimError(400, "invalid_request")
        code = None if size is None else self.size_code.get(size)
        if size is not None and code is None:
            raise SimError(422, "unknown_size_class")
        fingerprint = f"{body.carrierLockerId}|{size}|{body.dimensions}|{body.weight}|{body.allocationType}"
        rid = self.world.idempotent("gls:publish", body.carrierParcelId, fingerprint,
                                    lambda: self._book(body, code))
        return self.parcel_json(rid)

    def _precheck(self, body: PublishBody) -> dict[str, Any]:
        if body.dimensions is None:
            raise SimError(400, "invalid_request")
        box = body.dimensions.box()
        sizes = self.world.precheck(body.carrierLockerId, box, body.weight or 0)
        fits_anywhere = any(box.fits_in(sc.inner) and (body.weight or 0) <= sc.max_weight_g
                            for sc in self.world.size_classes())
        return {"status": "success", "message": "Parcel event received and processed successfully",
                "timestamp": iso(self.world.now), "shipmentStatus": "BOOKING_PRE_CHECK",
                "dimensionsStatus": "PARCEL_DIMENSIONS_OK" if fits_anywhere else "PARCEL_DIMENSIONS_EXCEED",
                "compartmentSizes": [self.size_name[s] for s in sizes]}

    def _book(self, body: PublishBody, code: str | None) -> str:
        if code is None:  # the real platform picks the smallest free compartment that takes the parcel
            assert body.dimensions is not None
            fitting = self.world.precheck(body.carrierLockerId, body.dimensions.box(), body.weight or 0)
            if not fitting:
                raise SimError(409, "no_free_compartment", locker_id=body.carrierLockerId)
            code = fitting[0]
        view = self.world.reserve(body.carrierLockerId, code)
        parcel = _Parcel(body.carrierParcelId, view.reservation_id, dimensions_known=body.dimensions is not None)
        with self._lock:
            self._by_carrier_id[parcel.carrier_parcel_id] = parcel
            self._by_reservation[parcel.reservation_id] = parcel
        if body.allocationType == "HARD_RESERVATION":
            self._confirm(parcel)
        return view.reservation_id

    def confirm(self, carrier_parcel_id: str, idempotency_key: str | None) -> dict[str, Any]:
        parcel = self.parcel(carrier_parcel_id)
        self.world.idempotent("gls:confirm", idempotency_key, carrier_parcel_id, lambda: self._confirm(parcel))
        return self.parcel_json(parcel.reservation_id)

    def _confirm(self, parcel: _Parcel) -> str:
        view = self.world.confirm(parcel.reservation_id)
        with self._lock:
            parcel.access_code, parcel.confirmed_at = view.access_code, self.world.now
        return parcel.reservation_id

    def cancel(self, carrier_parcel_id: str) -> dict[str, Any]:
        parcel = self.parcel(carrier_parcel_id)
        try:
            self.world.cancel(parcel.reservation_id)
        except SimError as exc:
            if exc.error != "invalid_state":
                raise
            raise SimError(409, "cancel_refused") from None
        return self.parcel_json(parcel.reservation_id)

    def parcel(self, carrier_parcel_id: str) -> _Parcel:
        with self._lock:
            parcel = self._by_carrier_id.get(carrier_parcel_id)
        if parcel is None:
            raise SimError(404, "unknown_reservation")
        return parcel

    def carrier_parcel_ids(self) -> list[str]:
        """Every parcel the platform holds, by the carrier's id, in booking order."""
        with self._lock:
            return list(self._by_carrier_id)

    def parcels_page(self, cursor: str | None, limit: int) -> dict[str, Any]:
        as_of = self.world.now
        views, next_cursor = self.world.reservations_page(cursor, limit=limit)
        return {"items": [self.parcel_json(v.reservation_id) for v in views], "nextCursor": next_cursor,
                "asOf": iso(as_of)}

    def parcel_json(self, reservation_id: str, upto: str | None = None) -> dict[str, Any]:
        """The parcel as GLS shows it, with its history up to event ``upto`` (all of it when None)."""
        view = self.world.reservation(reservation_id)
        events = self.world.events(reservation_id)
        if upto is not None:
            events = events[: next(i for i, e in enumerate(events) if e.event_id == upto) + 1]
        with self._lock:
            parcel = self._by_reservation.get(reservation_id)
        hard = any(e.code == EventCode.BOOKING_CONFIRMED for e in events)
        codes = None
        if hard and parcel is not None and parcel.access_code is not None:
            codes = {"consigneeCollection": parcel.access_code,
                     "consigneeCollectionCode": {"code": parcel.access_code, "validFrom": iso(parcel.confirmed_at),
                                                 "validUntil": iso(view.valid_until)}}
        return {
            "shipmentUid": view.reservation_id,
            "lockerUid": self.uid[view.locker_id],
            "carrierParcelId": parcel.carrier_parcel_id if parcel is not None else view.reservation_id,
            "carrierLockerId": view.locker_id,
            "shipmentType": "LAST_MILE",
            "dimensionsStatus": ("PARCEL_DIMENSIONS_OK" if parcel is not None and parcel.dimensions_known
                                 else "PARCEL_DIMENSIONS_UNKNOWN"),
            "shipmentStatus": SHIPMENT_STATUS[events[-1].code],
            "accessCodes": codes,
            "consignee": None,
            "events": [{"timestamp": iso(e.occurred_at), "eventType": SHIPMENT_STATUS[e.code]} for e in events],
            "allocationType": "HARD_RESERVATION" if hard else "SOFT_RESERVATION",
            "eventTimestamp": iso(events[-1].occurred_at),
            "compartment": {"moduleId": self.module_of.get(view.compartment_id), "compartmentId": view.compartment_id,
                            "size": self.size_name[view.size_class]},
            "expiresAt": iso(view.expires_at) if not hard else None,
        }


def _box(inner: Dimensions) -> dict[str, int]:
    return {"width": inner.width_mm, "height": inner.height_mm, "length": inner.length_mm}


# --- request bodies -----------------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParcelDimensions(_Body):
    depth: Millimetres
    height: Millimetres
    width: Millimetres

    def box(self) -> Dimensions:
        return Dimensions(length_mm=self.depth, width_mm=self.width, height_mm=self.height)


class PublishBody(_Body):
    eventType: Literal["PRE_CHECK", "BOOKING"]
    carrierLockerId: str = Field(min_length=1)
    carrierParcelId: str = Field(min_length=1, max_length=100)
    shipmentType: Literal["LAST_MILE", "ALTERNATIVE_DELIVERY"] = "LAST_MILE"
    consignee: dict[str, Any] | None = None
    dimensions: ParcelDimensions | None = None
    weight: Grams | None = None
    allocationType: Literal["SOFT_RESERVATION", "HARD_RESERVATION"] = "SOFT_RESERVATION"
    compartmentSize: str | None = None  # emulated: book a size the carrier chose (the real API takes dimensions)


class ParcelRef(_Body):
    carrierParcelId: str = Field(min_length=1)


class CollectBody(ParcelRef):
    code: str


class LockerStatusBody(_Body):
    status: Literal["ACTIVE", "INACTIVE", "MAINTENANCE"]


class CallbackBody(_Body):
    type: Literal["ParcelUpdates", "LockerUpdates"]
    url: str = Field(min_length=1)
    secret: SecretStr | None = None
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    shuffle: bool = False
    silent: bool = False
    seed: int = 0
    max_attempts: int = Field(default=8, ge=1, le=100)


# --- callbacks ----------------------------------------------------------------------------------------------


class _CallbackDispatcher(WebhookDispatcher):
    """The simulator's webhook machinery (retries, duplicates, shuffle, silence), one update per request, signed
    the emulated GLS way. ``render`` turns one queued item into a body."""

    def __init__(self, world: World, render: Callable[[Any], dict[str, Any]], **options: Any) -> None:
        super().__init__(world, **options)
        self._render = render

    def _plan(self, batch: list[Any]) -> None:
        bodies = [json.dumps(self._render(item), separators=(",", ":")).encode() for item in batch]
        now = time.monotonic()
        with self._lock:
            for sub in self._subs.values():
                sub.counters["events"] += len(bodies)
                if sub.silent:
                    sub.counters["suppressed"] += len(bodies)
                    continue
                for body in bodies:
                    hold = sub.rng.uniform(0, self.shuffle_hold_s) if sub.shuffle else 0.0
                    delivery_id = str(uuid.UUID(int=sub.rng.getrandbits(128), version=4))
                    self._pending.append(_Delivery(sub, delivery_id, body, due=now + hold))
                    sub.counters["deliveries"] += 1
                    sub.pending += 1

    def _post(self, delivery: _Delivery) -> int | None:
        if self._session is None:
            self._session = requests.Session()
        headers = callback_headers(delivery.sub.secret, int(self.clock()), delivery.delivery_id, delivery.body)
        try:
            with self._session.post(delivery.sub.url, data=delivery.body, headers=headers,
                                    timeout=self.timeout_s) as response:
                return response.status_code
        except requests.RequestException:
            return None


class ParcelUpdates(_CallbackDispatcher):
    """A ParcelUpdates callback for every World event of a parcel."""

    def __init__(self, world: World, network: GlsNetwork, **options: Any) -> None:
        super().__init__(world, lambda e: network.parcel_json(e.reservation_id, upto=e.event_id), **options)


class LockerUpdates(_CallbackDispatcher):
    """A LockerUpdates callback for every locker status change made through the control API."""

    def __init__(self, world: World, network: GlsNetwork, **options: Any) -> None:
        super().__init__(world, lambda locker_id: {**network.locker_json(world.locker(locker_id)),
                                                   "eventTimestamp": iso(world.now)}, **options)
        world.listeners.remove(self._on_event)  # parcel events are not locker updates

    def publish(self, locker_id: str) -> None:
        if self._subs:
            self._events.put(locker_id)  # type: ignore[arg-type]


# --- the app ------------------------------------------------------------------------------------------------


def create_app(world: World, api_key: str, **callback_options: Any) -> FastAPI:
    """The GLS-style app over ``world``; ``callback_options`` go to both callback dispatchers."""
    if not api_key:
        raise ValueError("api_key must not be empty")
    app = FastAPI(title="lockerhub GLS-style simulator", version="1",
                  summary="GLS/NXT-style out-of-home locker API (emulated)")
    network = GlsNetwork(world)
    app.state.world, app.state.network = world, network
    app.state.parcel_updates = ParcelUpdates(world, network, **callback_options)
    app.state.locker_updates = LockerUpdates(world, network, **callback_options)
    _install_guard(app, world, api_key)
    _install_errors(app)
    _api_routes(app, network)
    _control_routes(app, world, network)
    return app


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"errorCode": code, "message": message, **extra}, status_code=status, headers=headers)


def _install_guard(app: FastAPI, world: World, api_key: str) -> None:
    expected = api_key.encode()

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        api = path.startswith(PREFIX + "/")
        if api or path.startswith("/sim/"):
            given = request.headers.get(API_KEY_HEADER, "").encode()
            if not secrets.compare_digest(given, expected):
                return _error(401, "UNAUTHORIZED", "The requested resource requires authentication")
            fault = world.take_fault() if api else None
            if fault is not None and fault.delay_s is not None:  # applied, then answered too late
                response = await call_next(request)
                await asyncio.sleep(fault.delay_s)
                return response
            if fault is not None:
                headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
                code = "TOO_MANY_REQUESTS" if fault.status == 429 else "SERVER_ERROR"
                return _error(fault.status, code, "Injected fault", headers)
        return await call_next(request)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(SimError)
    async def sim_error(request: Request, exc: SimError) -> JSONResponse:
        code, message = ERRORS.get(exc.error, ("INVALID_REQUEST", "Bad request due to invalid input"))
        return _error(exc.status, code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Field locations only: the input may hold an access code.
        fields = [".".join(str(p) for p in e["loc"]) for e in exc.errors()]
        return _error(400, "INVALID_REQUEST", "Bad request due to invalid input", fields=fields)


def _api_routes(app: FastAPI, network: GlsNetwork) -> None:
    world = network.world

    @app.get(PREFIX + "/lockers")
    def lockers(page: int = Query(0, ge=0), size: int = Query(50, ge=1, le=100)) -> JSONResponse:
        items, count = world.lockers(page=page + 1, per_page=size)
        return JSONResponse([network.locker_json(lk) for lk in items], headers={"X-Total-Count": str(count)})

    @app.post(PREFIX + "/parcels/data/by-tenant-locker-id")
    def publish(body: PublishBody) -> dict[str, Any]:
        return network.publish(body)

    @app.get(PREFIX + "/parcels/all")
    def all_parcels(cursor: str | None = None, limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
        return network.parcels_page(cursor, limit)

    @app.get(PREFIX + "/parcels")
    def parcels(ids: str = Query(min_length=1)) -> list[dict[str, Any]]:
        found = []
        for parcel_id in ids.split(","):
            try:
                found.append(network.parcel_json(network.parcel(parcel_id).reservation_id))
            except SimError:
                continue
        if not found:
            raise SimError(404, "unknown_reservation")
        return found

    @app.post(PREFIX + "/parcels/{parcel_id}/confirm")
    def confirm(parcel_id: str, request: Request) -> dict[str, Any]:
        return network.confirm(parcel_id, request.headers.get(IDEMPOTENCY_HEADER))

    @app.patch(PREFIX + "/parcels/{parcel_id}")
    def cancel(parcel_id: str) -> dict[str, Any]:
        return network.cancel(parcel_id)


def _control_routes(app: FastAPI, world: World, network: GlsNetwork) -> None:
    parcel_updates: ParcelUpdates = app.state.parcel_updates
    locker_updates: LockerUpdates = app.state.locker_updates

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/sim/courier/deliver")
    def deliver(body: ParcelRef) -> dict[str, Any]:
        rid = network.parcel(body.carrierParcelId).reservation_id
        world.deposit(rid)
        return network.parcel_json(rid)

    @app.post("/sim/consignee/collect")
    def collect(body: CollectBody) -> dict[str, Any]:
        rid = network.parcel(body.carrierParcelId).reservation_id
        world.pickup(rid, body.code)
        return network.parcel_json(rid)

    @app.post("/sim/courier/collect-expired")
    def collect_expired(body: ParcelRef) -> dict[str, Any]:
        rid = network.parcel(body.carrierParcelId).reservation_id
        world.return_collect(rid)
        return network.parcel_json(rid)

    @app.post("/sim/lockers/{locker_id}/status")
    def locker_status(locker_id: str, body: LockerStatusBody) -> dict[str, Any]:
        state = next(s for s, name in LOCKER_STATUS.items() if name == body.status)
        world.set_locker_state(locker_id, state)
        locker_updates.publish(locker_id)
        return {"carrierLockerId": locker_id, "status": body.status}

    @app.get("/sim/clock")
    def clock() -> dict[str, Any]:
        return {"now": iso(world.now)}

    @app.post("/sim/clock/advance")
    def advance(body: AdvanceBody) -> dict[str, Any]:
        return {"now": iso(world.advance(body.seconds))}

    @app.post("/sim/faults")
    def faults(body: FaultBody) -> dict[str, Any]:
        return body.apply(world)

    @app.post("/sim/callbacks", status_code=201)
    def subscribe(body: CallbackBody) -> dict[str, Any]:
        dispatcher = parcel_updates if body.type == "ParcelUpdates" else locker_updates
        options = body.model_dump(exclude={"type"})
        options["secret"] = body.secret
        return {"type": body.type, **dispatcher.subscribe(SubscribeBody(**options)).to_json()}

    @app.get("/sim/callbacks")
    def subscriptions() -> dict[str, Any]:
        return {"ParcelUpdates": parcel_updates.subscriptions(), "LockerUpdates": locker_updates.subscriptions()}


class Server(AppServer):
    """The GLS-style simulator over real HTTP; ``api_url`` is the connector's ``base_url``, ``network`` the running
    app's :class:`GlsNetwork` (for test doubles that look inside)."""

    name = "gls simulator"

    def __init__(self, world: World, *, api_key: str, **options: Any) -> None:
        super().__init__(**options)
        self.world = world
        self.api_key = api_key
        self.network: GlsNetwork | None = None

    @property
    def api_url(self) -> str:
        return self.url + PREFIX

    def create_app(self) -> Any:
        app = create_app(self.world, self.api_key)
        self.network = app.state.network
        return app

    def before_stop(self, app: Any) -> None:
        app.state.parcel_updates.close()
        app.state.locker_updates.close()
