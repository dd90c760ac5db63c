"""The compiled mapping and the reference interpreter agree on random records, for a mapping using every op."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from lockerhub.mapping import CompiledMapping, load_mapping
from lockerhub.mapping.compile import interpret
from lockerhub.mapping.ops import OPS
from lockerhub.mapping.ops._conditions import Cond

MAPPING = r"""
mapping: test/property
source: {format: canonical}
target: json
tables:
  codes: {A: alpha, B: beta, "1": one, "true": yes-flag}
fields:
  path: a
  const: {op: const, value: 5}
  lookup: {op: lookup, of: a, table: codes, case_insensitive: true}
  lookup_inline: {op: lookup, of: b, table: {x: 1, y: 2}}
  lookup_null: {op: lookup, of: c, table: codes, missing: "null", default: none}
  number: {op: number, of: a}
  number_comma: {op: number, of: b, decimal: ","}
  unit: {op: unit, of: n, from: kg, to: g}
  unit_decimals: {op: unit, of: a, from: mm, to: in, decimals: 2}
  datetime: {op: datetime, of: d, format: "%Y%m%d%H%M", tz: Europe/Warsaw}
  iso: {op: datetime, of: d}
  text: {op: text, of: a, case: title, collapse_spaces: true}
  raw_text: {op: text, of: c, strip: false}
  slice: {op: slice, of: b, start: -3}
  pad: {op: pad, of: c, width: 6, char: "*", side: right}
  replace: {op: replace, of: a, old: ",", new: "."}
  regex: {op: regex, of: b, pattern: "([0-9]+)", group: 1}
  regex_sub: {op: regex, of: c, pattern: "\\s+", replace: "_"}
  concat: {op: concat, parts: [a, b, {op: const, value: "!"}], sep: "-"}
  split: {op: split, of: a, sep: ",", index: -1}
  coalesce: {op: coalesce, of: [c, {op: number, of: b}, {op: const, value: 0}]}
  when:
    op: when
    if:
      test: any
      of:
        - {test: equals, of: a, value: A}
        - {test: all, of: [{test: exists, of: b}, {test: not, of: {test: in, of: c, values: [1, x, true]}}]}
        - {test: matches, of: d, pattern: "^20"}
    then: {op: number, of: n}
    else: {op: text, of: b, case: upper}
  required: {op: text, of: c, required: true}
  items:
    repeat: items
    fields:
      w: {op: unit, of: w, from: lb, to: kg, decimals: 3}
      k: {op: lookup, of: k, table: codes, missing: "null"}
"""

SAMPLES = st.sampled_from([
    "A", "a", "b", "x", "y", "1", "1,5", "12.5", "-0.25", "  ", "", "true", "ACME 42", " Jan  Kowalski ",
    "202603011430", "202607011430", "2026-03-01T14:30:00+02:00", "2026-03-01T14:30", "2026-07-01", "2026-02-30"])
TEXTS = st.text(alphabet="0123456789.,-+ ABabxyzPL:T\t", max_size=14)
VALUES = st.one_of(st.none(), SAMPLES, SAMPLES, TEXTS, st.integers(-10**6, 10**12), st.floats(allow_nan=False),
                   st.booleans(), st.lists(st.integers(0, 3), max_size=2),
                   st.dictionaries(st.just("k"), st.integers()))
DATES = st.sampled_from(["202603011430", "202607011430", "202613011430", "2026-03-01T14:30:00+02:00",
                         "2026-03-01T14:30", "2026-03-01 14:30:00Z"])
NUMBERS = st.one_of(st.integers(-10**6, 10**12), st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str))
ITEMS = st.lists(st.fixed_dictionaries({}, optional={"w": NUMBERS | VALUES, "k": VALUES}), max_size=3)
RECORDS = st.fixed_dictionaries({}, optional={
    "a": VALUES, "b": st.sampled_from(["x", "y"]) | VALUES, "c": VALUES, "d": DATES | VALUES, "n": NUMBERS | VALUES,
    "items": ITEMS})


def _target(message: str) -> str:
    """The target field an error is about, indexes generalised: ``field w -> items[0].w: ...`` -> ``items[].w``."""
    label = message.split(": ")[0]
    return re.sub(r"\[[0-9]+\]", "[]", label.rsplit(" -> ", 1)[-1].removeprefix("field "))


@pytest.fixture(scope="module")
def mapping(tmp_path_factory: pytest.TempPathFactory) -> CompiledMapping:
    path: Path = tmp_path_factory.mktemp("property") / "every_op.yaml"
    path.write_text(MAPPING, "utf-8")
    return load_mapping(path)


def _nodes(node: BaseModel) -> Iterator[BaseModel]:
    yield node
    for name in type(node).model_fields:
        value = getattr(node, name)
        for part in value if isinstance(value, list) else [value]:
            if isinstance(part, BaseModel):
                yield from _nodes(part)


def test_the_mapping_uses_every_op_and_every_condition(mapping: CompiledMapping) -> None:
    nodes = [n for rule in mapping.doc.fields.values() for n in _nodes(rule)]
    assert {n.op for n in nodes if hasattr(n, "op")} == set(OPS)  # type: ignore[attr-defined]
    assert {n.test for n in nodes if isinstance(n, Cond)} == {  # type: ignore[attr-defined]
        "equals", "in", "exists", "matches", "all", "any", "not"}


@settings(database=None, max_examples=200, deadline=None)
@given(record=RECORDS)
def test_compiled_equals_reference(mapping: CompiledMapping, record: dict[str, Any]) -> None:
    result = mapping.map(record)
    data, failed = interpret(mapping.doc, record, mapping.env)
    assert result.data == data
    failing = [_target(e.message) for e in result.errors]
    assert sorted(failing) == sorted(failed)
    assert result.ok == (not failed)
