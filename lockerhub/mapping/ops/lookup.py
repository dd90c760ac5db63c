"""``lookup``: translate a code through a table (``{op: lookup, of: temp_code, table: temperature}``).

Codes are compared as text (``str(value)``, booleans as ``true``/``false``), so a number ``3`` finds the key
``"3"``. A code missing from the table is an error, or no value with ``missing: "null"`` (then ``default``
applies)."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lockerhub.errors import ValidationError
from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op
from lockerhub.mapping.ops._values import Code, key, shown

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr


@register
class LookupOp(Op):
    """Map a code to a value through a named table (from the mapping's `tables:`) or an inline mapping."""

    name = "lookup"
    op: Literal["lookup"] = "lookup"
    of: Expr = Field(description="the code to look up")
    table: str | dict[Code, Any] = Field(
        description="name of a table under `tables:`, or an inline code -> value map")
    case_insensitive: bool = Field(default=False, description="match codes regardless of letter case")
    missing: Literal["error", "null"] = Field(
        default="error", description="a code not in the table: `error`, or `null` (no value, so `default` applies)")

    def _table(self, env: Env) -> dict[str, Any]:
        table = self.table
        if isinstance(table, str):
            if table not in env.tables:
                known = sorted(env.tables)
                if not known:
                    raise ValueError(f"unknown table {table!r}: the mapping has no `tables:`")
                close = difflib.get_close_matches(table, known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ValueError(f"unknown table {table!r}: expected one of {', '.join(known)}{hint}")
            table = env.tables[table]
        if not self.case_insensitive:
            return {str(code): value for code, value in table.items()}
        folded: dict[str, Any] = {}
        for code, value in table.items():
            text = str(code).casefold()
            if text in folded and folded[text] != value:
                raise ValueError(f"codes that differ only in letter case map to different values: {code!r}")
            folded[text] = value
        return folded

    def _miss(self, code: Any, size: int) -> None:
        if self.missing == "error":
            where = f"table {self.table}" if isinstance(self.table, str) else "the inline table"
            raise ValidationError(self.describe(), expected=f"one of the {size} codes in {where}", found=shown(code))

    def build(self, env: Env) -> Fn:
        table, fold, miss, of = self._table(env), self.case_insensitive, self._miss, self.of.compile(env)
        size = len(table)

        def lookup(item: Any) -> Any:
            code = of(item)
            if code is None:
                return None
            text = key(code).casefold() if fold else key(code)
            if text in table:
                return table[text]
            miss(code, size)
            return None
        return lookup

    def evaluate(self, item: Any, env: Env) -> Any:
        code = self.of.run(item, env)
        if code is None:
            return None
        for code_text, value in self._table(env).items():
            if code_text == (key(code).casefold() if self.case_insensitive else key(code)):
                return value
        self._miss(code, len(self._table(env)))
        return None

    def describe(self) -> str:
        return f"lookup {self.table}" if isinstance(self.table, str) else "lookup (inline table)"
