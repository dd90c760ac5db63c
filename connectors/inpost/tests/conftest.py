from __future__ import annotations

from collections.abc import Iterator

import pytest
from lockerhub_inpost import InpostConnector

from lockerhub.plugins.registry import Registry
from lockerhub.simulator import World
from lockerhub.simulator.vendors.inpost import Server

TOKEN = "shipx-test-token"
ORG = 5150
LOCKERS = 55
PER_PAGE = 20  # three pages


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(LOCKERS, seed=2026)


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[Server]:
    with Server(world, token=TOKEN, organization_id=ORG) as running:
        yield running


def make(server: Server, **config: object) -> InpostConnector:
    """The connector as the hub makes it: through the plugin registry, by its id."""
    settings = {"base_url": server.url, "token": TOKEN, "organization_id": ORG, "per_page": PER_PAGE, **config}
    return Registry().create("inpost", settings)  # type: ignore[return-value]


@pytest.fixture
def connector(server: Server) -> Iterator[InpostConnector]:
    with make(server) as conn:
        yield conn


def locker(world: World, n: int = 0) -> str:
    """The n-th locker of the network (tests use different ones so they do not share compartments)."""
    return world.lockers(page=n + 1, per_page=1)[0][0].locker_id
