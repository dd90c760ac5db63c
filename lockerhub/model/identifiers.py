"""Parcel identifiers with check-digit validation.

- GS1 SSCC-18: 18 digits; the last is a mod-10 check digit over the first 17, weights 3,1,3,... from the right.
- UPU S10: 2 letters, 8-digit serial, 1 check digit (weights 8,6,4,2,3,5,9,7, mod 11), 2-letter country code.

Both are available as plain functions (``sscc_check_digit``) and as pydantic-annotated string types
(``SSCC``, ``S10``) whose validation error names the bad digit, what was expected and what was found.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from lockerhub.errors import ValidationError

_SSCC = re.compile(r"[0-9]{18}")
_S10 = re.compile(r"([A-Z]{2})([0-9]{8})([0-9])([A-Z]{2})")
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit for any GS1 key body (GTIN, SSCC, GLN) without its check digit."""
    rev = body[::-1]  # weights 3, 1, 3, ... from the right
    total = 3 * sum(map(int, rev[0::2])) + sum(map(int, rev[1::2]))
    return (10 - total % 10) % 10


def sscc_check_digit(first17: str) -> int:
    if not (len(first17) == 17 and first17.isascii() and first17.isdigit()):
        raise ValidationError("SSCC body", expected="17 digits", found=f"{len(first17)} characters")
    return gs1_check_digit(first17)


def validate_sscc(value: str) -> str:
    """Return the normalised SSCC (spaces and an ``(00)`` AI prefix removed) or raise."""
    text = str(value).replace(" ", "")
    if text.startswith("(00)"):
        text = text[4:]
    if not _SSCC.fullmatch(text):
        raise ValidationError("SSCC", expected="18 digits", found=f"{text!r} ({len(text)} characters)")
    expected = sscc_check_digit(text[:17])
    if int(text[17]) != expected:
        raise ValidationError(
            f"SSCC {text} check digit (digit 18)", expected=str(expected), found=text[17]
        )
    return text


def s10_check_digit(serial: str) -> int:
    if not (len(serial) == 8 and serial.isascii() and serial.isdigit()):
        raise ValidationError("S10 serial", expected="8 digits", found=f"{serial!r}")
    remainder = sum(int(d) * w for d, w in zip(serial, _S10_WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    return {10: 0, 11: 5}.get(check, check)


def validate_s10(value: str) -> str:
    """Return the normalised UPU S10 identifier (upper case, no spaces) or raise."""
    text = str(value).replace(" ", "").upper()
    match = _S10.fullmatch(text)
    if not match:
        raise ValidationError(
            "UPU S10 identifier",
            expected="2 letters, 8 digits, 1 check digit, 2-letter country code (e.g. RR123456785CH)",
            found=repr(text),
        )
    serial, digit = match.group(2), match.group(3)
    expected = s10_check_digit(serial)
    if int(digit) != expected:
        raise ValidationError(
            f"UPU S10 {text} check digit (character 11)", expected=str(expected), found=digit
        )
    return text


def _pydantic(check):  # type: ignore[no-untyped-def]
    def run(value: str) -> str:
        try:
            return check(value)
        except ValidationError as exc:  # pydantic wants ValueError to report field context
            raise ValueError(exc.render().removeprefix("error: ")) from None

    return run


SSCC = Annotated[str, AfterValidator(_pydantic(validate_sscc))]
S10 = Annotated[str, AfterValidator(_pydantic(validate_s10))]
