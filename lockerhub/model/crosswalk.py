"""Status crosswalks: vendor or EDI code -> canonical status, kept as data next to each connector.

File format (``statuses.yaml``)::

    source: simlocker            # connector id or standard (x12-214, edifact-iftsta)
    codes:
      COURIER_DEPOSITED: DEPOSITED
      DOOR_FAULT: {status: EXCEPTION, reason: door_fault}

Every status and reason is checked against the lifecycle when the file loads; errors name the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

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


def _line_of(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_crosswalk(path: str | Path) -> Crosswalk:
    """Load and validate a crosswalk file, collecting every error before raising."""
    path = Path(path)
    text = path.read_text("utf-8")
    root = yaml.compose(text)
    data = yaml.safe_load(text) or {}
    errors: list[LockerhubError] = []
    codes: dict[str, Mapped] = {}
    code_nodes: dict[str, yaml.Node] = {}
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "codes" and isinstance(value, yaml.MappingNode):
                code_nodes = {k.value: v for k, v in value.value}
    for code, spec in (data.get("codes") or {}).items():
        line, col = _line_of(code_nodes[str(code)]) if str(code) in code_nodes else (None, None)
        where = Location(file=str(path), line=line, column=col)
        status, reason = (spec.get("status"), spec.get("reason")) if isinstance(spec, dict) else (spec, None)
        try:
            canonical = ParcelStatus(status)
            lifecycle().check_reason(canonical, reason)
            codes[str(code)] = Mapped(canonical, reason)
        except ValueError:
            errors.append(ValidationError(f"code {code}: unknown canonical status", location=where,
                                          expected="a canonical status (lifecycle.yaml)", found=repr(status)))
        except ValidationError as exc:
            errors.append(ValidationError(f"code {code}: {exc.message}", location=where,
                                          expected=exc.expected, found=exc.found))
    if not data.get("source"):
        errors.append(ValidationError("crosswalk", location=Location(file=str(path), line=1, column=1),
                                      expected="a 'source' key", found="none"))
    if errors:
        raise ErrorGroup(errors)
    return Crosswalk(source=str(data["source"]), codes=codes, file=path.name)
