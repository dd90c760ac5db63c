"""Helpers for mapping-op tests: write a small mapping (canonical source, JSON target) and load, check or run it.

``run`` also runs the reference interpreter on every item and checks it agrees with the compiled mapping, so each
behaviour test doubles as an equivalence test."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lockerhub.mapping import CompiledMapping, load_mapping, validate_mapping
from lockerhub.mapping.compile import interpret

HEAD = "mapping: test/ops\nsource: {format: canonical}\ntarget: json\n"  # the body starts on line 4


@pytest.fixture
def mapping_file(tmp_path: Path) -> Callable[[str], Path]:
    def write(body: str, head: str = HEAD) -> Path:
        path = tmp_path / "m.yaml"
        path.write_text(head + textwrap.dedent(body).lstrip("\n"), "utf-8")
        return path
    return write


@pytest.fixture
def problems(mapping_file: Callable[..., Path]) -> Callable[..., list[str]]:
    """Every load-time error of a mapping body, as printed, with the file shown as ``m.yaml``."""
    def problems(body: str, head: str = HEAD) -> list[str]:
        path = mapping_file(body, head)
        return [str(e).replace(str(path), "m.yaml") for e in validate_mapping(path)]
    return problems


@pytest.fixture
def compiled(mapping_file: Callable[..., Path]) -> Callable[[str], CompiledMapping]:
    return lambda body: load_mapping(mapping_file(body))


@pytest.fixture
def run(compiled: Callable[[str], CompiledMapping]) -> Callable[..., tuple[dict[str, Any], list[str]]]:
    """Map one item: (target document, error lines); checks the reference interpreter gives the same."""
    def run(body: str, item: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        mapping = compiled(body)
        result = mapping.map(item)
        data, failed = interpret(mapping.doc, item, mapping.env)
        assert result.data == data
        assert len(result.errors) == len(failed)
        return result.data, [str(e) for e in result.errors]
    return run


@pytest.fixture
def value(run: Callable[..., tuple[dict[str, Any], list[str]]]) -> Callable[..., Any]:
    """The value one rule gives for one item (``tables`` is YAML for the mapping's `tables:`)."""
    def value(rule: str, item: dict[str, Any], tables: str = "") -> Any:
        body = (f"tables: {tables}\n" if tables else "") + f"fields:\n  v: {rule}\n"
        data, errors = run(body, item)
        assert errors == []
        return data.get("v")
    return value


@pytest.fixture
def fails(run: Callable[..., tuple[dict[str, Any], list[str]]]) -> Callable[..., list[str]]:
    """The error lines of one rule for one item."""
    def fails(rule: str, item: dict[str, Any], tables: str = "") -> list[str]:
        body = (f"tables: {tables}\n" if tables else "") + f"fields:\n  v: {rule}\n"
        data, errors = run(body, item)
        assert "v" not in data
        return errors
    return fails
