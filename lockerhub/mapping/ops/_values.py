"""Helpers the ops share: reading a value as text or as a number, and showing a value in a message.

Messages quote at most 40 characters of a value (``shown``); a value that is not text or a number is named by
its kind (``kind``), never printed.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator

from lockerhub.errors import ValidationError

_KINDS = {bool: "a boolean", dict: "a mapping", list: "a list", tuple: "a list"}
_PLAIN = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")  # Decimal() reads exactly these as written
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")


def shown(value: Any) -> str:
    """``repr(value)``, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def kind(value: Any) -> str:
    return _KINDS.get(type(value), f"a {type(value).__name__}")


def as_text(value: Any, what: str) -> str:
    """Text as is, numbers as ``str(number)``; anything else is a :class:`ValidationError` for ``what``."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    raise ValidationError(what, expected="text or a number", found=kind(value))


def key(value: Any) -> str:
    """A value as text for comparing codes: ``str(value)``, with booleans spelt ``true`` / ``false`` (as in JSON
    and YAML), so a YAML ``value: true`` equals a source's ``"true"``."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _code(value: Any) -> Any:
    return key(value) if isinstance(value, (int, float)) else value


Code = Annotated[str, BeforeValidator(_code)]
"""A table code: text, or a YAML number or boolean taken as its text (``1: small`` is the code ``"1"``)."""


def blank(value: Any) -> bool:
    """No value: None, or text that is empty or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def parse_decimal(value: Any, decimal: str = "auto") -> Decimal | None:
    """A finite number from a number or from text such as ``12.5``, ``-3`` or ``12,5``; None when it is not one.

    ``decimal`` is the decimal separator: ``.``, ``,`` or ``auto`` (a comma is one when there is no dot).
    Thousands separators and exponents in text are not numbers (``1,234.5`` is refused, not guessed at)."""
    if type(value) is str and decimal == "auto" and _PLAIN.fullmatch(value):  # the common case, first
        return Decimal(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not _NUMBER.fullmatch(text):
        return None
    if "," in text:
        if decimal == ".":
            return None
        text = text.replace(",", ".")
    elif "." in text and decimal == ",":
        return None
    return Decimal(text)


def plain(number: Decimal) -> int | float:
    """An int when the number is whole, else a float (what JSON and the canonical model take)."""
    return int(number) if number == number.to_integral_value() else float(number)
