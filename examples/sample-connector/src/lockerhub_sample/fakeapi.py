"""A fake Sample Lockers API for tests: the vendor's wire style over lockerhub's simulated world, over real HTTP.

A vendor's test double need not be written from scratch: :class:`lockerhub.simulator.World` already keeps lockers,
compartments, reservations, idempotency keys, a clock and injected faults. This module only speaks the vendor's
style on top of it::

    GET    /v2/points?limit=20&after=<cursor>   {"data": [point], "next_cursor": str | null}
    GET    /v2/box-sizes                        {"data": [{"code", "inner_cm": [l, w, h], "max_kg"}]}
    POST   /v2/holds  {"point_id", "box_size"}  201 a hold       (Idempotency-Key replays the first answer)
    POST   /v2/holds/{id}/confirm               a booking, with "pin"   (Idempotency-Key likewise)
    DELETE /v2/holds/{id}                       204
    GET    /v2/holds/{id}/events                {"data": [{"id", "hold_id", "status", "at", "point_id"}]}

Every call needs ``Authorization: Bearer <token>``; errors are ``{"error": {"code", "message"}}``. A fault injected
with ``World.inject_fault`` answers the next call with its status (and ``Retry-After``). Webhook deliveries are
built and signed by :func:`delivery`, as the vendor signs them; this fake does not push them itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from lockerhub.model import LockerState
from lockerhub.simulator import EventCode, ReservationView, SimError, SimEvent, World
from lockerhub.simulator.server import AppServer

PAGE_SIZE = 20
#: the vendor's own status for each simulator event
STATUS = {
    EventCode.RESERVATION_CREATED: "HELD",
    EventCode.RESERVATION_EXPIRED: "HOLD_LAPSED",
    EventCode.BOOKING_CONFIRMED: "CONFIRMED",
    EventCode.BOOKING_CANCELLED: "CANCELLED",
    EventCode.COURIER_DEPOSITED: "IN_LOCKER",
    EventCode.CONSIGNEE_PICKED_UP: "DELIVERED",
    EventCode.PICKUP_EXPIRED: "NOT_COLLECTED",
    EventCode.COURIER_COLLECTED_RETURN: "RETURNED_TO_SENDER",
}
_POINT_STATUS = {LockerState.ONLINE: "active", LockerState.OFFLINE: "offline", LockerState.MAINTENANCE: "maintenance"}


class HoldBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    point_id: str
    box_size: str


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": code.replace("_", " ")}}, status_code=status,
                        headers=headers)


def _hold(view: ReservationView) -> dict[str, Any]:
    body: dict[str, Any] = {"id": view.reservation_id, "point_id": view.locker_id, "box_id": view.compartment_id,
                            "box_size": view.size_class, "type": "hold" if view.kind == "soft" else "booking",
                            "expires_at": view.expires_at.isoformat() if view.expires_at else None}
    if view.access_code is not None:
        body["pin"] = view.access_code
        body["pin_valid_until"] = view.valid_until.isoformat() if view.valid_until else None
    return body


def _event(event: SimEvent) -> dict[str, Any]:
    return {"id": event.event_id, "hold_id": event.reservation_id, "status": STATUS[event.code],
            "at": event.occurred_at.isoformat(), "point_id": event.locker_id}


def delivery(secret: str, timestamp: int, events: list[SimEvent]) -> tuple[dict[str, str], bytes]:
    """One webhook delivery as the vendor sends it: headers and body, signed at ``timestamp`` (Unix seconds)."""
    body = json.dumps({"delivery": str(uuid.uuid4()), "events": [_event(e) for e in events]}).encode()
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Sample-Timestamp": str(timestamp),
            "X-Sample-Signature": f"v1={mac}"}, body


def create_app(world: World, token: str) -> FastAPI:
    app = FastAPI(title="Sample Lockers (fake)")
    expected = f"Bearer {token}".encode()

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if not secrets.compare_digest(request.headers.get("Authorization", "").encode(), expected):
            return _error(401, "unauthorized")
        fault = world.take_fault()
        if fault is not None:
            retry = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
            return _error(fault.status, "injected_fault", retry)
        return await call_next(request)

    @app.exception_handler(SimError)
    async def refused(request: Request, exc: SimError) -> JSONResponse:
        return _error(exc.status, exc.error)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "invalid_request")

    @app.get("/v2/points")
    def points(limit: int = Query(PAGE_SIZE, ge=1, le=PAGE_SIZE), after: str = "page-1") -> dict[str, Any]:
        page = int(after.removeprefix("page-")) if after.removeprefix("page-").isdigit() else 1
        lockers, count = world.lockers(page=page, per_page=limit)
        data = [{"id": lk.locker_id, "name": lk.name, "city": lk.city, "postcode": lk.postal_code,
                 "country": lk.country, "lat": lk.latitude, "lng": lk.longitude, "status": _POINT_STATUS[lk.state]}
                for lk in lockers]
        return {"data": data, "next_cursor": f"page-{page + 1}" if page * limit < count else None}

    @app.get("/v2/box-sizes")
    def box_sizes() -> dict[str, Any]:
        return {"data": [{"code": s.code, "inner_cm": [s.inner.length_mm / 10, s.inner.width_mm / 10,
                                                       s.inner.height_mm / 10],
                          "max_kg": s.max_weight_g / 1000} for s in world.size_classes()]}

    @app.post("/v2/holds", status_code=201)
    def hold(body: HoldBody, request: Request) -> dict[str, Any]:
        key = request.headers.get("Idempotency-Key")
        return _hold(world.reserve(body.point_id, body.box_size, idempotency_key=key))

    @app.post("/v2/holds/{hold_id}/confirm")
    def confirm(hold_id: str, request: Request) -> dict[str, Any]:
        return _hold(world.confirm(hold_id, idempotency_key=request.headers.get("Idempotency-Key")))

    @app.delete("/v2/holds/{hold_id}", status_code=204)
    def release(hold_id: str) -> Response:
        world.cancel(hold_id)
        return Response(status_code=204)

    @app.get("/v2/holds/{hold_id}/events")
    def events(hold_id: str) -> dict[str, Any]:
        return {"data": [_event(e) for e in world.events(hold_id)]}

    return app


class FakeSampleApi(AppServer):
    """The fake API over real HTTP on 127.0.0.1 (a free port): ``with FakeSampleApi(world, token=...) as api``."""

    name = "fake Sample Lockers API"

    def __init__(self, world: World, *, token: str, **options: Any) -> None:
        super().__init__(**options)
        self.world = world
        self.token = token

    def create_app(self) -> FastAPI:
        return create_app(self.world, self.token)
