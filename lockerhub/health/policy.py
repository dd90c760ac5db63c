"""Health policy: the window, weights and thresholds behind every score, alert and prediction, as data.

The defaults below are the policy; a hub config overrides any part of it in its ``health:`` section
(see ``docs/locker-health.md``)::

    health:
      window_days: 7
      battery: {warning: 35}
      door_faults: {weight: 25, warning_at: 2}

Unknown keys are errors, and every rule checks that its thresholds are in order.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Alert kinds: a count or the offline share past its threshold, a level past its threshold (`battery_low`,
# `temperature_high`), or a level's trend crossing its warning threshold within the horizon (`*_predicted`).
COUNT_ALERTS = ("door_faults", "failed_openings", "api_errors")
LEVEL_ALERTS = {"battery": "battery_low", "temperature": "temperature_high"}
ALERT_KINDS = ("offline", *COUNT_ALERTS, *LEVEL_ALERTS.values(), *(f"{k}_predicted" for k in LEVEL_ALERTS.values()))


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfflineRule(_Rule):
    """Time without contact, as a share of the window (see ``signals.offline_share``)."""

    weight: float = Field(default=30, ge=0, le=100, description="points lost when offline for full_at of the window")
    full_at: float = Field(default=0.25, gt=0, le=1, description="offline share that costs the whole weight")
    warning_at: float = Field(default=0.10, gt=0, le=1, description="offline share that opens a warning")
    critical_at: float = Field(default=0.30, gt=0, le=1, description="offline share that makes it critical")
    hold_hours: float = Field(default=2, gt=0, description="how long one `online` sample stands for; time after "
                                                           "it with no newer sample counts as offline")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.critical_at < self.warning_at:
            raise ValueError("critical_at must not be below warning_at")
        return self


class CountRule(_Rule):
    """Events in the window (door faults, failed openings, API errors)."""

    weight: float = Field(ge=0, le=100, description="most points these events can cost")
    points_each: float = Field(ge=0, description="points lost per event")
    warning_at: int = Field(ge=1, description="events in the window that open a warning")
    critical_at: int = Field(ge=1, description="events in the window that make it critical")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.critical_at < self.warning_at:
            raise ValueError("critical_at must not be below warning_at")
        return self


class LevelRule(_Rule):
    """A level that is bad below (battery) or above (temperature) a threshold; also the target of predictions."""

    direction: Literal["below", "above"] = Field(description="which side of the thresholds is bad")
    weight: float = Field(ge=0, le=100, description="points lost at the critical level")
    warning: float = Field(description="points start being lost past this; a warning opens; predictions aim here")
    critical: float = Field(description="the whole weight is lost past this; the alert becomes critical")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if (self.critical >= self.warning) if self.direction == "below" else (self.critical <= self.warning):
            raise ValueError(f"critical must be {self.direction} warning")
        return self

    def past(self, value: float, threshold: float) -> bool:
        return value < threshold if self.direction == "below" else value > threshold


class HealthPolicy(BaseModel):
    """Everything the health score, alerts, predictions and the maintenance list depend on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_days: float = Field(default=7, gt=0, description="the score looks at this many days before as_of")
    recent_hours: float = Field(default=6, gt=0, description="a level's current value is its mean over this "
                                                             "many hours (the newest reading when there is none)")
    horizon_days: float = Field(default=14, gt=0, description="flag a level whose trend crosses its warning "
                                                              "threshold within this many days")
    min_trend_points: int = Field(default=12, ge=3, description="readings a trend needs")
    min_trend_span_hours: float = Field(default=72, gt=0, description="hours a trend's readings must span "
                                                                      "(shorter spans mistake daily cycles for trends)")
    offline: OfflineRule = Field(default_factory=OfflineRule)
    door_faults: CountRule = Field(default_factory=lambda: CountRule(weight=20, points_each=4, warning_at=3,
                                                                     critical_at=10))
    failed_openings: CountRule = Field(default_factory=lambda: CountRule(weight=15, points_each=3, warning_at=3,
                                                                         critical_at=10))
    api_errors: CountRule = Field(default_factory=lambda: CountRule(weight=10, points_each=1, warning_at=5,
                                                                    critical_at=20))
    battery: LevelRule = Field(default_factory=lambda: LevelRule(direction="below", weight=15, warning=30,
                                                                 critical=10))
    temperature: LevelRule = Field(default_factory=lambda: LevelRule(direction="above", weight=25, warning=8,
                                                                     critical=12))
    visit_for: list[str] = Field(
        default_factory=lambda: ["offline", "door_faults", "failed_openings", "battery_low", "temperature_high",
                                 "battery_low_predicted", "temperature_high_predicted"],
        description="alert kinds that put a locker on the maintenance list (a technician has to go there)")

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, data: Any) -> Any:
        """A rule given in part keeps the default of every key it leaves out."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name in ("offline", *COUNT_ALERTS, *LEVEL_ALERTS):
            given = data.get(name)
            factory = cls.model_fields[name].default_factory
            if isinstance(given, dict) and factory is not None:
                data[name] = {**factory().model_dump(), **given}  # type: ignore[call-arg]
        return data

    @field_validator("visit_for", mode="after")
    @classmethod
    def _known_kinds(cls, value: list[str]) -> list[str]:
        unknown = [k for k in value if k not in ALERT_KINDS]
        if unknown:
            raise ValueError(f"unknown alert kind {unknown[0]!r}; known: {', '.join(ALERT_KINDS)}")
        return value
