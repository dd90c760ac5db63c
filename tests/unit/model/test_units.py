"""Lengths to millimetres, masses to grams (integers, rounded half up), and compartment fit."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

from lockerhub.errors import ValidationError
from lockerhub.model import Dimensions, to_g, to_mm


@pytest.mark.parametrize(
    ("value", "unit", "mm"),
    [
        ("12.5", "cm", 125),
        (12.5, "cm", 125),
        (3, "cm", 30),
        ("1.2", "m", 1200),
        ("0.6", "m", 600),
        ("2", "in", 51),  # 50.8
        ("10", "in", 254),
        ("1", "ft", 305),  # 304.8
        ("7", "mm", 7),
        ("7.4", "mm", 7),
        (Decimal("2.5"), "dm", 250),
        ("0", "cm", 0),
    ],
)
def test_lengths_to_mm(value: object, unit: str, mm: int) -> None:
    assert to_mm(value, unit) == mm


@pytest.mark.parametrize(
    ("value", "unit", "g"),
    [
        ("1.2", "kg", 1200),
        (2, "kg", 2000),
        ("1", "lb", 454),  # 453.59237
        ("2.2", "lb", 998),  # 997.903214
        ("1", "oz", 28),  # 28.349523125
        ("16", "oz", 454),  # 453.592370
        ("750", "g", 750),
        ("0.4", "g", 0),
    ],
)
def test_masses_to_g(value: object, unit: str, g: int) -> None:
    assert to_g(value, unit) == g


def test_default_units_are_mm_and_g() -> None:
    assert (to_mm("42"), to_g("42")) == (42, 42)


@pytest.mark.parametrize(
    ("value", "unit", "mm"),
    [("12,5", "cm", 125), ("1,2", "m", 1200), (" 0,5 ", "mm", 1)],
)
def test_comma_is_a_decimal_separator(value: str, unit: str, mm: int) -> None:
    assert to_mm(value, unit) == mm


def test_comma_decimal_for_mass() -> None:
    assert to_g("1,25", "kg") == 1250


@pytest.mark.parametrize(("length_unit", "mass_unit"), [("CM", "KG"), (" cm ", " kg "), ("Cm", "kG")])
def test_unit_is_case_and_space_insensitive(length_unit: str, mass_unit: str) -> None:
    assert to_mm("1", length_unit) == 10
    assert to_g("1", mass_unit) == 1000


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("0.5", "mm", 1),  # half up, not half to even (which gives 0)
        ("2.5", "mm", 3),  # half to even would give 2
        ("1.5", "mm", 2),
        ("0.49", "mm", 0),
        ("0.05", "cm", 1),  # 0.5 mm
        ("0.25", "cm", 3),  # 2.5 mm
        (0.25, "cm", 3),  # a float goes through str(), so 0.25 stays 0.25
        ("1.00005", "m", 1000),  # 1000.05 mm
    ],
)
def test_length_rounds_half_up(value: object, unit: str, expected: int) -> None:
    assert to_mm(value, unit) == expected


@pytest.mark.parametrize(("value", "expected"), [("0.0025", 3), ("0.0015", 2), ("0.0005", 1), ("0.00049", 0)])
def test_mass_rounds_half_up(value: str, expected: int) -> None:
    assert to_g(value, "kg") == expected


@pytest.mark.parametrize("value", ["-1", -0.1, "-0,5", Decimal(-3)])
def test_negative_is_an_error(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        to_mm(value, "cm")
    assert info.value.expected == ">= 0"
    assert info.value.found == repr(value)


@pytest.mark.parametrize("value", ["nan", "NaN", float("nan"), "inf", float("-inf"), "Infinity", Decimal("sNaN")])
def test_nan_and_infinity_are_errors(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        to_g(value, "kg")
    assert "finite" in info.value.message


@pytest.mark.parametrize("value", ["twelve", "", "1.2.3", "1,234.5", "12 kg", None, True])
def test_not_a_number_is_an_error(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        to_mm(value, "cm")
    assert str(info.value) == f"error: length is not a number: expected a number, found {value!r}"


def test_unknown_length_unit_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError) as info:
        to_mm("1", "furlong")
    assert str(info.value) == "error: unknown length unit: expected cm or dm or ft or in or m or mm, found 'furlong'"


@pytest.mark.parametrize("unit", ["kg", "stone", "l", ""])
def test_mass_is_not_a_length_and_back(unit: str) -> None:
    with pytest.raises(ValidationError) as info:
        to_mm("1", unit)
    assert info.value.message == "unknown length unit"


def test_unknown_mass_unit() -> None:
    with pytest.raises(ValidationError) as info:
        to_g("1", "cm")
    assert info.value.expected == "g or kg or lb or oz"


@settings(database=None)
@example(text="1e30", unit="m")
@given(
    text=st.one_of(st.from_regex(r"[0-9]{0,3}([.,][0-9]{0,3})?(e[0-9]{1,2})?", fullmatch=True), st.text(max_size=8)),
    unit=st.sampled_from(["mm", "cm", "m", "in"]),
)
def test_any_text_gives_millimetres_or_a_validation_error(text: str, unit: str) -> None:
    # A CSV cell can hold anything; the row must be quarantined with a lockerhub error, never crash the run.
    try:
        assert to_mm(text, unit) >= 0
    except ValidationError:
        pass


# --- Dimensions -------------------------------------------------------------------------------------------------


def test_dimensions_of_converts_each_side() -> None:
    assert Dimensions.of("41,5", "38", "6.4", "cm") == Dimensions(length_mm=415, width_mm=380, height_mm=64)
    assert Dimensions.of(600, 400, 300).volume_mm3 == 72_000_000


def test_dimensions_reject_negative_and_extra_fields() -> None:
    with pytest.raises(PydanticValidationError):
        Dimensions(length_mm=-1, width_mm=1, height_mm=1)
    with pytest.raises(PydanticValidationError):
        Dimensions(length_mm=1, width_mm=1, height_mm=1, depth_mm=1)  # type: ignore[call-arg]


def test_dimensions_are_frozen() -> None:
    box = Dimensions.of(1, 2, 3)
    with pytest.raises(PydanticValidationError):
        box.length_mm = 9  # type: ignore[misc]


PARCEL = (600, 100, 50)  # a long thin box
COMPARTMENT = (80, 610, 120)  # fits only if the parcel lies along the compartment's width


@pytest.mark.parametrize("parcel", sorted(set(itertools.permutations(PARCEL))))
@pytest.mark.parametrize("compartment", sorted(set(itertools.permutations(COMPARTMENT))))
def test_fits_in_every_orientation(parcel: tuple[int, int, int], compartment: tuple[int, int, int]) -> None:
    assert Dimensions.of(*parcel).fits_in(Dimensions.of(*compartment))
    assert not Dimensions.of(*compartment).fits_in(Dimensions.of(*parcel))


@pytest.mark.parametrize(
    ("parcel", "compartment", "fits"),
    [
        ((600, 100, 50), (610, 120, 49), False),  # one side too big in every orientation
        ((100, 100, 100), (100, 100, 100), True),  # exactly equal fits
        ((101, 100, 100), (100, 100, 100), False),
        ((410, 380, 80), (640, 380, 80), True),  # InPost size A inner box, roughly
        ((390, 390, 90), (640, 380, 80), False),  # two sides over, whatever the orientation
    ],
)
def test_fits_in_examples(parcel: tuple[int, int, int], compartment: tuple[int, int, int], fits: bool) -> None:
    assert Dimensions.of(*parcel).fits_in(Dimensions.of(*compartment)) is fits


sides = st.integers(min_value=0, max_value=5_000)
boxes = st.tuples(sides, sides, sides)


@settings(database=None)
@given(box=boxes, space=boxes, p=st.permutations(range(3)), q=st.permutations(range(3)))
def test_fits_in_is_invariant_under_permuting_either_box(
    box: tuple[int, int, int], space: tuple[int, int, int], p: list[int], q: list[int]
) -> None:
    expected = Dimensions.of(*box).fits_in(Dimensions.of(*space))
    turned_box = Dimensions.of(*(box[i] for i in p))
    turned_space = Dimensions.of(*(space[i] for i in q))
    assert turned_box.fits_in(turned_space) is expected


@settings(database=None)
@given(box=boxes)
def test_a_box_fits_in_itself(box: tuple[int, int, int]) -> None:
    assert Dimensions.of(*box).fits_in(Dimensions.of(*box))


@settings(database=None)
@given(
    space=boxes,
    grow=st.tuples(sides, sides, sides).filter(any),
    p=st.permutations(range(3)),
)
def test_a_strictly_larger_box_never_fits(
    space: tuple[int, int, int], grow: tuple[int, int, int], p: list[int]
) -> None:
    # larger: no side smaller, at least one side bigger, then turned any way
    larger = tuple(s + g for s, g in zip(space, grow, strict=True))
    assert not Dimensions.of(*(larger[i] for i in p)).fits_in(Dimensions.of(*space))
    assert Dimensions.of(*space).fits_in(Dimensions.of(*(larger[i] for i in p)))
