"""Canonical fields a CSV column may feed, and how a cell's text becomes that field's value.

One table, ``TARGETS``: mapping name (what a mapping file writes after ``field:``) -> :class:`Target` (where the
value goes in a ``Shipment`` and how it is converted). Everything else (mapping validation, row reading,
lineage, PII masking) reads this table; adding a field is one line here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from lockerhub.model import Address, Party, pii_fields, to_g, to_mm


class Kind(StrEnum):
    TEXT = "text"  # the cell as is (surrounding spaces removed)
    LOWER = "lower"  # lower-cased, for enum values such as temperature classes
    LENGTH = "length"  # a number with a length unit, stored in mm
    MASS = "mass"  # a number with a mass unit, stored in g


UNITS: dict[Kind, tuple[str, ...]] = {Kind.LENGTH: ("mm", "cm", "m", "in"), Kind.MASS: ("g", "kg", "lb")}

PII_PATHS = frozenset(
    {f"recipient.{name}" for name in pii_fields(Party)} | {f"recipient.address.{name}" for name in pii_fields(Address)}
)

_STEP = re.compile(r"([a-z_][a-z0-9_]*)(?:\[([0-9]+)\])?")


@dataclass(frozen=True, slots=True)
class Target:
    """A canonical field: its path in the model (``parcels[0].weight_g``) and how cells convert to it."""

    path: str
    kind: Kind = Kind.TEXT
    keys: tuple[str | int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The path as dict keys and list indexes, ``('parcels', 0, 'weight_g')``; computed once (hot path).
        keys: list[str | int] = []
        for step in self.path.split("."):
            match = _STEP.fullmatch(step)
            if match is None:  # pragma: no cover - table bug
                raise ValueError(f"bad target path {self.path!r}")
            keys.append(match.group(1))
            if match.group(2) is not None:
                keys.append(int(match.group(2)))
        object.__setattr__(self, "keys", tuple(keys))

    @property
    def pii(self) -> bool:
        return self.path in PII_PATHS

    @property
    def units(self) -> tuple[str, ...]:
        """Units this field accepts; empty for fields without a unit."""
        return UNITS.get(self.kind, ())

    def convert(self, text: str, unit: str | None = None) -> object:
        """Cell text to the model's value; raises :class:`lockerhub.errors.ValidationError` with expected/found."""
        if self.kind is Kind.LENGTH:
            return to_mm(text, unit or "mm")
        if self.kind is Kind.MASS:
            return to_g(text, unit or "g")
        if self.kind is Kind.LOWER:
            return text.lower()
        return text


TARGETS: dict[str, Target] = {
    "reference": Target("reference"),
    "destination_locker": Target("destination_locker"),
    "recipient.name": Target("recipient.name"),
    "recipient.phone": Target("recipient.phone"),
    "recipient.email": Target("recipient.email"),
    "recipient.address.street": Target("recipient.address.street"),
    "recipient.address.postal_code": Target("recipient.address.postal_code"),
    "recipient.address.city": Target("recipient.address.city"),
    "recipient.address.region": Target("recipient.address.region"),
    "recipient.address.country": Target("recipient.address.country"),
    "parcels.parcel_id": Target("parcels[0].parcel_id"),
    "parcels.sscc": Target("parcels[0].sscc"),
    "parcels.s10": Target("parcels[0].s10"),
    "parcels.temperature": Target("parcels[0].temperature", Kind.LOWER),
    "parcels.dimensions.length": Target("parcels[0].dimensions.length_mm", Kind.LENGTH),
    "parcels.dimensions.width": Target("parcels[0].dimensions.width_mm", Kind.LENGTH),
    "parcels.dimensions.height": Target("parcels[0].dimensions.height_mm", Kind.LENGTH),
    "parcels.weight": Target("parcels[0].weight_g", Kind.MASS),
}

# Fields a Shipment cannot do without; a mapping must feed each from a column or a partner default.
REQUIRED_FIELDS = (
    "reference",
    "parcels.parcel_id",
    "parcels.dimensions.length",
    "parcels.dimensions.width",
    "parcels.dimensions.height",
    "parcels.weight",
)
