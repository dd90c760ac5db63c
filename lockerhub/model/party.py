"""Parties and addresses. Recipient personal data is marked ``pii`` in the schema; the store encrypts it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

PII = {"pii": True}


def pii_field(**kwargs: object):  # type: ignore[no-untyped-def]
    """A field holding personal data: encrypted at rest, masked in logs, erasable."""
    return Field(json_schema_extra=PII, **kwargs)  # type: ignore[arg-type]


def pii_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """Names of the fields of ``model`` marked as personal data."""
    return tuple(
        name
        for name, field in model.model_fields.items()
        if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("pii")
    )


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    street: str | None = pii_field(default=None)
    postal_code: str | None = None
    city: str | None = None
    region: str | None = Field(default=None, description="routing region (pilot rollouts are by region)")
    country: str = Field(default="PL", min_length=2, max_length=2, description="ISO 3166-1 alpha-2")


class Party(BaseModel):
    """A consignor, consignee or recipient. Name, phone and email are personal data."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = pii_field(default=None)
    phone: str | None = pii_field(default=None)
    email: str | None = pii_field(default=None)
    address: Address | None = None
