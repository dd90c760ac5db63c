"""Shipments, parcels and the events that move them through the lifecycle."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lockerhub.model.identifiers import S10, SSCC
from lockerhub.model.party import Party
from lockerhub.model.status import ParcelStatus
from lockerhub.model.units import Dimensions, Grams


class TemperatureClass(StrEnum):
    AMBIENT = "ambient"
    CHILLED = "chilled"
    FROZEN = "frozen"


class Parcel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parcel_id: str = Field(min_length=1, max_length=64, description="the TMS's parcel reference")
    sscc: SSCC | None = None
    s10: S10 | None = None
    dimensions: Dimensions
    weight_g: Grams
    temperature: TemperatureClass = TemperatureClass.AMBIENT


class Shipment(BaseModel):
    """What a TMS asks to deliver to a locker: one reference, one recipient, one or more parcels."""

    model_config = ConfigDict(extra="forbid")

    partner: str = Field(min_length=1, description="trading partner id from the configuration")
    reference: str = Field(min_length=1, max_length=64, description="the TMS's shipment reference")
    recipient: Party
    destination_locker: str | None = Field(default=None, description="locker requested by the recipient")
    parcels: list[Parcel] = Field(min_length=1)

    def idempotency_keys(self) -> list[str]:
        return [idempotency_key(self.partner, self.reference, p.parcel_id) for p in self.parcels]


def idempotency_key(partner: str, reference: str, parcel_id: str) -> str:
    """Domain key: the same parcel from any channel (EDI, CSV, a re-sent file) is one parcel."""
    raw = "\x1f".join((partner.strip().lower(), reference.strip(), parcel_id.strip()))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


class ParcelEvent(BaseModel):
    """One status observation, from any source, already mapped to the canonical lifecycle."""

    model_config = ConfigDict(extra="forbid")

    status: ParcelStatus
    occurred_at: AwareDatetime
    source: str = Field(description="connector id or 'hub'")
    raw_code: str | None = Field(default=None, description="the vendor or EDI code as received")
    reason: str | None = None
    locker_id: str | None = None
    event_id: str | None = Field(default=None, description="source's id, used to drop duplicates")

