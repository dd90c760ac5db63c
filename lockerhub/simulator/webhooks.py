"""Webhooks from the simulator: every new reservation event POSTed, signed, at least once, to subscribed URLs.

The scheme is lockerhub's own and emulated (modelled on Stripe's signed webhooks); it is no vendor's real one::

    POST <url>
    Content-Type: application/json
    X-Simlocker-Delivery: <uuid>        the same on every retry and every duplicate of one delivery
    X-Simlocker-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>

    {"delivery_id": "<uuid>", "events": [{"event_id", "code", "occurred_at", "reservation_id", "locker_id",
                                          "compartment_id"}, ...]}

The events are the ones ``GET /v1/reservations/{id}/events`` lists, with the same fields. ``t`` is real Unix time
(the receiver checks it against its own clock), not the simulated clock; a retry is signed again with a new ``t``.

Control API (behind ``X-API-Key`` like every ``/sim`` call)::

    POST   /sim/webhooks          {"url", "secret"?, "duplicate_rate": 0..1, "shuffle", "silent", "seed",
                                   "max_attempts"}                       201 the subscription (never its secret)
    GET    /sim/webhooks          {"items": [subscription with delivery counters and "pending"]}
    DELETE /sim/webhooks/{id}     204

The secret is the request's ``secret`` or else ``LOCKERHUB_SIMULATOR_WEBHOOK_SECRET``. Faults: ``duplicate_rate``
sends an acknowledged delivery again (same id and body) with that probability; ``shuffle`` shuffles the events of
a delivery and holds each delivery back a random moment so later ones overtake it; ``silent`` sends nothing (the
receiver must fall back to polling). A delivery answered with anything but 2xx, or not answered, is retried with
exponential back-off up to ``max_attempts`` times, then counted as ``failed``. Events that happen before a
subscription exists are not sent to it.

One daemon thread per app sends everything; it starts with the first subscription and stops in :meth:`close`
(``SimulatorServer.stop`` calls it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import requests
from fastapi import FastAPI, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from lockerhub.simulator.state import SimError, SimEvent, World

SECRET_ENV = "LOCKERHUB_SIMULATOR_WEBHOOK_SECRET"
SIGNATURE_HEADER = "X-Simlocker-Signature"
DELIVERY_HEADER = "X-Simlocker-Delivery"


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Simlocker-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    key = secret.encode() if isinstance(secret, str) else secret
    mac = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class SubscribeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1)
    secret: SecretStr | None = None
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    shuffle: bool = False
    silent: bool = False
    seed: int = 0
    max_attempts: int = Field(default=8, ge=1, le=100)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL")
        return value


@dataclass(slots=True)
class Subscription:
    subscription_id: str
    url: str
    secret: bytes = field(repr=False)
    duplicate_rate: float
    shuffle: bool
    silent: bool
    seed: int
    max_attempts: int
    rng: random.Random = field(repr=False)
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("events", "deliveries", "acknowledged", "attempts", "retries", "duplicates", "failed", "suppressed"), 0))
    responses: dict[str, int] = field(default_factory=dict)  # HTTP status (or "error") -> count
    pending: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"subscription_id": self.subscription_id, "url": self.url, "duplicate_rate": self.duplicate_rate,
                "shuffle": self.shuffle, "silent": self.silent, "seed": self.seed, "max_attempts": self.max_attempts,
                **self.counters, "responses": dict(self.responses), "pending": self.pending}


@dataclass(slots=True)
class _Delivery:
    sub: Subscription
    delivery_id: str
    body: bytes
    due: float  # time.monotonic() when it may be sent
    attempt: int = 0
    duplicate: bool = False


class WebhookDispatcher:
    """Subscriptions plus the delivery thread. ``clock`` gives the signature timestamp (Unix seconds)."""

    def __init__(
        self, world: World, *, clock: Callable[[], float] = time.time, timeout_s: float = 5.0,
        retry_base_s: float = 0.05, retry_max_s: float = 2.0, batch_window_s: float = 0.02, max_batch: int = 50,
        shuffle_hold_s: float = 0.25,
    ) -> None:
        self.world = world
        self.clock = clock
        self.timeout_s = timeout_s
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.batch_window_s = batch_window_s
        self.max_batch = max_batch
        self.shuffle_hold_s = shuffle_hold_s
        self._lock = threading.Lock()
        self._subs: dict[str, Subscription] = {}
        self._events: queue.SimpleQueue[SimEvent] = queue.SimpleQueue()
        self._pending: list[_Delivery] = []  # touched by the delivery thread only
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._session: requests.Session | None = None
        world.listeners.append(self._on_event)

    # --- subscriptions ------------------------------------------------------------------------------------

    def subscribe(self, body: SubscribeBody) -> Subscription:
        secret = body.secret.get_secret_value() if body.secret is not None else os.environ.get(SECRET_ENV, "")
        if not secret:
            raise SimError(422, "webhook_secret_missing", hint=f"send 'secret' or set {SECRET_ENV}")
        with self._lock:
            if self._stop.is_set():
                raise SimError(409, "simulator_stopping")
            sub = Subscription(f"whs-{len(self._subs) + 1:04d}", body.url, secret.encode(), body.duplicate_rate,
                               body.shuffle, body.silent, body.seed, body.max_attempts, random.Random(body.seed))
            self._subs[sub.subscription_id] = sub
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="simulator-webhooks", daemon=True)
                self._thread.start()
        return sub

    def unsubscribe(self, subscription_id: str) -> None:
        with self._lock:
            if self._subs.pop(subscription_id, None) is None:
                raise SimError(404, "unknown_subscription", subscription_id=subscription_id)

    def subscriptions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [s.to_json() for s in self._subs.values()]

    def close(self) -> None:
        """Stop the delivery thread (deliveries still pending are dropped) and stop listening to the world."""
        self._stop.set()
        if self._on_event in self.world.listeners:
            self.world.listeners.remove(self._on_event)
        if self._thread is not None:
            self._thread.join(self.timeout_s + 5)
        if self._session is not None:
            self._session.close()
            self._session = None

    def _on_event(self, event: SimEvent) -> None:  # called under the world's lock: enqueue only
        if self._subs:
            self._events.put(event)

    # --- the delivery thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._collect(self._wait_s())
            if batch:
                self._plan(batch)
            self._send_due()

    def _wait_s(self) -> float:
        if not self._pending:
            return 0.1
        return max(0.0, min(0.1, min(d.due for d in self._pending) - time.monotonic()))

    def _collect(self, wait_s: float) -> list[SimEvent]:
        try:
            batch = [self._events.get(timeout=wait_s) if wait_s > 0 else self._events.get_nowait()]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.batch_window_s
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self._events.get(timeout=remaining) if remaining > 0 else self._events.get_nowait())
            except queue.Empty:
                break
        return batch

    def _plan(self, batch: list[SimEvent]) -> None:
        now = time.monotonic()
        with self._lock:
            for sub in self._subs.values():
                sub.counters["events"] += len(batch)
                if sub.silent:
                    sub.counters["suppressed"] += len(batch)
                    continue
                events = [e.to_json() for e in batch]
                hold = 0.0
                if sub.shuffle:
                    sub.rng.shuffle(events)
                    hold = sub.rng.uniform(0, self.shuffle_hold_s)
                delivery_id = str(uuid.UUID(int=sub.rng.getrandbits(128), version=4))
                body = json.dumps({"delivery_id": delivery_id, "events": events}, separators=(",", ":")).encode()
                self._pending.append(_Delivery(sub, delivery_id, body, due=now + hold))
                sub.counters["deliveries"] += 1
                sub.pending += 1

    def _send_due(self) -> None:
        now = time.monotonic()
        due = [d for d in self._pending if d.due <= now]
        if not due:
            return
        self._pending = [d for d in self._pending if d.due > now]
        for delivery in due:
            if self._stop.is_set():
                return
            self._attempt(delivery)

    def _attempt(self, delivery: _Delivery) -> None:
        sub = delivery.sub
        status = self._post(delivery)
        with self._lock:
            sub.counters["attempts"] += 1
            key = str(status) if status is not None else "error"
            sub.responses[key] = sub.responses.get(key, 0) + 1
            if status is not None and 200 <= status < 300:
                sub.pending -= 1
                if delivery.duplicate:
                    return
                sub.counters["acknowledged"] += 1
                if sub.rng.random() < sub.duplicate_rate:
                    sub.counters["duplicates"] += 1
                    sub.pending += 1
                    self._pending.append(replace(delivery, due=time.monotonic(), attempt=0, duplicate=True))
                return
            delivery.attempt += 1
            if delivery.attempt >= sub.max_attempts:
                sub.pending -= 1
                sub.counters["failed"] += 1
                return
            sub.counters["retries"] += 1
        backoff = min(self.retry_base_s * 2 ** (delivery.attempt - 1), self.retry_max_s)
        delivery.due = time.monotonic() + backoff
        self._pending.append(delivery)

    def _post(self, delivery: _Delivery) -> int | None:
        if self._session is None:
            self._session = requests.Session()
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: delivery.delivery_id,
            SIGNATURE_HEADER: sign(delivery.sub.secret, int(self.clock()), delivery.body),
        }
        try:
            with self._session.post(delivery.sub.url, data=delivery.body, headers=headers,
                                    timeout=self.timeout_s) as response:
                return response.status_code
        except requests.RequestException:
            return None


def install(app: FastAPI, world: World, dispatcher: WebhookDispatcher | None = None,
            **options: Any) -> WebhookDispatcher:
    """Register the ``/sim/webhooks`` routes on ``app`` for ``dispatcher`` (a vendor style's own, or the simlocker
    one made from ``options``); returns it (also at ``app.state.webhooks``)."""
    dispatcher = dispatcher or WebhookDispatcher(world, **options)
    app.state.webhooks = dispatcher

    @app.post("/sim/webhooks", status_code=201)
    def subscribe(body: SubscribeBody) -> dict[str, Any]:
        return dispatcher.subscribe(body).to_json()

    @app.get("/sim/webhooks")
    def subscriptions() -> dict[str, Any]:
        return {"items": dispatcher.subscriptions()}

    @app.delete("/sim/webhooks/{subscription_id}", status_code=204)
    def unsubscribe(subscription_id: str) -> Response:
        dispatcher.unsubscribe(subscription_id)
        return Response(status_code=204)

    return dispatcher
