"""Golden cases: a source file, the records a mapping must make of it, compared field by field.

Layout: for the mappings in ``mappings/acme-tms/``, the cases live in ``mappings/acme-tms/tests/``. A case is an
input file ``<case>.<ext>`` (read with the mapping format's ``read()``, using the mapping's ``source.options``)
and ``<case>.expected.json``::

    {
      "mapping": "acme-tms/shipments",      # optional when the folder holds one mapping id
      "on": "2026-03-14",                   # optional: use the version in force that day (default: the newest)
      "extra": {"partner": "acme-tms"},     # optional: fields given to every record (as the runtime does)
      "masked": ["parcels[].sscc"],         # optional: volatile fields, "<masked>" on both sides
      "records": [
        {"value": {"reference": "S-1", ...}},
        {"errors": ["acme.csv:3:5: error: weight_g (from weight_kg): ..."]}
      ]
    }

``records`` holds one entry per target record, in order (``map_document`` of every item ``read()`` yields). An
item the reader could not split carries a ``problem`` (a CSV row with the wrong number of cells): its entry is that
error alone, as in the runtime. An error that stops reading the file (a bad header, say) is one more
``{"errors": [...]}`` entry at that point.
Error lines are compiler-style, sorted by position as the CLI prints them; they name the input file by its name
within ``tests/``, so cases do not depend on where the repository is checked out. Masked paths use the dotted syntax with ``[]`` (or ``[*]``) for every
item of a list; a masked field is replaced, never deleted.

``--update-golden`` (``update=True``) writes what the mapping produces now, keeping ``mapping``, ``on``,
``extra`` and ``masked``; a new input file without an expected file gets one. Review the diff like code.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from lockerhub.errors import ErrorGroup, Location, LockerhubError, errors_sorted
from lockerhub.mapping.compile import CompiledMapping
from lockerhub.mapping.versions import MappingSet, mapping_files

EXPECTED = ".expected.json"
MASK = "<masked>"
_IGNORED = re.compile(r"^(?:[._]|README)|\.(?:md|rst)$", re.IGNORECASE)

Status = Literal["pass", "fail", "updated", "error"]


class GoldenSpec(BaseModel):
    """The shape of a ``<case>.expected.json`` file."""

    model_config = ConfigDict(extra="forbid")

    mapping: str | None = Field(default=None, description="mapping id; optional when the folder has one")
    on: date | None = Field(default=None, description="use the version in force on this day (default: newest)")
    extra: dict[str, Any] = Field(default_factory=dict, description="fields given to every record")
    masked: list[str] = Field(default_factory=list, description="dotted paths replaced by <masked> on both sides")
    records: list[dict[str, Any]] = Field(default_factory=list, description='{"value": ...} or {"errors": [...]}')


@dataclass
class CaseResult:
    """The outcome of one golden case."""

    case: str  # tests folder / case name, e.g. mappings/acme-tms/tests/basic
    status: Status
    input: str | None = None
    expected_file: str | None = None
    mapping: str | None = None
    version: int | None = None
    mapping_file: str | None = None
    records: int = 0
    diff: list[str] = field(default_factory=list)  # readable differences (status fail)
    problems: list[str] = field(default_factory=list)  # why the case could not run (status error)

    @property
    def ok(self) -> bool:
        return self.status in ("pass", "updated")

    @property
    def summary(self) -> str:
        """One short line for a table: records, differences, or the first problem."""
        if self.problems:
            return self.problems[0].split(" error: ", 1)[-1]
        if self.status == "fail" and self.diff and not self.diff[0].startswith("record "):
            return self.diff[0].split(";")[0]
        if self.status == "fail":
            n = sum(1 for line in self.diff
                    if (line.startswith("  ") and not line.startswith("    "))
                    or (line.startswith("record ") and not line.endswith(":")))
            return f"{n} difference{'s' if n != 1 else ''}"
        return f"{self.records} record{'s' if self.records != 1 else ''}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    tests: Path
    inputs: tuple[Path, ...]
    expected: Path

    @property
    def label(self) -> str:
        return str(self.tests / self.name)


# --------------------------------------------------------------------------- discovery


def cases_in(tests: Path) -> list[Case]:
    """The cases of one ``tests/`` folder: every ``*.expected.json`` and every input file, by case name."""
    inputs: dict[str, list[Path]] = {}
    expected: set[str] = set()
    for path in sorted(tests.iterdir()):
        if not path.is_file() or _IGNORED.search(path.name):
            continue
        if path.name.endswith(EXPECTED):
            expected.add(path.name[: -len(EXPECTED)])
        else:
            inputs.setdefault(path.name.rsplit(".", 1)[0], []).append(path)
    return [Case(name, tests, tuple(inputs.get(name, ())), tests / f"{name}{EXPECTED}")
            for name in sorted(expected | set(inputs))]


@dataclass(frozen=True, slots=True)
class Suite:
    """A folder of mappings and its ``tests/`` folder; ``only`` limits it to one mapping file's id."""

    folder: Path
    only: Path | None = None

    @property
    def tests(self) -> Path:
        return self.folder / "tests"


def discover(path: str | Path) -> list[Suite]:
    """The suites under ``path``: a mapping file, a folder of mappings, a ``tests/`` folder, or a tree of them."""
    path = Path(path)
    if path.is_file():
        return [Suite(path.parent, only=path)] if (path.parent / "tests").is_dir() else []
    if not path.is_dir():
        raise LockerhubError("no such file or folder", location=Location(file=str(path)))
    if path.name == "tests" and mapping_files(path.parent):
        return [Suite(path.parent)]
    suites = []
    for root, dirs, _files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d != "tests" and not d.startswith("."))
        folder = Path(root)
        if (folder / "tests").is_dir() and mapping_files(folder):
            suites.append(Suite(folder))
    return suites


# --------------------------------------------------------------------------- running


def run_golden(path: str | Path, *, update: bool = False) -> list[CaseResult]:
    """Run (or with ``update``, rewrite) every golden case under ``path``; one result per case."""
    results: list[CaseResult] = []
    for suite in discover(path):
        results.extend(run_suite(suite, update=update))
    return results


def run_suite(suite: Suite, *, update: bool = False) -> list[CaseResult]:
    mappings, errors = MappingSet.collect(suite.folder)
    if errors:
        return [CaseResult(str(suite.folder), "error", problems=[e.render() for e in ErrorGroup(errors).errors])]
    only = None
    if suite.only is not None:
        only = next((m.doc.mapping for m in mappings if Path(m.file or "").resolve() == suite.only.resolve()), None)
    results = []
    for case in cases_in(suite.tests):
        result = run_case(mappings, case, update=update, only=only)
        if result is not None:
            results.append(result)
    return results


def run_case(mappings: MappingSet, case: Case, *, update: bool = False,
             only: str | None = None) -> CaseResult | None:
    """Run one case (with ``update``, rewrite its expected file); None when it tests another mapping than
    ``only``."""
    result = CaseResult(case.label, "error", expected_file=str(case.expected))
    try:
        spec = _read_spec(case.expected) if case.expected.exists() else None
        if len(case.inputs) != 1:
            found = ", ".join(p.name for p in case.inputs) or "none"
            raise LockerhubError(f"case '{case.name}' needs one input file beside {case.expected.name}",
                                 location=Location(file=str(case.tests)), expected=f"{case.name}.<ext>",
                                 found=found)
        source = case.inputs[0]
        result.input = str(source)
        compiled = choose(mappings, spec, case)
        if only is not None and compiled.doc.mapping != only:
            return None
        result.mapping, result.version, result.mapping_file = (compiled.doc.mapping, compiled.doc.version,
                                                               compiled.file)
        actual = produce(compiled, source, extra=spec.extra if spec else {})
    except ErrorGroup as group:
        result.problems = [e.render() for e in group.errors]
        return result
    except LockerhubError as exc:
        result.problems = [exc.render()]
        return result
    result.records = len(actual)
    masked = spec.masked if spec else []
    actual = [mask(r, masked) for r in actual]
    expected = [mask(r, masked) for r in spec.records] if spec else None
    if update:
        if expected != actual:
            _write_spec(case.expected, spec, compiled.doc.mapping, actual)
            result.status = "updated"
        else:
            result.status = "pass"
        return result
    if expected is None:
        result.status = "fail"
        result.diff = [(f"no expected file {case.expected.name}; run `lockerhub mapping test --update-golden` to "
                       "write it from what the mapping produces now, then review it")]
        return result
    result.diff = compare(expected or [], actual)
    result.status = "fail" if result.diff else "pass"
    return result


def choose(mappings: MappingSet, spec: GoldenSpec | None, case: Case) -> CompiledMapping:
    """The mapping version a case runs against: its ``mapping`` (or the folder's only id, or the id of the mapping
    file whose name starts the case name), in force on its ``on`` day or else the newest version."""
    mapping_id = spec.mapping if spec else None
    if mapping_id is None:
        ids = mappings.ids()
        if len(ids) == 1:
            mapping_id = ids[0]
        else:
            stems = {Path(m.file or "").name.split(".")[0]: m.doc.mapping for m in mappings}
            mapping_id = next((i for s, i in stems.items() if case.name.startswith(s)), None)
        if mapping_id is None:
            raise LockerhubError(f"case '{case.name}' does not say which mapping it tests",
                                 location=Location(file=str(case.expected)),
                                 expected=f'"mapping": one of {", ".join(ids)}')
    if spec is not None and spec.on is not None:
        return mappings.select(mapping_id, spec.on)
    return mappings.latest(mapping_id)


def produce(compiled: CompiledMapping, source: Path, *, extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The records a mapping makes of a file, as golden entries (``{"value": ...}`` or ``{"errors": [...]}``)."""
    out: list[dict[str, Any]] = []
    try:
        for item in compiled.format.read(source, **compiled.doc.source.options):
            problem = item_problem(item)
            if problem is not None:
                out.append({"errors": [error_line(problem, source)]})
                continue
            for result in compiled.map_document(item, extra=extra):
                if result.errors:
                    out.append({"errors": [error_line(e, source) for e in errors_sorted(list(result.errors))]})
                else:
                    out.append({"value": as_json(result.value)})
    except ErrorGroup as group:
        out.append({"errors": [error_line(e, source) for e in group.errors]})
    except LockerhubError as exc:
        out.append({"errors": [error_line(exc, source)]})
    return out


def item_problem(item: Any) -> LockerhubError | None:
    """The error a reader attached to an item it could not split (a CSV row with the wrong number of cells): that
    record is the error alone, as the runtime treats it, and is not mapped."""
    problem = getattr(item, "problem", None)
    return problem if isinstance(problem, LockerhubError) else None


def as_json(value: Any) -> Any:
    """A target record as plain JSON (models dumped in JSON mode)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return json.loads(json.dumps(value, default=str))


def error_line(error: LockerhubError, source: Path, *, name: str | None = None) -> str:
    """The error's compiler-style line, naming the input ``name`` (default: its file name, so golden files are
    stable wherever the repository lives) when the error is in that file or names no file."""
    loc = error.location
    name = name or source.name
    if loc is None or loc.file is None or _same_file(loc.file, source):
        error = copy.copy(error)
        error.location = Location(**{**asdict(loc), "file": name}) if loc else Location(file=name)
    return error.render()


def _same_file(file: str, source: Path) -> bool:
    try:
        return Path(file).resolve() == source.resolve()
    except OSError:  # pragma: no cover - unresolvable path
        return False


# --------------------------------------------------------------------------- masks and diffs

_MASK_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[(?:[0-9]+|\*)?\])*)")


def _mask_keys(path: str) -> list[str | int | None]:
    """``parcels[].sscc`` -> ``['parcels', None, 'sscc']`` (None = every item)."""
    keys: list[str | int | None] = []
    for step in path.split("."):
        match = _MASK_STEP.fullmatch(step)
        if match is None:
            raise LockerhubError(f"masked path {path!r}", expected="a dotted path like parcels[].sscc")
        keys.append(match.group(1))
        for index in re.findall(r"\[([0-9]*|\*)\]", match.group(2)):
            keys.append(int(index) if index.isdigit() else None)
    return keys


def _mask_at(node: Any, keys: list[str | int | None]) -> None:
    key, rest = keys[0], keys[1:]
    children: list[str | int] = []
    if key is None:
        children = list(range(len(node))) if isinstance(node, list) else []
    elif isinstance(key, int):
        children = [key] if isinstance(node, list) and key < len(node) else []
    elif isinstance(node, dict) and key in node:
        children = [key]
    for child in children:
        if rest:
            _mask_at(node[child], rest)
        else:
            node[child] = MASK


def mask(record: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """A copy of a golden record with every masked path of its value replaced by ``"<masked>"``."""
    if not paths or "value" not in record:
        return record
    record = copy.deepcopy(record)
    for path in paths:
        _mask_at(record, ["value", *_mask_keys(path)])
    return record


def _show(value: Any, limit: int = 100) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _same(a: Any, b: Any) -> bool:
    return a == b and (type(a) is bool) == (type(b) is bool)


def _join(base: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key


def value_diff(expected: Any, actual: Any, path: str = "") -> Iterator[str]:
    """One line per differing leaf: ``parcels[0].weight_g: expected 1200, got 1020``."""
    label = path or "(record)"
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in [*expected, *(k for k in actual if k not in expected)]:
            sub = _join(path, key)
            if key not in actual:
                yield f"{sub}: expected {_show(expected[key])}, got nothing"
            elif key not in expected:
                yield f"{sub}: expected nothing, got {_show(actual[key])}"
            else:
                yield from value_diff(expected[key], actual[key], sub)
    elif isinstance(expected, list) and isinstance(actual, list):
        for i in range(max(len(expected), len(actual))):
            sub = _join(path, i)
            if i >= len(actual):
                yield f"{sub}: expected {_show(expected[i])}, got nothing"
            elif i >= len(expected):
                yield f"{sub}: expected nothing, got {_show(actual[i])}"
            else:
                yield from value_diff(expected[i], actual[i], sub)
    elif not _same(expected, actual):
        yield f"{label}: expected {_show(expected)}, got {_show(actual)}"


def _kind(record: dict[str, Any]) -> str:
    return "errors" if "errors" in record else "value"


def compare(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> list[str]:
    """Readable differences between expected and actual golden records; empty when they agree."""
    lines: list[str] = []
    for i in range(max(len(expected), len(actual))):
        head = f"record {i + 1}"
        if i >= len(actual):
            lines.append(f"{head}: missing; expected {_summary(expected[i])}")
            lines.extend(f"    {e}" for e in expected[i].get("errors", []))
            continue
        if i >= len(expected):
            lines.append(f"{head}: extra; got {_summary(actual[i])}")
            lines.extend(f"    {e}" for e in actual[i].get("errors", []))
            continue
        exp, act = expected[i], actual[i]
        if _kind(exp) != _kind(act):
            lines.append(f"{head}: expected {_summary(exp)}, got {_summary(act)}")
            lines.extend(f"    {e}" for e in act.get("errors", []))
            continue
        if _kind(exp) == "errors":
            want, got = list(exp["errors"]), list(act["errors"])
            body = [f"  missing error: {e}" for e in want if e not in got]
            body += [f"  unexpected error: {e}" for e in got if e not in want]
            if not body and want != got:
                body = ["  the same errors in another order"]
        else:
            body = [f"  {line}" for line in value_diff(exp["value"], act["value"])]
        if body:
            lines.append(f"{head}:")
            lines.extend(body)
    return lines


def _summary(record: dict[str, Any]) -> str:
    if "errors" in record:
        n = len(record["errors"])
        return f"{n} error{'s' if n != 1 else ''}"
    return f"a value {_show(record.get('value'), 60)}"


# --------------------------------------------------------------------------- files


def _read_spec(path: Path) -> GoldenSpec:
    try:
        data = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise LockerhubError(f"invalid JSON: {exc.msg}",
                             location=Location(file=str(path), line=exc.lineno, column=exc.colno)) from None
    try:
        spec = GoldenSpec.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ErrorGroup([LockerhubError(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}",
                                         location=Location(file=str(path))) for e in exc.errors()]) from None
    for i, record in enumerate(spec.records):
        if len(record) != 1 or _kind(record) not in record:
            raise LockerhubError(f"records[{i}]", location=Location(file=str(path)),
                                 expected='{"value": ...} or {"errors": [...]}',
                                 found=f"keys {', '.join(record) or 'none'}")
    for path_text in spec.masked:
        _mask_keys(path_text)
    return spec


def _write_spec(path: Path, spec: GoldenSpec | None, mapping_id: str, records: list[dict[str, Any]]) -> None:
    if spec is None:
        data: dict[str, Any] = {"mapping": mapping_id}
    else:
        data = spec.model_dump(mode="json", exclude={"records"}, exclude_defaults=True)
    data["records"] = records
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
