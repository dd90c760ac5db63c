"""``path``: a value read from the source tree. The syntax is the source format's (CSV column, XML path, EDI
segment/element, canonical field); it is checked when the mapping loads. A bare string is short for this op."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field

from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op


@register
class PathOp(Op):
    """Read one value from the source (``weight_kg``, ``#3``, ``Shipment/Consignee/Name``, ``HL[S]/TD1/02``)."""

    name = "path"
    op: Literal["path"] = "path"
    path: str = Field(min_length=1, description="where the value is, in the source format's path syntax")

    def build(self, env: Env) -> Fn:
        return env.format.compile_path(self.path, version=env.source_version)  # type: ignore[no-any-return]

    def evaluate(self, item: Any, env: Env) -> Any:
        return env.format.read_path(item, self.path)

    def paths(self) -> Iterator[str]:
        yield self.path

    def describe(self) -> str:
        return f"path {self.path}"
