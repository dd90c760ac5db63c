"""Status crosswalks: vendor or EDI code -> canonical status, kept as data next to each connector.

File format (``statuses.yaml``)::

    source: simlocker            # connector id or standard (x12-214, edifact-iftsta)
    codes:
      COURIER_DEPOSITED: DEPOSITED
      DOOR_FAULT: {status: EXCEPTION, reason: door_fault}

Every status and reason is checked against the lifecycle when the file loads; errors name the file and line.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import yaml

from lockerhub._yaml import duplicate_keys
from lockerhub.errors import ErrorGroup, Location, LockerhubError, MappingError, ValidationError
from lockerhub.model.state_machine import lifecycle
from lockerhub.model.status import ParcelStatus


@dataclass(frozen=True, slots=True)
class Mapped:
    status: ParcelStatus
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Crosswalk:
    source: str
    codes: dict[str, Mapped]
    file: str = "<crosswalk>"

    def map(self, code: str) -> Mapped:
        try:
            return self.codes[code]
        except KeyError:
            raise MappingError(
                f"unknown {self.source} status code",
                expected=f"one of the {len(self.codes)} codes in {self.file}",
                found=repr(code),
            ) from None


def _where(path: Path, node: yaml.Node) -> Location:
    return Location(file=str(path), line=node.start_mark.line + 1, column=node.start_mark.column + 1)


def _entry(path: Path, code: str, key: yaml.Node, value: yaml.Node) -> tuple[str | None, str | None, list[LockerhubError]]:
    """(status, reason, errors) of one code entry; scalars are read as written (no YAML 1.1 coercion)."""
    if isinstance(value, yaml.ScalarNode):
        return value.value, None, []
    if not isinstance(value, yaml.MappingNode):
        return None, None, [ValidationError(f"code {code}", location=_where(path, value),
                                            expected="a status or {status, reason}", found="a list")]
    fields: dict[str, str] = {}
    errors: list[LockerhubError] = []
    for k, v in value.value:
        if k.value not in ("status", "reason"):
            close = difflib.get_close_matches(k.value, ["status", "reason"], n=1)
            errors.append(ValidationError(f"code {code}: unknown key '{k.value}'", location=_where(path, k),
                                          expected="status or reason",
                                          hint=f"did you mean '{close[0]}'?" if close else None))
        elif isinstance(v, yaml.ScalarNode):
            fields[k.value] = v.value
    return fields.get("status"), fields.get("reason"), errors


def load_crosswalk(path: str | Path) -> Crosswalk:
    """Load and validate a crosswalk file, collecting every error before raising.

    Codes are taken exactly as written: vendor codes such as ``NO``, ``Off`` or ``010`` stay strings.
    """
    path = Path(path)
    root = yaml.compose(path.read_text("utf-8"), Loader=yaml.SafeLoader)
    errors: list[LockerhubError] = list(duplicate_keys(root, str(path))) if root is not None else []
    codes: dict[str, Mapped] = {}
    source: str | None = None
    entries: list[tuple[yaml.Node, yaml.Node]] = []
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "source" and isinstance(value, yaml.ScalarNode):
                source = value.value
            elif key.value == "codes" and isinstance(value, yaml.MappingNode):
                entries = value.value
    for key, value in entries:
        code = key.value
        status, reason, problems = _entry(path, code, key, value)
        errors.extend(problems)
        where = _where(path, value)  # the status as written is what to fix
        try:
            canonical = ParcelStatus(status)
            lifecycle().check_reason(canonical, reason)
        except ValueError:
            errors.append(ValidationError(f"code {code}: unknown canonical status", location=where,
                                          expected="a canonical status (lifecycle.yaml)", found=repr(status)))
            continue
        except ValidationError as exc:
            errors.append(ValidationError(f"code {code}: {exc.message}", location=where,
                                          expected=exc.expected, found=exc.found))
            continue
        if reason is not None and canonical not in lifecycle().reasons:
            errors.append(ValidationError(f"code {code}: {canonical} takes no reason", location=where,
                                          found=repr(reason)))
            continue
        codes[code] = Mapped(canonical, reason)
    if not source:
        errors.append(ValidationError("crosswalk", location=Location(file=str(path), line=1, column=1),
                                      expected="a 'source' key", found="none"))
    if errors:
        raise ErrorGroup(errors)
    return Crosswalk(source=str(source), codes=codes, file=path.name)
