"""The simlocker connector's telemetry verb against a real simulator server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lockerhub_simlocker import SimlockerConnector

from lockerhub.errors import RegistryError
from lockerhub.model import TelemetryKind, TelemetryReading
from lockerhub.plugins.protocols import CAPABILITY_MEMBERS, Capability
from lockerhub.plugins.registry import Registry, verify
from lockerhub.simulator import World


def test_declares_telemetry_and_the_registry_checks_the_verb() -> None:
    cls = Registry().load("simlocker")
    assert Capability.TELEMETRY in cls.capabilities
    assert CAPABILITY_MEMBERS[Capability.TELEMETRY] == ("telemetry",)

    class Broken(SimlockerConnector):  # declares the capability with the wrong signature
        def telemetry(self, since, limit):  # type: ignore[no-untyped-def,override]
            return iter(())

    with pytest.raises(RegistryError, match=r"method 'telemetry' signature: expected \(since\), found \(since, limit\)"):
        verify(Broken, where="connector 'broken'")


def test_telemetry_pages_through_everything_since(connector: SimlockerConnector, world: World) -> None:
    since = world.now - timedelta(hours=3)
    readings = list(connector.telemetry(since))
    expected = world.telemetry_readings(since)
    assert len(readings) == len(expected) > 500  # more than one page
    assert [(r.locker_id, r.kind.value, r.observed_at, r.value) for r in readings] == [
        (e.locker_id, e.kind.value, e.observed_at, e.value) for e in expected]
    assert all(isinstance(r, TelemetryReading) and r.source == "simlocker" for r in readings)
    assert readings[0].observed_at == since  # inclusive
    assert {r.kind for r in readings} >= {TelemetryKind.ONLINE, TelemetryKind.BATTERY, TelemetryKind.TEMPERATURE}


def test_telemetry_since_the_newest_reading_repeats_only_that_instant(connector: SimlockerConnector,
                                                                      world: World) -> None:
    newest = max(r.observed_at for r in connector.telemetry(world.now - timedelta(hours=1)))
    again = list(connector.telemetry(newest))
    assert again and {r.observed_at for r in again} == {newest}
