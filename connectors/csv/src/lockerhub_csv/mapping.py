"""The CSV column mapping: which header feeds which canonical field, loaded from YAML with positions.

Capabilities:
    ``load_mapping(path) -> CsvMapping``. The file looks like ``default_mapping.yaml``::

        format: csv
        partner_field_defaults:                  # optional, used when no column gives a value
          recipient.address.country: PL
          parcels.weight: {value: 1, unit: kg}   # dimension and weight defaults carry their unit
        columns:                                 # CSV header name -> rule
          shipment_ref: {field: reference, required: true}
          weight_kg:    {field: parcels.weight, unit: kg}
          temperature:  {field: parcels.temperature, default: ambient}

    Rule keys: ``field`` (a canonical field, see ``_targets.TARGETS``), ``required`` (the cell must not be empty),
    ``unit`` (dimensions: mm/cm/m/in, weight: g/kg/lb; required there, refused elsewhere), ``default`` (used for
    an empty cell). The whole file is checked before anything is returned: unknown keys, unknown fields (with a
    did-you-mean hint), missing or misplaced units, defaults the canonical model refuses, duplicate keys, two columns
    feeding one field, and canonical fields a shipment needs but nothing feeds. Every problem is a
    :class:`~lockerhub.errors.ConfigError` at ``file:line:column``; all of them are raised together as an
    :class:`~lockerhub.errors.ErrorGroup`.

Config:
    The file named by ``mapping`` (LOCKERHUB_CSV_MAPPING).

Limits/Pitfalls:
    - Deliberately small and replaceable: the reader only uses :class:`CsvMapping`. The general mapping language
      (``lockerhub/mapping``) will replace this module, not extend it.
    - One row is one shipment with exactly one parcel; there is no grouping of rows into multi-parcel shipments.
    - Header names are matched exactly (after trimming spaces); matching is case-sensitive.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import yaml

from lockerhub.errors import ConfigError, ErrorGroup, Location, ValidationError
from lockerhub_csv._model_errors import describe, model_error
from lockerhub_csv._targets import REQUIRED_FIELDS, TARGETS, Target
from lockerhub_csv._yamlnodes import NULL_TAG, NodeChecker, compose

ROOT_KEYS = ("format", "partner_field_defaults", "columns")
RULE_KEYS = ("field", "required", "unit", "default")
DEFAULT_KEYS = ("value", "unit")


@dataclass(frozen=True, slots=True)
class ColumnRule:
    """One CSV column feeding one canonical field."""

    column: str
    field: str
    target: Target
    location: Location
    required: bool = False
    unit: str | None = None
    default: str | None = None
    default_location: Location | None = None

    def convert(self, text: str) -> object:
        return self.target.convert(text, self.unit)


@dataclass(frozen=True, slots=True)
class FieldDefault:
    """A partner-wide value for a canonical field no column filled; ``value`` is already converted."""

    field: str
    target: Target
    value: object
    location: Location


@dataclass(frozen=True, slots=True)
class CsvMapping:
    file: str
    columns: tuple[ColumnRule, ...]
    defaults: tuple[FieldDefault, ...] = ()

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(rule.column for rule in self.columns if rule.required)


def load_mapping(path: str | Path) -> CsvMapping:
    """Load and validate a mapping file; raises ConfigError (unreadable) or ErrorGroup (invalid)."""
    return _Loader(str(path)).load(compose(path))


class _Loader(NodeChecker):
    """Walks the mapping's node tree once, collecting every error with its position."""

    def __init__(self, file: str) -> None:
        super().__init__(file)
        self.intended: set[str] = set()  # fields a misspelt name probably meant

    def target(self, node: yaml.Node, name: str | None, path: str) -> Target | None:
        if name is None:
            return None
        if name not in TARGETS:
            close = difflib.get_close_matches(name, list(TARGETS), n=1, cutoff=0.6)
            self.intended.update(close)  # so the required-field check does not report the same typo again
            self.error(
                node,
                f"unknown canonical field '{name}'",
                path=path,
                hint=f"did you mean '{close[0]}'?" if close else None,
            )
            return None
        return TARGETS[name]

    def unit(self, node: yaml.Node | None, owner: yaml.Node, target: Target, path: str) -> str | None:
        if not target.units:
            if node is not None:
                self.error(
                    node,
                    f"{path}.unit: field has no unit",
                    path=f"{path}.unit",
                    hint="units apply to dimensions and weight only",
                )
            return None
        if node is None:
            self.error(owner, f"{path}: unit missing", path=path, expected=" or ".join(target.units))
            return None
        unit = self.scalar(node, f"{path}.unit")
        if unit is not None and unit not in target.units:
            self.error(node, f"{path}.unit", path=f"{path}.unit", expected=" or ".join(target.units), found=repr(unit))
            return None
        return unit

    def converted(self, node: yaml.Node, text: str, target: Target, unit: str | None, path: str) -> bool:
        """Does a default convert, and does the canonical model accept the result?"""
        try:
            err = model_error(target, target.convert(text, unit))
        except ValidationError as exc:
            self.error(node, path, path=path, expected=exc.expected, found=exc.found)
            return False
        if err is not None:
            expected, found = describe(err)
            self.error(node, path, path=path, expected=expected, found=found)
            return False
        return True

    def load(self, root: yaml.Node | None) -> CsvMapping:
        if root is None:
            self.errors.append(
                ConfigError("mapping is empty", location=Location(self.file, 1, 1), expected="keys format and columns")
            )
            raise ErrorGroup(self.errors)
        top = self.pairs(root, ROOT_KEYS, "")
        if not isinstance(root, yaml.MappingNode):
            raise ErrorGroup(self.errors)
        if "format" not in top:
            self.error(root, "key 'format' missing", path="format", expected="format: csv")
        elif (fmt := self.scalar(top["format"][1], "format")) is not None and fmt != "csv":
            self.error(top["format"][1], "format", path="format", expected="'csv'", found=repr(fmt))
        columns: tuple[ColumnRule, ...] = ()
        if "columns" not in top:
            self.error(root, "key 'columns' missing", path="columns", expected="a mapping of CSV header -> rule")
        else:
            columns = self.columns(*top["columns"])
        defaults: tuple[FieldDefault, ...] = ()
        if "partner_field_defaults" in top and top["partner_field_defaults"][1].tag != NULL_TAG:
            defaults = self.defaults(top["partner_field_defaults"][1])
        if columns:  # with no usable column at all, that error says it already
            self.required_fields(top["columns"][0], columns, defaults)
        if self.errors:
            raise ErrorGroup(self.errors)
        return CsvMapping(self.file, columns, defaults)

    def columns(self, key: yaml.Node, node: yaml.Node) -> tuple[ColumnRule, ...]:
        rules: list[ColumnRule] = []
        fed: dict[str, ColumnRule] = {}
        entries = self.pairs(node, None, "columns")
        if isinstance(node, yaml.MappingNode) and not node.value:
            self.error(key, "columns", path="columns", expected="at least one column", found="none")
        for column, (col_key, spec) in entries.items():
            rule = self.rule(column.strip(), col_key, spec)
            if rule is None:
                continue
            if rule.field in fed:
                first = fed[rule.field]
                self.error(
                    spec,
                    f"columns.{column}: field '{rule.field}' is already fed",
                    path=f"columns.{column}",
                    hint=f"by column '{first.column}' on line {first.location.line}",
                )
                continue
            fed[rule.field] = rule
            rules.append(rule)
        return tuple(rules)

    def rule(self, column: str, key: yaml.Node, node: yaml.Node) -> ColumnRule | None:
        path = f"columns.{column}"
        spec = self.pairs(node, RULE_KEYS, path)
        if not spec:
            if isinstance(node, yaml.MappingNode):
                self.error(node, path, path=path, expected="a rule with 'field'", found="an empty mapping")
            return None
        if "field" not in spec:
            self.error(node, f"{path}: key 'field' missing", path=path, expected="field: <canonical field>")
            return None
        field_node = spec["field"][1]
        field = self.scalar(field_node, f"{path}.field")
        target = self.target(field_node, field, f"{path}.field")
        if target is None or field is None:
            return None
        unit = self.unit(spec["unit"][1] if "unit" in spec else None, node, target, path)
        required = "required" in spec and bool(self.boolean(spec["required"][1], f"{path}.required"))
        default, default_at = None, None
        if "default" in spec:
            default_node = spec["default"][1]
            default_at = self.at(default_node, f"{path}.default")
            default = self.scalar(default_node, f"{path}.default")
            if default is not None and required:
                self.error(
                    default_node,
                    f"{path}.default: a required column cannot have a default",
                    path=f"{path}.default",
                    hint="drop 'required' or 'default'",
                )
                default = None
            elif default is not None and target.units and unit is None:
                default = None  # the missing unit is already reported
            elif default is not None and not self.converted(default_node, default, target, unit, f"{path}.default"):
                default = None
        return ColumnRule(column, field, target, self.at(key, path), required, unit, default, default_at)

    def defaults(self, node: yaml.Node) -> tuple[FieldDefault, ...]:
        out: list[FieldDefault] = []
        for field, (key, value_node) in self.pairs(node, None, "partner_field_defaults").items():
            path = f"partner_field_defaults.{field}"
            target = self.target(key, field, path)
            if target is None:
                continue
            unit: str | None = None
            text_node = value_node
            if target.units:
                spec = self.pairs(value_node, DEFAULT_KEYS, path)
                if not isinstance(value_node, yaml.MappingNode):
                    continue  # reported by pairs(): needs {value: ..., unit: ...}
                unit = self.unit(spec["unit"][1] if "unit" in spec else None, value_node, target, path)
                if "value" not in spec:
                    self.error(value_node, f"{path}: key 'value' missing", path=path, expected="value: <number>")
                    continue
                text_node = spec["value"][1]
            text = self.scalar(text_node, path)
            if text is None or (target.units and unit is None):
                continue
            if self.converted(text_node, text, target, unit, path):
                out.append(FieldDefault(field, target, target.convert(text, unit), self.at(text_node, path)))
        return tuple(out)

    def required_fields(
        self, at: yaml.Node, columns: tuple[ColumnRule, ...], defaults: tuple[FieldDefault, ...]
    ) -> None:
        fed = {rule.field for rule in columns} | {d.field for d in defaults} | self.intended
        for field in REQUIRED_FIELDS:
            if field not in fed:
                self.error(
                    at,
                    f"nothing feeds required canonical field '{field}'",
                    path="columns",
                    hint=f"add a column with 'field: {field}' or a partner_field_defaults entry",
                )
