"""``const``: a fixed value."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op


@register
class ConstOp(Op):
    """A constant (``{op: const, value: PL}``)."""

    name = "const"
    op: Literal["const"] = "const"
    value: Any = Field(description="the value (string, number, boolean, list or mapping)")

    def build(self, env: Env) -> Fn:
        value = self.value
        return lambda item: value

    def evaluate(self, item: Any, env: Env) -> Any:
        return self.value

    def describe(self) -> str:
        return f"const {self.value!r}"
