"""``lookup``: codes through a named or inline table, compared as text."""

from __future__ import annotations

TABLES = "{temperature: {A: ambient, C: chilled, F: frozen}, sizes: {'1': S, '2': M}}"


def test_named_and_inline_tables(value) -> None:
    assert value("{op: lookup, of: t, table: temperature}", {"t": "C"}, TABLES) == "chilled"
    assert value("{op: lookup, of: t, table: {Y: true, N: false}}", {"t": "N"}) is False


def test_codes_are_compared_as_text(value) -> None:
    assert value("{op: lookup, of: s, table: sizes}", {"s": 2}, TABLES) == "M"
    assert value("{op: lookup, of: s, table: sizes}", {"s": "1"}, TABLES) == "S"


def test_numeric_yaml_codes_are_text(value) -> None:
    assert value("{op: lookup, of: s, table: sizes}", {"s": "2"}, "{sizes: {1: S, 2: M}}") == "M"
    assert value("{op: lookup, of: s, table: {1: S, 2.5: M}}", {"s": 2.5}) == "M"


def test_case_insensitive(value, fails) -> None:
    rule = "{op: lookup, of: t, table: temperature, case_insensitive: true}"
    assert value(rule, {"t": "c"}, TABLES) == "chilled"
    assert fails("{op: lookup, of: t, table: temperature}", {"t": "c"}, TABLES) == [
        ("<input>: error: field t -> v: expected one of the 3 codes in table temperature, found 'c' "
         "(rule: lookup temperature)")]


def test_unknown_code(fails) -> None:
    assert fails("{op: lookup, of: t, table: temperature}", {"t": "X"}, TABLES) == [
        ("<input>: error: field t -> v: expected one of the 3 codes in table temperature, found 'X' "
         "(rule: lookup temperature)")]
    assert fails("{op: lookup, of: t, table: {Y: 1, N: 0}}", {"t": 7}) == [
        ("<input>: error: field t -> v: expected one of the 2 codes in the inline table, found 7 "
         "(rule: lookup (inline table))")]


def test_missing_null_lets_default_apply(value) -> None:
    rule = "{op: lookup, of: t, table: temperature, missing: 'null', default: ambient}"
    assert value(rule, {"t": "X"}, TABLES) == "ambient"
    assert value(rule, {"t": "F"}, TABLES) == "frozen"
    assert value("{op: lookup, of: t, table: temperature, missing: 'null'}", {"t": "X"}, TABLES) is None


def test_none_default_required(value, fails) -> None:
    assert value("{op: lookup, of: t, table: temperature}", {}, TABLES) is None
    assert value("{op: lookup, of: t, table: temperature, default: ambient}", {}, TABLES) == "ambient"
    assert fails("{op: lookup, of: t, table: temperature, required: true}", {}, TABLES) == [
        "<input>: error: field t -> v: required: expected a value, found none"]


def test_build_errors(problems) -> None:
    assert problems(f"""
        tables: {TABLES}
        fields:
          a: {{op: lookup, of: t, table: temperatur}}
          b: {{op: lookup, of: t, table: colours}}
          c: {{op: lookup, of: t, table: {{a: x, A: y}}, case_insensitive: true}}
          d: {{op: lookup, of: t, table: {{a: x, A: x}}, case_insensitive: true}}
    """) == [
        ("m.yaml:6:6: error: fields.a: lookup temperatur: unknown table 'temperatur': "
         "expected one of sizes, temperature (did you mean 'temperature'?)"),
        "m.yaml:7:6: error: fields.b: lookup colours: unknown table 'colours': expected one of sizes, temperature",
        ("m.yaml:8:6: error: fields.c: lookup (inline table): "
         "codes that differ only in letter case map to different values: 'A'"),
    ]
    assert problems("""
        fields:
          a: {op: lookup, of: t, table: temperature}
    """) == [("m.yaml:5:6: error: fields.a: lookup temperature: unknown table 'temperature': "
             "the mapping has no `tables:`")]


def test_schema_errors(problems) -> None:
    assert problems("""
        fields:
          a: {op: lookup, of: t, table: temperature, missing: skip}
          b: {op: lookup, of: t}
    """) == [
        "m.yaml:5:55: error: fields.a.missing: expected 'error' or 'null', found a string",
        "m.yaml:6:6: error: fields.b.table: required",
    ]
