"""``concat``: join several values into one text (``{op: concat, parts: [street, house_no], sep: " "}``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op
from lockerhub.mapping.ops._values import as_text

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr


@register
class ConcatOp(Op):
    """Parts without a value are left out (no doubled separators); no value at all when every part has none."""

    name = "concat"
    op: Literal["concat"] = "concat"
    parts: list[Expr] = Field(min_length=1, description="the values, in order (numbers are written out)")
    sep: str = Field(default="", description="put between parts")

    def build(self, env: Env) -> Fn:
        parts, sep, what = tuple(p.compile(env) for p in self.parts), self.sep, self.describe()

        def concat(item: Any) -> Any:
            texts = [as_text(v, what) for v in (part(item) for part in parts) if v is not None]
            return sep.join(texts) if texts else None
        return concat

    def evaluate(self, item: Any, env: Env) -> Any:
        result = None
        for part in self.parts:
            value = part.run(item, env)
            if value is not None:
                text = as_text(value, self.describe())
                result = text if result is None else result + self.sep + text
        return result

    def describe(self) -> str:
        return f"concat of {len(self.parts)}"
