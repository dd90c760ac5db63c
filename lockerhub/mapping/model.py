"""The mapping language as pydantic models: the single source of its JSON Schema and of its reference docs.

```yaml
mapping: acme-tms/shipments          # partner/name
version: 2
effective_from: 2026-03-01           # the version in force for a document's date is used
source: {format: csv}                # csv | x12 | edifact | xml | canonical (outbound) ...
target: shipment                     # shipment | parcel_event | json
tables:
  temperature: {A: ambient, C: chilled, F: frozen}
fields:
  reference: {op: path, path: shipment_ref, required: true}
  recipient.name: recipient_name     # a bare string is a path
  parcels:                           # a list: one item per loop iteration (or one item without `repeat`)
    repeat: HL[P]                    # optional
    fields:
      weight_g: {op: unit, of: weight_kg, from: kg, to: g}
```
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from lockerhub.mapping.ops import Expr
from lockerhub.mapping.ops._values import Code

TARGETS = ("shipment", "parcel_event", "json")


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str = Field(description="source format id: csv, x12, edifact, xml, canonical, ...")
    version: str | None = Field(default=None, description="format version (e.g. 004010 for X12) for path checks")
    options: dict[str, Any] = Field(default_factory=dict, description="format reader options (e.g. delimiter)")


def _field_kind(value: Any) -> str:
    if isinstance(value, Group) or (isinstance(value, dict) and "fields" in value):
        return "group"
    return "expr"


class Group(BaseModel):
    """A list field (e.g. ``parcels``): one item per iteration of ``repeat``, or a single item without it."""

    model_config = ConfigDict(extra="forbid")

    repeat: str | None = Field(default=None, description="source path of the loop (format syntax)")
    fields: dict[str, FieldRule] = Field(description="target paths (relative to the item) -> rules")


FieldRule = Annotated[
    Union[Annotated[Group, Tag("group")], Annotated[Expr, Tag("expr")]],  # noqa: UP007
    Discriminator(_field_kind),
]
Group.model_rebuild()


class MappingDoc(BaseModel):
    """One version of one mapping."""

    model_config = ConfigDict(extra="forbid")

    mapping: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*$",
                         description="id: partner/name, e.g. acme-tms/shipments")
    version: int = Field(default=1, ge=1)
    description: str | None = None
    effective_from: date | None = Field(default=None, description="first day this version applies (inclusive)")
    effective_to: date | None = Field(default=None, description="last day this version applies (inclusive)")
    source: Source
    target: Literal["shipment", "parcel_event", "json"] = Field(
        description="shipment / parcel_event: validated canonical model; json: a free document (vendor request, "
                    "outbound message)")
    repeat: str | None = Field(default=None, description="source path: one target record per loop item")
    tables: dict[str, dict[Code, Any]] = Field(default_factory=dict,
                                               description="lookup tables: name -> code -> value")
    fields: dict[str, FieldRule] = Field(description="target field paths -> rules")

    @model_validator(mode="after")
    def _dates(self) -> MappingDoc:
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self

    def applies_on(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to)
