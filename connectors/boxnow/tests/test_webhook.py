"""verify_webhook and parse_webhook on CloudEvents signed as the simulator signs them, and live deliveries with
duplicate and out-of-order faults."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from fastapi import FastAPI, Request, Response
from lockerhub_boxnow import BoxnowConnector
from lockerhub_boxnow.connector import crosswalk

from lockerhub.errors import AuthError, ParseError, ReplayWindowError
from lockerhub.model import ParcelStatus, apply_event
from lockerhub.model.state_machine import Outcome, ParcelState
from lockerhub.simulator import World
from lockerhub.simulator.server import AppServer
from lockerhub.simulator.vendors.boxnow import Server, cloud_event, reservation_id

NOW = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
DATA = {"parcelId": "9200000002", "orderNumber": "order-2", "event": "final-destination",
        "parcelState": "final-destination", "eventLocation": {"locationId": "SIM-KRK-0004", "postalCode": "30-001"},
        "time": "2026-01-05T08:01:00+00:00"}


@pytest.fixture
def conn(kit: SimpleNamespace) -> BoxnowConnector:
    return kit.boxnow("http://127.0.0.1:9")  # webhooks need no server


def delivery(secret: str, *, data: dict[str, Any] = DATA, at: datetime = NOW, event_id: str = "msg-0001") -> bytes:
    return cloud_event(data, secret=secret, event_id=event_id, sent_at=at)


def test_a_good_delivery_returns_its_cloudevent_id(conn: BoxnowConnector, kit: SimpleNamespace) -> None:
    assert conn.verify_webhook({}, delivery(kit.WEBHOOK_SECRET), now=NOW) == "msg-0001"
    envelope = json.loads(delivery(kit.WEBHOOK_SECRET))
    assert {"specversion", "id", "type", "source", "subject", "time", "datacontenttype", "datasignature",
            "data"} == set(envelope)
    reordered = json.dumps({**envelope, "data": dict(reversed(list(envelope["data"].items())))}).encode()
    assert conn.verify_webhook({}, reordered, now=NOW) == "msg-0001"  # signed over the data, not its byte order


def tampered(body: bytes) -> bytes:
    envelope = json.loads(body)
    envelope["data"]["event"] = "delivered"
    return json.dumps(envelope).encode()


def without_signature(body: bytes) -> bytes:
    envelope = json.loads(body)
    del envelope["datasignature"]
    return json.dumps(envelope).encode()


@pytest.mark.parametrize(("make", "message"), [
    (lambda k: delivery("another-secret"), "the datasignature does not match the data"),
    (lambda k: tampered(delivery(k.WEBHOOK_SECRET)), "the datasignature does not match the data"),
    (lambda k: without_signature(delivery(k.WEBHOOK_SECRET)), "missing or malformed datasignature"),
])
def test_bad_signatures_are_auth_errors(conn: BoxnowConnector, kit: SimpleNamespace, make, message: str  # type: ignore[no-untyped-def]
                                        ) -> None:
    with pytest.raises(AuthError) as info:
        conn.verify_webhook({}, make(kit), now=NOW)
    assert message in info.value.message and not isinstance(info.value, ReplayWindowError)
    assert kit.WEBHOOK_SECRET not in str(info.value)


def test_the_signature_is_checked_before_the_replay_window(conn: BoxnowConnector) -> None:
    with pytest.raises(AuthError) as info:
        conn.verify_webhook({}, delivery("another-secret", at=NOW - timedelta(days=1)), now=NOW)
    assert not isinstance(info.value, ReplayWindowError)


@pytest.mark.parametrize(("tolerance", "age_s", "ok"), [
    (None, 300, True), (None, 301, False), (None, -301, False), (10, 9, True), (10, 11, False),
])
def test_the_replay_window(kit: SimpleNamespace, tolerance: float | None, age_s: int, ok: bool) -> None:
    conn = kit.boxnow("http://127.0.0.1:9", **({} if tolerance is None else {"webhook_tolerance_s": tolerance}))
    body = delivery(kit.WEBHOOK_SECRET, at=NOW - timedelta(seconds=age_s))
    if ok:
        assert conn.verify_webhook({}, body, now=NOW) == "msg-0001"
        return
    with pytest.raises(ReplayWindowError) as info:
        conn.verify_webhook({}, body, now=NOW)
    assert info.value.found == f"{'older' if age_s > 0 else 'newer'} by {abs(age_s)} s"


def test_without_a_secret_nothing_verifies(kit: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCKERHUB_BOXNOW_WEBHOOK_SECRET", raising=False)
    conn = kit.boxnow("http://127.0.0.1:9", webhook_secret=None)
    with pytest.raises(AuthError, match="no webhook_secret is configured") as info:
        conn.verify_webhook({}, delivery(kit.WEBHOOK_SECRET), now=NOW)
    assert info.value.hint == "set LOCKERHUB_BOXNOW_WEBHOOK_SECRET"


def test_an_unreadable_id_is_a_parse_error(conn: BoxnowConnector, kit: SimpleNamespace) -> None:
    with pytest.raises(ParseError, match="boxnow webhook: id"):
        conn.verify_webhook({}, delivery(kit.WEBHOOK_SECRET, event_id="has spaces"), now=NOW)


def test_parse_maps_every_code_of_the_crosswalk(conn: BoxnowConnector, kit: SimpleNamespace) -> None:
    for code, mapped in crosswalk().codes.items():
        [parsed] = conn.parse_webhook({}, delivery(kit.WEBHOOK_SECRET, data={**DATA, "event": code}))
        assert (parsed.event.status, parsed.event.reason, parsed.event.raw_code) == (mapped.status, mapped.reason,
                                                                                     code)
        assert (parsed.reservation_id, parsed.event.locker_id, parsed.event.source) == (
            "9200000002", "SIM-KRK-0004", "boxnow")
        assert parsed.event.occurred_at == datetime(2026, 1, 5, 8, 1, tzinfo=UTC)
        assert parsed.event.event_id == f"9200000002/{code}/2026-01-05T08:01:00+00:00"


@pytest.mark.parametrize(("body", "message", "found"), [
    (b"\xff", "boxnow webhook: body", "bytes that are not UTF-8"),
    (b"[]", "boxnow webhook: body", "a list"),
    (b'{"specversion": "0.3"}', "boxnow webhook: specversion", "a string"),
    (delivery("s", data={**DATA, "event": "teleported"}), "boxnow webhook: data.event", "'teleported'"),
    (delivery("s", data={**DATA, "parcelId": 7}), "boxnow webhook: data.parcelId", "a number"),
    (delivery("s", data={**DATA, "time": "yesterday"}), "boxnow webhook: data.time", "another string"),
    (delivery("s", data={**DATA, "eventLocation": []}), "boxnow webhook: data.eventLocation", "a list"),
])
def test_parse_errors_name_the_field(conn: BoxnowConnector, body: bytes, message: str, found: str) -> None:
    with pytest.raises(ParseError) as info:
        conn.parse_webhook({}, body)
    assert (info.value.message, info.value.found) == (message, found)


def test_out_of_order_events_apply_forward_only(conn: BoxnowConnector, kit: SimpleNamespace) -> None:
    codes = ["new", "final-destination", "delivered"]
    times = ["2026-01-05T08:00:00+00:00", "2026-01-05T09:00:00+00:00", "2026-01-05T10:00:00+00:00"]
    state, outcomes = ParcelState(), []
    for code, when in reversed(list(zip(codes, times, strict=True))):
        [parsed] = conn.parse_webhook({}, delivery(kit.WEBHOOK_SECRET, data={**DATA, "event": code, "time": when}))
        outcome, state = apply_event(state, parsed.event.status, parsed.event.reason)
        outcomes.append(outcome)
    assert state.status == ParcelStatus.COLLECTED and outcomes[1:] == [Outcome.STALE, Outcome.STALE]


class Receiver(AppServer):
    """A webhook endpoint that keeps every delivery it is sent."""

    name = "receiver"

    def __init__(self) -> None:
        super().__init__()
        self.received: list[bytes] = []
        self._lock = threading.Lock()

    def create_app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            with self._lock:
                self.received.append(body)
            return Response(status_code=204)

        return app


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def settled(server: Server, *, acknowledged: int) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        [sub] = requests.get(f"{server.url}/sim/webhooks", timeout=5).json()["items"]
        if sub["pending"] == 0 and sub["acknowledged"] >= acknowledged or time.monotonic() > deadline:
            return sub  # type: ignore[no-any-return]
        time.sleep(0.05)


def test_live_webhooks_arrive_twice_and_shuffled_and_end_collected(
    server: Server, world: World, receiver: Receiver, kit: SimpleNamespace
) -> None:
    requests.post(f"{server.url}/sim/webhooks", timeout=5, json={
        "url": f"{receiver.url}/hook", "secret": kit.WEBHOOK_SECRET, "duplicate_rate": 1.0, "shuffle": True,
        "seed": 5}).raise_for_status()
    with kit.boxnow(server.url) as conn:
        hard = conn.book(conn.reserve(world.lockers()[0][0].locker_id, "1", idempotency_key="hook-1").reservation_id,
                         idempotency_key="hook-1")
        assert hard.access_code is not None
        rid = reservation_id(hard.reservation_id)
        world.deposit(rid)
        world.pickup(rid, hard.access_code.reveal())
        sub = settled(server, acknowledged=3)
        assert (sub["acknowledged"], sub["duplicates"], sub["failed"]) == (3, 3, 0)  # BOOKING_CONFIRMED sends none
        now = datetime.now(UTC)
        seen: dict[str, list[Any]] = {}
        for body in list(receiver.received):
            delivery_id = conn.verify_webhook({}, body, now=now)
            seen.setdefault(delivery_id, []).extend(conn.parse_webhook({}, body))
        polled = {e.event.event_id for e in conn.get_status(hard.reservation_id)}
    assert len(receiver.received) == 6 and len(seen) == 3  # every delivery twice, under its own id
    unique = {v.event.event_id: v for events in seen.values() for v in events}
    assert sorted(v.event.raw_code or "" for v in unique.values()) == ["delivered", "final-destination", "new"]
    assert {v.reservation_id for v in unique.values()} == {hard.reservation_id}
    state = ParcelState()
    for body in receiver.received:  # in arrival order, duplicates included
        for v in conn.parse_webhook({}, body):
            _, state = apply_event(state, v.event.status, v.event.reason)
    assert state.status == ParcelStatus.COLLECTED
    assert polled == set(unique)  # a webhook and a poll of one event share its event id
