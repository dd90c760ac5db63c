"""Mapping sets: the versions of each mapping, chosen by the date a document applies to.

All mapping files in one folder (``mappings/acme-tms/shipments.v1.yaml``, ``shipments.v2.yaml``, or a single
``shipments.yaml``) that declare the same ``mapping:`` id are the versions of that mapping. Each version is in
force over a window of days:

- it starts on its ``effective_from`` (no ``effective_from``: since forever);
- it ends on its ``effective_to`` or, without one, the day before the next version (by ``effective_from``)
  starts; the last version without ``effective_to`` never ends.

So for any day the version with the latest ``effective_from`` on or before that day wins, unless that version
ended explicitly. Two versions whose windows overlap (the same ``effective_from``, or an ``effective_to`` on or
after the next version's start) and two files with the same version number are load errors naming both files.

```python
mappings = MappingSet.load("mappings/acme-tms")
compiled = mappings.select("acme-tms/shipments", on=date(2026, 3, 14))
```
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from lockerhub import _yaml
from lockerhub.errors import ConfigError, ErrorGroup, Location, LockerhubError
from lockerhub.mapping.compile import CompiledMapping
from lockerhub.mapping.load import load_mapping

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a mapping and the days it is in force (``None`` ends are open)."""

    mapping: CompiledMapping
    start: date | None
    end: date | None

    @property
    def file(self) -> str:
        return self.mapping.file or "<mapping>"

    @property
    def number(self) -> int:
        return self.mapping.doc.version

    def covers(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def window(self) -> str:
        """``2026-01-01..2026-02-28``; an open end is left empty (``..2026-02-28``, ``2026-03-01..``)."""
        return f"{self.start or ''}..{self.end or ''}"

    def describe(self) -> str:
        return f"v{self.number} {self.window()} ({self.file})"


def mapping_files(folder: Path) -> list[Path]:
    """The mapping files directly in ``folder`` (``*.yaml``, ``*.yml``), sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SUFFIXES)


def _where(mapping: CompiledMapping, key: str) -> Location:
    """The position of a top-level key of a mapping file (its ``mapping:`` key when absent)."""
    file = mapping.file or "<mapping>"
    try:
        _, positions = _yaml.load(file)
    except LockerhubError:
        return Location(file=file)
    probe = key if (key,) in positions else "mapping"
    return _yaml.locate(file, positions, (probe,))


def _declared(m: CompiledMapping) -> str:
    return f"{m.doc.effective_from or ''}..{m.doc.effective_to or ''}"


def windows(mappings: Iterable[CompiledMapping]) -> tuple[list[Version], list[LockerhubError]]:
    """The versions of one mapping id with their windows (sorted by start), and every conflict between them."""
    ordered = sorted(mappings, key=lambda m: (m.doc.effective_from or date.min, m.doc.version))
    errors: list[LockerhubError] = []
    by_number: dict[int, CompiledMapping] = {}
    for m in sorted(ordered, key=lambda m: m.file or ""):
        first = by_number.setdefault(m.doc.version, m)
        if first is not m:
            errors.append(ConfigError(
                f"version {m.doc.version} of mapping '{m.doc.mapping}' is also defined in {first.file}",
                location=_where(m, "version"), hint="give each version its own number"))
    versions: list[Version] = []
    for i, m in enumerate(ordered):
        nxt = ordered[i + 1] if i + 1 < len(ordered) else None
        end = m.doc.effective_to
        if end is None and nxt is not None and nxt.doc.effective_from is not None:
            end = nxt.doc.effective_from - timedelta(days=1)
        versions.append(Version(m, m.doc.effective_from, end))
        if nxt is None:
            continue
        clash = (m.doc.effective_from == nxt.doc.effective_from
                 or (m.doc.effective_to is not None and nxt.doc.effective_from is not None
                     and m.doc.effective_to >= nxt.doc.effective_from))
        if clash:
            errors.append(ConfigError(
                f"mapping '{m.doc.mapping}' v{nxt.doc.version} ({_declared(nxt)}) overlaps "
                f"v{m.doc.version} ({_declared(m)}) in {m.file}",
                location=_where(nxt, "effective_from"),
                hint="end the earlier version with effective_to, or start this one later"))
    return versions, errors


class MappingSet:
    """Every mapping of a folder, grouped by id; each id has one or more dated versions."""

    def __init__(self, mappings: Iterable[CompiledMapping]) -> None:
        grouped: dict[str, list[CompiledMapping]] = {}
        for m in mappings:
            grouped.setdefault(m.doc.mapping, []).append(m)
        self._versions: dict[str, list[Version]] = {}
        self.errors: list[LockerhubError] = []
        for mapping_id in sorted(grouped):
            versions, errors = windows(grouped[mapping_id])
            self._versions[mapping_id] = versions
            self.errors.extend(errors)

    # -- loading --------------------------------------------------------------------------------------------
    @classmethod
    def collect(cls, path: str | Path) -> tuple[MappingSet, list[LockerhubError]]:
        """Load what loads: the set of the valid files, and every problem (file errors and version conflicts)."""
        path = Path(path)
        if path.is_dir():
            files = mapping_files(path)
            if not files:
                raise ConfigError("no mapping files in folder", location=Location(file=str(path)),
                                  expected="*.yaml files with a `mapping:` id")
        elif path.exists():
            files = [path]
        else:
            raise ConfigError("no such file or folder", location=Location(file=str(path)))
        compiled: list[CompiledMapping] = []
        errors: list[LockerhubError] = []
        for file in files:
            try:
                compiled.append(load_mapping(file))
            except ErrorGroup as group:
                errors.extend(group.errors)
            except LockerhubError as exc:
                errors.append(exc)
        mappings = cls(compiled)
        return mappings, [*errors, *mappings.errors]

    @classmethod
    def load(cls, path: str | Path) -> MappingSet:
        """The mappings of a folder (or of one file); raises ErrorGroup with every problem found."""
        mappings, errors = cls.collect(path)
        if errors:
            raise ErrorGroup(errors)
        return mappings

    # -- queries --------------------------------------------------------------------------------------------
    def ids(self) -> list[str]:
        return list(self._versions)

    def __contains__(self, mapping_id: object) -> bool:
        return mapping_id in self._versions

    def __iter__(self) -> Iterator[CompiledMapping]:
        for versions in self._versions.values():
            for v in versions:
                yield v.mapping

    def versions(self, mapping_id: str) -> list[Version]:
        """The versions of ``mapping_id``, by start date."""
        if mapping_id not in self._versions:
            close = difflib.get_close_matches(mapping_id, self.ids(), n=1)
            raise ConfigError(f"no mapping '{mapping_id}'", expected=" or ".join(self.ids()) or "a mapping id",
                              hint=f"did you mean '{close[0]}'?" if close else None)
        return self._versions[mapping_id]

    def latest(self, mapping_id: str) -> CompiledMapping:
        """The version with the highest version number."""
        return max(self.versions(mapping_id), key=lambda v: v.number).mapping

    def select(self, mapping_id: str, on: date) -> CompiledMapping:
        """The version of ``mapping_id`` in force on ``on``; LockerhubError when none is."""
        versions = self.versions(mapping_id)
        for v in reversed(versions):
            if v.covers(on):
                return v.mapping
        available = ", ".join(v.describe() for v in versions)
        raise LockerhubError(f"no version of mapping '{mapping_id}' is in force on {on.isoformat()}",
                             expected="a date in one of its windows", found=f"versions {available}")


def _folders(path: Path) -> Iterator[Path]:
    """``path`` and every folder below it that holds mapping files (``tests/`` and hidden folders skipped)."""
    for folder in sorted([path, *(p for p in path.rglob("*") if p.is_dir())]):
        parts = folder.relative_to(path).parts
        if any(p == "tests" or p.startswith(".") for p in parts):
            continue
        if mapping_files(folder):
            yield folder


def check_paths(paths: Iterable[str | Path]) -> list[tuple[str, list[LockerhubError]]]:
    """Validate mapping files and folders (recursively, with the version checks of each folder's set): one
    ``(file, errors)`` per mapping file, in order; an empty list means the file is valid."""
    out: dict[str, list[LockerhubError]] = {}
    for path in map(Path, paths):
        if not path.is_dir():
            targets = [path]
        else:
            targets = list(_folders(path))
            if not targets:
                out[str(path)] = [ConfigError("no mapping files in folder", location=Location(file=str(path)),
                                              expected="*.yaml files with a `mapping:` id")]
        for target in targets:
            files = mapping_files(target) if target.is_dir() else [target]
            for file in files:
                out.setdefault(str(file), [])
            try:
                _, errors = MappingSet.collect(target)
            except LockerhubError as exc:
                errors = [exc]
            for error in errors:
                where = error.location.file if error.location and error.location.file else str(target)
                out.setdefault(where, []).append(error)
    return list(out.items())


def resolve(path: str | Path, *, mapping_id: str | None = None, on: date | None = None) -> CompiledMapping:
    """One mapping from a file, or from a folder (its only id, or ``mapping_id``) in force on ``on`` (default:
    today). A file is taken as it is, whatever its dates."""
    path = Path(path)
    if not path.is_dir():
        return load_mapping(path)
    mappings = MappingSet.load(path)
    ids = mappings.ids()
    if mapping_id is None:
        if len(ids) != 1:
            raise ConfigError("the folder holds several mappings; say which", location=Location(file=str(path)),
                              expected=" or ".join(ids))
        mapping_id = ids[0]
    return mappings.select(mapping_id, on or date.today())
