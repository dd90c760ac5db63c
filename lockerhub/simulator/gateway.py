"""The simulator as a device gateway: publish its lockers' telemetry to an MQTT broker.

    publish_world_telemetry(world, "mqtt://127.0.0.1:1883")   # everything up to the simulated now

Each reading goes to ``lockers/<locker id>/telemetry`` in the format :mod:`lockerhub.health.mqtt` reads (needs
the ``mqtt`` extra). Publishing the same span twice is harmless: the subscriber stores each reading once.
"""

from __future__ import annotations

from datetime import datetime

from lockerhub.health.mqtt import TOPIC_PREFIX, publish_readings
from lockerhub.model.telemetry import TelemetryReading
from lockerhub.simulator.state import World


def world_readings(world: World, since: datetime | None = None, until: datetime | None = None,
                   ) -> list[TelemetryReading]:
    """The world's readings as canonical :class:`TelemetryReading` (see ``World.telemetry_readings``)."""
    return [TelemetryReading.model_validate(r.to_json()) for r in world.telemetry_readings(since, until)]


def publish_world_telemetry(world: World, url: str, *, since: datetime | None = None, until: datetime | None = None,
                            prefix: str = TOPIC_PREFIX, per_message: int = 1) -> int:
    """Publish the readings with ``since <= observed_at <= until`` (capped at the simulated now), each locker's
    in lists of up to ``per_message``; returns how many readings."""
    readings = sorted(world_readings(world, since, until), key=lambda r: (r.locker_id, r.observed_at, r.kind.value))
    return publish_readings(readings, url, prefix=prefix, per_message=per_message)
