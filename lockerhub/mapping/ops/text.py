"""``text``: tidy text (``{op: text, of: city, case: upper, collapse_spaces: true}``); numbers become text."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op
from lockerhub.mapping.ops._values import as_text

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr

_SPACES = re.compile(r"\s+")
_CASES = {"upper": str.upper, "lower": str.lower, "title": str.title, "none": None}


@register
class TextOp(Op):
    """Strip, collapse runs of white space and change letter case, in that order."""

    name = "text"
    op: Literal["text"] = "text"
    of: Expr = Field(description="the value (text, or a number written out)")
    case: Literal["upper", "lower", "title", "none"] = Field(default="none", description="letter case of the result")
    strip: bool = Field(default=True, description="remove white space at both ends")
    collapse_spaces: bool = Field(default=False, description="replace each run of white space with one space")

    def build(self, env: Env) -> Fn:
        of, what = self.of.compile(env), self.describe()
        strip, collapse, case = self.strip, self.collapse_spaces, _CASES[self.case]

        def text(item: Any) -> Any:
            value = of(item)
            if value is None:
                return None
            value = as_text(value, what)
            if collapse:
                value = _SPACES.sub(" ", value)
            if strip:
                value = value.strip()
            return case(value) if case is not None else value
        return text

    def evaluate(self, item: Any, env: Env) -> Any:
        value = self.of.run(item, env)
        if value is None:
            return None
        value = as_text(value, self.describe())
        if self.collapse_spaces:
            value = " ".join(re.split(r"\s+", value))
        if self.strip:
            value = value.strip()
        return {"upper": value.upper(), "lower": value.lower(), "title": value.title()}.get(self.case, value)

    def describe(self) -> str:
        return "text" if self.case == "none" else f"text {self.case}"
