"""``number``: text to int (whole) or float, with a decimal point or comma."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("12", 12), ("12.50", 12.5), ("12,5", 12.5), (" -3 ", -3), ("+4", 4), ("1.0", 1), (".5", 0.5), ("7,", 7),
        (7, 7), (2.5, 2.5), (3.0, 3), ("0012", 12),
    ],
)
def test_reads_numbers(value, given: Any, expected: Any) -> None:
    result = value("{op: number, of: a}", {"a": given})
    assert result == expected
    assert type(result) is type(expected)


def test_decimal_separator_can_be_fixed(value, fails) -> None:
    assert value('{op: number, of: a, decimal: ","}', {"a": "12,5"}) == 12.5
    assert value('{op: number, of: a, decimal: "."}', {"a": "12.5"}) == 12.5
    assert fails('{op: number, of: a, decimal: ","}', {"a": "12.5"}) == [
        "<input>: error: field a -> v: expected a number, found '12.5' (rule: number (decimal ','))"]
    assert fails('{op: number, of: a, decimal: "."}', {"a": "12,5"}) == [
        "<input>: error: field a -> v: expected a number, found '12,5' (rule: number (decimal '.'))"]


@pytest.mark.parametrize(
    ("given", "found"),
    [
        ("twelve", "'twelve'"), ("1,234.5", "'1,234.5'"), ("1e3", "'1e3'"), ("", "''"), ("1 000", "'1 000'"),
        (True, "True"), (float("nan"), "nan"), (["1"], "['1']"),
        ("x" * 100, "'" + "x" * 36 + "..."),  # long values are cut at 40 characters
    ],
)
def test_refuses_what_is_not_a_number(fails, given: Any, found: str) -> None:
    assert fails("{op: number, of: a}", {"a": given}) == [
        f"<input>: error: field a -> v: expected a number, found {found} (rule: number)"]


def test_no_value_gives_none_then_default_and_required_apply(value, fails) -> None:
    assert value("{op: number, of: a}", {}) is None
    assert value("{op: number, of: a, default: 0}", {}) == 0
    assert value("{op: number, of: {op: const, value: '5', default: 1}}", {}) == 5
    assert fails("{op: number, of: a, required: true}", {"a": None}) == [
        "<input>: error: field a -> v: required: expected a value, found none"]


def test_bad_separator_is_a_load_error(problems) -> None:
    assert problems("""
        fields:
          v: {op: number, of: a, decimal: ";"}
    """) == ["m.yaml:5:35: error: fields.v.decimal: expected '.', ',' or 'auto', found a string"]
