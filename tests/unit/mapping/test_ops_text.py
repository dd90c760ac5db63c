"""``text``, ``slice``, ``pad`` and ``replace``: small text edits; numbers are written out first."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("rule", "given", "expected"),
    [
        ("{op: text, of: a}", "  Jan  Kowalski ", "Jan  Kowalski"),
        ("{op: text, of: a, strip: false}", " x ", " x "),
        ("{op: text, of: a, collapse_spaces: true}", " Jan \t\n Kowalski ", "Jan Kowalski"),
        ("{op: text, of: a, collapse_spaces: true, strip: false}", "  a  b ", " a b "),
        ("{op: text, of: a, case: upper}", "Łódź", "ŁÓDŹ"),
        ("{op: text, of: a, case: lower}", "WARSZAWA", "warszawa"),
        ("{op: text, of: a, case: title}", "jan kowalski", "Jan Kowalski"),
        ("{op: text, of: a}", 12, "12"),
        ("{op: text, of: a}", 1.5, "1.5"),
        ("{op: text, of: a}", "   ", ""),
        ("{op: slice, of: a, end: 2}", "00-950", "00"),
        ("{op: slice, of: a, start: -3}", "00-950", "950"),
        ("{op: slice, of: a, start: 1, end: -1}", "[x]", "x"),
        ("{op: slice, of: a, start: 4, end: 9}", "abc", ""),
        ("{op: slice, of: a, end: 3}", 12345, "123"),
        ("{op: pad, of: a, width: 5}", "42", "00042"),
        ("{op: pad, of: a, width: 5}", 42, "00042"),
        ("{op: pad, of: a, width: 4, char: ' ', side: right}", "ab", "ab  "),
        ("{op: pad, of: a, width: 2}", "12345", "12345"),  # longer text is not cut
        ("{op: replace, of: a, old: ' ', new: ''}", "+48 600 700 800", "+48600700800"),
        ("{op: replace, of: a, old: '-', new: '/'}", "a-b-c", "a/b/c"),
        ("{op: replace, of: a, old: x, new: y}", 10, "10"),
    ],
)
def test_edits(value, rule: str, given: Any, expected: str) -> None:
    assert value(rule, {"a": given}) == expected


@pytest.mark.parametrize(
    "rule",
    ["{op: text, of: a}", "{op: slice, of: a, end: 1}", "{op: pad, of: a, width: 3}",
     "{op: replace, of: a, old: x, new: y}"],
)
def test_none_default_required(value, fails, rule: str) -> None:
    assert value(rule, {}) is None
    assert value(rule[:-1] + ", default: '-'}", {}) == "-"
    assert fails(rule[:-1] + ", required: true}", {"a": None}) == [
        "<input>: error: field a -> v: required: expected a value, found none"]


@pytest.mark.parametrize(
    ("rule", "label"),
    [
        ("{op: text, of: a, case: upper}", "text upper"),
        ("{op: slice, of: a, start: 1}", "slice [1:]"),
        ("{op: pad, of: a, width: 3}", "pad 3 '0' left"),
        ("{op: replace, of: a, old: x, new: y}", "replace 'x' -> 'y'"),
    ],
)
def test_values_that_are_not_text(fails, rule: str, label: str) -> None:
    assert fails(rule, {"a": ["x"]}) == [
        f"<input>: error: field a -> v: expected text or a number, found a list (rule: {label})"]
    assert fails(rule, {"a": True}) == [
        f"<input>: error: field a -> v: expected text or a number, found a boolean (rule: {label})"]


def test_schema_errors(problems) -> None:
    assert problems("""
        fields:
          a: {op: text, of: x, case: shout}
          b: {op: pad, of: x, width: 0}
          c: {op: pad, of: x, width: 3, char: "ab"}
          d: {op: pad, of: x, width: 3, side: centre}
          e: {op: replace, of: x, old: "", new: y}
          f: {op: slice, of: x, start: first}
          g: {op: pad, of: x}
    """) == [
        "m.yaml:5:30: error: fields.a.case: expected 'upper', 'lower', 'title' or 'none', found a string",
        "m.yaml:6:30: error: fields.b.width: input should be greater than or equal to 1",
        "m.yaml:7:39: error: fields.c.char: string should have at most 1 character",
        "m.yaml:8:39: error: fields.d.side: expected 'left' or 'right', found a string",
        "m.yaml:9:32: error: fields.e.old: string should have at least 1 character",
        "m.yaml:10:32: error: fields.f.start: expected an integer, found a string",
        "m.yaml:11:6: error: fields.g.width: required",
    ]
