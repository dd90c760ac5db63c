"""A BoxNow-style partner API over the simulated :class:`~lockerhub.simulator.state.World` (emulated, not BoxNow's
service; what is modelled on the published partner API and what is lockerhub's own is listed in
``docs/vendors/boxnow.md``).

Tenant API (``/api/v1``; every call but the token one needs ``Authorization: Bearer <access_token>``)::

    POST /api/v1/auth-sessions              {"grant_type": "client_credentials", "client_id", "client_secret"}
                                            -> {"access_token", "token_type": "Bearer", "expires_in"}   401 bad client
    GET  /api/v1/destinations?limit=&pageToken=
                                            {"data": [destination], "pagination": {"next"?}}  ``next`` is an opaque
                                            cursor, absent on the last page; limit 1-100 (P442 above)
    POST /api/v1/delivery-requests          {"orderNumber", "origin": {"locationId"}, "destination": {"locationId"},
                                             "items": [{"compartmentSize": 1|2|3}]}
                                            -> {"id", "orderNumber", "parcels": [{"id"}], "holdExpiresAt"}
                                            400 P402 unknown or unavailable destination, P406 size, P410 the order
                                            number was used before; 409 NO_FREE_COMPARTMENT
    GET  /api/v1/parcels?parcelId=&orderNumber=&limit=&pageToken=
                                            {"data": [parcel with "events"], "pagination": {"next"?}}
    POST /api/v1/parcels/{id}:confirm       the parcel with "pin" and "pinValidUntil" (an ``Idempotency-Key`` replays
                                            the first answer)                         400 P430 not confirmable
    POST /api/v1/parcels/{id}:cancel        204                                       400 P420 not cancellable

Errors are ``{"code", "message"}`` and never echo request values. The World's size classes, smallest first, are
compartment sizes 1, 2 and 3; its reservations are parcels ``92NNNNNNNN`` (``rsv-000007`` is ``9200000007``); its
event codes become BoxNow parcel event types (:data:`EVENT_TYPES`). Access tokens expire on the World's clock
(``token_ttl_s`` simulated seconds), so moving the clock forward expires them without waiting.

Control API (``/sim``, unauthenticated; bind to localhost): the World's ``/sim/deposit``, ``/sim/pickup``,
``/sim/return-collect``, ``/sim/clock``, ``/sim/faults``, ``/sim/lockers/{id}/state`` (see
:mod:`lockerhub.simulator.app`) and ``/sim/webhooks`` (subscribe a URL, as :mod:`lockerhub.simulator.webhooks`,
with the same ``duplicate_rate``, ``shuffle``, ``silent`` faults). Injected faults hit every ``/api/v1`` call except
the token endpoint.

Webhooks are CloudEvents 1.0 in structured JSON, one parcel event each, POSTed to the subscribed URL::

    {"specversion": "1.0", "type": "parcel-event", "source": "/boxnow/partner-api", "subject": "<parcel id>",
     "id": "<uuid>", "time": "<RFC 3339, real time of sending>", "datacontenttype": "application/json",
     "datasignature": "<hex HMAC-SHA256(secret, canonical JSON of data)>",
     "data": {"parcelId", "orderNumber", "event", "parcelState", "eventLocation": {"locationId", "displayName",
              "postalCode"}, "time": "<when it happened, simulated clock>"}}

The canonical JSON of ``data`` (:func:`canonical`) is UTF-8, keys sorted, no spaces. A retry or duplicate of a
delivery carries the same body (same ``id``, ``time`` and signature).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from lockerhub.model import Locker, LockerState
from lockerhub.simulator import webhooks
from lockerhub.simulator.app import _control_routes
from lockerhub.simulator.server import AppServer
from lockerhub.simulator.state import EventCode, ReservationView, SimError, SimEvent, World, iso
from lockerhub.simulator.webhooks import WebhookDispatcher, _Delivery

TOKEN_PATH = "/api/v1/auth-sessions"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_LIMIT = 100
PARCEL_PREFIX = "92"
SOURCE = "/boxnow/partner-api"
EVENT_TYPE = "parcel-event"

EVENT_TYPES: dict[EventCode, str | None] = {
    EventCode.RESERVATION_CREATED: "new",
    EventCode.BOOKING_CONFIRMED: None,  # BoxNow has no event for it: the parcel stays "new"
    EventCode.COURIER_DEPOSITED: "final-destination",
    EventCode.CONSIGNEE_PICKED_UP: "delivered",
    EventCode.PICKUP_EXPIRED: "expired",
    EventCode.COURIER_COLLECTED_RETURN: "accepted-for-return",
    EventCode.BOOKING_CANCELLED: "canceled",
    EventCode.RESERVATION_EXPIRED: "canceled",  # a lapsed hold ends as a cancelled delivery request
}
"""World event code -> BoxNow parcel event type (None: not shown)."""


LOCKER_STATUS = {LockerState.ONLINE: "ready", LockerState.OFFLINE: "offline", LockerState.MAINTENANCE: "maintenance"}
"""World locker state -> the destination's ``status`` (an emulated field: BoxNow lists only "Box Now Ready" APMs)."""


class BoxnowError(Exception):
    """A refusal in BoxNow's shape: HTTP ``status`` and ``{"code", "message"}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(f"{status} {code}")


# How each route words the World's refusals: SimError code -> (HTTP status, BoxNow code, message).
_CREATE_ERRORS = {
    "unknown_locker": (400, "P402", "Invalid request destination location reference."),
    "locker_offline": (400, "P402", "Invalid request destination location reference: the APM is not Box Now Ready."),
    "unknown_size_class": (400, "P406", "Invalid compartment/parcel size."),
    "no_free_compartment": (409, "NO_FREE_COMPARTMENT", "The destination has no free compartment of that size."),
}
_CONFIRM_ERRORS = {
    "unknown_reservation": (404, "NOT_FOUND", "Parcel not found."),
    "reservation_expired": (400, "P430", "Parcel not ready for confirmation: its hold expired."),
    "invalid_state": (400, "P430", "Parcel not ready for confirmation."),
}
_CANCEL_ERRORS = {
    "unknown_reservation": (404, "NOT_FOUND", "Parcel not found."),
    "invalid_state": (400, "P420", "Parcel not ready for cancel."),
}


@contextmanager
def _worded(table: Mapping[str, tuple[int, str, str]]) -> Iterator[None]:
    try:
        yield
    except SimError as exc:
        if exc.error not in table:
            raise
        raise BoxnowError(*table[exc.error]) from None


# --- webhook signing (also used by the conformance harness and tests) -----------------------------------------

def canonical(data: Mapping[str, Any]) -> bytes:
    """The bytes ``datasignature`` is computed over: ``data`` as UTF-8 JSON, keys sorted, no spaces."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_data(secret: str | bytes, data: Mapping[str, Any]) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, canonical(data), hashlib.sha256).hexdigest()


def cloud_event(data: Mapping[str, Any], *, secret: str | bytes, event_id: str, sent_at: datetime) -> bytes:
    """One signed webhook body (a CloudEvent in structured JSON mode)."""
    envelope = {
        "specversion": "1.0", "type": EVENT_TYPE, "source": SOURCE, "subject": str(data.get("parcelId", "")),
        "id": event_id, "time": sent_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json", "datasignature": sign_data(secret, data), "data": dict(data),
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- ids, sizes and cursors -------------------------------------------------------------------------------------

def parcel_id(reservation_id: str) -> str:
    return f"{PARCEL_PREFIX}{int(reservation_id.removeprefix('rsv-')):08d}"


def reservation_id(parcel: str) -> str:
    """The World's reservation id of a parcel id; an id that is none of ours is a 404."""
    digits = parcel.removeprefix(PARCEL_PREFIX)
    if not (parcel.startswith(PARCEL_PREFIX) and len(digits) == 8 and digits.isdigit()):
        raise BoxnowError(404, "NOT_FOUND", "Parcel not found.")
    return f"rsv-{int(digits):06d}"


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: str | None) -> int:
    if token is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    kind, _, value = text.partition(":")
    if kind != "offset" or not value.isdigit():
        raise BoxnowError(400, "P400", "Invalid request data: pageToken.")
    return int(value)


def _page(items: list[dict[str, Any]], token: str | None, limit: int) -> dict[str, Any]:
    if limit > MAX_LIMIT:
        raise BoxnowError(400, "P442", f"Invalid limit query parameter (max allowed is {MAX_LIMIT}).")
    start = _offset(token)
    end = start + limit
    pagination = {"next": _cursor(end)} if end < len(items) else {}
    return {"data": items[start:end], "pagination": pagination}


# --- the partner's side of the world: tokens, order numbers -----------------------------------------------------

@dataclass
class Desk:
    """What BoxNow keeps beside the World: client credentials, access tokens, order numbers per parcel."""

    world: World
    client_id: str
    client_secret: str = field(repr=False)
    token_ttl: timedelta
    tokens_issued: int = 0
    _tokens: dict[str, datetime] = field(default_factory=dict, repr=False)
    _orders: dict[str, str] = field(default_factory=dict)  # order number -> reservation id
    _order_of: dict[str, str] = field(default_factory=dict)  # reservation id -> order number
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    sizes: dict[str, int] = field(init=False)  # World size class -> BoxNow compartment size
    codes: dict[int, str] = field(init=False)  # and back

    def __post_init__(self) -> None:
        codes = [s.code for s in self.world.size_classes()]
        if len(codes) > 3:
            raise ValueError("BoxNow has three compartment sizes; the World has more size classes")
        self.sizes = {code: n for n, code in enumerate(codes, start=1)}
        self.codes = {n: code for code, n in self.sizes.items()}

    def issue(self, client_id: str, client_secret: str) -> dict[str, Any]:
        good_id = secrets.compare_digest(client_id.encode(), self.client_id.encode())
        good_secret = secrets.compare_digest(client_secret.encode(), self.client_secret.encode())
        if not (good_id and good_secret):
            raise BoxnowError(401, "invalid_client", "Client authentication failed.")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = self.world.now + self.token_ttl
            self.tokens_issued += 1
        return {"access_token": token, "token_type": "Bearer", "expires_in": int(self.token_ttl.total_seconds())}

    def authorised(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        with self._lock:
            expires = self._tokens.get(token.strip())
        return expires is not None and self.world.now < expires

    def order(self, order_number: str, locker_id: str, size: int) -> ReservationView:
        """A new delivery request (a soft hold in the World); a used order number is P410 whatever it asked."""
        with self._lock:
            if order_number in self._orders:
                raise BoxnowError(400, "P410", "Order number conflict: choose another order number.")
            if size not in self.codes:
                raise BoxnowError(*_CREATE_ERRORS["unknown_size_class"])
            with _worded(_CREATE_ERRORS):
                view = self.world.reserve(locker_id, self.codes[size])
            self._orders[order_number] = view.reservation_id
            self._order_of[view.reservation_id] = order_number
            return view

    def order_number(self, rid: str) -> str | None:
        with self._lock:
            return self._order_of.get(rid)

    def reservation_of(self, order_number: str) -> str | None:
        with self._lock:
            return self._orders.get(order_number)

    def reservations(self) -> list[str]:
        with self._lock:
            return list(self._order_of)

    def location(self, locker_id: str) -> dict[str, Any]:
        locker = self.world.locker(locker_id)
        return {"locationId": locker.locker_id, "displayName": locker.name, "postalCode": locker.postal_code}

    def parcel(self, view: ReservationView, *, events: bool = True) -> dict[str, Any]:
        history = [e for e in self.world.events(view.reservation_id) if EVENT_TYPES[e.code] is not None]
        place = self.location(view.locker_id)
        body: dict[str, Any] = {
            "id": parcel_id(view.reservation_id),
            "state": EVENT_TYPES[history[-1].code] if history else "new",
            "compartmentSize": self.sizes[view.size_class],
            "confirmed": view.kind == "hard",
            "holdExpiresAt": iso(view.expires_at),
            "deliveryRequest": {"orderNumber": self.order_number(view.reservation_id),
                                "destination": {"locationId": view.locker_id}},
            "createTime": iso(view.created_at),
            "updateTime": iso(history[-1].occurred_at if history else view.created_at),
        }
        if events:
            body["events"] = [{"type": EVENT_TYPES[e.code], "createTime": iso(e.occurred_at),
                               "locationId": place["locationId"], "locationDisplayName": place["displayName"],
                               "postalCode": place["postalCode"]} for e in history]
        return body

    def event_data(self, event: SimEvent) -> dict[str, Any] | None:
        """The ``data`` of the webhook for one World event (None when BoxNow shows no such event)."""
        kind = EVENT_TYPES[event.code]
        if kind is None:
            return None
        return {"parcelId": parcel_id(event.reservation_id), "orderNumber": self.order_number(event.reservation_id),
                "event": kind, "parcelState": kind, "eventLocation": self.location(event.locker_id),
                "time": iso(event.occurred_at)}


# --- webhooks ---------------------------------------------------------------------------------------------------

class CloudEventDispatcher(WebhookDispatcher):
    """The World's webhook dispatcher (retries, duplicates, shuffle, silent) sending one signed CloudEvent per
    parcel event instead of lockerhub's own batched deliveries."""

    def __init__(self, world: World, desk: Desk, **options: Any) -> None:
        super().__init__(world, **options)
        self.desk = desk

    def _plan(self, batch: list[SimEvent]) -> None:
        now = time.monotonic()
        sent_at = datetime.fromtimestamp(self.clock(), UTC)
        payloads = [data for data in map(self.desk.event_data, batch) if data is not None]
        with self._lock:
            for sub in self._subs.values():
                sub.counters["events"] += len(batch)
                if sub.silent:
                    sub.counters["suppressed"] += len(batch)
                    continue
                ordered = list(payloads)
                if sub.shuffle:
                    sub.rng.shuffle(ordered)
                for data in ordered:
                    event_id = str(uuid.UUID(int=sub.rng.getrandbits(128), version=4))
                    hold = sub.rng.uniform(0, self.shuffle_hold_s) if sub.shuffle else 0.0
                    body = cloud_event(data, secret=sub.secret, event_id=event_id, sent_at=sent_at)
                    self._pending.append(_Delivery(sub, event_id, body, due=now + hold))
                    sub.counters["deliveries"] += 1
                    sub.pending += 1

    def _post(self, delivery: _Delivery) -> int | None:
        if self._session is None:
            self._session = requests.Session()
        try:
            with self._session.post(delivery.sub.url, data=delivery.body, timeout=self.timeout_s,
                                    headers={"Content-Type": "application/json"}) as response:
                return response.status_code
        except requests.RequestException:
            return None


# --- the app ----------------------------------------------------------------------------------------------------

class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the real request has many more optional fields


class TokenBody(_Body):
    grant_type: str
    client_id: str
    client_secret: str = Field(repr=False)


class LocationRef(_Body):
    locationId: str = Field(min_length=1)


class ItemBody(_Body):
    compartmentSize: int


class DeliveryRequestBody(_Body):
    orderNumber: str = Field(min_length=1, max_length=64)
    origin: LocationRef
    destination: LocationRef
    items: list[ItemBody] = Field(min_length=1, max_length=1)  # the simulator books one parcel per request


def create_app(world: World, *, client_id: str, client_secret: str, token_ttl_s: float = 3600) -> FastAPI:
    """The BoxNow-style app over ``world``; tokens last ``token_ttl_s`` seconds of the World's clock."""
    if not client_id or not client_secret:
        raise ValueError("client_id and client_secret must not be empty")
    desk = Desk(world, client_id, client_secret, timedelta(seconds=token_ttl_s))
    app = FastAPI(title="lockerhub simulator: BoxNow-style partner API", version="1",
                  summary="emulated; not BoxNow's service")
    app.state.desk = desk
    _install_guard(app, world, desk)
    _install_errors(app)
    _tenant_routes(app, world, desk)
    _control_routes(app, world)
    webhooks.install(app, world, CloudEventDispatcher(world, desk))
    return app


def _install_guard(app: FastAPI, world: World, desk: Desk) -> None:
    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if not path.startswith("/api/") or path == TOKEN_PATH:
            return await call_next(request)
        if not desk.authorised(request.headers.get("Authorization")):
            return JSONResponse({"code": "unauthorized", "message": "Missing, invalid or expired access token."},
                                status_code=401)
        fault = world.take_fault()
        if fault is not None and fault.delay_s is not None:  # applied, then answered too late
            response = await call_next(request)
            await asyncio.sleep(fault.delay_s)
            return response
        if fault is not None:
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
            code = "P600" if fault.status >= 500 else f"HTTP{fault.status}"
            return JSONResponse({"code": code, "message": "Injected fault."}, status_code=fault.status,
                                headers=headers)
        return await call_next(request)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(BoxnowError)
    async def refused(request: Request, exc: BoxnowError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status)

    @app.exception_handler(SimError)
    async def sim_error(request: Request, exc: SimError) -> JSONResponse:
        return JSONResponse({"code": exc.error, "message": "Refused by the simulated network."},
                            status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Field locations only: the input may hold a client secret or an access code.
        fields = [".".join(str(p) for p in e["loc"]) for e in exc.errors()]
        return JSONResponse({"code": "P400", "message": "Invalid request data.", "fields": fields}, status_code=400)


def _destination(locker: Locker) -> dict[str, Any]:
    return {"id": locker.locker_id, "type": "apm", "name": locker.name, "addressLine1": locker.name,
            "postalCode": locker.postal_code, "city": locker.city, "country": locker.country,
            "lat": locker.latitude, "lng": locker.longitude, "region": locker.region,
            "status": LOCKER_STATUS[locker.state]}


def _tenant_routes(app: FastAPI, world: World, desk: Desk) -> None:
    @app.post(TOKEN_PATH)
    def auth_session(body: TokenBody) -> dict[str, Any]:
        if body.grant_type != "client_credentials":
            raise BoxnowError(400, "unsupported_grant_type", "grant_type must be client_credentials.")
        return desk.issue(body.client_id, body.client_secret)

    @app.get("/api/v1/destinations")
    def destinations(limit: int = Query(50, ge=1), pageToken: str | None = None) -> dict[str, Any]:
        lockers, _ = world.lockers(per_page=10**9)
        return _page([_destination(lk) for lk in lockers], pageToken, limit)

    @app.post("/api/v1/delivery-requests")
    def delivery_request(body: DeliveryRequestBody) -> dict[str, Any]:
        view = desk.order(body.orderNumber, body.destination.locationId, body.items[0].compartmentSize)
        return {"id": str(int(view.reservation_id.removeprefix("rsv-"))), "orderNumber": body.orderNumber,
                "parcels": [{"id": parcel_id(view.reservation_id)}], "holdExpiresAt": iso(view.expires_at)}

    @app.get("/api/v1/parcels")
    def parcels(parcelId: str | None = None, orderNumber: str | None = None,
                limit: int = Query(50, ge=1), pageToken: str | None = None) -> dict[str, Any]:
        if parcelId is not None:
            try:
                wanted = [reservation_id(parcelId)]
            except BoxnowError:
                wanted = []
        elif orderNumber is not None:
            found = desk.reservation_of(orderNumber)
            wanted = [found] if found is not None else []
        else:
            wanted = desk.reservations()
        ours = set(desk.reservations())
        return _page([desk.parcel(world.reservation(rid)) for rid in wanted if rid in ours], pageToken, limit)

    @app.post("/api/v1/parcels/{parcel}:confirm")
    def confirm(parcel: str, request: Request) -> dict[str, Any]:
        with _worded(_CONFIRM_ERRORS):
            view = world.confirm(reservation_id(parcel), idempotency_key=request.headers.get(IDEMPOTENCY_HEADER))
        return {**desk.parcel(view, events=False), "pin": view.access_code, "pinValidUntil": iso(view.valid_until)}

    @app.post("/api/v1/parcels/{parcel}:cancel", status_code=204)
    def cancel(parcel: str) -> Response:
        with _worded(_CANCEL_ERRORS):
            world.cancel(reservation_id(parcel))
        return Response(status_code=204)


class Server(AppServer):
    """The BoxNow-style API over real HTTP (uvicorn in a thread); ``desk`` counts the access tokens issued."""

    name = "boxnow simulator"

    def __init__(self, world: World, *, client_id: str, client_secret: str, token_ttl_s: float = 3600,
                 **options: Any) -> None:
        super().__init__(**options)
        self.world = world
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl_s = token_ttl_s
        self.desk: Desk | None = None

    def __repr__(self) -> str:
        return f"boxnow.Server(port={self.port})"

    def create_app(self) -> Any:
        app = create_app(self.world, client_id=self.client_id, client_secret=self.client_secret,
                         token_ttl_s=self.token_ttl_s)
        self.desk = app.state.desk
        return app

    def before_stop(self, app: Any) -> None:
        app.state.webhooks.close()  # the webhook delivery thread, if a subscription started it
