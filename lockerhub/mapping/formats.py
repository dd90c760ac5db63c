"""Source formats: how a mapping's paths read a record of one format, and where each value came from.

A format is provided by the connector whose id is the format's name (``csv`` by ``lockerhub_csv``, ``x12`` by
``lockerhub_x12``, ...) through its ``source_format`` class attribute, so the knowledge of a format (its path
syntax, its versions' segments) lives with the code that reads it. ``canonical`` (the hub's own model, for
outbound mappings) is built in.

Protocol (duck-typed):
- ``name``: the format id.
- ``compile_path(path, *, version) -> fn(item)``: check a path at load time (raise ``ValueError`` whose text says
  what was expected) and return a fast reader; a missing value reads as None.
- ``read_path(item, path)``: the same read, uncompiled (the reference semantics for property tests).
- ``compile_repeat(path, *, version) -> fn(item) -> list[item]``: the items of a loop (one target per item).
- ``locate(item, path) -> Location | None``: where a path's value sits in the source document.
- ``read(path, **options) -> Iterator[item]``: parse a file into records (for golden tests and explain).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lockerhub.errors import Location, RegistryError

_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[([0-9]+)\])?")


def parse_dotted(path: str) -> tuple[str | int, ...]:
    """``parcels[0].weight_g`` -> ``('parcels', 0, 'weight_g')``; raises ValueError on bad syntax."""
    keys: list[str | int] = []
    for step in path.split("."):
        match = _STEP.fullmatch(step)
        if match is None:
            raise ValueError(f"a dotted field path like parcels[0].weight_g, found {path!r}")
        keys.append(match.group(1))
        if match.group(2) is not None:
            keys.append(int(match.group(2)))
    return tuple(keys)


def get_keys(node: Any, keys: tuple[str | int, ...]) -> Any:
    """The value at ``keys`` in nested dicts and lists, or None where the path does not exist."""
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _get(keys: tuple[str | int, ...]) -> Callable[[Any], Any]:
    return lambda item: get_keys(item, keys)


class CanonicalFormat:
    """Canonical records (``model_dump(mode="json")`` dicts) as the source of outbound mappings."""

    name = "canonical"

    def compile_path(self, path: str, *, version: str | None = None) -> Callable[[Any], Any]:
        return _get(parse_dotted(path))

    def read_path(self, item: Any, path: str) -> Any:
        return _get(parse_dotted(path))(item)

    def label(self, path: str) -> str:
        return f"field {path}"

    def compile_repeat(self, path: str, *, version: str | None = None) -> Callable[[Any], list[Any]]:
        get = _get(parse_dotted(path))
        return lambda item: list(get(item) or [])

    def locate(self, item: Any, path: str) -> Location | None:
        return Location(path=path)

    def read(self, path: Path, **options: Any) -> Iterator[Any]:
        import json

        data = json.loads(path.read_text("utf-8"))
        yield from (data if isinstance(data, list) else [data])


BUILTIN: dict[str, Any] = {"canonical": CanonicalFormat()}


def get_format(name: str) -> Any:
    """The format named ``name``: built in, or the ``source_format`` of the connector with that id."""
    if name in BUILTIN:
        return BUILTIN[name]
    from lockerhub.plugins.registry import registry

    cls = registry().load(name)
    fmt = getattr(cls, "source_format", None)
    if fmt is None:
        raise RegistryError(f"connector '{name}' provides no source format for mappings",
                            hint="formats come from TMS connectors (csv, x12, edifact, xml)")
    return fmt() if isinstance(fmt, type) else fmt
