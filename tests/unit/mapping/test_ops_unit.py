"""``unit``: lengths and masses converted with Decimal arithmetic, rounded half up."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("given", "units", "expected"),
    [
        ("1,25", "from: kg, to: g", 1250),
        (1.2, "from: kg, to: g", 1200),
        ("0.1", "from: kg, to: g", 100),
        (1, "from: lb, to: g", 454),  # 453.59237
        ("2", "from: in, to: mm", 51),  # 50.8
        ("2.5", "from: cm, to: mm", 25),
        ("0.5", "from: g, to: g", 1),  # half up, not to even
        ("2.5", "from: g, to: g", 3),
        ("-1.5", "from: kg, to: g", -1500),
        (1234, "from: g, to: kg, decimals: 2", 1.23),
        (125, "from: mm, to: cm, decimals: 1", 12.5),
        (1, "from: ft, to: m, decimals: 3", 0.305),  # 0.3048
        ("1", "from: KG, to: G", 1000),  # unit names ignore case
    ],
)
def test_converts(value, given: Any, units: str, expected: Any) -> None:
    result = value(f"{{op: unit, of: a, {units}}}", {"a": given})
    assert result == expected
    assert type(result) is type(expected)


def test_run_time_errors(fails) -> None:
    assert fails("{op: unit, of: weight_kg, from: kg, to: g}", {"weight_kg": "twelve"}) == [
        "<input>: error: field weight_kg -> v: expected a number, found 'twelve' (rule: unit kg->g)"]
    assert fails("{op: unit, of: w, from: kg, to: g}", {"w": "1" + "0" * 30}) == [
        ("<input>: error: field w -> v: expected a plausible quantity, found '1000000000000000000000000000000' "
         "(rule: unit kg->g)")]


def test_none_default_required(value, fails) -> None:
    assert value("{op: unit, of: w, from: kg, to: g}", {}) is None
    assert value("{op: unit, of: w, from: kg, to: g, default: 0}", {}) == 0
    assert fails("{op: unit, of: w, from: kg, to: g, required: true}", {}) == [
        "<input>: error: field w -> v: required: expected a value, found none"]


def test_build_errors_are_reported_where_written(problems) -> None:
    assert problems("""
        fields:
          a: {op: unit, of: w, from: kg, to: mm}
          b: {op: unit, of: w, from: kgs, to: g}
          c: {op: unit, of: w, from: kg, to: stone}
    """) == [
        ("m.yaml:5:6: error: fields.a: unit kg->mm: cannot convert mass (kg) to length (mm): "
         "expected two length units or two mass units"),
        ("m.yaml:6:6: error: fields.b: unit kgs->g: unknown unit 'kgs': "
         "expected mm, cm, dm, m, in, ft (length) or g, kg, lb, oz (mass) (did you mean 'kg'?)"),
        ("m.yaml:7:6: error: fields.c: unit kg->stone: unknown unit 'stone': "
         "expected mm, cm, dm, m, in, ft (length) or g, kg, lb, oz (mass)"),
    ]


def test_schema_errors_name_the_yaml_key(problems) -> None:
    assert problems("""
        fields:
          d: {op: unit, of: w, to: g}
          e: {op: unit, of: w, frm: kg, to: g}
          f: {op: unit, of: w, from: kg, to: g, decimals: 9}
    """) == [
        "m.yaml:5:6: error: fields.d.from: required",
        "m.yaml:6:6: error: fields.e.from: required",
        "m.yaml:6:24: error: fields.e.frm: unknown key (did you mean 'from'?)",
        "m.yaml:7:51: error: fields.f.decimals: input should be less than or equal to 6",
    ]


def test_schema_shows_from() -> None:
    from lockerhub.mapping import MappingDoc

    unit = MappingDoc.model_json_schema()["$defs"]["UnitOp"]
    assert {"from", "to", "of", "decimals"} <= set(unit["properties"])
    assert "from" in unit["required"]
