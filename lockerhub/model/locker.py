"""Locker networks: locker -> module -> compartment, reservations and access codes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, field_serializer, field_validator

from lockerhub.model.hours import parse_hours
from lockerhub.model.parcel import TemperatureClass
from lockerhub.model.units import Dimensions, Grams


class CompartmentState(StrEnum):
    FREE = "free"
    RESERVED = "reserved"
    OCCUPIED = "occupied"
    OUT_OF_SERVICE = "out_of_service"


class Compartment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    compartment_id: str
    size_class: str = Field(description="vendor size class, e.g. A/B/C or 1/2/3")
    inner: Dimensions
    max_weight_g: Grams
    temperature: TemperatureClass = TemperatureClass.AMBIENT
    state: CompartmentState = CompartmentState.FREE


class Module(BaseModel):
    model_config = ConfigDict(extra="forbid")

    module_id: str
    compartments: list[Compartment] = Field(default_factory=list)


class LockerState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    MAINTENANCE = "maintenance"


class Locker(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locker_id: str
    name: str | None = None
    region: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str = "PL"
    latitude: float | None = None
    longitude: float | None = None
    state: LockerState = LockerState.ONLINE
    opening_hours: str | None = Field(default=None, description="when couriers and recipients can reach it, e.g. "
                                      "'24/7' or 'Mo-Fr 08:00-20:00; Sa 09:00-14:00' (local time); none = always")
    modules: list[Module] = Field(default_factory=list)

    @field_validator("opening_hours", mode="after")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hours(value)
        return value

    def is_open(self, when: datetime) -> bool:
        """Whether couriers and recipients can reach the locker at ``when`` (its local time)."""
        return self.opening_hours is None or parse_hours(self.opening_hours).is_open(when)

    def compartments(self) -> list[Compartment]:
        return [c for m in self.modules for c in m.compartments]


class SizeClass(BaseModel):
    """A vendor's compartment size: the inner box and load limit every compartment of that class offers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    inner: Dimensions
    max_weight_g: Grams
    temperature: TemperatureClass = TemperatureClass.AMBIENT


class AccessCode(BaseModel):
    """A pickup or drop-off code. It is a credential: repr, str, JSON and validation errors never show it."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    code: SecretStr
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None

    @field_serializer("code", when_used="json")
    def _mask(self, value: SecretStr) -> str:
        return str(value)

    def reveal(self) -> str:
        """The code itself, for the one place that must hand it on (encrypt at rest, send to the recipient)."""
        return self.code.get_secret_value()

    def __str__(self) -> str:
        return "AccessCode(**********)"


class ReservationKind(StrEnum):
    SOFT = "soft"
    HARD = "hard"


class Reservation(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    reservation_id: str
    locker_id: str
    compartment_id: str | None = None
    size_class: str
    kind: ReservationKind
    expires_at: AwareDatetime | None = None
    access_code: AccessCode | None = None
