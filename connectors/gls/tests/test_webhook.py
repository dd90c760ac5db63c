"""verify_webhook, parse_webhook and parse_locker_updates, on deliveries signed as the simulator signs them, and
the simulator's callbacks end to end (duplicates and out-of-order deliveries included)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from fastapi import FastAPI, Request, Response
from lockerhub_gls import GlsConfig, GlsConnector, parse_locker_updates

from lockerhub.errors import AuthError, MappingError, ParseError, ReplayWindowError
from lockerhub.model import LockerState, ParcelStatus, apply_event
from lockerhub.model.state_machine import ParcelState
from lockerhub.simulator import World
from lockerhub.simulator.server import AppServer
from lockerhub.simulator.vendors.gls import SIGNATURE_HEADER, Server, callback_headers, sign

SECRET = "test-callback-secret"  # not a credential
NOW = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
UPDATE = {"shipmentUid": "rsv-000002", "lockerUid": "10000004", "carrierParcelId": "parcel-9",
          "carrierLockerId": "SIM-KRK-0004", "shipmentType": "LAST_MILE", "dimensionsStatus": "PARCEL_DIMENSIONS_OK",
          "shipmentStatus": "BOOKING_CONFIRMED", "accessCodes": None, "consignee": None,
          "events": [{"timestamp": "2026-01-05T08:00:00+00:00", "eventType": "BOOKING_CREATED"},
                     {"timestamp": "2026-01-05T08:01:00+00:00", "eventType": "BOOKING_CONFIRMED"}],
          "allocationType": "HARD_RESERVATION", "eventTimestamp": "2026-01-05T08:01:00+00:00"}
LOCKER = {"uid": "10000004", "carrier": {"lockerName": "Kraków 4", "lockerId": "SIM-KRK-0004", "status": "INACTIVE"},
          "eventTimestamp": "2026-01-05T08:01:00+00:00"}


def connector(**config: object) -> GlsConnector:
    settings = {"base_url": "http://127.0.0.1:9", "api_key": "test-only-key", "webhook_secret": SECRET, **config}
    return GlsConnector(GlsConfig(**settings))  # type: ignore[arg-type]


def delivery(update: dict[str, Any] | None = None, *, at: datetime = NOW, secret: str = SECRET,
             delivery_id: str = "d-0001") -> tuple[dict[str, str], bytes]:
    body = json.dumps(update or UPDATE).encode()
    return callback_headers(secret, int(at.timestamp()), delivery_id, body), body


def test_a_good_delivery_returns_its_id_whatever_the_header_case() -> None:
    headers, body = delivery()
    assert connector().verify_webhook({k.lower(): v for k, v in headers.items()}, body, now=NOW) == "d-0001"


def test_any_of_several_signatures_may_match_while_a_secret_rotates() -> None:
    headers, body = delivery()
    old = sign("old-test-secret", int(NOW.timestamp()), "d-0001", body)
    both = {**headers, SIGNATURE_HEADER: f"{headers[SIGNATURE_HEADER]},{old}"}
    assert connector(webhook_secret="old-test-secret").verify_webhook(both, body, now=NOW) == "d-0001"
    assert connector().verify_webhook(both, body, now=NOW) == "d-0001"


@pytest.mark.parametrize(("change", "message"), [
    (lambda h, b: ({k: v for k, v in h.items() if k != SIGNATURE_HEADER}, b), "missing X-GLS-Signature header"),
    (lambda h, b: ({**h, SIGNATURE_HEADER: "md5=zz"}, b), "malformed X-GLS-Signature or X-GLS-Timestamp header"),
    (lambda h, b: ({**h, "X-GLS-Timestamp": "soon"}, b), "malformed X-GLS-Signature or X-GLS-Timestamp header"),
    (lambda h, b: (delivery(secret="another-test-secret")[0], b), "signature does not match the body"),
    (lambda h, b: (h, b + b"\n"), "signature does not match the body"),
    (lambda h, b: ({**h, "X-GLS-Delivery": "d-0002"}, b), "signature does not match the body"),
])
def test_bad_signatures_are_auth_errors(change, message: str) -> None:  # type: ignore[no-untyped-def]
    headers, body = change(*delivery())
    with pytest.raises(AuthError) as info:
        connector().verify_webhook(headers, body, now=NOW)
    assert message in info.value.message and not isinstance(info.value, ReplayWindowError)
    assert SECRET not in str(info.value)


def test_a_delivery_without_its_id_cannot_be_read() -> None:
    headers, body = delivery()
    with pytest.raises(ParseError, match="X-GLS-Delivery header"):
        connector().verify_webhook({k: v for k, v in headers.items() if k != "X-GLS-Delivery"}, body, now=NOW)


def test_without_a_secret_nothing_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCKERHUB_GLS_WEBHOOK_SECRET", raising=False)
    headers, body = delivery()
    with pytest.raises(AuthError, match="no webhook_secret is configured") as info:
        connector(webhook_secret=None).verify_webhook(headers, body, now=NOW)
    assert info.value.hint == "set LOCKERHUB_GLS_WEBHOOK_SECRET"


@pytest.mark.parametrize(("age_s", "ok"), [(300, True), (301, False), (-301, False)])
def test_the_replay_window(age_s: int, ok: bool) -> None:
    headers, body = delivery(at=NOW - timedelta(seconds=age_s))
    if ok:
        assert connector().verify_webhook(headers, body, now=NOW) == "d-0001"
        return
    with pytest.raises(ReplayWindowError) as info:
        connector().verify_webhook(headers, body, now=NOW)
    assert info.value.found == f"{'older' if age_s > 0 else 'newer'} by {abs(age_s)} s"


def test_parse_returns_the_history_with_stable_event_ids() -> None:
    parsed = connector().parse_webhook({}, delivery()[1])
    assert [(v.reservation_id, v.event.raw_code, v.event.status) for v in parsed] == [
        ("parcel-9", "BOOKING_CREATED", ParcelStatus.CREATED), ("parcel-9", "BOOKING_CONFIRMED", ParcelStatus.BOOKED)]
    assert parsed[1].event.event_id == "rsv-000002:BOOKING_CONFIRMED:2026-01-05T08:01:00+00:00"
    assert all(v.event.locker_id == "SIM-KRK-0004" and v.event.source == "gls" for v in parsed)
    current_only = connector().parse_webhook({}, delivery({**UPDATE, "events": []})[1])
    assert [v.event.raw_code for v in current_only] == ["BOOKING_CONFIRMED"]


@pytest.mark.parametrize(("update", "message", "found"), [
    ([], "gls ParcelUpdates: body", "a list"),
    ({**UPDATE, "carrierParcelId": ""}, "gls ParcelUpdates: carrierParcelId", "a string"),
    ({**UPDATE, "eventTimestamp": "yesterday"}, "gls ParcelUpdates: eventTimestamp", "another string"),
    ({**UPDATE, "carrierLockerId": 4}, "gls ParcelUpdates: carrierLockerId", "a number"),
    ({**UPDATE, "events": {}}, "gls ParcelUpdates: events", "an object"),
    ({**UPDATE, "events": [{"timestamp": "2026-01-05T08:00:00+00:00"}]}, "gls ParcelUpdates: events[0].eventType",
     "nothing"),
    ({**UPDATE, "shipmentStatus": "TELEPORTED"}, "gls ParcelUpdates: shipmentStatus or events[].eventType",
     "'TELEPORTED'"),
])
def test_parse_errors_name_the_field(update: Any, message: str, found: str) -> None:
    with pytest.raises(ParseError) as info:
        connector().parse_webhook({}, json.dumps(update).encode())
    assert (info.value.message, info.value.found) == (message, found)


def test_parse_locker_updates() -> None:
    assert parse_locker_updates(json.dumps(LOCKER).encode()) == [("SIM-KRK-0004", LockerState.OFFLINE)]
    many = [LOCKER, {**LOCKER, "carrier": {**LOCKER["carrier"], "lockerId": "SIM-KRK-0005",  # type: ignore[dict-item]
                                           "status": "MAINTENANCE"}}]
    assert GlsConnector.parse_locker_updates(json.dumps(many).encode()) == [
        ("SIM-KRK-0004", LockerState.OFFLINE), ("SIM-KRK-0005", LockerState.MAINTENANCE)]
    with pytest.raises(MappingError, match="unknown gls locker status"):
        parse_locker_updates(json.dumps({"carrier": {"lockerId": "X", "status": "ON_FIRE"}}).encode())
    with pytest.raises(ParseError, match=r"gls LockerUpdates: \[0\]\.carrier"):
        parse_locker_updates(b"[1]")
    with pytest.raises(ParseError, match="gls callback: body"):
        parse_locker_updates(b"{")


# --- the simulator's callbacks, received over HTTP ------------------------------------------------------------


class Receiver(AppServer):
    """Collects every POST as (path, headers, body)."""

    name = "callback receiver"

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()

    def create_app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{kind}")
        async def receive(kind: str, request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.received.append((kind, dict(request.headers), body))
            return Response(status_code=200)
        return app

    def wait_for(self, done: Any, timeout_s: float = 10) -> list[tuple[str, dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                snapshot = list(self.received)
            if done(snapshot):
                return snapshot
            time.sleep(0.02)
        raise AssertionError(f"callbacks did not arrive: {len(snapshot)} received")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def own_server() -> Iterator[Server]:
    with Server(World.generate(3, seed=11), api_key="cb-test-key") as running:
        yield running


def test_callbacks_arrive_signed_duplicated_and_out_of_order_and_end_in_order(
    own_server: Server, receiver: Receiver
) -> None:
    http = requests.Session()
    http.headers["X-API-Key"] = "cb-test-key"
    for kind, options in (("ParcelUpdates", {"duplicate_rate": 1.0, "shuffle": True, "seed": 3}),
                          ("LockerUpdates", {})):
        http.post(f"{own_server.url}/sim/callbacks", json={"type": kind, "url": f"{receiver.url}/{kind}",
                                                           "secret": SECRET, **options}, timeout=5).raise_for_status()
    locker_id = own_server.world.lockers(per_page=1)[0][0].locker_id
    with GlsConnector(GlsConfig(base_url=own_server.api_url, api_key="cb-test-key", webhook_secret=SECRET)) as conn:
        rid = conn.reserve(locker_id, "SMALL", idempotency_key="cb-1").reservation_id
        code = conn.book(rid, idempotency_key="cb-1").access_code.reveal()  # type: ignore[union-attr]
        for path, body in (("/sim/courier/deliver", {"carrierParcelId": rid}),
                           ("/sim/consignee/collect", {"carrierParcelId": rid, "code": code}),
                           (f"/sim/lockers/{locker_id}/status", {"status": "MAINTENANCE"})):
            http.post(own_server.url + path, json=body, timeout=5).raise_for_status()

        parcel_deliveries = lambda got: [g for g in got if g[0] == "ParcelUpdates"]  # noqa: E731
        got = receiver.wait_for(lambda got: len(parcel_deliveries(got)) >= 8 and any(
            g[0] == "LockerUpdates" for g in got))
        seen: set[str] = set()
        duplicates = 0
        state, applied = ParcelState(), set()
        for _, headers, body in parcel_deliveries(got):
            delivery_id = conn.verify_webhook(headers, body, now=datetime.now(UTC))
            if delivery_id in seen:  # what the hub's dedup does with a duplicate delivery
                duplicates += 1
                continue
            seen.add(delivery_id)
            for vendor_event in conn.parse_webhook(headers, body):
                if vendor_event.event.event_id in applied:
                    continue
                applied.add(vendor_event.event.event_id)
                _, state = apply_event(state, vendor_event.event.status, vendor_event.event.reason)
        assert duplicates >= 4 and len(seen) == 4  # four updates, each sent twice
        assert state.status == ParcelStatus.COLLECTED

        kind, headers, body = next(g for g in got if g[0] == "LockerUpdates")
        conn.verify_webhook(headers, body, now=datetime.now(UTC))
        assert conn.parse_locker_updates(body) == [(locker_id, LockerState.MAINTENANCE)]
        assert json.loads(body)["eventTimestamp"]
