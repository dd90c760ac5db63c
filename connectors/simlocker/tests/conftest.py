from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from lockerhub_simlocker import SimlockerConfig, SimlockerConnector

from lockerhub.simulator import SimulatorServer, World

API_KEY = "sim-test-key"
LOCKERS = 120  # more than two pages of 50


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(LOCKERS, seed=2026)


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, api_key=API_KEY) as running:
        yield running


@pytest.fixture
def connector(server: SimulatorServer) -> Iterator[SimlockerConnector]:
    with SimlockerConnector(SimlockerConfig(base_url=server.url, api_key=API_KEY)) as conn:
        yield conn


@pytest.fixture
def sim(server: SimulatorServer) -> Iterator[requests.Session]:
    """Plain requests to the /sim control endpoints (what couriers, recipients and time do)."""
    with requests.Session() as http:
        http.headers["X-API-Key"] = API_KEY
        yield http
