"""The mapping language reference, generated from the models (``MappingDoc.model_json_schema()`` and the op
registry), so the guide cannot drift from the code.

``render_reference()`` returns the Markdown; ``write_reference(path)`` replaces the text between
``<!-- reference:start -->`` and ``<!-- reference:end -->`` in ``path`` (``lockerhub mapping reference --write
docs/mapping-guide.md``); ``stale_reference(path)`` says whether that text differs from the code (a test fails
when it does).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lockerhub.errors import ConfigError, Location
from lockerhub.mapping.model import MappingDoc
from lockerhub.mapping.ops import OPS
from lockerhub.mapping.ops._base import Op

START = "<!-- reference:start -->"
END = "<!-- reference:end -->"
_COMMON = tuple(Op.model_fields)  # required, default: shared by every op
_NAMED = {"Group": "group", "Source": "source mapping"}
_UNIONS = {"test": "condition"}  # discriminator key -> what one variant is called


def _cell(text: str) -> str:
    return " ".join(text.replace("``", "`").split()).replace("|", "\\|")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _constraints(schema: dict[str, Any]) -> str:
    parts = []
    for key, label in (("minLength", "min length"), ("maxLength", "max length"), ("minimum", ">="),
                       ("maximum", "<="), ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<"),
                       ("minItems", "min items"), ("maxItems", "max items")):
        if key in schema:
            parts.append(f"{label} {schema[key]}")
    if "pattern" in schema:
        parts.append(f"pattern `{schema['pattern']}`")
    return f" ({', '.join(parts)})" if parts else ""


def _unions(node: Any, found: dict[str, dict[str, str]] | None = None) -> dict[str, dict[str, str]]:
    """Every discriminated union other than the ops' in a schema: discriminator key -> tag -> ``$ref``."""
    found = {} if found is None else found
    if isinstance(node, dict):
        disc = node.get("discriminator")
        if isinstance(disc, dict) and disc.get("propertyName") != "op":
            found.setdefault(disc["propertyName"], {}).update(disc.get("mapping", {}))
        for value in node.values():
            _unions(value, found)
    elif isinstance(node, list):
        for value in node:
            _unions(value, found)
    return found


class _Types:
    """Renders a JSON Schema node as a short type name (ops are 'expression', groups 'group')."""

    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.ops = {cls.__name__ for cls in OPS.values()}
        self.unions = _unions(defs)
        self.variants = {_ref_name(ref): key for key, tags in self.unions.items() for ref in tags.values()}

    def __call__(self, schema: dict[str, Any]) -> str:
        if "$ref" in schema:
            name = _ref_name(schema["$ref"])
            if name in self.ops:
                return "expression"
            key = self.variants.get(name)
            return _UNIONS.get(key, f"`{key}` variant") if key else _NAMED.get(name, name)
        choices = schema.get("oneOf") or schema.get("anyOf")
        if choices:
            names: list[str] = []
            for choice in choices:
                name = self(choice)
                if name not in names:
                    names.append(name)
            key = schema.get("discriminator", {}).get("propertyName")
            if key is not None:
                names = ["expression" if key == "op" else _UNIONS.get(key, f"`{key}` variant")]
            if "group" in names and "expression" in names:
                return "rule (expression or group)"
            return " or ".join(names)
        if "enum" in schema:
            return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
        if "const" in schema:
            return f"`{schema['const']}`"
        kind = schema.get("type")
        if kind == "array":
            items = schema.get("items")
            return f"list of {self(items)}" if items else "list"
        if kind == "object":
            values = schema.get("additionalProperties")
            return f"mapping of name to {self(values)}" if isinstance(values, dict) and values else "mapping"
        if kind == "string" and "format" in schema:
            return str(schema["format"])
        return str(kind) if kind else "any"


def _default(model: type[Any] | None, name: str, schema: dict[str, Any], required: list[str]) -> str:
    if name in required:
        return "required"
    if "default" in schema:
        return f"`{json.dumps(schema['default'])}`"
    info = model.model_fields.get(name) if model is not None else None
    if info is not None and info.default_factory is not None:
        return f"`{json.dumps(info.default_factory())}`"  # type: ignore[call-arg]
    return "-"


def _table(model: type[Any] | None, schema: dict[str, Any], types: _Types, skip: tuple[str, ...] = ()) -> list[str]:
    required = schema.get("required", [])
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for name, prop in schema.get("properties", {}).items():
        if name in skip:
            continue
        kind, default = types(prop) + _constraints(prop), _default(model, name, prop, required)
        rows.append(f"| `{name}` | {_cell(kind)} | {_cell(default)} | {_cell(prop.get('description', ''))} |")
    return rows


def render_reference() -> str:
    """The rule reference as Markdown (document keys, source, groups, then every op by name)."""
    schema = MappingDoc.model_json_schema()
    defs = schema.get("$defs", {})
    types = _Types(defs)
    from lockerhub.mapping.model import Group, Source

    out = [("<!-- generated from the mapping models by `lockerhub mapping reference --write docs/mapping-guide.md`;"
           " do not edit by hand -->"), "", "### Document", "", _cell(schema.get("description", "")), ""]
    out += _table(MappingDoc, schema, types)
    out += ["", "### `source`", ""]
    out += _table(Source, defs["Source"], types)
    out += ["", "### Groups (list fields)", "", _cell(defs["Group"].get("description", "")), ""]
    out += _table(Group, defs["Group"], types)
    out += ["", "### Ops", "",
            ("A rule is an op written `{op: <name>, ...}`; a bare string is short for `{op: path, path: <string>}`. "
            f"Ops: {', '.join(f'`{name}`' for name in sorted(OPS))}. Every op also takes:"), ""]
    base = Op.model_json_schema()
    out += _table(Op, base, types)
    for name in sorted(OPS):
        cls: Any = OPS[name]
        op_schema = defs.get(cls.__name__) or cls.model_json_schema()
        out += ["", f"#### `{name}`", "", _cell(op_schema.get("description") or cls.__doc__ or ""), ""]
        out += _table(cls, op_schema, types, skip=(*_COMMON, "op"))
    for key, tags in sorted(types.unions.items()):
        title = _UNIONS.get(key, f"`{key}` variant")
        out += ["", f"### {title.capitalize()}s (`{key}:`)", "",
                f"Written `{{{key}: <name>, ...}}`: {', '.join(f'`{tag}`' for tag in sorted(tags))}."]
        for tag in sorted(tags):
            variant = defs[_ref_name(tags[tag])]
            out += ["", f"#### `{tag}`", ""]
            if variant.get("description"):
                out += [_cell(variant["description"]), ""]
            out += _table(None, variant, types, skip=(key,))
    return "\n".join(out) + "\n"


def _split(text: str, path: Path) -> tuple[str, str, str]:
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ConfigError("no generated reference section", location=Location(file=str(path)),
                          expected=f"the markers {START} and {END}")
    return text[: start + len(START)], text[start + len(START): end], text[end:]


def stale_reference(path: str | Path) -> bool:
    """Whether the reference section of ``path`` differs from :func:`render_reference`."""
    path = Path(path)
    _, body, _ = _split(path.read_text("utf-8"), path)
    return body.strip("\n") != render_reference().strip("\n")


def write_reference(path: str | Path) -> bool:
    """Regenerate the reference section of ``path``; returns whether the file changed."""
    path = Path(path)
    text = path.read_text("utf-8")
    head, _, tail = _split(text, path)
    new = f"{head}\n{render_reference()}{tail}"
    if new == text:
        return False
    path.write_text(new, "utf-8")
    return True
