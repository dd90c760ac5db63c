"""What the loader reports, exactly: one positioned line per problem, all of them, sorted by position."""

from __future__ import annotations

SHIPMENT = "mapping: test/ops\nsource: {format: canonical}\ntarget: shipment\n"


def test_unknown_op_with_did_you_mean(problems) -> None:
    assert problems("""
        fields:
          a: {op: lokup, of: x, table: t}
    """) == [
        ("m.yaml:5:11: error: fields.a.op: unknown op 'lokup': expected coalesce | concat | const | datetime | lookup "
         "| number | pad | path | regex | replace | slice | split | text | unit | when (did you mean 'lookup'?)")]


def test_unknown_key_with_did_you_mean(problems) -> None:
    assert problems("""
        fields:
          a: {op: pad, of: x, widht: 5}
    """) == [
        "m.yaml:5:6: error: fields.a.width: required",
        "m.yaml:5:23: error: fields.a.widht: unknown key (did you mean 'width'?)",
    ]


def test_missing_required_key(problems) -> None:
    assert problems("""
        fields:
          a: {op: split, of: x}
          b: {op: regex, of: x}
          c: {op: number}
    """) == [
        "m.yaml:5:6: error: fields.a.index: required",
        "m.yaml:6:6: error: fields.b.pattern: required",
        "m.yaml:7:6: error: fields.c.of: required",
    ]


def test_wrong_type(problems) -> None:
    assert problems("""
        fields:
          a: {op: split, of: x, index: last}
          b: {op: text, of: x, strip: maybe}
          c: {op: concat, parts: x}
    """) == [
        "m.yaml:5:32: error: fields.a.index: expected an integer, found a string",
        "m.yaml:6:31: error: fields.b.strip: expected true or false, found a string",
        "m.yaml:7:26: error: fields.c.parts: expected a list, found a string",
    ]


def test_unknown_lookup_table(problems) -> None:
    assert problems("""
        tables:
          temperature: {A: ambient}
        fields:
          a: {op: lookup, of: x, table: temprature}
    """) == [
        ("m.yaml:7:6: error: fields.a: lookup temprature: unknown table 'temprature': expected one of temperature "
         "(did you mean 'temperature'?)")]


def test_unknown_canonical_field(problems) -> None:
    assert problems("""
        fields:
          reference: ref
          recipient.nmae: name
          parcels:
            repeat: items
            fields:
              weigth_g: {op: unit, of: kg, from: kg, to: g}
    """, head=SHIPMENT) == [
        "m.yaml:6:3: error: unknown shipment field 'recipient.nmae' (did you mean 'recipient.name'?)",
        "m.yaml:10:7: error: unknown shipment field 'parcels[].weigth_g' (did you mean 'parcels[].weight_g'?)",
    ]


def test_every_problem_is_reported_once_in_position_order(problems) -> None:
    assert problems("""
        tables: {t: {A: a}}
        fields:
          z: {op: text, of: {op: concat, parts: [a, {op: regex, of: b, pattern: "("}]}}
          a: {op: unit, of: w, from: kg, to: cm}
          b: {op: lookup, of: x, table: u}
    """) == [
        ("m.yaml:6:45: error: fields.z.of.parts.1: regex '(': invalid regular expression: "
         "missing ), unterminated subpattern at position 0"),
        ("m.yaml:7:6: error: fields.a: unit kg->cm: cannot convert mass (kg) to length (cm): "
         "expected two length units or two mass units"),
        "m.yaml:8:6: error: fields.b: lookup u: unknown table 'u': expected one of t",
    ]


def test_missing_op_and_invalid_yaml(problems) -> None:
    assert problems("""
        fields:
          a: {of: x}
    """) == ["m.yaml:5:6: error: fields.a: missing op"]
    assert problems("""
        fields:
          a: {op: text, of: x
    """) == ["m.yaml:6:1: error: invalid YAML: expected ',' or '}', but got '<stream end>'"]
