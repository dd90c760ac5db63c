"""Locker telemetry: one observation of one signal at one locker, from a vendor API or a device gateway.

Units are fixed per kind, so a reading needs no unit field:

| kind          | value                                     | shape |
|---------------|-------------------------------------------|-------|
| `online`      | 1 = the locker is reachable, 0 = it is not | level |
| `battery`     | state of charge, percent (0-100)          | level |
| `temperature` | chilled compartment temperature, deg C    | level |
| `door_fault`  | a door failed to close or latch           | event |
| `open_failed` | a door did not open for a valid code      | event |
| `api_error`   | a vendor command to the locker failed     | event |

Level readings are samples of a value that persists; event readings each count once (their value is the number
of occurrences they stand for, normally 1). The key of a reading is (locker, kind, time): the same reading
delivered twice (MQTT is at-least-once, polling overlaps) is stored once.
"""

from __future__ import annotations

from datetime import UTC
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


class TelemetryKind(StrEnum):
    ONLINE = "online"
    BATTERY = "battery"
    TEMPERATURE = "temperature"
    DOOR_FAULT = "door_fault"
    OPEN_FAILED = "open_failed"
    API_ERROR = "api_error"

    @property
    def is_event(self) -> bool:
        return self in EVENT_KINDS


EVENT_KINDS = frozenset({TelemetryKind.DOOR_FAULT, TelemetryKind.OPEN_FAILED, TelemetryKind.API_ERROR})
LEVEL_KINDS = frozenset(TelemetryKind) - EVENT_KINDS


class TelemetryReading(BaseModel):
    """One telemetry observation (see the module docstring for kinds and units)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    locker_id: str = Field(min_length=1, max_length=64)
    observed_at: AwareDatetime = Field(description="when the locker observed it (not when the hub received it)")
    kind: TelemetryKind
    value: float = Field(allow_inf_nan=False, description="unit depends on kind: 1/0, percent, deg C or a count")
    source: str | None = Field(default=None, max_length=64,
                               description="where it came from: a connector id, or 'mqtt'")

    @field_validator("observed_at", mode="after")
    @classmethod
    def _utc(cls, value: AwareDatetime) -> AwareDatetime:
        return value.astimezone(UTC)

    @property
    def key(self) -> tuple[str, str, AwareDatetime]:
        return (self.locker_id, self.kind.value, self.observed_at)
