"""Every op is registered, documented (its field descriptions become the reference docs) and in the schema."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel

from lockerhub.mapping import MappingDoc
from lockerhub.mapping.ops import OPS
from lockerhub.mapping.ops._conditions import Condition

CONDITIONS = {cls.model_fields["test"].default: cls for cls in typing.get_args(typing.get_args(Condition)[0])}
OPS_AND_CONDITIONS = sorted({**OPS, **{f"test:{k}": v for k, v in CONDITIONS.items()}}.items())


def test_the_registry_holds_every_op() -> None:
    assert sorted(OPS) == ["coalesce", "concat", "const", "datetime", "lookup", "number", "pad", "path", "regex",
                           "replace", "slice", "split", "text", "unit", "when"]
    assert sorted(CONDITIONS) == ["all", "any", "equals", "exists", "in", "matches", "not"]


@pytest.mark.parametrize(("name", "cls"), OPS_AND_CONDITIONS, ids=[n for n, _ in OPS_AND_CONDITIONS])
def test_documented(name: str, cls: type[BaseModel]) -> None:
    assert cls.__doc__ and cls.__doc__.strip()
    undocumented = [f for f, info in cls.model_fields.items() if f not in ("op", "test") and not info.description]
    assert undocumented == []


def test_the_schema_has_every_op_and_condition() -> None:
    defs = MappingDoc.model_json_schema()["$defs"]
    assert {cls.__name__ for cls in (*OPS.values(), *CONDITIONS.values())} <= set(defs)
