"""Reading a composed YAML tree with positions, collecting errors instead of stopping at the first.

Generic helpers for :mod:`lockerhub_csv.mapping`: parse with ``yaml.compose`` (so every node keeps its line and
column), then walk the nodes through a :class:`NodeChecker`, which turns each problem into a
:class:`~lockerhub.errors.ConfigError` at ``file:line:column`` and keeps going.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

import yaml
from yaml.constructor import SafeConstructor

from lockerhub.errors import ConfigError, Location, LockerhubError

NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
Pairs = dict[str, tuple[yaml.Node, yaml.Node]]


def did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def compose(path: str | Path) -> yaml.Node | None:
    """The node tree of a YAML file; an unreadable file or a syntax error is one ConfigError with a position."""
    file = str(path)
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            "file cannot be read",
            location=Location(file=file),
            expected="a readable UTF-8 YAML file",
            found=type(exc).__name__,
        ) from None
    try:
        return yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file=file, line=mark.line + 1, column=mark.column + 1) if mark else Location(file=file)
        raise ConfigError(f"not valid YAML: {exc.problem or exc.context}", location=where) from None


class NodeChecker:
    """Positions and error collection for one YAML file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[LockerhubError] = []

    def at(self, node: yaml.Node, path: str | None = None) -> Location:
        mark = node.start_mark
        return Location(file=self.file, line=mark.line + 1, column=mark.column + 1, path=path)

    def error(self, node: yaml.Node, message: str, *, path: str | None = None, **kw: str | None) -> None:
        self.errors.append(ConfigError(message, location=self.at(node, path), **kw))  # type: ignore[arg-type]

    def pairs(self, node: yaml.Node, allowed: Sequence[str] | None, path: str) -> Pairs:
        """Key -> (key node, value node); reports non-mappings, duplicate keys and keys outside ``allowed``."""
        if not isinstance(node, yaml.MappingNode):
            self.error(
                node, path or "document", path=path or None, expected="a mapping (key: value)", found=f"a {node.id}"
            )
            return {}
        out: Pairs = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            where = f"{path}.{name}" if path else name
            if name in out:
                line = out[name][0].start_mark.line + 1
                self.error(key, f"duplicate key '{where}'", path=where, hint=f"first given on line {line}")
            elif allowed is not None and name not in allowed:
                self.error(
                    key,
                    f"unknown key '{where}'",
                    path=where,
                    expected=", ".join(allowed),
                    hint=did_you_mean(name, allowed),
                )
            else:
                out[name] = (key, value)
        return out

    def scalar(self, node: yaml.Node, path: str) -> str | None:
        """The value as written (no YAML type conversion); None (reported) for null, lists and mappings."""
        if not isinstance(node, yaml.ScalarNode) or node.tag == NULL_TAG:
            self.error(node, path, path=path, expected="a single value", found=f"a {node.id}")
            return None
        return str(node.value)

    def boolean(self, node: yaml.Node, path: str) -> bool | None:
        if node.tag != BOOL_TAG:
            self.error(
                node,
                path,
                path=path,
                expected="true or false",
                found=repr(node.value) if isinstance(node, yaml.ScalarNode) else f"a {node.id}",
            )
            return None
        return bool(SafeConstructor().construct_object(node))
