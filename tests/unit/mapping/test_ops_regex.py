"""``regex``: extract a group of the first match, or replace every match."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("rule", "given", "expected"),
    [
        ("{op: regex, of: a, pattern: '[0-9]+'}", "ACME-00123-X", "00123"),
        ("{op: regex, of: a, pattern: '-([0-9]+)$', group: 1}", "ACME-00123", "00123"),
        ("{op: regex, of: a, pattern: '(?P<no>[0-9]+)', group: no}", "box 17", "17"),
        ("{op: regex, of: a, pattern: '[0-9]+'}", "none here", None),
        ("{op: regex, of: a, pattern: '(a)|(b)', group: 2}", "a", None),  # the group took no part in the match
        ("{op: regex, of: a, pattern: '(?i)^pl'}", "PL-123", "PL"),
        ("{op: regex, of: a, pattern: '[0-9]{2}'}", 2026, "20"),
        ("{op: regex, of: a, pattern: '\\s+', replace: ' '}", "a  b\t c", "a b c"),
        ("{op: regex, of: a, pattern: '([0-9]{2})([0-9]{3})', replace: '\\1-\\2'}", "00950", "00-950"),
        ("{op: regex, of: a, pattern: '(?P<d>[0-9])', replace: '<\\g<d>>'}", "a1b2", "a<1>b<2>"),
        ("{op: regex, of: a, pattern: x, replace: y}", "abc", "abc"),  # no match: unchanged
    ],
)
def test_search_and_replace(value, rule: str, given: Any, expected: Any) -> None:
    assert value(rule, {"a": given}) == expected


def test_none_default_required(value, fails) -> None:
    assert value("{op: regex, of: a, pattern: x}", {}) is None
    assert value("{op: regex, of: a, pattern: '[0-9]+', default: '0'}", {"a": "none"}) == "0"
    assert fails("{op: regex, of: a, pattern: '[0-9]+', required: true}", {"a": "none"}) == [
        "<input>: error: field a -> v: required: expected a value, found none"]
    assert fails("{op: regex, of: a, pattern: x}", {"a": {"k": 1}}) == [
        "<input>: error: field a -> v: expected text or a number, found a mapping (rule: regex 'x')"]


def test_build_errors(problems) -> None:
    assert problems(r"""
        fields:
          a: {op: regex, of: x, pattern: "(ab"}
          b: {op: regex, of: x, pattern: "(a)", group: 2}
          c: {op: regex, of: x, pattern: "(?P<no>a)", group: nr}
          d: {op: regex, of: x, pattern: "(a)", group: 1, replace: "b"}
          e: {op: regex, of: x, pattern: "(a)", replace: "\\2"}
          f: {op: regex, of: x, pattern: "(a)", replace: "\\g<name>"}
          g: {op: text, of: {op: regex, of: x, pattern: "*"}}
    """) == [
        ("m.yaml:5:6: error: fields.a: regex '(ab': invalid regular expression: "
         "missing ), unterminated subpattern at position 0"),
        "m.yaml:6:6: error: fields.b: regex '(a)': no group 2: expected 0 to 1",
        "m.yaml:7:6: error: fields.c: regex '(?P<no>a)': no group named 'nr': expected one of no",
        ("m.yaml:8:6: error: fields.d: regex '(a)' -> 'b': `group` and `replace` do not go together: "
         "expected one of them"),
        ("m.yaml:9:6: error: fields.e: regex '(a)' -> '\\\\2': invalid replacement '\\\\2': "
         "invalid group reference 2 at position 1"),
        ("m.yaml:10:6: error: fields.f: regex '(a)' -> '\\\\g<name>': invalid replacement '\\\\g<name>': "
         "unknown group name 'name'"),
        # reported once, at the inner op (not again at the `text` op around it)
        "m.yaml:11:21: error: fields.g.of: regex '*': invalid regular expression: nothing to repeat at position 0",
    ]
