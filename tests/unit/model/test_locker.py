"""Lockers and access codes. An access code is a credential: it never shows up in repr, str or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError as PydanticValidationError

from lockerhub.model import (
    AccessCode,
    Compartment,
    Dimensions,
    Locker,
    Module,
    Reservation,
    ReservationKind,
)

CODE = "483920"


@pytest.fixture
def access_code() -> AccessCode:
    return AccessCode(code=CODE, valid_until=datetime(2026, 1, 3, 12, tzinfo=UTC))


@pytest.fixture
def reservation(access_code: AccessCode) -> Reservation:
    return Reservation(reservation_id="R-1", locker_id="WAW01", size_class="A", kind=ReservationKind.HARD,
                       access_code=access_code)


def test_access_code_is_hidden_in_repr_str_and_json(access_code: AccessCode) -> None:
    for text in (repr(access_code), str(access_code), f"{access_code}", access_code.model_dump_json()):
        assert CODE not in text
    assert str(access_code) == "AccessCode(**********)"
    assert json.loads(access_code.model_dump_json())["code"] == "**********"
    assert access_code.model_dump(mode="json")["code"] == "**********"


def test_access_code_is_hidden_inside_a_reservation(reservation: Reservation) -> None:
    for text in (repr(reservation), str(reservation), reservation.model_dump_json()):
        assert CODE not in text


def test_reveal_returns_the_code(access_code: AccessCode) -> None:
    assert access_code.reveal() == CODE


def test_access_code_is_hidden_in_validation_errors() -> None:
    with pytest.raises(PydanticValidationError) as info:
        AccessCode(code=483920)  # type: ignore[arg-type]
    assert CODE not in str(info.value)


def test_access_code_forbids_extra_fields() -> None:
    with pytest.raises(PydanticValidationError):
        AccessCode(code=CODE, pin="1234")  # type: ignore[call-arg]


def test_locker_lists_its_compartments() -> None:
    inner = Dimensions.of(64, 38, 8, "cm")
    a = Compartment(compartment_id="1", size_class="A", inner=inner, max_weight_g=25_000)
    b = Compartment(compartment_id="2", size_class="A", inner=inner, max_weight_g=25_000)
    locker = Locker(locker_id="WAW01", modules=[Module(module_id="M1", compartments=[a]),
                                                 Module(module_id="M2", compartments=[b])])
    assert locker.compartments() == [a, b]
