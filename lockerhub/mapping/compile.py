"""Compile a mapping once into plain callables, then map records with them.

``compile_mapping(doc)`` resolves the source format, checks nothing further (``load`` already did) and builds
one closure per field. ``CompiledMapping.map(item)`` returns a :class:`MapResult`: the target record (a canonical
model or a JSON document) or every error of that record, each with the source position of the field it concerns.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic

from lockerhub.errors import Location, LockerhubError, MappingError
from lockerhub.mapping.formats import get_format, get_keys, parse_dotted
from lockerhub.mapping.model import Group, MappingDoc
from lockerhub.mapping.ops._base import Env, MissingValue, Op
from lockerhub.model import ParcelEvent, Shipment

TARGET_MODELS: dict[str, type[pydantic.BaseModel] | None] = {
    "shipment": Shipment, "parcel_event": ParcelEvent, "json": None}
_DATA_ERRORS = (LockerhubError, ValueError, TypeError, ArithmeticError)


@dataclass(frozen=True, slots=True)
class FieldStep:
    target: str  # generic target path (parcels[].weight_g)
    name: str  # the path relative to its group (weight_g), as written
    keys: tuple[str | int, ...]
    fn: Callable[[Any], Any]  # the op's own closure; `default` and `required` are applied by the runner
    op: Op
    setter: Callable[[dict[str, Any], Any], None]
    default: Any = None
    required: bool = False

    def value(self, item: Any) -> Any:
        """The field's value for ``item`` with ``default`` and ``required`` applied (raises MissingValue)."""
        value = self.fn(item)
        if value is None:
            value = self.default
            if value is None and self.required:
                raise MissingValue(f"{self.op.describe()}: required", expected="a value", found="nothing")
        return value


@dataclass(frozen=True, slots=True)
class GroupStep:
    target: str
    name: str
    keys: tuple[str | int, ...]
    items: Callable[[Any], list[Any]]
    fields: tuple[FieldStep, ...]
    groups: tuple[GroupStep, ...]
    setter: Callable[[dict[str, Any], Any], None]

    @property
    def steps(self) -> tuple[FieldStep | GroupStep, ...]:
        return (*self.fields, *self.groups)


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


def setter(keys: tuple[str | int, ...]) -> Callable[[dict[str, Any], Any], None]:
    """A fast assignment for one target path (the common shapes get a closure without a loop)."""
    if len(keys) == 1 and isinstance(keys[0], str):
        key = keys[0]

        def set_one(data: dict[str, Any], value: Any) -> None:
            data[key] = value
        return set_one
    if all(isinstance(k, str) for k in keys):
        head, last = keys[:-1], keys[-1]

        def set_nested(data: dict[str, Any], value: Any) -> None:
            node = data
            for key in head:
                child = node.get(key)
                if child is None:
                    child = node[key] = {}
                node = child
            node[last] = value
        return set_nested
    return lambda data, value: put(data, keys, value)


def _compile_fields(fields: Mapping[str, Any], env: Env,
                    prefix: str) -> tuple[tuple[FieldStep, ...], tuple[GroupStep, ...]]:
    plain: list[FieldStep] = []
    groups: list[GroupStep] = []
    for name, rule in fields.items():
        keys = parse_dotted(name)
        target = f"{prefix}{name}"
        if isinstance(rule, Group):
            if rule.repeat is None:
                items: Callable[[Any], list[Any]] = lambda item: [item]  # noqa: E731
            else:
                items = env.format.compile_repeat(rule.repeat, version=env.source_version)
            groups.append(GroupStep(target, name, keys, items, *_compile_fields(rule.fields, env, f"{target}[]."),
                                    setter(keys)))
        else:
            plain.append(FieldStep(target, name, keys, rule.build(env), rule, setter(keys), rule.default,
                                   rule.required))
    return tuple(plain), tuple(groups)


class MapResult:
    """The outcome of mapping one source record."""

    __slots__ = ("_filled", "data", "errors", "item", "mapping", "value")

    def __init__(self, item: Any, mapping: CompiledMapping) -> None:
        self.item = item
        self.mapping = mapping
        self.value: Any = None  # the target model instance or JSON document; None when there are errors
        self.errors: list[MappingError] = []
        self.data: dict[str, Any] = {}  # the raw target document before model validation
        self._filled: dict[str, Op] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def filled(self) -> dict[str, Op]:
        """Target path (concrete indexes) -> the rule that gave it a value; worked out when first asked for."""
        if self._filled is None:
            self._filled = self.mapping.filled_paths(self.data)
        return self._filled


class CompiledMapping:
    """A mapping ready to run: one closure per field, built once."""

    def __init__(self, doc: MappingDoc, *, file: str | None = None, fmt: Any = None) -> None:
        self.doc = doc
        self.file = file
        self.format = fmt if fmt is not None else get_format(doc.source.format)
        self.env = Env(self.format, dict(doc.tables), doc.source.version)
        self.fields, self.groups = _compile_fields(doc.fields, self.env, "")
        self.records = (self.format.compile_repeat(doc.repeat, version=doc.source.version)
                        if doc.repeat else (lambda item: [item]))
        self.model = TARGET_MODELS[doc.target]
        self.pii = pii_paths(self.model) if self.model is not None else frozenset()

    # -- running ------------------------------------------------------------------------------------------
    def map(self, item: Any, *, extra: Mapping[str, Any] | None = None) -> MapResult:
        """Map one source item (already selected by ``repeat``) to one target record."""
        result = MapResult(item, self)
        data: dict[str, Any] = dict(extra) if extra else {}
        failed: set[str] = set()
        self._run(self.fields, self.groups, item, data, result, "", failed)
        result.data = data
        if self.model is None:
            if not result.errors:
                result.value = data
            return result
        try:
            value = self.model.model_validate(data)
        except pydantic.ValidationError as exc:
            # Report the model's objections too (all errors of a record at once), except on fields whose rule
            # already failed: those would only repeat the first message.
            result.errors.extend(e for path, e in self._model_errors(exc, result) if not _covers(path, failed))
            return result
        if not result.errors:
            result.value = value
        return result

    def map_document(self, document: Any, *, extra: Mapping[str, Any] | None = None) -> list[MapResult]:
        """All target records of one source document (one per ``repeat`` item, or one)."""
        return [self.map(item, extra=extra) for item in self.records(document)]

    @property
    def steps(self) -> tuple[FieldStep | GroupStep, ...]:
        return (*self.fields, *self.groups)

    def filled_paths(self, data: dict[str, Any]) -> dict[str, Op]:
        """Target paths with a value in ``data`` -> the rule that writes them (for lineage and explain)."""
        out: dict[str, Op] = {}

        def walk(fields: tuple[FieldStep, ...], groups: tuple[GroupStep, ...], node: Any, prefix: str) -> None:
            for step in fields:
                if get_keys(node, step.keys) is not None:
                    out[prefix + step.name] = step.op
            for group in groups:
                for index, sub in enumerate(get_keys(node, group.keys) or []):
                    walk(group.fields, group.groups, sub, f"{prefix}{group.name}[{index}].")

        walk(self.fields, self.groups, data, "")
        return out

    def _run(self, fields: tuple[FieldStep, ...], groups: tuple[GroupStep, ...], item: Any, data: dict[str, Any],
             result: MapResult, prefix: str, failed: set[str]) -> None:
        for step in fields:
            try:  # FieldStep.value, inlined: a call per field costs ~5% of benchmarks.mapping
                value = step.fn(item)
                if value is None:
                    value = step.default
                    if value is None and step.required:
                        raise MissingValue(f"{step.op.describe()}: required", expected="a value", found="nothing")
            except _DATA_ERRORS as exc:
                path = prefix + step.name
                failed.add(path)
                result.errors.append(self._field_error(step, item, exc, path))
                continue
            if value is not None:
                step.setter(data, value)
        for group in groups:
            items: list[Any] = []
            for index, sub in enumerate(group.items(item)):
                target: dict[str, Any] = {}
                self._run(group.fields, group.groups, sub, target, result, f"{prefix}{group.name}[{index}].", failed)
                items.append(target)
            if items:  # a loop with no iteration writes nothing (as the reference interpreter does)
                group.setter(data, items)

    # -- errors and positions -----------------------------------------------------------------------------
    def locate(self, item: Any, op: Op) -> Location | None:
        first = next(op.paths(), None)
        return self.format.locate(item, first) if first is not None else None

    def locate_target(self, item: Any, target: str, op: Op) -> Location | None:
        """Where the value of ``target`` came from: a field of a list group (``parcels[1].weight_g``) is located in
        its own loop item (paths inside a group are relative to it)."""
        groups, rest = self.groups, target
        while groups:
            group = next((g for g in groups if rest.startswith(f"{g.name}[")), None)
            if group is None:
                break
            index, _, rest = rest[len(group.name) + 1:].partition("].")
            try:
                item = group.items(item)[int(index)]
            except (IndexError, ValueError):
                break
            groups = group.groups
        return self.locate(item, op)

    def label(self, target: str, op: Op | None) -> str:
        """``column weight_kg -> parcels[0].weight_g``: the source (in the format's words) and the target."""
        first = next(op.paths(), None) if op is not None else None
        if first is None:
            return f"field {target}"
        name = getattr(self.format, "label", None)
        return f"{name(first) if name else first} -> {target}"

    def _field_error(self, step: FieldStep, item: Any, exc: Exception, target: str) -> MappingError:
        location, label = self.locate(item, step.op), self.label(target, step.op)
        if isinstance(exc, MissingValue):
            return MappingError(f"{label}: required", location=location, expected="a value", found="none")
        if isinstance(exc, LockerhubError):
            found = _PII_FOUND if _generic(step.target) in self.pii else exc.found
            return MappingError(label, location=location, expected=exc.expected, found=found,
                                hint=exc.hint or f"rule: {exc.message}")
        return MappingError(f"{label}: cannot apply {step.op.describe()}", location=location,
                            found=type(exc).__name__)

    def _model_errors(self, exc: pydantic.ValidationError,
                      result: MapResult) -> Iterator[tuple[str, MappingError]]:
        """(target path, error) for each objection of the target model, at the source of that field."""
        for err in exc.errors(include_url=False):
            path = _dotted(err["loc"])
            op = result.filled.get(path) or next(
                (o for p, o in result.filled.items() if p.startswith(path + ".") or p.startswith(path + "[")), None)
            location = self.locate_target(result.item, path, op) if op is not None else None
            label = self.label(path, op)
            cause = _lockerhub_cause(err)
            pii = _generic(path) in self.pii
            if cause is not None:
                yield path, MappingError(f"{label}: {cause.message}", location=location,
                                         expected=cause.expected, found=_PII_FOUND if pii else cause.found)
            elif err["type"] == "missing":
                yield path, MappingError(f"{label}: required by the {self.doc.target} model", location=location,
                                         expected="a rule that gives it a value", found="none")
            elif (expected := _expected(err)) is not None:
                found = _PII_FOUND if pii else _shown(err.get("input"))
                yield path, MappingError(label, location=location, expected=expected, found=found)
            elif pii:  # pydantic's own message may quote the value
                yield path, MappingError(f"{label}: invalid ({err['type']})", location=location, found=_PII_FOUND)
            else:
                yield path, MappingError(f"{label}: {err['msg'][:1].lower()}{err['msg'][1:]}", location=location)


_PII_FOUND = "a value not shown (personal data)"


def _expected(err: Any) -> str | None:
    """What the canonical model wanted, in words, for the common pydantic error kinds."""
    ctx, kind = err.get("ctx") or {}, err["type"]
    table = {
        "greater_than_equal": lambda: f">= {ctx['ge']}", "less_than_equal": lambda: f"<= {ctx['le']}",
        "greater_than": lambda: f"> {ctx['gt']}", "less_than": lambda: f"< {ctx['lt']}",
        "enum": lambda: str(ctx["expected"]), "literal_error": lambda: str(ctx["expected"]),
        "string_too_short": lambda: f"at least {ctx['min_length']} characters",
        "string_too_long": lambda: f"at most {ctx['max_length']} characters",
        "int_parsing": lambda: "an integer", "int_type": lambda: "an integer", "string_type": lambda: "text",
        "too_short": lambda: f"at least {ctx['min_length']} item(s)",
    }
    make = table.get(kind)
    return make() if make else None


def _shown(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def pii_paths(model: type[pydantic.BaseModel], prefix: str = "") -> frozenset[str]:
    """Dotted paths (lists as ``[]``) of the fields marked as personal data in ``model`` and its sub-models."""
    out: set[str] = set()
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get("pii"):
            out.add(f"{prefix}{name}")
        for arg in (info.annotation, *typing.get_args(info.annotation)):
            inner = typing.get_args(arg)[0] if typing.get_origin(arg) is list else arg
            if isinstance(inner, type) and issubclass(inner, pydantic.BaseModel):
                sep = "[]." if typing.get_origin(arg) is list else "."
                out |= pii_paths(inner, f"{prefix}{name}{sep}")
    return frozenset(out)


def _generic(path: str) -> str:
    """``parcels[0].weight_g`` -> ``parcels[].weight_g``."""
    return re.sub(r"\[[0-9]+\]", "[]", path)


def _covers(path: str, failed: set[str]) -> bool:
    """True when ``path`` is a failed field or holds one (``recipient`` holds ``recipient.phone``)."""
    return any(f == path or f.startswith(path + ".") or f.startswith(path + "[") for f in failed)


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
