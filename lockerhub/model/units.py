"""Physical quantities normalised to millimetres and grams.

Inputs may say ``cm``, ``m``, ``in`` (lengths) or ``kg``, ``lb``, ``oz`` (mass); the canonical model
stores integers in ``mm`` and ``g``, rounded half up, so comparisons for compartment fit are exact.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from lockerhub.errors import ValidationError

LENGTH_TO_MM: dict[str, Decimal] = {
    "mm": Decimal(1),
    "cm": Decimal(10),
    "dm": Decimal(100),
    "m": Decimal(1000),
    "in": Decimal("25.4"),
    "ft": Decimal("304.8"),
}
MASS_TO_G: dict[str, Decimal] = {
    "g": Decimal(1),
    "kg": Decimal(1000),
    "lb": Decimal("453.59237"),
    "oz": Decimal("28.349523125"),
}

Millimetres = Annotated[int, Field(ge=0, description="length in millimetres")]
Grams = Annotated[int, Field(ge=0, description="mass in grams")]


def _convert(value: object, unit: str, table: dict[str, Decimal], what: str) -> int:
    factor = table.get(unit.strip().lower())
    if factor is None:
        raise ValidationError(
            f"unknown {what} unit", expected=" or ".join(sorted(table)), found=repr(unit)
        )
    try:
        number = Decimal(str(value).strip().replace(",", ".")) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValidationError(f"{what} is not a number", expected="a number", found=repr(value)) from None
    if not number.is_finite() or number < 0:
        raise ValidationError(f"{what} must be a finite, non-negative number", expected=">= 0", found=repr(value))
    try:
        return int((number * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:  # beyond the decimal context's precision: no parcel is that large
        raise ValidationError(f"{what} is out of range", expected="a plausible parcel measure",
                              found=repr(value)) from None


def to_mm(value: object, unit: str = "mm") -> int:
    """``to_mm("12.5", "cm") == 125``; raises :class:`ValidationError` on bad numbers or units."""
    return _convert(value, unit, LENGTH_TO_MM, "length")


def to_g(value: object, unit: str = "g") -> int:
    """``to_g("1.2", "kg") == 1200``; raises :class:`ValidationError` on bad numbers or units."""
    return _convert(value, unit, MASS_TO_G, "weight")


class Dimensions(BaseModel):
    """Outer (parcel) or inner (compartment) box in millimetres."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    length_mm: Millimetres
    width_mm: Millimetres
    height_mm: Millimetres

    @classmethod
    def of(cls, length: object, width: object, height: object, unit: str = "mm") -> Dimensions:
        return cls(length_mm=to_mm(length, unit), width_mm=to_mm(width, unit), height_mm=to_mm(height, unit))

    def fits_in(self, inner: Dimensions) -> bool:
        """True when this box fits inside ``inner`` in some axis-aligned orientation."""
        # Sorting both boxes is equivalent to trying all six orientations.
        box = sorted((self.length_mm, self.width_mm, self.height_mm))
        space = sorted((inner.length_mm, inner.width_mm, inner.height_mm))
        return all(a <= b for a, b in zip(box, space, strict=True))

    @property
    def volume_mm3(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm
