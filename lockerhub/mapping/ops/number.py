"""``number``: text such as ``12.5`` or ``12,5`` read as a number (an int when it is whole, else a float)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lockerhub.errors import ValidationError
from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op
from lockerhub.mapping.ops._values import parse_decimal, plain, shown

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr


@register
class NumberOp(Op):
    """Parse a number (``{op: number, of: amount, decimal: ","}``); numbers pass through."""

    name = "number"
    op: Literal["number"] = "number"
    of: Expr = Field(description="the value to read as a number")
    decimal: Literal[".", ",", "auto"] = Field(
        default="auto", description="decimal separator; `auto`: a comma is one when the text has no dot")

    def build(self, env: Env) -> Fn:
        of, decimal, what = self.of.compile(env), self.decimal, self.describe()

        def number(item: Any) -> Any:
            value = of(item)
            if value is None:
                return None
            parsed = parse_decimal(value, decimal)
            if parsed is None:
                raise ValidationError(what, expected="a number", found=shown(value))
            return plain(parsed)
        return number

    def evaluate(self, item: Any, env: Env) -> Any:
        value = self.of.run(item, env)
        if value is None:
            return None
        parsed = parse_decimal(value, self.decimal)
        if parsed is None:
            raise ValidationError(self.describe(), expected="a number", found=shown(value))
        return plain(parsed)

    def describe(self) -> str:
        return "number" if self.decimal == "auto" else f"number (decimal {self.decimal!r})"
