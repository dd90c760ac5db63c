"""``coalesce``: the first of several values that is there (``{op: coalesce, of: [mobile, phone]}``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op
from lockerhub.mapping.ops._values import blank

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr


@register
class CoalesceOp(Op):
    """The first value that is neither missing nor blank text; later values are not read."""

    name = "coalesce"
    op: Literal["coalesce"] = "coalesce"
    of: list[Expr] = Field(min_length=1, description="the candidates, in order of preference")

    def build(self, env: Env) -> Fn:
        candidates = tuple(c.compile(env) for c in self.of)

        def coalesce(item: Any) -> Any:
            for candidate in candidates:
                value = candidate(item)
                if not blank(value):
                    return value
            return None
        return coalesce

    def evaluate(self, item: Any, env: Env) -> Any:
        for candidate in self.of:
            value = candidate.run(item, env)
            if value is not None and not (isinstance(value, str) and value.strip() == ""):
                return value
        return None

    def describe(self) -> str:
        return f"coalesce of {len(self.of)}"
