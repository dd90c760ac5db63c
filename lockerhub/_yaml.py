"""YAML with positions: every mapping key and scalar keeps its line and column for error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic_settings import BaseSettings

from lockerhub.errors import ConfigError, ErrorGroup, Location, LockerhubError

Positions = dict[tuple[str | int, ...], tuple[int, int]]
KEY = "\x00key"  # suffix marking the position of a mapping key rather than its value


def duplicate_keys(node: yaml.Node, file: str) -> Iterator[LockerhubError]:
    """Mapping keys written twice (YAML would silently keep the last one)."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, yaml.Node] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in seen:
                first = seen[key.value].start_mark
                yield ConfigError(f"duplicate key '{key.value}'",
                                  location=Location(file=file, line=key.start_mark.line + 1,
                                                    column=key.start_mark.column + 1),
                                  hint=f"first written at line {first.line + 1}; the two would not be merged")
            elif isinstance(key, yaml.ScalarNode):
                seen[key.value] = key
            yield from duplicate_keys(value, file)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from duplicate_keys(item, file)


def _walk(node: yaml.Node, path: tuple[str | int, ...], out: Positions) -> None:
    out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            _walk(value, child, out)
            out[(*child, KEY)] = (key.start_mark.line + 1, key.start_mark.column + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), out)


MAX_NODES = 100_000  # values in a document once aliases are expanded ("billion laughs" stops here)


def _check_expansion(root: yaml.Node, path: Path) -> None:
    """Refuse a document whose aliases expand to more than MAX_NODES values: every later step (positions, duplicate
    keys, validation) walks the expanded tree; refuse an alias inside its own anchor too (a cycle). Sizes are
    memoised per node, so this check is linear in the text."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in open_nodes:  # an alias inside its own anchor: the value would contain itself
            mark = node.start_mark
            raise ConfigError("YAML alias refers to the value that contains it", location=Location(
                file=str(path), line=mark.line + 1, column=mark.column + 1), expected="a value without cycles")
        open_nodes.add(id(node))
        children = ([n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode)
                    else node.value if isinstance(node, yaml.SequenceNode) else [])
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_NODES:
                mark = child.start_mark
                raise ConfigError("YAML aliases expand too far", location=Location(
                    file=str(path), line=mark.line + 1, column=mark.column + 1),
                    expected=f"at most {MAX_NODES:,} values", found="more (aliases of aliases)")
        open_nodes.discard(id(node))
        sizes[id(node)] = total
        return total

    size(root)


def _offset(path: Path, before: str) -> Location:
    """The location just after ``before`` (the text preceding a problem)."""
    return Location(file=str(path), line=before.count("\n") + 1, column=len(before) - (before.rfind("\n") + 1) + 1)


def load(path: str | Path) -> tuple[Any, Positions]:
    """Parse a YAML file; returns the data and a map from key path to (line, column)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError("cannot read file", location=Location(file=str(path)), found=exc.strerror) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("file is not UTF-8 text", location=_offset(path, raw[:exc.start].decode("utf-8", "replace")),
                          expected="UTF-8", found=f"byte 0x{raw[exc.start]:02x}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ConfigError(
            f"invalid YAML: {exc.problem}",
            location=Location(file=str(path), line=mark.line + 1 if mark else None,
                              column=mark.column + 1 if mark else None),
        ) from None
    except yaml.reader.ReaderError as exc:  # a control character YAML does not allow
        raise ConfigError("invalid YAML: special characters are not allowed",
                          location=_offset(path, text[:exc.position]),
                          found=f"character U+{exc.character:04X}") from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise ConfigError("invalid YAML: collections nested too deeply", location=Location(file=str(path)),
                          expected="a few hundred levels at most") from None
    positions: Positions = {}
    if node is not None:
        _check_expansion(node, path)
        duplicates = list(duplicate_keys(node, str(path)))
        if duplicates:
            raise ErrorGroup(duplicates)
        _walk(node, (), positions)
    return data, positions


def locate(file: str, positions: Positions, loc: tuple[str | int, ...], *, key: bool = False) -> Location:
    """The position of a value (or of its key, with ``key=True``).

    Steps of ``loc`` that are not keys of the document (pydantic's union tags such as ``path`` or ``group``) are
    skipped; a path that does not exist falls back to the deepest part that does.
    """
    probe: tuple[str | int, ...] = ()
    for step in loc:
        if (*probe, step) in positions:
            probe = (*probe, step)
    dotted = ".".join(str(p) for p in probe) or ".".join(str(p) for p in loc)
    if key and probe and loc and probe[-1] == loc[-1] and (*probe, KEY) in positions:
        line, col = positions[(*probe, KEY)]
    else:
        line, col = positions.get(probe, (1, 1))
    return Location(file=file, line=line, column=col, path=dotted)


def validate(model: type[pydantic.BaseModel], data: Any, *, file: str, positions: Positions,
             prefix: tuple[str | int, ...] = (), env_hint: str | None = None,
             vocabulary: list[str] | None = None) -> pydantic.BaseModel:
    """Validate ``data`` with ``model``; every problem becomes one positioned ConfigError (all collected).

    ``vocabulary`` (default: the model's field names) is where "did you mean" looks for unknown keys."""
    try:
        return build(model, data)
    except pydantic.ValidationError as exc:
        raise ErrorGroup(pydantic_errors(exc, file=file, positions=positions, prefix=prefix,
                                         model=model, env_hint=env_hint, vocabulary=vocabulary)) from None


def build(model: type[pydantic.BaseModel], data: Any) -> pydantic.BaseModel:
    """Instantiate a config model; settings models also read their ``LOCKERHUB_*`` environment variables."""
    data = data if data is not None else {}
    if not isinstance(data, dict):
        return model.model_validate(data)  # raises a positioned "expected a mapping" error
    if issubclass(model, BaseSettings):
        return model(**data)
    return model.model_validate(data)


def pydantic_errors(exc: pydantic.ValidationError, *, file: str, positions: Positions,
                    prefix: tuple[str | int, ...] = (), model: type[pydantic.BaseModel] | None = None,
                    env_hint: str | None = None, vocabulary: list[str] | None = None) -> list[LockerhubError]:
    errors: list[LockerhubError] = []
    words = vocabulary if vocabulary is not None else (list(model.model_fields) if model is not None else [])
    for err in exc.errors(include_url=False):
        loc = (*prefix, *err["loc"])
        dotted = ".".join(str(p) for p in loc)
        kind = err["type"]
        hint = None
        if kind == "extra_forbidden":
            key = str(err["loc"][-1])
            close = difflib.get_close_matches(key, [w for w in words if w != key], n=1)
            hint = f"did you mean '{close[0]}'?" if close else ("a known key, but not at this level" if key in words
                                                               else None)
            where = locate(file, positions, loc, key=True)
            errors.append(ConfigError(f"{where.path}: unknown key", location=where,
                                      expected=", ".join(words) if vocabulary is None else None, hint=hint))
            continue
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            ctx = err.get("ctx") or {}
            tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
            tag = str(ctx.get("tag", ""))
            close = difflib.get_close_matches(tag, tags, n=1)
            where = locate(file, positions, (*loc, ctx.get("discriminator", "").strip("'")))
            what = f"unknown {ctx.get('discriminator', 'kind').strip(chr(39))} '{tag}'" if tag else \
                f"missing {ctx.get('discriminator', 'kind').strip(chr(39))}"
            errors.append(ConfigError(f"{where.path}: {what}", location=where, expected=" | ".join(tags) or None,
                                      hint=f"did you mean '{close[0]}'?" if close else None))
            continue
        if kind == "missing":
            where = locate(file, positions, loc)
            # the key is absent, so the position is its parent's; the message names parent and key
            name = str(loc[-1]) if loc else dotted
            full = where.path if where.path.endswith(name) else f"{where.path}.{name}".lstrip(".")
            errors.append(ConfigError(f"{full}: required", location=where, hint=env_hint))
            continue
        expected = _expected(kind)
        if kind in ("literal_error", "enum") and (err.get("ctx") or {}).get("expected"):
            expected = str(err["ctx"]["expected"])  # the allowed values are the schema's, safe to show
        where = locate(file, positions, loc)
        message = where.path if expected else f"{where.path}: {err['msg'][:1].lower()}{err['msg'][1:]}"
        errors.append(ConfigError(message, location=where, expected=expected,
                                  found=_type_name(err) if expected else None))
    return errors


_EXPECTED = {
    "int_parsing": "an integer", "int_type": "an integer", "float_parsing": "a number", "float_type": "a number",
    "bool_parsing": "true or false", "bool_type": "true or false", "string_type": "a string",
    "dict_type": "a mapping", "list_type": "a list", "url_parsing": "a URL", "url_scheme": "an http(s) URL",
    "enum": "one of the allowed values", "literal_error": "one of the allowed values",
}


def _expected(kind: str) -> str | None:
    return _EXPECTED.get(kind)


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", dict: "a mapping",
               list: "a list", type(None): "nothing"}


def _type_name(err: Any) -> str | None:
    # The input value itself is not echoed (it may be a secret or PII); its type is enough to act on.
    if "input" not in err:
        return None
    return _TYPE_NAMES.get(type(err["input"]), type(err["input"]).__name__)
