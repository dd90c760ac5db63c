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


# --------------------------------------------------------------------------- personal data of several recipients

PRIVACY_SUBJECT = {"name": "Test Recipient 0003", "phone": "+48000000003", "email": "recipient0003@example.invalid"}


@pytest.fixture
def privacy_drops(pilot: Path, network) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Drops in the pilot's inboxes in which one recipient (``PRIVACY_SUBJECT``) has two CSV parcels, a broken CSV
    row and a broken X12 transaction (both quarantined), beside other recipients in CSV, X12 and EDIFACT files.
    Returns the subject's values."""
    from lockerhub.demo import edi_drops
    from lockerhub.simulator.tms_drops import render, rows

    data = rows(8, network, seed=31)
    for r in data:
        r[9:13] = ["30", "20", "5", "1.5"]  # fits the smallest class everywhere
    subject = PRIVACY_SUBJECT
    for index in (5, 7):  # the same person's second shipment, and a third one with a broken weight
        data[index][3:6] = [subject["name"], subject["phone"], subject["email"].upper()]
    data[7][12] = "twelve"
    (pilot.parent / "inbox" / "acme-tms" / "privacy.csv").write_bytes(render(data))
    for partner, path in edi_drops():  # X12: recipients 0001, 0002 and (broken) 0003; EDIFACT: others
        (pilot.parent / "inbox" / partner / path.name).write_bytes(path.read_bytes())
    return dict(subject)
