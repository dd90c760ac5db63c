"""Parties and addresses: which fields hold personal data."""

from __future__ import annotations

import pytest
from pydantic import ValidationError as PydanticValidationError

from lockerhub.model import Address, Party, pii_fields


def test_party_pii_fields_are_name_phone_email() -> None:
    assert pii_fields(Party) == ("name", "phone", "email")


def test_address_street_is_pii() -> None:
    assert pii_fields(Address) == ("street",)


def test_pii_is_marked_in_the_json_schema() -> None:
    properties = Party.model_json_schema()["properties"]
    assert {name for name, prop in properties.items() if prop.get("pii")} == {"name", "phone", "email"}


def test_party_forbids_extra_fields() -> None:
    with pytest.raises(PydanticValidationError):
        Party(name="x", mobile="+48 600 000 000")  # type: ignore[call-arg]


@pytest.mark.parametrize("country", ["P", "POL"])
def test_country_is_two_letters(country: str) -> None:
    with pytest.raises(PydanticValidationError):
        Address(country=country)
