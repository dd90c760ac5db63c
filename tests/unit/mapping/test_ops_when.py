"""``when`` and its conditions (``equals``, ``in``, ``exists``, ``matches``, ``all``, ``any``, ``not``)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from lockerhub.mapping.ops import Expr

YES = "then: {op: const, value: hit}, else: {op: const, value: miss}"


@pytest.mark.parametrize(
    ("test", "item", "expected"),
    [
        ("{test: equals, of: a, value: Y}", {"a": "Y"}, "hit"),
        ("{test: equals, of: a, value: Y}", {"a": "y"}, "miss"),
        ("{test: equals, of: a, value: Y}", {}, "miss"),
        ("{test: equals, of: a, value: 3}", {"a": "3"}, "hit"),  # compared as text
        ("{test: equals, of: a, value: '3'}", {"a": 3}, "hit"),
        ("{test: in, of: a, values: [C, F]}", {"a": "F"}, "hit"),
        ("{test: in, of: a, values: [C, F]}", {"a": "A"}, "miss"),
        ("{test: in, of: a, values: [1, 2]}", {"a": "2"}, "hit"),
        ("{test: in, of: a, values: [C]}", {}, "miss"),
        ("{test: exists, of: a}", {"a": "x"}, "hit"),
        ("{test: exists, of: a}", {"a": 0}, "hit"),
        ("{test: exists, of: a}", {"a": " "}, "miss"),
        ("{test: exists, of: a}", {}, "miss"),
        ("{test: matches, of: a, pattern: '^PL'}", {"a": "PL-1"}, "hit"),
        ("{test: matches, of: a, pattern: '^PL'}", {"a": "DE-1"}, "miss"),
        ("{test: matches, of: a, pattern: '^[0-9]+$'}", {"a": 42}, "hit"),
        ("{test: matches, of: a, pattern: '.*'}", {}, "miss"),
        ("{test: not, of: {test: exists, of: a}}", {}, "hit"),
        ("{test: all, of: [{test: exists, of: a}, {test: equals, of: b, value: 1}]}", {"a": "x", "b": 1}, "hit"),
        ("{test: all, of: [{test: exists, of: a}, {test: equals, of: b, value: 1}]}", {"a": "x", "b": 2}, "miss"),
        ("{test: any, of: [{test: exists, of: a}, {test: equals, of: b, value: 1}]}", {"b": 1}, "hit"),
        ("{test: any, of: [{test: exists, of: a}, {test: equals, of: b, value: 1}]}", {"b": 2}, "miss"),
        ("{test: equals, of: {op: text, of: a, case: upper}, value: Y}", {"a": " y "}, "hit"),
    ],
)
def test_conditions(value, test: str, item: dict[str, Any], expected: str) -> None:
    assert value(f"{{op: when, if: {test}, {YES}}}", item) == expected


def test_branches_are_expressions_and_else_is_optional(value) -> None:
    rule = ("{op: when, if: {test: exists, of: mobile}, then: mobile, "
            "else: {op: concat, parts: [{op: const, value: '+48'}, phone]}}")
    assert value(rule, {"mobile": "600", "phone": "22"}) == "600"
    assert value(rule, {"phone": "22"}) == "+4822"
    assert value("{op: when, if: {test: exists, of: a}, then: a}", {}) is None
    assert value("{op: when, if: {test: exists, of: a}, then: a, default: none}", {}) == "none"


def test_only_the_chosen_branch_is_read(value, fails) -> None:
    rule = "{op: when, if: {test: equals, of: kind, value: n}, then: {op: number, of: v}, else: v}"
    assert value(rule, {"kind": "t", "v": "twelve"}) == "twelve"
    assert fails(rule, {"kind": "n", "v": "twelve"}) == [
        "<input>: error: field v -> v: expected a number, found 'twelve' (rule: number)"]  # where the value is


def test_conditions_stop_at_the_first_decisive_test(value) -> None:
    bad = "{test: matches, of: b, pattern: x}"  # b is a list: an error if it were read
    assert value(f"{{op: when, if: {{test: any, of: [{{test: exists, of: a}}, {bad}]}}, {YES}}}", {"a": 1, "b": []}) \
        == "hit"
    assert value(f"{{op: when, if: {{test: all, of: [{{test: exists, of: a}}, {bad}]}}, {YES}}}", {"b": []}) == "miss"


def test_run_time_errors_in_conditions(fails) -> None:
    assert fails(f"{{op: when, if: {{test: matches, of: a, pattern: x}}, {YES}}}", {"a": {"k": 1}}) == [
        "<input>: error: field a -> v: expected text or a number, found a mapping (rule: path a matches 'x')"]
    assert fails("{op: when, if: {test: exists, of: a}, then: a, required: true}", {}) == [
        "<input>: error: field a -> v: required: expected a value, found none"]


def test_paths_and_children_see_inside_conditions() -> None:
    op = TypeAdapter(Expr).validate_python({
        "op": "when",
        "if": {"test": "not", "of": {"test": "all", "of": [
            {"test": "equals", "of": "a", "value": 1},
            {"test": "any", "of": [{"test": "exists", "of": {"op": "text", "of": "b"}},
                                   {"test": "matches", "of": "c", "pattern": "x"}]},
            {"test": "in", "of": "d", "values": [1]}]}},
        "then": "e", "else": {"op": "coalesce", "of": ["f", "g"]}})
    assert list(op.paths()) == ["e", "f", "g", "a", "b", "c", "d"]  # branches first: values are located there
    assert [child.describe() for child in op.children()] == [
        "path a", "text", "path c", "path d", "path e", "coalesce of 2"]
    assert op.describe() == "when not (path a equals 1 and (text exists or path c matches 'x') and path d in 1 values)"


def test_build_errors_are_reported_at_the_condition(problems) -> None:
    assert problems("""
        fields:
          a:
            op: when
            if: {test: all, of: [{test: exists, of: x}, {test: matches, of: y, pattern: "[z"}]}
            then: {op: unit, of: x, from: kg, to: mm}
          b: {op: when, if: {test: not, of: {test: equals, of: {op: lookup, of: x, table: t}, value: 1}}, then: x}
    """) == [
        ("m.yaml:7:49: error: fields.a.if.of.1: path y matches '[z': invalid regular expression: "
         "unterminated character set at position 0"),
        ("m.yaml:8:11: error: fields.a.then: unit kg->mm: cannot convert mass (kg) to length (mm): "
         "expected two length units or two mass units"),
        "m.yaml:9:56: error: fields.b.if.of.of: lookup t: unknown table 't': the mapping has no `tables:`",
    ]


def test_schema_errors(problems) -> None:
    assert problems("""
        fields:
          a: {op: when, if: {test: equls, of: x, value: 1}, then: x}
          b: {op: when, if: {test: equals, of: x, valu: 1}, then: x, els: y}
          c: {op: when, if: {test: exists, of: x}}
          d: {op: when, if: {test: in, of: x, values: []}, then: x}
          e: {op: when, if: {of: x}, then: x}
    """) == [
        ("m.yaml:5:28: error: fields.a.if.test: unknown test 'equls': "
         "expected all | any | equals | exists | in | matches | not (did you mean 'equals'?)"),
        "m.yaml:6:21: error: fields.b.if.value: required",
        "m.yaml:6:43: error: fields.b.if.valu: unknown key (did you mean 'value'?)",
        "m.yaml:6:62: error: fields.b.els: unknown key (did you mean 'else'?)",
        "m.yaml:7:6: error: fields.c.then: required",
        "m.yaml:8:47: error: fields.d.if.values: list should have at least 1 item after validation, not 0",
        "m.yaml:9:21: error: fields.e.if: missing test",
    ]


def test_schema_uses_the_yaml_keys() -> None:
    from lockerhub.mapping import MappingDoc

    defs = MappingDoc.model_json_schema()["$defs"]
    assert {"if", "then", "else"} <= set(defs["WhenOp"]["properties"])
    assert defs["WhenOp"]["properties"]["if"]["discriminator"]["propertyName"] == "test"
