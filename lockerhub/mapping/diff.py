"""``lockerhub mapping diff``: what changed between two mappings (two files, or two versions of one mapping).

Compared: the header (id, version, description, effective dates, source, target, record ``repeat``), the lookup
tables (code by code) and the field rules, by target path (``parcels[].weight_g``; a group's loop is listed as
``parcels[] repeat``). A rule is changed when its model's ``model_dump()`` differs; the listing then shows both
renderings and each differing setting::

    mapping acme-tms/shipments: v1 (shipments.v1.yaml) -> v2 (shipments.v2.yaml)
      ~ effective_from: null -> "2026-03-01"
      + table temperature
      ~ table size: M: "medium" -> "M"
      + field parcels[].sscc: path sscc
      - field recipient.phone: path phone
      ~ field parcels[].weight_g: unit weight_kg kg->g -> unit weight_lb lb->g
          from: "kg" -> "lb"
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from lockerhub.mapping.compile import CompiledMapping
from lockerhub.mapping.load import load_mapping
from lockerhub.mapping.model import Group, MappingDoc

Kind = Literal["header", "table", "field"]
Change = Literal["added", "removed", "changed"]
_MARK = {"added": "+", "removed": "-", "changed": "~"}
_HEADER = ("mapping", "version", "description", "effective_from", "effective_to", "source", "target", "repeat")


@dataclass
class Difference:
    kind: Kind
    change: Change
    path: str  # header key, table name or target field path
    before: Any = None  # JSON-ready dump (None when added)
    after: Any = None  # (None when removed)
    summary: str = ""  # one-line rendering of the change
    details: list[str] = field(default_factory=list)  # differing settings: "from: \"kg\" -> \"lb\""

    def lines(self) -> Iterator[str]:
        label = self.path if self.kind == "header" else f"{self.kind} {self.path}"
        yield f"  {_MARK[self.change]} {label}{': ' + self.summary if self.summary else ''}"
        for detail in self.details:
            yield f"      {detail}"


@dataclass
class MappingDiff:
    a: str  # "acme-tms/shipments v1 (file)"
    b: str
    differences: list[Difference]

    @property
    def same(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "same": self.same, "differences": [asdict(d) for d in self.differences]}

    def lines(self) -> Iterator[str]:
        yield f"{self.a} -> {self.b}"
        if self.same:
            yield "  no differences"
        for d in self.differences:
            yield from d.lines()


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested dump as dotted leaves (``of.path``, ``cases[0].value``)."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, sub in value.items():
            out.update(_flat(sub, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, sub in enumerate(value):
            out.update(_flat(sub, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def _details(before: Any, after: Any, absent: str = "(none)") -> list[str]:
    old, new = _flat(before), _flat(after)
    lines = []
    for key in [*old, *(k for k in new if k not in old)]:
        if key not in new:
            lines.append(f"{key or '(value)'}: {_show(old[key])} -> {absent}")
        elif key not in old:
            lines.append(f"{key or '(value)'}: {absent} -> {_show(new[key])}")
        elif old[key] != new[key] or type(old[key]) is not type(new[key]):
            lines.append(f"{key or '(value)'}: {_show(old[key])} -> {_show(new[key])}")
    return lines


def compact(value: Any) -> Any:
    """A model as JSON without the settings left at their defaults (the discriminators ``op``/``test`` stay), keyed
    as written in YAML (``from``, ``if``)."""
    if isinstance(value, BaseModel):
        out = {}
        for name, info in type(value).model_fields.items():
            item = getattr(value, name)
            factory = info.default_factory
            default = factory() if factory is not None else info.default  # type: ignore[call-arg]
            if typing.get_origin(info.annotation) is Literal or item != default:
                out[info.alias or name] = compact(item)
        return out
    if isinstance(value, (list, tuple)):
        return [compact(v) for v in value]
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items()}
    return json.loads(json.dumps(value, default=str))


def rules(doc: MappingDoc) -> dict[str, tuple[str, Any, Any]]:
    """Target path -> (one-line rendering, ``model_dump()``, :func:`compact` dump) of every rule; a group's loop
    is ``<path>[] repeat``."""
    out: dict[str, tuple[str, Any, Any]] = {}

    def walk(fields: Mapping[str, Any], prefix: str) -> None:
        for name, rule in fields.items():
            if isinstance(rule, Group):
                out[f"{prefix}{name}[] repeat"] = (f"repeat {rule.repeat}" if rule.repeat else "one item",
                                                   rule.repeat, rule.repeat)
                walk(rule.fields, f"{prefix}{name}[].")
            else:
                out[f"{prefix}{name}"] = (rule.describe(), rule.model_dump(mode="json", by_alias=True),
                                          compact(rule))

    walk(doc.fields, "")
    return out


def _compare(kind: Kind, before: Mapping[str, Any], after: Mapping[str, Any],
             render: Any = _show) -> Iterator[Difference]:
    for key in [*before, *(k for k in after if k not in before)]:
        if key not in after:
            yield Difference(kind, "removed", key, before=before[key], summary=render(before[key]))
        elif key not in before:
            yield Difference(kind, "added", key, after=after[key], summary=render(after[key]))
        elif before[key] != after[key]:
            yield Difference(kind, "changed", key, before[key], after[key],
                             f"{render(before[key])} -> {render(after[key])}", _details(before[key], after[key]))


def _codes(table: dict[str, Any]) -> str:
    return f"{len(table)} code{'s' if len(table) != 1 else ''}"


def _header(doc: MappingDoc) -> dict[str, Any]:
    """The header as dotted keys (``source.options.delimiter``); empty option mappings are left out."""
    dump = doc.model_dump(mode="json", include=set(_HEADER))
    return {k: v for k, v in _flat({k: dump[k] for k in _HEADER}).items() if v != {} and v != []}


def _label(doc: MappingDoc, file: str | None) -> str:
    return f"mapping {doc.mapping} v{doc.version}" + (f" ({file})" if file else "")


def _doc(value: str | Path | CompiledMapping | MappingDoc) -> tuple[MappingDoc, str | None]:
    if isinstance(value, MappingDoc):
        return value, None
    if isinstance(value, CompiledMapping):
        return value.doc, value.file
    compiled = load_mapping(value)
    return compiled.doc, compiled.file


def diff(a: str | Path | CompiledMapping | MappingDoc, b: str | Path | CompiledMapping | MappingDoc) -> MappingDiff:
    """The differences from mapping ``a`` to mapping ``b`` (files are loaded and checked first)."""
    doc_a, file_a = _doc(a)
    doc_b, file_b = _doc(b)
    differences: list[Difference] = []
    for d in _compare("header", _header(doc_a), _header(doc_b)):
        d.details = []
        differences.append(d)
    for d in _compare("table", doc_a.tables, doc_b.tables, render=_codes):
        if d.change == "changed":
            d.summary = "; ".join(_details(d.before, d.after))
            d.details = []
        differences.append(d)
    rules_a, rules_b = rules(doc_a), rules(doc_b)
    for d in _compare("field", {k: v[1] for k, v in rules_a.items()}, {k: v[1] for k, v in rules_b.items()}):
        if d.change == "changed":
            (text_a, _, short_a), (text_b, _, short_b) = rules_a[d.path], rules_b[d.path]
            d.summary = f"{text_a} -> {text_b}"
            same_op = isinstance(short_a, dict) and isinstance(short_b, dict) and short_a.get("op") == short_b.get(
                "op")
            d.details = _details(short_a, short_b, absent="(default)") if same_op else []
        else:
            d.summary = (rules_a.get(d.path) or rules_b[d.path])[0]
        differences.append(d)
    return MappingDiff(_label(doc_a, file_a), _label(doc_b, file_b), differences)
