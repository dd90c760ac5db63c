"""``split``: one part of a delimited text (``{op: split, of: address, sep: ",", index: -1}``), stripped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op
from lockerhub.mapping.ops._values import as_text

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr


@register
class SplitOp(Op):
    """Split at every ``sep`` and give part ``index`` (0-based; -1 is the last); no value when there is none."""

    name = "split"
    op: Literal["split"] = "split"
    of: Expr = Field(description="the text")
    sep: str = Field(default=",", min_length=1, description="the separator")
    index: int = Field(description="which part: 0 is the first, -1 the last")

    def build(self, env: Env) -> Fn:
        of, what, sep, index = self.of.compile(env), self.describe(), self.sep, self.index

        def split(item: Any) -> Any:
            value = of(item)
            if value is None:
                return None
            parts = as_text(value, what).split(sep)
            return parts[index].strip() if -len(parts) <= index < len(parts) else None
        return split

    def evaluate(self, item: Any, env: Env) -> Any:
        value = self.of.run(item, env)
        if value is None:
            return None
        parts = as_text(value, self.describe()).split(self.sep)
        position = self.index + len(parts) if self.index < 0 else self.index
        return parts[position].strip() if 0 <= position < len(parts) else None

    def describe(self) -> str:
        return f"split {self.sep!r} [{self.index}]"
