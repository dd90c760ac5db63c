"""``unit``: convert a length or a mass (``{op: unit, of: weight_kg, from: kg, to: g}``), rounded half up.

Decimal arithmetic throughout, so ``0.1 kg`` is ``100 g`` exactly. The input may be a number or text with a
decimal point or comma."""

from __future__ import annotations

import difflib
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lockerhub.errors import ValidationError
from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op
from lockerhub.mapping.ops._values import parse_decimal, plain, shown
from lockerhub.model.units import LENGTH_TO_MM, MASS_TO_G

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr

_KINDS = {**{u: ("length", f) for u, f in LENGTH_TO_MM.items()}, **{u: ("mass", f) for u, f in MASS_TO_G.items()}}
_UNITS = f"{', '.join(LENGTH_TO_MM)} (length) or {', '.join(MASS_TO_G)} (mass)"
_CONTEXT = Context(prec=28)


def _unit(text: str) -> tuple[str, Decimal]:
    found = _KINDS.get(text.strip().lower())
    if found is None:
        close = difflib.get_close_matches(text.strip().lower(), list(_KINDS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ValueError(f"unknown unit {text!r}: expected {_UNITS}{hint}")
    return found


@register
class UnitOp(Op):
    """Convert between length units (mm cm dm m in ft) or between mass units (g kg lb oz)."""

    name = "unit"
    op: Literal["unit"] = "unit"
    of: Expr = Field(description="the quantity: a number, or text such as `1.25` or `1,25`")
    from_: str = Field(alias="from", description="unit of the input: mm, cm, dm, m, in, ft, g, kg, lb or oz")
    to: str = Field(description="unit of the result (the same kind as `from`: a length or a mass)")
    decimals: int = Field(default=0, ge=0, le=6, description="decimal places kept (0 gives an integer)")

    def _factors(self) -> tuple[Decimal, Decimal]:
        (source, times), (target, per) = _unit(self.from_), _unit(self.to)
        if source != target:
            raise ValueError(f"cannot convert {source} ({self.from_}) to {target} ({self.to}): "
                             "expected two length units or two mass units")
        return times, per

    def build(self, env: Env) -> Fn:
        times, per = self._factors()
        quantum, whole, what = Decimal(1).scaleb(-self.decimals), self.decimals == 0, self.describe()
        of = self.of.compile(env)

        factor = _CONTEXT.divide(times, per)
        exact = _CONTEXT.multiply(factor, per) == times  # then number * factor == number * times / per

        def convert(item: Any) -> Any:
            value = of(item)
            if value is None:
                return None
            number = parse_decimal(value)
            if number is None:
                raise ValidationError(what, expected="a number", found=shown(value))
            try:
                result = (_CONTEXT.multiply(number, factor) if exact
                          else _CONTEXT.divide(_CONTEXT.multiply(number, times), per))
                result = result.quantize(quantum, rounding=ROUND_HALF_UP, context=_CONTEXT)
            except InvalidOperation:
                raise ValidationError(what, expected="a plausible quantity", found=shown(value)) from None
            return int(result) if whole else float(result)
        return convert

    def evaluate(self, item: Any, env: Env) -> Any:
        value = self.of.run(item, env)
        if value is None:
            return None
        number = parse_decimal(value)
        if number is None:
            raise ValidationError(self.describe(), expected="a number", found=shown(value))
        times, per = self._factors()
        try:
            with localcontext(_CONTEXT):
                result = (number * times / per).quantize(Decimal(1).scaleb(-self.decimals), ROUND_HALF_UP)
        except InvalidOperation:
            raise ValidationError(self.describe(), expected="a plausible quantity", found=shown(value)) from None
        return plain(result) if self.decimals == 0 else float(result)

    def describe(self) -> str:
        return f"unit {self.from_}->{self.to}"
