"""SSCC-18 and UPU S10 identifiers: check digits, normalisation, and the pydantic types inside ``Parcel``.

Every valid example below is either published (source named) or computed by hand in a comment, so a test
does not merely restate the implementation.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError as PydanticValidationError

from lockerhub.errors import ValidationError
from lockerhub.model import Dimensions, Parcel
from lockerhub.model.identifiers import (
    gs1_check_digit,
    s10_check_digit,
    sscc_check_digit,
    validate_s10,
    validate_sscc,
)

# --- GS1 SSCC-18 ---------------------------------------------------------------------------------------------
#
# Weights 3,1,3,1,... from the right of the first 17 digits; check = (10 - sum mod 10) mod 10.
#
# (00) 1 0614141 123456789 7: the SSCC example of the GS1 General Specifications (company prefix 0614141 is
# GS1's example prefix). Body 10614141123456789 read from the right: 9 8 7 6 5 4 3 2 1 1 4 1 4 1 6 0 1
#   x 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3
#   = 27+8+21+6+15+4+9+2+3+1+12+1+12+1+18+0+3 = 143 -> (10 - 3) mod 10 = 7
#
# (00) 3 4012345 123456789 5: GS1 Germany's example (prefix 4012345). From the right: 9 8 7 6 5 4 3 2 1 5 4 3 2 1 0 4 3
#   = 27+8+21+6+15+4+9+2+3+5+12+3+6+1+0+4+9 = 135 -> (10 - 5) mod 10 = 5
#
# (00) 0 0614141 123456789 0: the same GS1 example with extension digit 0. The sum loses the leading 1 x 3:
#   143 - 3 = 140 -> (10 - 0) mod 10 = 0, so this case covers the "mod 10" that turns a 10 into a 0.
#
# (00) 1 0614141 234567890 8: GS1's other widely reproduced example. From the right: 0 9 8 7 6 5 4 3 2 1 4 1 4 1 6 0 1
#   = 0+9+24+7+18+5+12+3+6+1+12+1+12+1+18+0+3 = 132 -> (10 - 2) mod 10 = 8
PUBLISHED_SSCC = [
    ("106141411234567897", 7),
    ("340123451234567895", 5),
    ("006141411234567890", 0),
    ("106141412345678908", 8),
]


@pytest.mark.parametrize(("sscc", "check"), PUBLISHED_SSCC)
def test_sscc_check_digit_of_published_examples(sscc: str, check: int) -> None:
    assert sscc_check_digit(sscc[:17]) == check
    assert gs1_check_digit(sscc[:17]) == check
    assert validate_sscc(sscc) == sscc


def test_gs1_check_digit_is_the_gtin_rule_too() -> None:
    # GS1's own GTIN-13 worked example: 629104150021 -> 3 (weights 1,3,1,3,... from the left of 12 digits,
    # which is 3,1,3,... from the right): 6+6+9+3+0+12+1+15+0+0+2+3 = 57 -> 10 - 7 = 3.
    assert gs1_check_digit("629104150021") == 3


@pytest.mark.parametrize(
    "text",
    [
        "(00)106141411234567897",
        "(00) 1 0614141 123456789 7",  # as printed under a GS1-128 label
        "1 0614141 123456789 7",
        " 106141411234567897 ",
    ],
)
def test_sscc_accepts_ai_prefix_and_spaces(text: str) -> None:
    assert validate_sscc(text) == "106141411234567897"


@pytest.mark.parametrize(
    "text",
    [
        "10614141123456789",  # 17 digits: check digit missing
        "1061414112345678970",  # 19 digits
        "",
        "(00)",
        "10614141123456789X",
        "106141411234-67897",
        "(01)106141411234567897",  # another AI is not an SSCC
    ],
)
def test_sscc_wrong_length_or_characters(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_sscc(text)
    assert info.value.expected == "18 digits"
    assert str(info.value).startswith("error: SSCC: expected 18 digits, found ")


@pytest.mark.parametrize("wrong", [d for d in "0123456789" if d != "7"])
def test_sscc_each_wrong_check_digit_names_position_expected_and_found(wrong: str) -> None:
    text = "10614141123456789" + wrong
    with pytest.raises(ValidationError) as info:
        validate_sscc(text)
    error = info.value
    assert (error.expected, error.found) == ("7", wrong)
    assert "digit 18" in error.message
    assert str(error) == f"error: SSCC {text} check digit (digit 18): expected 7, found {wrong}"


def test_sscc_check_digit_rejects_a_body_of_the_wrong_length() -> None:
    with pytest.raises(ValidationError) as info:
        sscc_check_digit("1234")
    assert (info.value.expected, info.value.found) == ("17 digits", "4 characters")


def test_sscc_is_ascii_digits_only() -> None:
    # The GS1 example in full-width digits (U+FF10..U+FF19), as an OCR or a CJK input method may produce it.
    fullwidth = "106141411234567897".translate({ord(c): ord(c) + 0xFF10 - ord("0") for c in "0123456789"})
    try:
        result = validate_sscc(fullwidth)
    except ValidationError:
        return  # rejecting is fine
    assert result == "106141411234567897"  # so is normalising to ASCII; keeping the full-width text is not


# --- UPU S10 ---------------------------------------------------------------------------------------------------
#
# Weights 8,6,4,2,3,5,9,7 over the 8 serial digits; C = 11 - (S mod 11); C = 10 -> 0; C = 11 -> 5.
#
# RR123456785CH (UPU S10 and VENDORS.md example): S = 1*8+2*6+3*4+4*2+5*3+6*5+7*9+8*7
#   = 8+12+12+8+15+30+63+56 = 204; 204 mod 11 = 6; C = 11 - 6 = 5
# 47312482 (the worked example of the S10 article on Wikipedia): S = 32+42+12+2+6+20+72+14 = 200;
#   200 mod 11 = 2; C = 9
# 10100000: S = 1*8 + 1*4 = 12; 12 mod 11 = 1; C = 10 -> 0      (the 10 -> 0 rule)
# 10001000: S = 1*8 + 1*3 = 11; 11 mod 11 = 0; C = 11 -> 5      (the 11 -> 5 rule)
# 00000000: S = 0; C = 11 -> 5                                   (the 11 -> 5 rule at the bottom of the range)
# 99999999: S = 9*44 = 396 = 36*11; C = 11 -> 5
PUBLISHED_S10 = [
    ("RR123456785CH", 5),
    ("EE473124829GB", 9),
    ("CP101000000PL", 0),
    ("LX100010005DE", 5),
    ("RA000000005NL", 5),
    ("UA999999995US", 5),
]


@pytest.mark.parametrize(("s10", "check"), PUBLISHED_S10)
def test_s10_check_digit_of_published_and_hand_computed_examples(s10: str, check: int) -> None:
    assert s10_check_digit(s10[2:10]) == check
    assert validate_s10(s10) == s10


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("rr123456785ch", "RR123456785CH"),
        ("Rr123456785cH", "RR123456785CH"),
        ("RR 123 456 785 CH", "RR123456785CH"),
    ],
)
def test_s10_lower_case_and_spaces_are_normalised(text: str, normalised: str) -> None:
    assert validate_s10(text) == normalised


@pytest.mark.parametrize(
    "text",
    [
        "RR12345678CH",  # serial one digit short
        "RR1234567855CH",
        "R123456785CH",
        "RR123456785C",
        "1R123456785CH",
        "RR123456785C1",
        "RR12345678XCH",
        "RR-123456785-CH",
        "",
    ],
)
def test_s10_bad_format(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_s10(text)
    assert info.value.message == "UPU S10 identifier"
    assert "e.g. RR123456785CH" in str(info.value)


@pytest.mark.parametrize("wrong", [d for d in "0123456789" if d != "5"])
def test_s10_each_wrong_check_digit_names_position_expected_and_found(wrong: str) -> None:
    text = f"RR12345678{wrong}CH"
    with pytest.raises(ValidationError) as info:
        validate_s10(text)
    error = info.value
    assert (error.expected, error.found) == ("5", wrong)
    assert str(error) == f"error: UPU S10 {text} check digit (character 11): expected 5, found {wrong}"


def test_s10_check_digit_rejects_a_bad_serial() -> None:
    with pytest.raises(ValidationError):
        s10_check_digit("1234567")


def test_s10_is_ascii_digits_only() -> None:
    fullwidth = "RR" + "123456785".translate({ord(c): ord(c) + 0xFF10 - ord("0") for c in "0123456789"}) + "CH"
    try:
        result = validate_s10(fullwidth)
    except ValidationError:
        return
    assert result == "RR123456785CH"


# --- pydantic types inside Parcel --------------------------------------------------------------------------------


def _parcel(**fields: object) -> Parcel:
    return Parcel(parcel_id="P-1", dimensions=Dimensions.of(30, 20, 10, "cm"), weight_g=1200, **fields)


def test_parcel_normalises_its_identifiers() -> None:
    parcel = _parcel(sscc="(00) 1 0614141 123456789 7", s10="rr123456785ch")
    assert (parcel.sscc, parcel.s10) == ("106141411234567897", "RR123456785CH")


def test_parcel_identifiers_are_optional() -> None:
    assert (_parcel().sscc, _parcel().s10) == (None, None)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("sscc", "106141411234567890", "check digit (digit 18): expected 7, found 0"),
        ("sscc", "1234", "expected 18 digits"),
        ("s10", "RR123456784CH", "check digit (character 11): expected 5, found 4"),
        ("s10", "RR12CH", "UPU S10 identifier: expected 2 letters"),
    ],
)
def test_parcel_identifier_errors_are_pydantic_errors_naming_the_field(field: str, value: str, says: str) -> None:
    with pytest.raises(PydanticValidationError) as info:
        _parcel(**{field: value})
    (error,) = info.value.errors()
    assert error["loc"] == (field,)
    assert says in error["msg"]
    assert "error: " not in error["msg"]  # the compiler-style prefix is stripped inside pydantic
    assert f"\n{field}\n" in str(info.value)
