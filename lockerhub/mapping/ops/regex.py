"""``regex``: a regular-expression search (``{op: regex, of: ref, pattern: "([0-9]+)$", group: 1}``).

Without ``replace`` the op gives the ``group`` of the first match, or no value when nothing matches. With
``replace`` it substitutes every match (``\\1`` and ``\\g<name>`` refer to groups); text without a match is
left as it is. Patterns use Python's ``re`` syntax and are compiled once, when the mapping loads."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op
from lockerhub.mapping.ops._values import as_text

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """``re.compile`` with its error as a ValueError that says what is wrong and where."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None


@register
class RegexOp(Op):
    """Extract a group of the first match, or replace every match."""

    name = "regex"
    op: Literal["regex"] = "regex"
    of: Expr = Field(description="the text to search")
    pattern: str = Field(description="a Python regular expression (searched anywhere in the text)")
    group: int | str = Field(default=0, description="group to give: 0 (the whole match), a number or a name")
    replace: str | None = Field(default=None, description="replacement for every match (\\1, \\g<name> for groups)")

    def _pattern(self) -> re.Pattern[str]:
        pattern = compile_pattern(self.pattern)
        if self.replace is not None:
            if self.group != 0:
                raise ValueError("`group` and `replace` do not go together: expected one of them")
            try:  # a probe that matches the empty text makes `re` check the group references now
                re.compile(pattern.pattern + "|", pattern.flags).sub(self.replace, "")
            except (re.error, IndexError) as exc:  # an unknown group name is an IndexError
                raise ValueError(f"invalid replacement {self.replace!r}: {exc}") from None
        elif isinstance(self.group, int) and not 0 <= self.group <= pattern.groups:
            raise ValueError(f"no group {self.group}: expected 0 to {pattern.groups}")
        elif isinstance(self.group, str) and self.group not in pattern.groupindex:
            names = ", ".join(sorted(pattern.groupindex)) or "none: the pattern names no group"
            raise ValueError(f"no group named {self.group!r}: expected one of {names}")
        return pattern

    def build(self, env: Env) -> Fn:
        pattern, group, replace = self._pattern(), self.group, self.replace
        of, what = self.of.compile(env), self.describe()
        if replace is not None:
            return lambda item: None if (value := of(item)) is None else pattern.sub(replace, as_text(value, what))
        search = pattern.search

        def extract(item: Any) -> Any:
            value = of(item)
            if value is None:
                return None
            match = search(as_text(value, what))
            return None if match is None else match.group(group)
        return extract

    def evaluate(self, item: Any, env: Env) -> Any:
        value = self.of.run(item, env)
        if value is None:
            return None
        text, pattern = as_text(value, self.describe()), self._pattern()
        if self.replace is not None:
            return pattern.sub(self.replace, text)
        match = pattern.search(text)
        return match.group(self.group) if match else None

    def describe(self) -> str:
        return f"regex {self.pattern!r}" + (f" -> {self.replace!r}" if self.replace is not None else "")
