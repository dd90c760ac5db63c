"""``concat``, ``split`` and ``coalesce``: several values into one, one value into parts, the first one there."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"s": "Prosta", "h": "20", "f": "5"}, "Prosta 20/5"),
        ({"s": "Prosta", "h": 20}, "Prosta 20"),  # a part without a value is left out, with its separator
        ({"s": "Prosta", "h": ""}, "Prosta "),  # empty text is a value
        ({"h": 7}, "7"),
        ({}, None),
    ],
)
def test_concat(value, item: dict[str, Any], expected: Any) -> None:
    rule = "{op: concat, parts: [s, {op: concat, parts: [h, f], sep: /}], sep: ' '}"
    assert value(rule, item) == expected


def test_concat_default_and_errors(value, fails) -> None:
    assert value("{op: concat, parts: [a, b], default: n/a}", {}) == "n/a"
    assert value("{op: concat, parts: [a, {op: const, value: X}]}", {"a": 1}) == "1X"
    assert fails("{op: concat, parts: [a, b]}", {"a": "x", "b": ["y"]}) == [
        "<input>: error: field a -> v: expected text or a number, found a list (rule: concat of 2)"]


@pytest.mark.parametrize(
    ("rule", "given", "expected"),
    [
        ("{op: split, of: a, index: 0}", "Warszawa, Prosta 20 ,00-950", "Warszawa"),
        ("{op: split, of: a, index: 1}", "Warszawa, Prosta 20 ,00-950", "Prosta 20"),
        ("{op: split, of: a, index: -1}", "Warszawa, Prosta 20 ,00-950", "00-950"),
        ("{op: split, of: a, index: 3}", "a,b,c", None),
        ("{op: split, of: a, index: -4}", "a,b,c", None),
        ("{op: split, of: a, index: 1}", "a,,c", ""),
        ("{op: split, of: a, sep: ' - ', index: 1}", "PL - 00950", "00950"),
        ("{op: split, of: a, sep: '.', index: 0}", 12.5, "12"),
    ],
)
def test_split(value, rule: str, given: Any, expected: Any) -> None:
    assert value(rule, {"a": given}) == expected


def test_split_none_default_required(value, fails) -> None:
    assert value("{op: split, of: a, index: 0}", {}) is None
    assert value("{op: split, of: a, index: 5, default: x}", {"a": "a,b"}) == "x"
    assert fails("{op: split, of: a, index: 5, required: true}", {"a": "a,b"}) == [
        "<input>: error: field a -> v: required: expected a value, found none"]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"mobile": "600", "phone": "22"}, "600"),
        ({"mobile": None, "phone": "22"}, "22"),
        ({"mobile": "  ", "phone": "22"}, "22"),  # blank text counts as missing
        ({"mobile": 0, "phone": "22"}, 0),  # zero is a value
        ({}, None),
    ],
)
def test_coalesce(value, item: dict[str, Any], expected: Any) -> None:
    assert value("{op: coalesce, of: [mobile, phone]}", item) == expected


def test_coalesce_reads_lazily_and_applies_default(value, fails) -> None:
    rule = "{op: coalesce, of: [a, {op: number, of: b}], default: 0}"
    assert value(rule, {"a": "x", "b": "not a number"}) == "x"  # the second is never read
    assert value(rule, {}) == 0
    # errors are labelled with the first path the rule reads
    assert fails(rule, {"b": "nan?"}) == [
        "<input>: error: field a -> v: expected a number, found 'nan?' (rule: number)"]


def test_paths_go_through_parts() -> None:
    from pydantic import TypeAdapter

    from lockerhub.mapping.ops import Expr

    op = TypeAdapter(Expr).validate_python(
        {"op": "concat", "parts": ["a", {"op": "coalesce", "of": ["b", {"op": "split", "of": "c", "index": 0}]}]})
    assert list(op.paths()) == ["a", "b", "c"]


def test_schema_errors(problems) -> None:
    assert problems("""
        fields:
          a: {op: concat, parts: []}
          b: {op: coalesce, of: x}
          c: {op: split, of: x, sep: "", index: 0}
          d: {op: split, of: x}
    """) == [
        "m.yaml:5:26: error: fields.a.parts: list should have at least 1 item after validation, not 0",
        "m.yaml:6:25: error: fields.b.of: expected a list, found a string",
        "m.yaml:7:30: error: fields.c.sep: string should have at least 1 character",
        "m.yaml:8:6: error: fields.d.index: required",
    ]
