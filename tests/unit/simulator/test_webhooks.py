"""The simulator's webhooks: signed deliveries of new events, retries with the same delivery id, faults."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
import requests

from lockerhub.simulator import SimulatorServer, World
from lockerhub.simulator.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER

SECRET = "test-webhook-secret"  # not a credential
KEY = "test-only-key"
T = TypeVar("T")


class Receiver:
    """A tiny HTTP endpoint that records every POST and answers the next scripted status (then 202)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers.items()), body))
                self.send_response(receiver.script.pop(0) if receiver.script else 202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def deliveries(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def server(world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, api_key=KEY) as running:
        yield running


def subscribe(server: SimulatorServer, **body: Any) -> requests.Response:
    return requests.post(f"{server.url}/sim/webhooks", json=body, headers={"X-API-Key": KEY}, timeout=10)


def stats(server: SimulatorServer) -> dict[str, Any]:
    return requests.get(f"{server.url}/sim/webhooks", headers={"X-API-Key": KEY}, timeout=10).json()["items"][0]


def wait_for(check: Callable[[], T], what: str) -> T:
    deadline = time.monotonic() + 30
    while not (value := check()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)
    return value


def book(world: World) -> str:
    locker = world.lockers(per_page=1)[0][0]
    rid = world.reserve(locker.locker_id, locker.compartments()[0].size_class).reservation_id
    world.confirm(rid)
    return rid


def test_new_events_arrive_signed_with_the_fields_of_the_events_endpoint(
    server: SimulatorServer, world: World, receiver: Receiver
) -> None:
    created = subscribe(server, url=receiver.url, secret=SECRET)
    assert created.status_code == 201 and "secret" not in created.json()
    rid = book(world)
    wait_for(lambda: stats(server)["acknowledged"] >= 1 and stats(server)["pending"] == 0, "the deliveries")
    events = [e for d in receiver.deliveries() for e in d["events"]]
    listed = requests.get(f"{server.url}/v1/reservations/{rid}/events", headers={"X-API-Key": KEY}, timeout=10)
    assert events == listed.json()["items"]
    for headers, body in receiver.received:
        t, v1 = (part.split("=", 1)[1] for part in headers[SIGNATURE_HEADER].split(","))
        assert v1 == hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        assert headers[DELIVERY_HEADER] == json.loads(body)["delivery_id"]


def test_a_failed_delivery_is_retried_with_the_same_id(
    server: SimulatorServer, world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCKERHUB_SIMULATOR_WEBHOOK_SECRET", SECRET)
    receiver.script = [503, 500]
    assert subscribe(server, url=receiver.url).status_code == 201
    locker = world.lockers(per_page=1)[0][0]
    world.reserve(locker.locker_id, locker.compartments()[0].size_class)
    state = wait_for(lambda: (s := stats(server))["acknowledged"] == 1 and s, "the retried delivery")
    assert (state["retries"], state["attempts"], state["responses"]) == (2, 3, {"503": 1, "500": 1, "202": 1})
    assert len({h[DELIVERY_HEADER] for h, _ in receiver.received}) == 1


def test_duplicates_repeat_a_delivery_and_silent_sends_nothing(
    server: SimulatorServer, world: World, receiver: Receiver
) -> None:
    assert subscribe(server, url=receiver.url, secret=SECRET, duplicate_rate=1.0).status_code == 201
    assert subscribe(server, url=receiver.url + "/silent", secret=SECRET, silent=True).status_code == 201
    book(world)
    state = wait_for(lambda: (s := stats(server))["events"] == 2 and s["pending"] == 0 and s, "the deliveries")
    ids = [h[DELIVERY_HEADER] for h, _ in receiver.received]
    assert state["duplicates"] == state["acknowledged"] and len(ids) == 2 * len(set(ids))
    items = requests.get(f"{server.url}/sim/webhooks", headers={"X-API-Key": KEY}, timeout=10).json()["items"]
    silent = items[1]
    assert (silent["suppressed"], silent["deliveries"], silent["attempts"]) == (2, 0, 0)


def test_a_subscription_needs_a_secret_and_an_http_url(
    server: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOCKERHUB_SIMULATOR_WEBHOOK_SECRET", raising=False)
    missing = subscribe(server, url="http://127.0.0.1:9/hook")
    assert missing.status_code == 422 and missing.json()["error"] == "webhook_secret_missing"
    assert subscribe(server, url="ftp://127.0.0.1/hook", secret=SECRET).status_code == 422
