"""``when``: choose between two expressions by a condition.

```yaml
service: {op: when, if: {test: equals, of: cod_flag, value: Y}, then: {op: const, value: COD}, else: STANDARD}
```
Only the chosen branch is read. Conditions (``test: equals | in | exists | matches | all | any | not``) are in
:mod:`._conditions`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op
from lockerhub.mapping.ops._conditions import Condition

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr


@register
class WhenOp(Op):
    """``then`` when the condition holds, else ``else`` (no value without one)."""

    name = "when"
    op: Literal["when"] = "when"
    if_: Condition = Field(alias="if", description="the condition: {test: equals | in | exists | matches | all | "
                                                  "any | not, ...}")
    then: Expr = Field(description="the value when the condition holds")
    else_: Expr | None = Field(default=None, alias="else", description="the value otherwise (none: no value)")

    def build(self, env: Env) -> Fn:
        test, then = self.if_.build(env), self.then.compile(env)
        otherwise = self.else_.compile(env) if self.else_ is not None else (lambda item: None)
        return lambda item: then(item) if test(item) else otherwise(item)

    def evaluate(self, item: Any, env: Env) -> Any:
        if self.if_.evaluate(item, env):
            return self.then.run(item, env)
        return self.else_.run(item, env) if self.else_ is not None else None

    def children(self) -> Iterator[Op]:
        yield from self.if_.ops()
        yield self.then
        if self.else_ is not None:
            yield self.else_

    def paths(self) -> Iterator[str]:
        """The branches' paths first: a value (and an error about it) is located where the value is read, not
        where the condition looks."""
        yield from self.then.paths()
        if self.else_ is not None:
            yield from self.else_.paths()
        for op in self.if_.ops():
            yield from op.paths()

    def describe(self) -> str:
        return f"when {self.if_.describe()}"
