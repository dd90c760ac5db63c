"""Shipments and parcels: at least one parcel, stable idempotency keys, no unknown fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from lockerhub.model import Dimensions, Parcel, ParcelEvent, ParcelStatus, Party, Shipment, idempotency_key


def parcel(parcel_id: str = "P-1", **extra: Any) -> dict[str, Any]:
    return {"parcel_id": parcel_id, "dimensions": {"length_mm": 300, "width_mm": 200, "height_mm": 100},
            "weight_g": 1500, **extra}


def shipment(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"partner": "acme", "reference": "SHP-1", "recipient": {"name": "A. Nowak"},
                            "parcels": [parcel()]}
    data.update(overrides)
    return data


def test_a_shipment_validates() -> None:
    s = Shipment.model_validate(shipment(parcels=[parcel("P-1"), parcel("P-2")]))
    assert [p.parcel_id for p in s.parcels] == ["P-1", "P-2"]
    assert s.parcels[0].dimensions == Dimensions(length_mm=300, width_mm=200, height_mm=100)
    assert s.recipient == Party(name="A. Nowak")


def test_a_shipment_needs_at_least_one_parcel() -> None:
    with pytest.raises(PydanticValidationError) as info:
        Shipment.model_validate(shipment(parcels=[]))
    (error,) = info.value.errors()
    assert (error["loc"], error["type"]) == (("parcels",), "too_short")


@pytest.mark.parametrize("missing", ["partner", "reference", "recipient", "parcels"])
def test_required_shipment_fields(missing: str) -> None:
    data = shipment()
    del data[missing]
    with pytest.raises(PydanticValidationError) as info:
        Shipment.model_validate(data)
    assert [e["loc"] for e in info.value.errors()] == [(missing,)]


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (Shipment, shipment(priority="high")),
        (Parcel, parcel(colour="red")),
        (Shipment, shipment(parcels=[parcel(weight_kg=1.5)])),
        (Shipment, shipment(recipient={"name": "x", "nickname": "y"})),
        (ParcelEvent, {"status": "BOOKED", "occurred_at": "2026-01-01T10:00:00Z", "source": "hub", "extra": 1}),
    ],
)
def test_extra_fields_are_forbidden(model: type, data: dict[str, Any]) -> None:
    with pytest.raises(PydanticValidationError) as info:
        model.model_validate(data)  # type: ignore[attr-defined]
    assert [e["type"] for e in info.value.errors()] == ["extra_forbidden"]


def test_weight_must_not_be_negative() -> None:
    with pytest.raises(PydanticValidationError):
        Parcel.model_validate(parcel(weight_g=-1))


# --- idempotency keys -------------------------------------------------------------------------------------------


def test_idempotency_key_is_stable_across_runs() -> None:
    # A golden value: a change here silently re-books every parcel already in flight.
    assert idempotency_key("acme", "SHP-1", "P-1") == "3f693d15088d057fd982be28e5f719e0"


def test_idempotency_key_shape() -> None:
    key = idempotency_key("acme", "SHP-1", "P-1")
    assert len(key) == 32
    assert int(key, 16) >= 0


@pytest.mark.parametrize("partner", ["ACME", "Acme", " acme ", "acme\n"])
def test_partner_is_case_and_space_insensitive(partner: str) -> None:
    assert idempotency_key(partner, "SHP-1", "P-1") == idempotency_key("acme", "SHP-1", "P-1")


@pytest.mark.parametrize(("reference", "parcel_id"), [("shp-1", "P-1"), ("SHP-1", "p-1")])
def test_reference_and_parcel_id_are_case_sensitive(reference: str, parcel_id: str) -> None:
    assert idempotency_key("acme", reference, parcel_id) != idempotency_key("acme", "SHP-1", "P-1")


def test_reference_and_parcel_id_are_stripped() -> None:
    assert idempotency_key("acme", " SHP-1 ", "P-1\t") == idempotency_key("acme", "SHP-1", "P-1")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("acme", "SHP-1", "P-1"), ("acme", "SHP-1", "P-2")),
        (("acme", "SHP-1", "P-1"), ("other", "SHP-1", "P-1")),
        (("acme", "SHP-1", "P-1"), ("acme", "SHP-11", "P-1")),
        (("acme", "AB", "C"), ("acme", "A", "BC")),  # the separator keeps fields apart
    ],
)
def test_different_parcels_get_different_keys(a: tuple[str, str, str], b: tuple[str, str, str]) -> None:
    assert idempotency_key(*a) != idempotency_key(*b)


def test_shipment_keys_match_the_function() -> None:
    s = Shipment.model_validate(shipment(partner="ACME", parcels=[parcel("P-1"), parcel("P-2")]))
    assert s.idempotency_keys() == [idempotency_key("acme", "SHP-1", "P-1"), idempotency_key("acme", "SHP-1", "P-2")]


# --- events -----------------------------------------------------------------------------------------------------


def test_event_needs_an_aware_timestamp() -> None:
    with pytest.raises(PydanticValidationError):
        ParcelEvent(status=ParcelStatus.BOOKED, occurred_at=datetime(2026, 1, 1), source="hub")
    event = ParcelEvent(status="DEPOSITED", occurred_at=datetime(2026, 1, 1, tzinfo=UTC), source="simlocker")
    assert event.status is ParcelStatus.DEPOSITED


def test_event_status_must_be_canonical() -> None:
    with pytest.raises(PydanticValidationError):
        ParcelEvent(status="deposited", occurred_at=datetime(2026, 1, 1, tzinfo=UTC), source="hub")
