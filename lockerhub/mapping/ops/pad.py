"""``pad``: pad text to a width (``{op: pad, of: store_no, width: 5}`` turns ``42`` into ``00042``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op
from lockerhub.mapping.ops._values import as_text

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr


@register
class PadOp(Op):
    """Add ``char`` on one side up to ``width`` characters; longer text is left as it is."""

    name = "pad"
    op: Literal["pad"] = "pad"
    of: Expr = Field(description="the text (a number is written out first)")
    width: int = Field(ge=1, le=1000, description="the length to pad to")
    char: str = Field(default="0", min_length=1, max_length=1, description="the padding character")
    side: Literal["left", "right"] = Field(default="left", description="where the padding goes")

    def build(self, env: Env) -> Fn:
        of, what, width, char = self.of.compile(env), self.describe(), self.width, self.char
        pad = str.rjust if self.side == "left" else str.ljust
        return lambda item: None if (value := of(item)) is None else pad(as_text(value, what), width, char)

    def evaluate(self, item: Any, env: Env) -> Any:
        value = self.of.run(item, env)
        if value is None:
            return None
        text = as_text(value, self.describe())
        padding = self.char * max(0, self.width - len(text))
        return padding + text if self.side == "left" else text + padding

    def describe(self) -> str:
        return f"pad {self.width} {self.char!r} {self.side}"
