"""The simulator's HTTP API: lockerhub's reference locker-operator API, emulated over a :class:`World`.

Modelled on the locker operator reservation style (pre-check, soft reservation, hard booking, access codes),
but it is lockerhub's own API, not any vendor's. Every ``/v1`` and ``/sim`` call needs the ``X-API-Key``
header; errors are JSON ``{"error": "<snake_case code>", ...}`` and never echo request values.

Tenant API (``/v1``)::

    GET    /v1/lockers?page=1&per_page=50     {"items": [Locker], "page", "per_page", "count"}
    GET    /v1/size-classes                   [SizeClass]
    POST   /v1/lockers/{id}/precheck          {"size_classes": ["A", "B"]}        404 unknown, 409 offline
    POST   /v1/reservations                   201 soft reservation                409 no_free_compartment
    GET    /v1/reservations/{id}              the reservation (never the access code)
    POST   /v1/reservations/{id}/confirm      hard booking with "access_code"     410 expired
    DELETE /v1/reservations/{id}              204                                 409 after deposit
    GET    /v1/reservations/{id}/events       {"items": [event]}
    GET    /v1/reservations?cursor=&limit=100 {"items": [reservation], "next_cursor", "as_of"}  every state,
                                              oldest first; "as_of" is the simulated now
    GET    /v1/telemetry?since=&until=&page=1&per_page=500
                                              {"items": [reading], "page", "per_page", "count", "since", "until"}

Control API (``/sim``, what couriers, recipients and time do): ``POST /sim/deposit``, ``/sim/pickup``,
``/sim/return-collect``, ``/sim/clock/advance``, ``/sim/faults``, ``/sim/lockers/{id}/state``;
``GET /sim/clock``, ``GET /sim/telemetry/profiles`` (which lockers degrade, and how); ``/sim/webhooks`` subscribes a
URL to signed webhooks of every new event (:mod:`lockerhub.simulator.webhooks`). ``GET /healthz`` needs no key.

Telemetry readings (``{"locker_id", "kind", "value", "observed_at"}``, see :mod:`lockerhub.simulator.telemetry`)
are those with ``since <= observed_at <= until``; ``until`` defaults to the simulated now and is echoed, so a
client pages with the same ``until`` and asks next time from there.

POSTs that carry an ``Idempotency-Key`` header answer a repeat with the original response (a refused request
is not remembered, so it may be retried with the same key). ``/sim/faults`` makes the next N ``/v1`` requests
answer a given status with ``Retry-After`` (``{"status", "count", "retry_after"}``), or sets a fault rate
(``{"rate", "kinds", "seed", "retry_after", "timeout_s"}``; ``{"rate": 0}`` clears): each ``/v1`` request then
fails with that probability, and a ``"timeout"`` fault applies the request before answering ``timeout_s`` late (see
:mod:`lockerhub.simulator.faults`).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lockerhub.model import Dimensions, LockerState, TemperatureClass
from lockerhub.model.units import Grams, Millimetres
from lockerhub.simulator import webhooks
from lockerhub.simulator.faults import DEFAULT_KINDS, FaultKind, FaultRate
from lockerhub.simulator.state import SimError, World, iso

API_KEY_HEADER = "X-API-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PrecheckBody(_Body):
    length_mm: Millimetres
    width_mm: Millimetres
    height_mm: Millimetres
    weight_g: Grams
    temperature: TemperatureClass = TemperatureClass.AMBIENT


class ReserveBody(_Body):
    locker_id: str = Field(min_length=1)
    size_class: str = Field(min_length=1)


class ReservationRef(_Body):
    reservation_id: str = Field(min_length=1)


class PickupBody(ReservationRef):
    access_code: str


class AdvanceBody(_Body):
    seconds: float = Field(ge=0)


class FaultBody(_Body):
    """Counted faults (``status``, ``count``) or a fault rate (``rate``, ``kinds``, ``seed``, ``timeout_s``)."""

    status: int | None = Field(default=None, ge=400, le=599)
    count: int = Field(default=1, ge=0)
    retry_after: float | None = Field(default=None, ge=0)
    rate: float | None = Field(default=None, ge=0, le=1)
    kinds: list[FaultKind] = Field(default_factory=lambda: list(DEFAULT_KINDS), min_length=1)
    seed: int | None = None
    timeout_s: float = Field(default=0.5, gt=0, le=60)

    @model_validator(mode="after")
    def _one_mode(self) -> FaultBody:
        if (self.status is None) == (self.rate is None):
            raise ValueError("give either status (counted faults) or rate (a fault rate)")
        return self

    def apply(self, world: World) -> dict[str, Any]:
        """Set these faults on ``world``; the echo of what was set."""
        if self.status is not None:
            world.inject_fault(self.status, self.count, self.retry_after)
        else:
            assert self.rate is not None
            world.inject_fault_rate(FaultRate(self.rate, tuple(self.kinds), self.seed, self.retry_after,
                                              self.timeout_s))
        return self.echo()

    def echo(self) -> dict[str, Any]:
        fields = ({"status", "count", "retry_after"} if self.rate is None
                  else {"rate", "kinds", "seed", "retry_after", "timeout_s"})
        return self.model_dump(mode="json", include=fields)


class LockerStateBody(_Body):
    state: LockerState


def create_app(world: World, api_key: str) -> FastAPI:
    """The FastAPI app over ``world``; every ``/v1`` and ``/sim`` request must send ``X-API-Key: api_key``."""
    if not api_key:
        raise ValueError("api_key must not be empty")
    app = FastAPI(title="lockerhub simulator", version="1", summary="lockerhub's reference locker API (emulated)")
    app.state.world = world
    _install_guards(app, world, api_key)
    _install_error_handlers(app)
    _tenant_routes(app, world)
    _control_routes(app, world)
    _telemetry_routes(app, world)
    webhooks.install(app, world)  # POST/GET/DELETE /sim/webhooks; the dispatcher is app.state.webhooks
    return app


def _install_guards(app: FastAPI, world: World, api_key: str) -> None:
    expected = api_key.encode()

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith(("/v1/", "/sim/")) or path in ("/v1", "/sim"):
            given = request.headers.get(API_KEY_HEADER, "").encode()
            if not secrets.compare_digest(given, expected):
                return JSONResponse({"error": "unauthorized"}, status_code=401)
            fault = world.take_fault() if path.startswith("/v1") else None
            if fault is not None and fault.delay_s is not None:  # applied, then answered too late
                response = await call_next(request)
                await asyncio.sleep(fault.delay_s)
                return response
            if fault is not None:
                headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
                return JSONResponse({"error": "injected_fault", "status": fault.status},
                                    status_code=fault.status, headers=headers)
        return await call_next(request)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SimError)
    async def sim_error(request: Request, exc: SimError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Field locations and messages only: the input may hold an access code.
        fields = [{"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return JSONResponse({"error": "invalid_request", "fields": fields}, status_code=422)


def _tenant_routes(app: FastAPI, world: World) -> None:
    @app.get("/v1/lockers")
    def list_lockers(page: int = Query(1, ge=1), per_page: int = Query(50, ge=1, le=100)) -> dict[str, Any]:
        items, count = world.lockers(page=page, per_page=per_page)
        return {"items": [lk.model_dump(mode="json") for lk in items], "page": page, "per_page": per_page,
                "count": count}

    @app.get("/v1/size-classes")
    def size_classes() -> list[dict[str, Any]]:
        return [s.model_dump(mode="json") for s in world.size_classes()]

    @app.post("/v1/lockers/{locker_id}/precheck")
    def precheck(locker_id: str, body: PrecheckBody) -> dict[str, Any]:
        box = Dimensions(length_mm=body.length_mm, width_mm=body.width_mm, height_mm=body.height_mm)
        return {"size_classes": world.precheck(locker_id, box, body.weight_g, body.temperature)}

    @app.post("/v1/reservations", status_code=201)
    def reserve(body: ReserveBody, request: Request) -> dict[str, Any]:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        return world.reserve(body.locker_id, body.size_class, idempotency_key=key).to_json()

    @app.get("/v1/reservations/{reservation_id}")
    def reservation(reservation_id: str) -> dict[str, Any]:
        return world.reservation(reservation_id).to_json()

    @app.post("/v1/reservations/{reservation_id}/confirm")
    def confirm(reservation_id: str, request: Request) -> dict[str, Any]:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        return world.confirm(reservation_id, idempotency_key=key).to_json()

    @app.delete("/v1/reservations/{reservation_id}", status_code=204)
    def cancel(reservation_id: str) -> Response:
        world.cancel(reservation_id)
        return Response(status_code=204)

    @app.get("/v1/reservations/{reservation_id}/events")
    def events(reservation_id: str) -> dict[str, Any]:
        return {"items": [e.to_json() for e in world.events(reservation_id)]}

    @app.get("/v1/reservations")
    def list_reservations(cursor: str | None = None, limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
        as_of = world.now
        items, next_cursor = world.reservations_page(cursor, limit=limit)
        return {"items": [r.to_json() for r in items], "next_cursor": next_cursor, "as_of": iso(as_of)}


def _once(world: World, request: Request, body: BaseModel, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Replay the first answer for a repeated ``Idempotency-Key`` on this path with this body."""
    fingerprint = json.dumps(body.model_dump(mode="json"), sort_keys=True)
    return world.idempotent(f"POST {request.url.path}", request.headers.get(IDEMPOTENCY_HEADER), fingerprint, compute)


def _control_routes(app: FastAPI, world: World) -> None:
    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/sim/deposit")
    def deposit(body: ReservationRef, request: Request) -> dict[str, Any]:
        return _once(world, request, body, lambda: world.deposit(body.reservation_id).to_json())

    @app.post("/sim/pickup")
    def pickup(body: PickupBody, request: Request) -> dict[str, Any]:
        return _once(world, request, body, lambda: world.pickup(body.reservation_id, body.access_code).to_json())

    @app.post("/sim/return-collect")
    def return_collect(body: ReservationRef, request: Request) -> dict[str, Any]:
        return _once(world, request, body, lambda: world.return_collect(body.reservation_id).to_json())

    @app.get("/sim/clock")
    def clock() -> dict[str, Any]:
        return {"now": iso(world.now)}

    @app.post("/sim/clock/advance")
    def advance(body: AdvanceBody, request: Request) -> dict[str, Any]:
        return _once(world, request, body, lambda: {"now": iso(world.advance(body.seconds))})

    @app.post("/sim/faults")
    def faults(body: FaultBody) -> dict[str, Any]:
        return body.apply(world)

    @app.post("/sim/lockers/{locker_id}/state")
    def locker_state(locker_id: str, body: LockerStateBody) -> dict[str, Any]:
        world.set_locker_state(locker_id, body.state)
        return {"locker_id": locker_id, "state": str(body.state)}


def _telemetry_routes(app: FastAPI, world: World) -> None:
    @app.get("/v1/telemetry")
    def telemetry(
        since: datetime | None = None, until: datetime | None = None,
        page: int = Query(1, ge=1), per_page: int = Query(500, ge=1, le=1000),
    ) -> dict[str, Any]:
        for name, value in (("since", since), ("until", until)):
            if value is not None and value.tzinfo is None:
                raise SimError(422, "naive_datetime", field=name)
        until = world.now if until is None else min(until, world.now)
        readings = world.telemetry_readings(since, until)
        start = (page - 1) * per_page
        return {"items": [r.to_json() for r in readings[start : start + per_page]], "page": page,
                "per_page": per_page, "count": len(readings), "since": iso(since), "until": iso(until)}

    @app.get("/sim/telemetry/profiles")
    def telemetry_profiles() -> dict[str, Any]:
        return {"items": [p.to_json() for p in world.telemetry_profiles()]}
