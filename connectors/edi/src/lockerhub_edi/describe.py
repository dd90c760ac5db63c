"""A parsed EDI file as plain data (``lockerhub edi parse --json``): interchanges -> groups -> transactions ->
segments, each segment as its tag and element values (components as lists), with its number and line."""

from __future__ import annotations

from typing import Any

from lockerhub_edi.segments import Segment
from lockerhub_edi.tree import Group, Interchange, Transaction


def segment_dict(segment: Segment) -> dict[str, Any]:
    d = segment.delimiters
    elements: list[Any] = []
    for raw in segment.elements:
        # the ISA header holds the separators themselves as data: never split it
        parts = [raw] if segment.tag == "ISA" else d.split(raw, d.component)
        elements.append([d.unescape(p) for p in parts] if len(parts) > 1 else d.unescape(raw))
    return {"tag": segment.tag, "number": segment.number, "line": segment.line, "elements": elements}


def _transaction(t: Transaction) -> dict[str, Any]:
    segments = [t.header, *t.segments, *([t.trailer] if t.trailer else [])]
    return {"kind": t.kind, "control": t.control, "segments": [segment_dict(s) for s in segments]}


def _group(g: Group) -> dict[str, Any]:
    return {"header": segment_dict(g.header) if g.header else None,
            "transactions": [_transaction(t) for t in g.transactions],
            "trailer": segment_dict(g.trailer) if g.trailer else None}


def document_dict(interchanges: list[Interchange]) -> list[dict[str, Any]]:
    return [{"header": segment_dict(i.header), "groups": [_group(g) for g in i.groups],
             "trailer": segment_dict(i.trailer) if i.trailer else None} for i in interchanges]
