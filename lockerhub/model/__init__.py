"""The canonical parcel/locker model every connector maps to and from."""

from lockerhub.model.identifiers import S10, SSCC, validate_s10, validate_sscc
from lockerhub.model.locker import (
    AccessCode,
    Compartment,
    CompartmentState,
    Locker,
    LockerState,
    Module,
    Reservation,
    ReservationKind,
    SizeClass,
)
from lockerhub.model.parcel import Parcel, ParcelEvent, Shipment, TemperatureClass, idempotency_key
from lockerhub.model.party import Address, Party, pii_fields
from lockerhub.model.state_machine import Outcome, ParcelState, apply_event, lifecycle
from lockerhub.model.status import ParcelStatus
from lockerhub.model.telemetry import TelemetryKind, TelemetryReading
from lockerhub.model.units import Dimensions, to_g, to_mm

__all__ = [
    "S10",
    "SSCC",
    "AccessCode",
    "Address",
    "Compartment",
    "CompartmentState",
    "Dimensions",
    "Locker",
    "LockerState",
    "Module",
    "Outcome",
    "Parcel",
    "ParcelEvent",
    "ParcelState",
    "ParcelStatus",
    "Party",
    "Reservation",
    "ReservationKind",
    "Shipment",
    "SizeClass",
    "TelemetryKind",
    "TelemetryReading",
    "TemperatureClass",
    "apply_event",
    "idempotency_key",
    "lifecycle",
    "pii_fields",
    "to_g",
    "to_mm",
    "validate_s10",
    "validate_sscc",
]
