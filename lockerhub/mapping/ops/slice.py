"""``slice``: part of a text by character positions (``{op: slice, of: postcode, start: 0, end: 2}``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op
from lockerhub.mapping.ops._values import as_text

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr


@register
class SliceOp(Op):
    """Characters ``start`` (inclusive) to ``end`` (exclusive), counted from 0; negative counts from the end."""

    name = "slice"
    op: Literal["slice"] = "slice"
    of: Expr = Field(description="the text")
    start: int = Field(default=0, description="first character (0-based; negative counts from the end)")
    end: int | None = Field(default=None, description="character after the last one; none: to the end")

    def build(self, env: Env) -> Fn:
        of, what, start, end = self.of.compile(env), self.describe(), self.start, self.end
        return lambda item: None if (value := of(item)) is None else as_text(value, what)[start:end]

    def evaluate(self, item: Any, env: Env) -> Any:
        value = self.of.run(item, env)
        if value is None:
            return None
        text = as_text(value, self.describe())
        stop = len(text) if self.end is None else self.end
        return "".join(text[i] for i in range(len(text))[self.start:stop])

    def describe(self) -> str:
        return f"slice [{self.start}:{'' if self.end is None else self.end}]"
