"""Load a mapping file: YAML with positions -> schema validation -> semantic checks -> compiled mapping.

Every problem is reported as ``file:line:col: error: key.path: what is wrong`` and all of them are collected
before raising (an :class:`~lockerhub.errors.ErrorGroup`). Semantic checks happen at load time, not on the
first record: every source path must compile for the declared format and version, every lookup table must
exist, every target field must exist in the target model (with a "did you mean").
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pydantic

from lockerhub import _yaml
from lockerhub.errors import ConfigError, ErrorGroup, LockerhubError
from lockerhub.mapping.compile import TARGET_MODELS, CompiledMapping
from lockerhub.mapping.formats import get_format, parse_dotted
from lockerhub.mapping.model import Group, MappingDoc, Source
from lockerhub.mapping.ops import OPS
from lockerhub.mapping.ops._base import Env


@cache
def vocabulary() -> list[str]:
    """Every key the language knows (for "did you mean"): YAML keys (aliases such as `from`), including those of
    models nested in ops (the conditions of `when`)."""
    words: set[str] = set()
    seen: set[type] = set()

    def visit(model: type[pydantic.BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, info in model.model_fields.items():
            words.add(info.alias or name)
            for nested in _models(info.annotation):
                visit(nested)

    for model in (MappingDoc, Source, Group, *OPS.values()):
        visit(model)  # type: ignore[arg-type]
    return sorted(words)


def _models(annotation: Any) -> Iterator[type[pydantic.BaseModel]]:
    """Model classes inside a type annotation (through unions, lists and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models(arg)


def _walk(fields: dict[str, Any], loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """(yaml location, target name, rule) for every field, groups included, depth first."""
    for name, rule in fields.items():
        yield (*loc, name), name, rule
        if isinstance(rule, Group):
            yield from _walk(rule.fields, (*loc, name, "fields"))


def _ops(op: pydantic.BaseModel, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every node of an expression (ops, and the conditions of `when`) with its YAML location, parents first.
    Locations use YAML keys (a field's alias, such as `if`), so positions resolve."""
    yield loc, op
    for attr, info in type(op).model_fields.items():
        value, key = getattr(op, attr), info.alias or attr
        if isinstance(value, pydantic.BaseModel):
            yield from _ops(value, (*loc, key))
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, pydantic.BaseModel):
                    yield from _ops(item, (*loc, key, i))


@cache
def target_fields(model: type[pydantic.BaseModel]) -> dict[str, bool]:
    """Dotted field paths of a model -> whether the field is a list of models (a group)."""
    out: dict[str, bool] = {}

    def visit(m: type[pydantic.BaseModel], prefix: str) -> None:
        for name, info in m.model_fields.items():
            path = f"{prefix}{name}"
            ann = info.annotation
            inner = [a for a in typing.get_args(ann) if isinstance(a, type)] or [ann]
            nested = next((a for a in inner if isinstance(a, type) and issubclass(a, pydantic.BaseModel)), None)
            is_list = typing.get_origin(ann) is list
            if is_list:
                item = typing.get_args(ann)[0]
                if isinstance(item, type) and issubclass(item, pydantic.BaseModel):
                    out[path] = True
                    visit(item, f"{path}[].")
                    continue
            out[path] = False
            if nested is not None:
                visit(nested, f"{path}.")

    visit(model, "")
    return out


def _check_target(doc: MappingDoc, file: str, positions: _yaml.Positions) -> list[LockerhubError]:
    model = TARGET_MODELS[doc.target]
    if model is None:
        return []
    known = target_fields(model)
    errors: list[LockerhubError] = []

    def check(fields: dict[str, Any], loc: tuple[str | int, ...], prefix: str) -> None:
        for name, rule in fields.items():
            try:
                keys = parse_dotted(name)
            except ValueError as exc:
                errors.append(ConfigError(f"target field '{name}'", location=_yaml.locate(file, positions,
                              (*loc, name), key=True), expected=str(exc).split(", found")[0], found=repr(name)))
                continue
            path = prefix + ".".join(str(k) for k in keys if isinstance(k, str))
            where = _yaml.locate(file, positions, (*loc, name), key=True)
            if path not in known:
                close = difflib.get_close_matches(path, list(known), n=1)
                errors.append(ConfigError(f"unknown {doc.target} field '{path}'", location=where,
                                          hint=f"did you mean '{close[0]}'?" if close else None))
            elif isinstance(rule, Group) and not known[path]:
                errors.append(ConfigError(f"{doc.target} field '{path}' is not a list", location=where,
                                          expected="a list field for a group with `fields`"))
            elif not isinstance(rule, Group) and known[path]:
                errors.append(ConfigError(f"{doc.target} field '{path}' is a list", location=where,
                                          expected="a group: {repeat: ..., fields: {...}}", found="a single rule"))
            if isinstance(rule, Group):
                check(rule.fields, (*loc, name, "fields"), f"{path}[].")

    check(doc.fields, ("fields",), "")
    return errors


def _compile_check(doc: MappingDoc, fmt: Any, file: str, positions: _yaml.Positions) -> list[LockerhubError]:
    """Build every op once; anything an op or the format refuses is reported where it is written."""
    env = Env(fmt, dict(doc.tables), doc.source.version)
    errors: list[LockerhubError] = []
    repeats = [(("repeat",), doc.repeat)] if doc.repeat else []
    for loc, _name, rule in _walk(doc.fields, ("fields",)):
        if isinstance(rule, Group):
            if rule.repeat:
                repeats.append(((*loc, "repeat"), rule.repeat))
            continue
        failed: list[tuple[tuple[str | int, ...], str]] = []
        for op_loc, op in reversed(list(_ops(rule, loc))):  # children first: a parent re-raising one is skipped
            if not hasattr(op, "build"):
                continue
            try:
                op.build(env)
            except (ValueError, LockerhubError) as exc:
                detail = exc.render().removeprefix("error: ") if isinstance(exc, LockerhubError) else str(exc)
                if any(at[:len(op_loc)] == op_loc and seen == detail for at, seen in failed):
                    continue
                failed.append((op_loc, detail))
                where = _yaml.locate(file, positions, (*op_loc, "path") if op.name == "path" else op_loc)
                errors.append(ConfigError(f"{where.path}: {op.describe()}: {detail}", location=where))
    for loc, path in repeats:
        try:
            fmt.compile_repeat(path, version=doc.source.version)
        except (ValueError, LockerhubError) as exc:
            where = _yaml.locate(file, positions, loc)
            errors.append(ConfigError(f"{where.path}: repeat {path}: {exc}", location=where))
    return errors


def load_mapping(path: str | Path) -> CompiledMapping:
    """Load, check and compile one mapping file; raises ErrorGroup with every problem found."""
    file = str(path)
    data, positions = _yaml.load(path)
    doc = _yaml.validate(MappingDoc, data, file=file, positions=positions, vocabulary=vocabulary())
    assert isinstance(doc, MappingDoc)
    errors = _check_target(doc, file, positions)
    try:
        fmt = get_format(doc.source.format)
    except LockerhubError as exc:
        where = _yaml.locate(file, positions, ("source", "format"))
        raise ErrorGroup([*errors, ConfigError(f"source.format: {exc.message}", location=where,
                                               hint=exc.hint)]) from None
    errors.extend(_compile_check(doc, fmt, file, positions))
    if errors:
        raise ErrorGroup(errors)
    return CompiledMapping(doc, file=file, fmt=fmt)


def validate_mapping(path: str | Path) -> list[LockerhubError]:
    """Every problem of a mapping file (empty when it is valid); never raises for the file's own mistakes."""
    try:
        load_mapping(path)
    except ErrorGroup as group:
        return list(group.errors)
    except LockerhubError as exc:
        return [exc]
    return []
