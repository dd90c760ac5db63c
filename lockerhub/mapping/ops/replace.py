"""``replace``: replace every occurrence of a piece of text (``{op: replace, of: phone, old: " ", new: ""}``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op
from lockerhub.mapping.ops._values import as_text

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr


@register
class ReplaceOp(Op):
    """Plain text replacement (no patterns; see `regex` for those)."""

    name = "replace"
    op: Literal["replace"] = "replace"
    of: Expr = Field(description="the text")
    old: str = Field(min_length=1, description="the text to find")
    new: str = Field(description="what to put in its place (may be empty)")

    def build(self, env: Env) -> Fn:
        of, what, old, new = self.of.compile(env), self.describe(), self.old, self.new
        return lambda item: None if (value := of(item)) is None else as_text(value, what).replace(old, new)

    def evaluate(self, item: Any, env: Env) -> Any:
        value = self.of.run(item, env)
        return None if value is None else self.new.join(as_text(value, self.describe()).split(self.old))

    def describe(self) -> str:
        return f"replace {self.old!r} -> {self.new!r}"
