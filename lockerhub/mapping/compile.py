"""Compile a mapping once into plain callables, then map records with them.

``compile_mapping(doc)`` resolves the source format, checks nothing further (``load`` already did) and builds
one closure per field. ``CompiledMapping.map(item)`` returns a :class:`MapResult`: the target record (a canonical
model or a JSON document) or every error of that record, each with the source position of the field it concerns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic

from lockerhub.errors import Location, LockerhubError, MappingError
from lockerhub.mapping.formats import get_format, parse_dotted
from lockerhub.mapping.model import Group, MappingDoc
from lockerhub.mapping.ops._base import Env, Op
from lockerhub.model import ParcelEvent, Shipment

TARGET_MODELS: dict[str, type[pydantic.BaseModel] | None] = {
    "shipment": Shipment, "parcel_event": ParcelEvent, "json": None}
_DATA_ERRORS = (LockerhubError, ValueError, TypeError, ArithmeticError)


@dataclass(frozen=True, slots=True)
class FieldStep:
    target: str  # dotted target path, absolute (parcels[0].weight_g for display; keys hold the real index)
    keys: tuple[str | int, ...]
    fn: Callable[[Any], Any]
    op: Op


@dataclass(frozen=True, slots=True)
class GroupStep:
    target: str
    keys: tuple[str | int, ...]
    items: Callable[[Any], list[Any]]
    steps: tuple[FieldStep | GroupStep, ...]


def put(data: dict[str, Any], keys: tuple[str | int, ...], value: Any) -> None:
    node: Any = data
    last = len(keys) - 1
    for i in range(last):
        key = keys[i]
        if isinstance(key, int):
            while len(node) <= key:
                node.append({})
            node = node[key]
            continue
        child = node.get(key)
        if child is None:
            child = node[key] = [] if isinstance(keys[i + 1], int) else {}
        node = child
    key = keys[last]
    if isinstance(key, int):
        while len(node) <= key:
            node.append(None)
    node[key] = value


def _compile_fields(fields: Mapping[str, Any], env: Env, prefix: str) -> tuple[FieldStep | GroupStep, ...]:
    steps: list[FieldStep | GroupStep] = []
    for name, rule in fields.items():
        keys = parse_dotted(name)
        target = f"{prefix}{name}"
        if isinstance(rule, Group):
            if rule.repeat is None:
                items: Callable[[Any], list[Any]] = lambda item: [item]  # noqa: E731
            else:
                items = env.format.compile_repeat(rule.repeat, version=env.source_version)
            steps.append(GroupStep(target, keys, items, _compile_fields(rule.fields, env, f"{target}[].")))
        else:
            steps.append(FieldStep(target, keys, rule.compile(env), rule))
    return tuple(steps)


@dataclass
class MapResult:
    """The outcome of mapping one source record."""

    item: Any
    value: Any = None  # the target model instance or JSON document; None when there are errors
    errors: list[MappingError] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # the raw target document before model validation
    filled: dict[str, Op] = field(default_factory=dict)  # target path (concrete indexes) -> rule that filled it

    @property
    def ok(self) -> bool:
        return not self.errors


class CompiledMapping:
    """A mapping ready to run: one closure per field, built once."""

    def __init__(self, doc: MappingDoc, *, file: str | None = None, fmt: Any = None) -> None:
        self.doc = doc
        self.file = file
        self.format = fmt if fmt is not None else get_format(doc.source.format)
        self.env = Env(self.format, dict(doc.tables), doc.source.version)
        self.steps = _compile_fields(doc.fields, self.env, "")
        self.records = (self.format.compile_repeat(doc.repeat, version=doc.source.version)
                        if doc.repeat else (lambda item: [item]))
        self.model = TARGET_MODELS[doc.target]

    # -- running ------------------------------------------------------------------------------------------
    def map(self, item: Any, *, extra: Mapping[str, Any] | None = None) -> MapResult:
        """Map one source item (already selected by ``repeat``) to one target record."""
        result = MapResult(item)
        data: dict[str, Any] = dict(extra or {})
        self._run(self.steps, item, data, result, ())
        result.data = data
        if result.errors:
            return result
        if self.model is None:
            result.value = data
            return result
        try:
            result.value = self.model.model_validate(data)
        except pydantic.ValidationError as exc:
            result.errors.extend(self._model_errors(exc, result))
        return result

    def map_document(self, document: Any, *, extra: Mapping[str, Any] | None = None) -> list[MapResult]:
        """All target records of one source document (one per ``repeat`` item, or one)."""
        return [self.map(item, extra=extra) for item in self.records(document)]

    def _run(self, steps: tuple[FieldStep | GroupStep, ...], item: Any, data: dict[str, Any], result: MapResult,
             base: tuple[str | int, ...]) -> None:
        for step in steps:
            if isinstance(step, GroupStep):
                for index, sub in enumerate(step.items(item)):
                    target: dict[str, Any] = {}
                    self._run(step.steps, sub, target, result, (*base, *step.keys, index))
                    put(data, (*step.keys, index), target)
                continue
            try:
                value = step.fn(item)
            except _DATA_ERRORS as exc:
                result.errors.append(self._field_error(step, item, exc))
                continue
            if value is not None:
                put(data, step.keys, value)
                result.filled[_dotted((*base, *step.keys))] = step.op

    # -- errors and positions -----------------------------------------------------------------------------
    def locate(self, item: Any, op: Op) -> Location | None:
        first = next(op.paths(), None)
        return self.format.locate(item, first) if first is not None else None

    def _field_error(self, step: FieldStep, item: Any, exc: Exception) -> MappingError:
        location = self.locate(item, step.op)
        if isinstance(exc, LockerhubError):
            return MappingError(f"{_label(step.target, step.op)}: {exc.message}", location=location,
                                expected=exc.expected, found=exc.found, hint=exc.hint)
        return MappingError(f"{_label(step.target, step.op)}: cannot apply {step.op.describe()}",
                            location=location, found=type(exc).__name__)

    def _model_errors(self, exc: pydantic.ValidationError, result: MapResult) -> Iterator[MappingError]:
        for err in exc.errors(include_url=False):
            path = _dotted(err["loc"])
            op = result.filled.get(path) or next(
                (o for p, o in result.filled.items() if p.startswith(path + ".") or p.startswith(path + "[")), None)
            location = self.locate(result.item, op) if op is not None else None
            label = _label(path, op) if op is not None else f"field {path}"
            cause = _lockerhub_cause(err)
            if cause is not None:
                yield MappingError(f"{label}: {cause.message}", location=location, expected=cause.expected,
                                   found=cause.found)
            elif err["type"] == "missing":
                yield MappingError(f"{label}: required by the {self.doc.target} model", location=location,
                                   expected="a rule that gives it a value", found="none")
            else:
                yield MappingError(f"{label}: {err['msg'][:1].lower()}{err['msg'][1:]}", location=location)


def _label(target: str, op: Op | None) -> str:
    paths = list(op.paths()) if op is not None else []
    return f"{target} (from {paths[0]})" if paths else target


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for key in loc:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def _lockerhub_cause(err: Any) -> LockerhubError | None:
    exc = (err.get("ctx") or {}).get("error")
    while exc is not None:
        if isinstance(exc, LockerhubError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def interpret(doc: MappingDoc, item: Any, env: Env) -> tuple[dict[str, Any], list[str]]:
    """Reference semantics, straight from the model tree (no compilation): the target document and the failing
    field paths. Property tests compare :class:`CompiledMapping` against this."""
    data: dict[str, Any] = {}
    failed: list[str] = []

    def walk(fields: Mapping[str, Any], node: Any, out: dict[str, Any], prefix: str) -> None:
        for name, rule in fields.items():
            keys = parse_dotted(name)
            if isinstance(rule, Group):
                items = [node] if rule.repeat is None else list(env.format.compile_repeat(rule.repeat)(node))
                for index, sub in enumerate(items):
                    target: dict[str, Any] = {}
                    walk(rule.fields, sub, target, f"{prefix}{name}[].")
                    put(out, (*keys, index), target)
                continue
            try:
                value = rule.run(node, env)
            except _DATA_ERRORS:
                failed.append(f"{prefix}{name}")
                continue
            if value is not None:
                put(out, keys, value)

    walk(doc.fields, item, data, "")
    return data, failed
