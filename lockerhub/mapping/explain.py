"""``lockerhub mapping explain``: where every target field of every record came from.

For each record of a source file and each target field, in mapping order: the source position (what the format's
``locate`` says: ``file:line:col``, EDI segment/element, XML or canonical path), the rule (``op.describe()``) and
the value it gave, or the error it raised. Record-level errors (the target model's own checks) follow. Fields the
target model marks as personal data (recipient name, phone, e-mail, street) show ``<personal data>`` instead of
their value unless ``reveal=True`` (``--reveal``), as ``quarantine show`` does.

With a locker-vendor connector that declares ``request_mappings`` (``{"book": Path(...)}``: outbound mappings
from the canonical model, ``source: {format: canonical}``, to the vendor's request JSON, ``target: json``), each
canonical field also lists the request JSON paths it feeds: those whose rule reads that field with a ``path`` op
(list indexes are ignored: ``parcels[0].weight_g`` matches a read of ``weight_g`` under ``repeat: parcels``, or
of ``weight_g`` in a request mapping built from one parcel).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lockerhub.errors import Location, LockerhubError, errors_sorted
from lockerhub.mapping.compile import CompiledMapping, FieldStep, GroupStep
from lockerhub.mapping.golden import as_json, error_line, item_problem
from lockerhub.mapping.load import load_mapping
from lockerhub.mapping.model import Group
from lockerhub.mapping.ops._base import Op

_DATA_ERRORS = (LockerhubError, ValueError, TypeError, ArithmeticError)
HIDDEN = "<personal data>"  # shown instead of a PII field's value (``reveal`` shows it)
_INDEX = re.compile(r"\[[0-9]*\]")


@dataclass
class FieldTrace:
    """One target field of one record: source position -> rule -> value (or error)."""

    target: str
    rule: str
    position: str  # rendered source position; "-" when the rule reads no source (a const)
    source: dict[str, Any] | None  # the Location's parts
    value: Any = None
    error: str | None = None
    feeds: list[str] = field(default_factory=list)  # "<request>: <vendor JSON path>"

    def line(self) -> str:
        outcome = f"error: {self.error}" if self.error else json.dumps(self.value, ensure_ascii=False, default=str)
        return f"{self.target}: {self.position} -> {self.rule} -> {outcome}"


@dataclass
class RecordTrace:
    index: int  # 1-based, in the order records are produced
    fields: list[FieldTrace]
    errors: list[str]  # record-level errors (the target model's checks); field errors are on the fields


@dataclass
class Explanation:
    file: str
    mapping: str
    version: int
    mapping_file: str | None
    records: list[RecordTrace]
    connector: str | None = None
    requests: list[str] | None = None  # names of the connector's request mappings; None without --connector
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> Iterator[str]:
        yield f"{self.file}: mapping {self.mapping} v{self.version} ({self.mapping_file})"
        if self.note:
            yield self.note
        elif self.connector:
            yield f"connector {self.connector}: request mappings {', '.join(self.requests or [])}"
        for record in self.records:
            yield f"record {record.index}"
            for f in record.fields:
                yield f"  {f.line()}"
                for feed in f.feeds:
                    yield f"      feeds {self.connector} {feed}"
            for error in record.errors:
                yield f"  {error}"


# --------------------------------------------------------------------------- positions


def position(location: Location | None, source: Path) -> str:
    """``in/drop.csv:3:5 weight_kg``: the location's ``file:line:col (SEG-EL)`` and its path (the file defaults to
    ``source``); ``-`` for none."""
    if location is None:
        return "-"
    where = Location(**{**asdict(location), "file": location.file or str(source), "path": None})
    return f"{where} {location.path}" if location.path else str(where)


def _dotted(keys: Iterable[str | int]) -> str:
    text = ""
    for key in keys:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def _detail(exc: Exception, op: Op, *, hide: bool) -> str:
    if isinstance(exc, LockerhubError):
        bare = copy.copy(exc)
        bare.location = None
        if hide and bare.found is not None:
            bare.found = HIDDEN
        return bare.render().removeprefix("error: ")
    return f"cannot apply {op.describe()}: {type(exc).__name__}"


def _in_mapping_order(steps: Iterable[FieldStep | GroupStep], rules: Mapping[str, Any]) -> list[Any]:
    """The steps of one level in the order the mapping writes them (the compiler may group fields and groups)."""
    names = list(rules)
    rank = {name: i for i, name in enumerate(names)}
    return sorted(steps, key=lambda step: rank.get(getattr(step, "name", None), len(names)))  # type: ignore[arg-type]


def _trace(compiled: CompiledMapping, steps: Iterable[FieldStep | GroupStep], rules: Mapping[str, Any], item: Any,
           base: tuple[str | int, ...], source: Path, out: list[FieldTrace], hidden: frozenset[str]) -> None:
    for step in _in_mapping_order(steps, rules):
        if isinstance(step, GroupStep):
            try:
                items = step.items(item)
            except _DATA_ERRORS as exc:
                out.append(FieldTrace(_dotted((*base, *step.keys)), "repeat", "-", None,
                                      error=f"cannot read the loop: {type(exc).__name__}"))
                continue
            group = rules.get(getattr(step, "name", ""))
            inner = group.fields if isinstance(group, Group) else {}
            for index, sub in enumerate(items):
                _trace(compiled, step.steps, inner, sub, (*base, *step.keys, index), source, out, hidden)
            continue
        location = compiled.locate(item, step.op)
        target = _dotted((*base, *step.keys))
        hide = _INDEX.sub("[]", target) in hidden
        trace = FieldTrace(target, step.op.describe(), position(location, source),
                           asdict(location) if location else None)
        try:
            value = as_json(step.value(item))
            trace.value = HIDDEN if hide and value is not None else value
        except _DATA_ERRORS as exc:
            trace.error = _detail(exc, step.op, hide=hide)
        out.append(trace)


def _record_errors(compiled: CompiledMapping, item: Any, fields: list[FieldTrace], source: Path,
                   extra: Mapping[str, Any] | None) -> list[str]:
    """The record's errors beyond those of its fields (shown on the fields): the target model's objections.
    ``map()`` lists one error per failed field first, then the model's."""
    try:
        errors = compiled.map(item, extra=extra).errors
    except _DATA_ERRORS as exc:  # a loop that cannot be read (shown on its group already)
        return [] if any(f.rule == "repeat" for f in fields) else [f"error: {type(exc).__name__}"]
    skip = sum(1 for f in fields if f.error and f.rule != "repeat")
    return [error_line(e, source, name=str(source)) for e in errors_sorted(list(errors[skip:]))]


# --------------------------------------------------------------------------- vendor requests


def _reads(fields: Mapping[str, Any], source_prefix: str, target_prefix: str) -> Iterator[tuple[str, str]]:
    for name, rule in fields.items():
        if isinstance(rule, Group):
            inner = f"{source_prefix}{rule.repeat}[]." if rule.repeat else source_prefix
            yield from _reads(rule.fields, inner, f"{target_prefix}{name}[].")
            continue
        for path in rule.paths():
            yield _INDEX.sub("[]", f"{source_prefix}{path}"), f"{target_prefix}{name}"


def request_paths(requests: Mapping[str, CompiledMapping]) -> list[tuple[str, str]]:
    """(canonical path read, ``<request>: <vendor JSON path>``) for every ``path`` op of every request mapping."""
    out: list[tuple[str, str]] = []
    for name, compiled in requests.items():
        doc = compiled.doc
        prefix = f"{doc.repeat}[]." if doc.repeat else ""
        out.extend((canonical, f"{name}: {target}") for canonical, target in _reads(doc.fields, prefix, ""))
    return out


def _roots(field_path: str) -> list[str]:
    """The field as read from the whole record and from each list item it is in:
    ``parcels[].dimensions.length_mm`` -> ``[parcels[].dimensions.length_mm, dimensions.length_mm]``."""
    parts = field_path.split("[].")
    return ["[].".join(parts[i:]) for i in range(len(parts))]


def feeds_of(target: str, reads: list[tuple[str, str]]) -> list[str]:
    """The vendor request paths fed by canonical field ``target``: requests whose ``path`` reads the field, an
    object around it or a part of it, from the whole record or from a list item (a request built from one
    ``Parcel`` of a ``Shipment`` reads ``weight_g`` for ``parcels[0].weight_g``)."""
    roots = _roots(_INDEX.sub("[]", target))
    out = []
    for canonical, vendor in reads:
        if vendor not in out and any(canonical == root or root.startswith((canonical + ".", canonical + "["))
                                     or canonical.startswith((root + ".", root + "[")) for root in roots):
            out.append(vendor)
    return out


def connector_requests(connector_id: str) -> dict[str, CompiledMapping] | None:
    """The connector's ``request_mappings``, loaded; None when it declares none."""
    from lockerhub.plugins.registry import registry

    cls = registry().load(connector_id)
    declared = getattr(cls, "request_mappings", None)
    if not declared:
        return None
    return {name: load_mapping(Path(path)) for name, path in declared.items()}


# --------------------------------------------------------------------------- explain


def explain(source: str | Path, compiled: CompiledMapping, *, connector: str | None = None,
            requests: Mapping[str, CompiledMapping] | None = None,
            extra: Mapping[str, Any] | None = None, reveal: bool = False) -> Explanation:
    """Trace every record of ``source`` through ``compiled``; with ``connector``, the vendor paths each field
    feeds (``requests`` defaults to the connector's ``request_mappings``). Values of fields the target model marks
    as personal data are shown as ``<personal data>`` unless ``reveal``."""
    source = Path(source)
    hidden: frozenset[str] = frozenset() if reveal else getattr(compiled, "pii", frozenset())
    note = None
    if connector is not None and requests is None:
        requests = connector_requests(connector)
        if requests is None:
            note = (f"connector {connector} declares no request mappings (request_mappings), so the vendor "
                    "request paths fed by each field cannot be shown")
    reads = request_paths(requests) if requests else []
    records: list[RecordTrace] = []
    for document in compiled.format.read(source, **compiled.doc.source.options):
        problem = item_problem(document)
        if problem is not None:
            records.append(RecordTrace(len(records) + 1, [], [error_line(problem, source, name=str(source))]))
            continue
        for item in compiled.records(document):
            fields: list[FieldTrace] = []
            _trace(compiled, compiled.steps, compiled.doc.fields, item, (), source, fields, hidden)
            for f in fields:
                f.feeds = feeds_of(f.target, reads) if reads else []
            records.append(RecordTrace(len(records) + 1, fields, _record_errors(compiled, item, fields, source,
                                                                                extra)))
    return Explanation(str(source), compiled.doc.mapping, compiled.doc.version, compiled.file, records,
                       connector=connector, requests=sorted(requests) if requests else None, note=note)
