from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from lockerhub_gls import GlsConfig, GlsConnector

from lockerhub.simulator import World
from lockerhub.simulator.vendors.gls import Server

API_KEY = "gls-test-key"  # not a credential: the simulator's own
LOCKERS = 120  # three pages of 50


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(LOCKERS, seed=2027)


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[Server]:
    with Server(world, api_key=API_KEY) as running:
        yield running


@pytest.fixture
def connector(server: Server) -> Iterator[GlsConnector]:
    with GlsConnector(GlsConfig(base_url=server.api_url, api_key=API_KEY)) as conn:
        yield conn


@pytest.fixture
def sim(server: Server) -> Iterator[requests.Session]:
    """Plain requests to the /sim control endpoints (what couriers, consignees and time do)."""
    with requests.Session() as http:
        http.headers["X-API-Key"] = API_KEY
        yield http
