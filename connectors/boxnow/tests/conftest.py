from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from lockerhub_boxnow import BoxnowConnector

from lockerhub.plugins.registry import Registry
from lockerhub.simulator import World
from lockerhub.simulator.vendors.boxnow import Server, reservation_id

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-client-secret"  # the test double's, not a credential
WEBHOOK_SECRET = "test-webhook-secret"  # likewise
LOCKERS = 60
PAGE_SIZE = 25  # 60 lockers: three pages, the last one short


def boxnow(base_url: str, **config: Any) -> BoxnowConnector:
    """A connector loaded through the plugin registry by its id, as the hub loads it."""
    settings = {"base_url": base_url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "page_size": PAGE_SIZE, "webhook_secret": WEBHOOK_SECRET, **config}
    connector = Registry().create("boxnow", settings)
    assert isinstance(connector, BoxnowConnector)
    return connector


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """What the test modules share (they cannot import this file): the constants and the connector factory."""
    return SimpleNamespace(CLIENT_ID=CLIENT_ID, CLIENT_SECRET=CLIENT_SECRET, WEBHOOK_SECRET=WEBHOOK_SECRET,
                           LOCKERS=LOCKERS, PAGE_SIZE=PAGE_SIZE, boxnow=boxnow)


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(LOCKERS, seed=7)


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[Server]:
    with Server(world, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as running:
        yield running


@pytest.fixture
def connector(server: Server) -> Iterator[BoxnowConnector]:
    with boxnow(server.url) as conn:
        yield conn


@pytest.fixture
def sim(server: Server) -> Iterator[Callable[..., dict[str, Any]]]:
    """POST to a /sim control route (what couriers, recipients and time do); parcel ids become the World's."""
    with requests.Session() as http:
        def call(route: str, **body: Any) -> dict[str, Any]:
            if "parcel" in body:
                body["reservation_id"] = reservation_id(body.pop("parcel"))
            response = http.post(f"{server.url}/sim/{route}", json=body, timeout=5)
            response.raise_for_status()
            return response.json()  # type: ignore[no-any-return]
        yield call
