"""An InPost ShipX-style API over the simulated :class:`~lockerhub.simulator.state.World` (emulated).

It speaks the wire style of InPost's ShipX REST API (bearer organisation token, organisation id in the paths,
page-based points listing, shipments bought from offers, snake_case statuses, unsigned webhooks) so the ``inpost``
connector can be tested over real HTTP. It is lockerhub's emulation, not InPost's service: paths and field names
follow ShipX's public documentation where it could be checked, the rest is plausible and marked emulated in
``docs/vendors/inpost.md``.

Tenant API (every ``/v1`` call needs ``Authorization: Bearer <token>``)::

    GET    /v1/organizations/{org_id}                the organisation (the connector's cheap check call)
    GET    /v1/points?page=1&per_page=25             {"href", "count", "page", "per_page", "items": [point]}
    POST   /v1/organizations/{org_id}/shipments      201 shipment, "offers_prepared": a soft hold of a compartment
    GET    /v1/shipments/{id}                        the shipment and its offers
    POST   /v1/shipments/{id}/buy {"offer_id"}       the shipment "confirmed" (hard booking) with its "pickup_code"
    DELETE /v1/shipments/{id}                        204, the shipment "canceled"
    GET    /v1/tracking/{tracking_number}            {"tracking_number", "status", "tracking_details": [...]}

Shipment ids are integers and tracking numbers 24 digits; a shipment gets its tracking number when it is bought.
``tracking_details`` lists every status the shipment went through, newest first. Parcel templates ``small``,
``medium`` and ``large`` are the World's size classes A, B and C; a point's ``name`` is the World's locker id,
its ``agency`` the locker's region and its ``status`` ``Operating``, ``NonOperating`` (offline) or ``Disabled``
(maintenance). Each World event becomes one or more ShipX statuses (:data:`EVENT_STATUSES`).

Emulated (not ShipX): the ``Idempotency-Key`` header on both POSTs (the same key and request answer the first
answer again, another request with a used key is a 422 ``idempotency_key_reused``); ``pickup_code`` and
``pickup_code_valid_until`` in the answer to ``buy`` (InPost texts the code to the recipient); a shipment created
without a ``receiver``; a soft hold that lapses (when the World has a ``soft_ttl``) shows as ``canceled``.

Errors are ShipX's ``{"status", "error", "message", "details"}``; validation errors (``validation_failed``, 400)
name the fields in ``details``, e.g. an unknown or offline target point is
``{"custom_attributes": [{"target_point": ["does_not_exist"]}]}`` (or ``not_operating``). Unknown shipments and
tracking numbers are 404 ``resource_not_found``.

Control API (``/sim``, same bearer token): lockerhub's control routes (``/sim/deposit``, ``/sim/pickup``,
``/sim/return-collect`` with the World's ``reservation_id``, ``/sim/clock/advance``, ``/sim/faults``,
``/sim/lockers/{id}/state``), ``GET /sim/shipments/{id}`` (the shipment's ``reservation_id``) and
``POST /sim/webhooks`` ``{"url", "duplicate_rate", "shuffle", "seed", "max_attempts"}``: every later status change
is POSTed, unsigned, as ShipX does, ``{"event_ts", "event": "shipment_status_changed", "organization_id",
"payload": {"shipment_id", "status", "tracking_number"}}``; ``duplicate_rate`` sends acknowledged deliveries again
and ``shuffle`` holds each back a random moment so later ones overtake it. Faults (``/sim/faults``) apply to ``/v1``.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import random
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import requests
from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lockerhub.model import Locker, LockerState
from lockerhub.simulator.app import _control_routes
from lockerhub.simulator.server import AppServer
from lockerhub.simulator.state import BookingState, EventCode, ReservationView, SimError, SimEvent, World, iso

IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_ORGANIZATION_ID = 1234
SERVICE = "inpost_locker_standard"
TEMPLATES: dict[str, str] = {"small": "A", "medium": "B", "large": "C"}
"""ShipX parcel template -> the World's size class."""

STATUSES: tuple[str, ...] = (
    "created", "offers_prepared", "offer_selected", "confirmed", "dispatched_by_sender",
    "dispatched_by_sender_to_pok", "collected_from_sender", "taken_by_courier", "taken_by_courier_from_pok",
    "taken_by_courier_from_customer_service_point", "adopted_at_source_branch", "sent_from_source_branch",
    "adopted_at_sorting_center", "sent_from_sorting_center", "adopted_at_target_branch", "out_for_delivery",
    "out_for_delivery_to_address", "delay_in_delivery", "readdressed", "redirect_to_box", "canceled_redirect_to_box",
    "unstack_from_box_machine", "unstack_from_customer_service_point", "avizo", "ready_to_pickup",
    "ready_to_pickup_from_pok", "ready_to_pickup_from_pok_registered", "ready_to_pickup_from_branch",
    "stack_in_box_machine", "stack_in_customer_service_point", "courier_avizo_in_customer_service_point",
    "pickup_reminder_sent", "pickup_reminder_sent_address", "delivered", "pickup_time_expired",
    "stack_parcel_pickup_time_expired", "stack_parcel_in_box_machine_pickup_time_expired", "rejected_by_receiver",
    "undelivered", "undelivered_wrong_address", "undelivered_incomplete_address", "undelivered_unknown_receiver",
    "undelivered_cod_cash_receiver", "undelivered_no_mailbox", "undelivered_not_live_address",
    "undelivered_lack_of_access_letterbox", "returned_to_sender", "return_pickup_confirmation_to_sender",
    "canceled", "oversized", "missing", "claimed", "claim_rejected",
)
"""Every shipment status ShipX documents (except ``other``, which says nothing); the connector maps each one."""

EVENT_STATUSES: dict[EventCode, tuple[str, ...]] = {
    EventCode.RESERVATION_CREATED: ("created", "offers_prepared"),
    EventCode.BOOKING_CONFIRMED: ("confirmed",),
    EventCode.COURIER_DEPOSITED: ("taken_by_courier", "adopted_at_sorting_center", "sent_from_sorting_center",
                                  "out_for_delivery", "ready_to_pickup"),
    EventCode.CONSIGNEE_PICKED_UP: ("delivered",),
    EventCode.PICKUP_EXPIRED: ("pickup_time_expired",),
    EventCode.COURIER_COLLECTED_RETURN: ("returned_to_sender",),
    EventCode.BOOKING_CANCELLED: ("canceled",),
    EventCode.RESERVATION_EXPIRED: ("canceled",),
}
"""The ShipX statuses each World event stands for, in order (they share the event's time)."""

_STATE_STATUS: dict[BookingState, str] = {
    BookingState.SOFT: "offers_prepared", BookingState.BOOKED: "confirmed", BookingState.DEPOSITED: "ready_to_pickup",
    BookingState.PICKUP_EXPIRED: "pickup_time_expired", BookingState.COLLECTED: "delivered",
    BookingState.RETURNED: "returned_to_sender", BookingState.CANCELLED: "canceled", BookingState.EXPIRED: "canceled",
}
"""A shipment's status from its reservation's state (the last status of the event that led there)."""
_POINT_STATUS = {LockerState.ONLINE: "Operating", LockerState.OFFLINE: "NonOperating",
                 LockerState.MAINTENANCE: "Disabled"}

_VALIDATION_MESSAGE = "There are some validation errors. Check details object for more info."
_INVALID = (400, "validation_failed", _VALIDATION_MESSAGE)
# World refusal code -> (HTTP status, ShipX error, message, the field path named in "details" and its code).
_REFUSALS: dict[str, tuple[int, str, str, tuple[str, ...]]] = {
    "unknown_reservation": (404, "resource_not_found", "Resource not found.", ()),
    "unknown_locker": (*_INVALID, ("custom_attributes", "target_point", "does_not_exist")),
    "locker_offline": (*_INVALID, ("custom_attributes", "target_point", "not_operating")),
    "no_free_compartment": (*_INVALID, ("parcels", "template", "no_free_compartment")),
    "unknown_size_class": (*_INVALID, ("parcels", "template", "invalid")),
    "invalid_offer": (*_INVALID, ("offer_id", "invalid")),
    "invalid_service": (*_INVALID, ("service", "invalid")),
    "invalid_state": (409, "invalid_status", "The shipment's status does not allow this action.", ()),
    "reservation_expired": (410, "offer_expired", "The offer has expired.", ()),
    "idempotency_key_reused": (422, "idempotency_key_reused", "The key was used for another request.", ()),
    "access_forbidden": (403, "access_forbidden", "Access forbidden.", ()),
}
_FAULT_ERRORS = {401: "token_invalid", 403: "access_forbidden", 404: "resource_not_found",
                 429: "too_many_requests", 500: "internal_server_error", 502: "bad_gateway",
                 503: "service_unavailable", 504: "gateway_timeout"}
_TRACKING_BASE = 620_000_000_000_000_000_000_000
_OFFER_BASE = 900_000


def _error(status: int, error: str, message: str, details: dict[str, Any] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"status": status, "error": error, "message": message, "details": details or {}},
                        status_code=status, headers=headers)


def _nested(path: tuple[str, ...], code: str) -> dict[str, Any]:
    """ShipX's details shape: ``("parcels", "template")`` -> ``{"parcels": [{"template": [code]}]}``."""
    head, *rest = path
    return {head: [_nested(tuple(rest), code) if rest else code]}


class _Shipments:
    """Shipment ids (integers, in order of first sight) for the World's reservation ids, both ways."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}
        self._reservations: dict[int, str] = {}

    def shipment_id(self, reservation_id: str) -> int:
        with self._lock:
            sid = self._ids.get(reservation_id)
            if sid is None:
                sid = self._ids[reservation_id] = 10_000_001 + len(self._ids)
                self._reservations[sid] = reservation_id
            return sid

    def reservation_id(self, shipment_id: int) -> str:
        with self._lock:
            rid = self._reservations.get(shipment_id)
        if rid is None:
            raise SimError(404, "unknown_reservation")
        return rid


def tracking_number(shipment_id: int) -> str:
    return f"{_TRACKING_BASE + shipment_id:024d}"


def _bought(events: list[SimEvent]) -> bool:
    return any(e.code == EventCode.BOOKING_CONFIRMED for e in events)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Parcel(_Body):
    template: str = Field(min_length=1)


class _CustomAttributes(_Body):
    target_point: str = Field(min_length=1)
    sending_method: str | None = None


class ShipmentBody(_Body):
    service: str
    parcels: list[_Parcel] = Field(min_length=1, max_length=1)
    custom_attributes: _CustomAttributes
    reference: str | None = Field(default=None, max_length=100)


class BuyBody(_Body):
    offer_id: int


class SubscribeBody(_Body):
    url: str = Field(min_length=1)
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    shuffle: bool = False
    seed: int = 0
    max_attempts: int = Field(default=8, ge=1, le=100)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL")
        return value


def create_app(world: World, *, token: str, organization_id: int = DEFAULT_ORGANIZATION_ID) -> FastAPI:
    """The ShipX-style app over ``world``; ``/v1`` and ``/sim`` need ``Authorization: Bearer <token>``."""
    if not token:
        raise ValueError("token must not be empty")
    app = FastAPI(title="lockerhub inpost simulator", version="1",
                  summary="InPost ShipX-style API over the simulated locker network (emulated)")
    shipments = _Shipments()
    app.state.world, app.state.shipments = world, shipments
    app.state.webhooks = WebhookSender(world, shipments, organization_id)
    _install_guard(app, world, token)
    _install_error_handlers(app)
    _Routes(world, shipments, organization_id).install(app)
    _control_routes(app, world)
    _webhook_routes(app, shipments)
    return app


def _install_guard(app: FastAPI, world: World, token: str) -> None:
    expected = f"Bearer {token}".encode()

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith(("/v1/", "/sim/")):
            given = request.headers.get("Authorization", "").encode()
            if not secrets.compare_digest(given, expected):
                return _error(401, "token_invalid", "Token is missing or invalid.")
            fault = world.take_fault() if path.startswith("/v1/") else None
            if fault is not None and fault.delay_s is not None:  # applied, then answered too late
                response = await call_next(request)
                await asyncio.sleep(fault.delay_s)
                return response
            if fault is not None:
                headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
                return _error(fault.status, _FAULT_ERRORS.get(fault.status, "error"), "Injected fault.",
                              headers=headers)
        return await call_next(request)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SimError)
    async def refused(request: Request, exc: SimError) -> JSONResponse:
        status, error, message, where = _REFUSALS.get(exc.error, (exc.status, exc.error, "Request refused.", ()))
        return _error(status, error, message, _nested(where[:-1], where[-1]) if where else None)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details: dict[str, Any] = {}  # field names and error types only: the input may hold anything
        for e in exc.errors():
            path = tuple(str(p) for p in e["loc"][1:] if isinstance(p, str)) or ("body",)
            details.update(_nested(path, str(e["type"])))
        return _error(400, "validation_failed", _VALIDATION_MESSAGE, details)


@dataclass(frozen=True, slots=True)
class _Routes:
    world: World
    shipments: _Shipments
    organization_id: int

    def install(self, app: FastAPI) -> None:
        app.get("/v1/organizations/{org_id}")(self.organization)
        app.get("/v1/points")(self.points)
        app.post("/v1/organizations/{org_id}/shipments", status_code=201)(self.create)
        app.get("/v1/shipments/{shipment_id}")(self.shipment)
        app.post("/v1/shipments/{shipment_id}/buy")(self.buy)
        app.delete("/v1/shipments/{shipment_id}", status_code=204)(self.cancel)
        app.get("/v1/tracking/{number}")(self.tracking)

    def _own(self, org_id: int) -> None:
        if org_id != self.organization_id:
            raise SimError(403, "access_forbidden")

    def organization(self, org_id: int) -> dict[str, Any]:
        self._own(org_id)
        return {"id": org_id, "name": "lockerhub simulated organisation", "status": "confirmed",
                "services": [SERVICE]}

    def points(self, request: Request, page: int = Query(1, ge=1),
               per_page: int = Query(25, ge=1, le=500)) -> dict[str, Any]:
        items, count = self.world.lockers(page=page, per_page=per_page)
        base = str(request.base_url).rstrip("/")
        return {"href": f"{base}/v1/points", "count": count, "page": page, "per_page": per_page,
                "items": [_point(base, lk) for lk in items]}

    def create(self, org_id: int, body: ShipmentBody, request: Request) -> dict[str, Any]:
        self._own(org_id)
        if body.service != SERVICE:
            raise SimError(400, "invalid_service")
        template = body.parcels[0].template
        size_class = TEMPLATES.get(template)
        if size_class is None:
            raise SimError(422, "unknown_size_class")
        target = body.custom_attributes.target_point
        return self.world.idempotent(
            "POST shipments", request.headers.get(IDEMPOTENCY_HEADER), f"{target}|{template}",
            lambda: self._render(str(request.base_url), self.world.reserve(target, size_class)))

    def shipment(self, shipment_id: int, request: Request) -> dict[str, Any]:
        rid = self.shipments.reservation_id(shipment_id)
        return self._render(str(request.base_url), self.world.reservation(rid))

    def buy(self, shipment_id: int, body: BuyBody, request: Request) -> dict[str, Any]:
        rid = self.shipments.reservation_id(shipment_id)
        if body.offer_id != _OFFER_BASE + shipment_id:
            raise SimError(400, "invalid_offer")
        return self.world.idempotent(
            "POST buy", request.headers.get(IDEMPOTENCY_HEADER), f"{shipment_id}|{body.offer_id}",
            lambda: self._render(str(request.base_url), self.world.confirm(rid), reveal=True))

    def cancel(self, shipment_id: int) -> Response:
        self.world.cancel(self.shipments.reservation_id(shipment_id))
        return Response(status_code=204)

    def tracking(self, number: str) -> dict[str, Any]:
        sid = int(number) - _TRACKING_BASE if number.isdigit() and len(number) == 24 else -1
        rid = self.shipments.reservation_id(sid)
        events = self.world.events(rid)
        if not _bought(events):
            raise SimError(404, "unknown_reservation")
        details = [{"status": status, "origin_status": None, "agency": None, "datetime": iso(e.occurred_at)}
                   for e in events for status in EVENT_STATUSES[e.code]]
        details.reverse()  # newest first, as ShipX lists them
        return {"tracking_number": number, "service": SERVICE, "type": SERVICE, "status": details[0]["status"],
                "custom_attributes": {"target_point": events[0].locker_id}, "tracking_details": details,
                "created_at": iso(events[0].occurred_at), "updated_at": iso(events[-1].occurred_at)}

    def _render(self, base_url: str, view: ReservationView, *, reveal: bool = False) -> dict[str, Any]:
        """The shipment as ShipX shows it; with ``reveal`` (the answer to ``buy``) its pickup code too."""
        sid = self.shipments.shipment_id(view.reservation_id)
        events = self.world.events(view.reservation_id)
        number = tracking_number(sid) if _bought(events) else None
        template = next(t for t, c in TEMPLATES.items() if c == view.size_class)
        soft = view.state == BookingState.SOFT
        body: dict[str, Any] = {
            "href": f"{base_url.rstrip('/')}/v1/shipments/{sid}", "id": sid, "status": _STATE_STATUS[view.state],
            "tracking_number": number, "service": SERVICE,
            "custom_attributes": {"target_point": view.locker_id, "sending_method": "dispatch_order"},
            "parcels": [{"id": sid, "template": template, "tracking_number": number}],
            "offers": [{"id": _OFFER_BASE + sid, "service": {"id": SERVICE},
                        "status": "available" if soft else "bought", "expires_at": iso(view.expires_at)}],
            "created_at": iso(view.created_at), "updated_at": iso(events[-1].occurred_at),
        }
        if reveal and view.access_code is not None:
            body["pickup_code"] = view.access_code
            body["pickup_code_valid_until"] = iso(view.valid_until)
        return body


def _point(base: str, locker: Locker) -> dict[str, Any]:
    return {
        "href": f"{base}/v1/points/{locker.locker_id}", "name": locker.locker_id, "type": ["parcel_locker"],
        "status": _POINT_STATUS[locker.state], "agency": locker.region, "location_description": locker.name,
        "location": {"latitude": locker.latitude, "longitude": locker.longitude},
        "address_details": {"city": locker.city, "post_code": locker.postal_code},
    }


def _webhook_routes(app: FastAPI, shipments: _Shipments) -> None:
    sender: WebhookSender = app.state.webhooks

    @app.get("/sim/shipments/{shipment_id}")
    def shipment_reservation(shipment_id: int) -> dict[str, Any]:
        return {"shipment_id": shipment_id, "reservation_id": shipments.reservation_id(shipment_id)}

    @app.post("/sim/webhooks", status_code=201)
    def subscribe(body: SubscribeBody) -> dict[str, Any]:
        return sender.subscribe(body)

    @app.get("/sim/webhooks")
    def subscriptions() -> dict[str, Any]:
        return {"items": sender.subscriptions()}


# --- webhooks -----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Subscriber:
    subscription_id: str
    url: str
    duplicate_rate: float
    shuffle: bool
    max_attempts: int
    rng: random.Random = field(repr=False)
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("deliveries", "acknowledged", "duplicates", "retries", "failed", "pending"), 0))

    def to_json(self) -> dict[str, Any]:
        return {"subscription_id": self.subscription_id, "url": self.url, "duplicate_rate": self.duplicate_rate,
                "shuffle": self.shuffle, "max_attempts": self.max_attempts, **self.counters}


@dataclass(slots=True)
class _Delivery:
    sub: _Subscriber
    body: dict[str, Any]
    due: float  # time.monotonic() when it may be sent
    attempt: int = 0
    duplicate: bool = False


class WebhookSender:
    """ShipX-style webhooks: one unsigned POST per status change to every subscriber, at least once.

    The World calls :meth:`_on_event` under its lock, so it only enqueues; one daemon thread (started by the first
    subscription, stopped by :meth:`close`) sends, retries with back-off, duplicates and shuffles."""

    def __init__(self, world: World, shipments: _Shipments, organization_id: int, *, timeout_s: float = 5.0,
                 retry_base_s: float = 0.05, retry_max_s: float = 1.0, shuffle_hold_s: float = 0.25) -> None:
        self.world, self.shipments, self.organization_id = world, shipments, organization_id
        self.timeout_s, self.retry_base_s, self.retry_max_s = timeout_s, retry_base_s, retry_max_s
        self.shuffle_hold_s = shuffle_hold_s
        self._lock = threading.Lock()
        self._subs: list[_Subscriber] = []
        self._bodies: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._pending: list[_Delivery] = []  # the sending thread's only
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        world.listeners.append(self._on_event)

    def subscribe(self, body: SubscribeBody) -> dict[str, Any]:
        with self._lock:
            if self._stop.is_set():
                raise SimError(409, "simulator_stopping")
            sub = _Subscriber(f"whs-{len(self._subs) + 1:04d}", body.url, body.duplicate_rate, body.shuffle,
                              body.max_attempts, random.Random(body.seed))
            self._subs.append(sub)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="inpost-simulator-webhooks", daemon=True)
                self._thread.start()
            return sub.to_json()

    def subscriptions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [s.to_json() for s in self._subs]

    def close(self) -> None:
        self._stop.set()
        if self._on_event in self.world.listeners:
            self.world.listeners.remove(self._on_event)
        if self._thread is not None:
            self._thread.join(self.timeout_s + 5)

    def _on_event(self, event: SimEvent) -> None:  # under the World's lock: enqueue only
        if not self._subs:
            return
        sid = self.shipments.shipment_id(event.reservation_id)
        number = tracking_number(sid) if _bought(self.world.events(event.reservation_id)) else None
        for status in EVENT_STATUSES[event.code]:
            self._bodies.put({"event_ts": iso(event.occurred_at), "event": "shipment_status_changed",
                              "organization_id": self.organization_id,
                              "payload": {"shipment_id": sid, "status": status, "tracking_number": number}})

    def _run(self) -> None:
        with requests.Session() as http:
            while not self._stop.is_set():
                with contextlib.suppress(queue.Empty):  # nothing new: send what is due
                    self._plan(self._bodies.get(timeout=0.02 if self._pending else 0.1))
                self._send_due(http)

    def _plan(self, body: dict[str, Any]) -> None:
        now = time.monotonic()
        with self._lock:
            for sub in self._subs:
                hold = sub.rng.uniform(0, self.shuffle_hold_s) if sub.shuffle else 0.0
                self._pending.append(_Delivery(sub, body, due=now + hold))
                sub.counters["deliveries"] += 1
                sub.counters["pending"] += 1

    def _send_due(self, http: requests.Session) -> None:
        now = time.monotonic()
        due = sorted((d for d in self._pending if d.due <= now), key=lambda d: d.due)
        self._pending = [d for d in self._pending if d.due > now]
        for delivery in due:
            if self._stop.is_set():
                return
            self._attempt(http, delivery)

    def _attempt(self, http: requests.Session, delivery: _Delivery) -> None:
        try:
            with http.post(delivery.sub.url, json=delivery.body, timeout=self.timeout_s) as response:
                ok = 200 <= response.status_code < 300
        except requests.RequestException:
            ok = False
        sub = delivery.sub
        with self._lock:
            if ok:
                sub.counters["pending"] -= 1
                sub.counters["acknowledged"] += 1
                if not delivery.duplicate and sub.rng.random() < sub.duplicate_rate:
                    sub.counters["duplicates"] += 1
                    sub.counters["pending"] += 1
                    self._pending.append(replace(delivery, due=time.monotonic(), attempt=0, duplicate=True))
                return
            delivery.attempt += 1
            if delivery.attempt >= sub.max_attempts:
                sub.counters["pending"] -= 1
                sub.counters["failed"] += 1
                return
            sub.counters["retries"] += 1
        delivery.due = time.monotonic() + min(self.retry_base_s * 2 ** (delivery.attempt - 1), self.retry_max_s)
        self._pending.append(delivery)


# --- server -------------------------------------------------------------------------------------------------


class Server(AppServer):
    """The ShipX-style app over real HTTP (see :class:`~lockerhub.simulator.server.AppServer`)."""

    name = "inpost simulator"

    def __init__(self, world: World, *, token: str, organization_id: int = DEFAULT_ORGANIZATION_ID,
                 **options: Any) -> None:
        super().__init__(**options)
        self.world, self.token, self.organization_id = world, token, organization_id
        self.app: FastAPI | None = None

    def create_app(self) -> FastAPI:
        self.app = create_app(self.world, token=self.token, organization_id=self.organization_id)
        return self.app

    def before_stop(self, app: Any) -> None:
        app.state.webhooks.close()

    def shipment_ids(self) -> list[str]:
        """The shipment id of every reservation the World holds, in any state."""
        if self.app is None:
            raise RuntimeError("the inpost simulator is not running")
        shipments: _Shipments = self.app.state.shipments
        ids, cursor = [], None
        while True:
            page, cursor = self.world.reservations_page(cursor, limit=500)
            ids += [str(shipments.shipment_id(r.reservation_id)) for r in page]
            if cursor is None:
                return ids

    def reservation_id(self, shipment_id: str | int) -> str:
        """The World's reservation id of a shipment (for the World's courier and recipient actions)."""
        if self.app is None:
            raise RuntimeError("the inpost simulator is not running")
        shipments: _Shipments = self.app.state.shipments
        return shipments.reservation_id(int(shipment_id))
