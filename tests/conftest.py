"""Shared fixtures: a pilot laid out in a temporary folder, and the simulated locker network over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lockerhub.demo import lay_out_pilot
from lockerhub.settings import Settings
from lockerhub.simulator import SimulatorServer, World, build_network

TEST_API_KEY = "test-only-key"  # not a credential: the simulator accepts whatever key it is started with


@pytest.fixture
def network():  # type: ignore[no-untyped-def]
    return build_network(12, seed=3, regions=["WAW", "KRK", "GDN"])


@pytest.fixture
def world(network) -> World:  # type: ignore[no-untyped-def]
    return World(network, seed=3)


@pytest.fixture
def sim(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorServer]:
    """A running simulator; the simlocker connector finds it through its environment variables."""
    with SimulatorServer(world, api_key=TEST_API_KEY) as server:
        monkeypatch.setenv("LOCKERHUB_SIMLOCKER_API_KEY", TEST_API_KEY)
        monkeypatch.setenv("LOCKERHUB_SIMLOCKER_BASE_URL", server.url)
        yield server


@pytest.fixture
def pilot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """examples/pilot copied to a temp folder with an empty inbox; returns the config path."""
    config = lay_out_pilot(tmp_path / "pilot")
    monkeypatch.setenv("LOCKERHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LOCKERHUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("LOCKERHUB_PII_KEYS", raising=False)
    return config


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")
