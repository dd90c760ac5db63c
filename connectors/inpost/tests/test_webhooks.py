"""Unsigned ShipX webhooks: read as hints, then the shipment is fetched; duplicates and disorder change nothing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from fastapi import FastAPI, Request
from lockerhub_inpost import InpostConnector

from lockerhub.errors import ParseError
from lockerhub.model import ParcelStatus, apply_event
from lockerhub.model.state_machine import ParcelState
from lockerhub.simulator import World
from lockerhub.simulator.server import AppServer
from lockerhub.simulator.vendors.inpost import Server

from .conftest import ORG, TOKEN, make


def body(**overrides: Any) -> bytes:
    delivery = {"event_ts": "2026-01-05T08:00:00+00:00", "event": "shipment_status_changed", "organization_id": ORG,
                "payload": {"shipment_id": 10000001, "status": "delivered", "tracking_number": "6" * 24}}
    return json.dumps({**delivery, **overrides}).encode()


def test_a_hint_names_the_shipment_only(connector: InpostConnector) -> None:
    assert connector.webhook_hint(body()) == ["10000001"]
    assert connector.webhook_hint(body(payload={"shipment_id": "10000002"})) == ["10000002"]


@pytest.mark.parametrize(("delivery", "field"), [
    (b"not json", "body"),
    (b"[]", "body"),
    (body(organization_id=ORG + 1), "organization_id"),
    (body(organization_id=None), "organization_id"),
    (body(payload="x"), "payload"),
    (body(payload={"status": "delivered"}), "payload.shipment_id"),
    (body(payload={"shipment_id": True}), "payload.shipment_id"),
    (body(payload={"shipment_id": "12; DROP"}), "payload.shipment_id"),
])
def test_what_is_not_a_shipx_webhook_is_a_parse_error(connector: InpostConnector, delivery: bytes,
                                                      field: str) -> None:
    with pytest.raises(ParseError) as err:
        connector.webhook_hint(delivery)
    assert err.value.message == f"inpost webhook: {field}"
    assert "DROP" not in str(err.value)


class Receiver:
    """A webhook endpoint over real HTTP that keeps every body it is sent, in arrival order."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/shipx")
        async def receive(request: Request) -> dict[str, bool]:
            data = await request.body()
            with self._lock:
                self.bodies.append(data)
            return {"ok": True}

        return app


@pytest.fixture
def flow() -> Iterator[tuple[World, Server, Receiver, AppServer, requests.Session]]:
    world = World.generate(5, seed=11)
    receiver = Receiver()
    with Server(world, token=TOKEN, organization_id=ORG) as server, AppServer(receiver.app) as endpoint, \
            requests.Session() as sim:
        sim.headers["Authorization"] = f"Bearer {TOKEN}"
        yield world, server, receiver, endpoint, sim


def settle(sim: requests.Session, server: Server, deliveries: int) -> dict[str, Any]:
    """Wait until the simulator has sent (and had acknowledged) ``deliveries`` webhooks, duplicates included."""
    deadline = time.monotonic() + 20
    while True:
        sub = sim.get(f"{server.url}/sim/webhooks", timeout=5).json()["items"][0]
        if sub["acknowledged"] >= deliveries and sub["pending"] == 0:
            return sub  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"webhooks still pending: {sub}"
        time.sleep(0.02)


def fetch_all(connector: InpostConnector, bodies: list[bytes]) -> tuple[ParcelState, list[str]]:
    """What the hub does: every hint triggers a fetch; events are deduplicated by id and applied forward-only."""
    state, seen, applied = ParcelState(), set(), []
    for delivery in bodies:
        for shipment_id in connector.webhook_hint(delivery):
            for vendor_event in connector.get_status(shipment_id):
                event = vendor_event.event
                if event.event_id in seen:
                    continue
                seen.add(event.event_id or "")
                _, state = apply_event(state, event.status, event.reason)
                applied.append(event.raw_code or "")
    return state, applied


def test_duplicated_and_shuffled_hints_fetch_the_true_status(flow: tuple[World, Server, Receiver, AppServer,
                                                                          requests.Session]) -> None:
    world, server, receiver, endpoint, sim = flow
    sim.post(f"{server.url}/sim/webhooks", json={"url": f"{endpoint.url}/shipx", "duplicate_rate": 1.0,
                                                 "shuffle": True, "seed": 3}, timeout=5).raise_for_status()
    with make(server) as connector:
        locker_id = world.lockers(per_page=1)[0][0].locker_id
        soft = connector.reserve(locker_id, "small", idempotency_key="hook-1")
        hard = connector.book(soft.reservation_id, idempotency_key="hook-1")
        settle(sim, server, 2 * 3)  # created, offers_prepared, confirmed; each sent twice
        early = list(receiver.bodies)
        hinted = {json.loads(b)["payload"]["status"] for b in early}
        assert hinted == {"created", "offers_prepared", "confirmed"}
        state, _ = fetch_all(connector, early)
        assert state.status == ParcelStatus.BOOKED  # even from the stale "created" hints

        assert hard.access_code is not None
        rid = server.reservation_id(soft.reservation_id)
        world.deposit(rid)
        world.pickup(rid, hard.access_code.reveal())
        sub = settle(sim, server, 2 * 9)
        assert sub["duplicates"] == 9 and sub["failed"] == 0
        late = list(receiver.bodies)
        assert len(late) == 18 and all(json.loads(b)["organization_id"] == ORG for b in late)
        statuses = [json.loads(b)["payload"]["status"] for b in late]
        assert statuses.count("delivered") == 2 and statuses.count("created") == 2

        for order in (late, late[::-1]):  # as received, and in the worst order: newest first
            state, applied = fetch_all(connector, order)
            assert state.status == ParcelStatus.COLLECTED
            assert applied[-1] == "delivered" and len(applied) == 9  # each status once, duplicates dropped
        tracking = {json.loads(b)["payload"]["tracking_number"] for b in late if
                    json.loads(b)["payload"]["status"] != "created"}
        assert None in tracking and len(tracking - {None}) == 1  # numbered once bought
