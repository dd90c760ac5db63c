"""The base of every mapping op: one pydantic model (its YAML shape and schema), one compiler, one reference
evaluator.

An op is a node of an expression tree. ``build(env)`` turns it into a plain Python callable ``fn(item) -> value``
once, at load time (no per-record interpretation, no ``eval`` of user strings). ``evaluate(item, env)`` is the
straightforward reference semantics the property tests compare the compiled callable against. ``None`` means
"no value"; every op may carry ``default`` (used when the value is None) and ``required`` (no value is an error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from lockerhub.errors import MappingError

Fn = Callable[[Any], Any]


class MissingValue(MappingError):
    """A required value is absent."""


@dataclass(slots=True)
class Env:
    """What ops may consult while compiling or evaluating: the source format and the mapping's tables."""

    format: Any  # lockerhub.mapping.formats.SourceFormat
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    source_version: str | None = None


class Op(BaseModel):
    """Base of all ops. Subclasses set ``op: Literal["name"]`` and implement ``build`` and ``evaluate``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: ClassVar[str] = ""

    required: bool = Field(default=False, description="no value is an error (after `default`)")
    default: Any = Field(default=None, description="value used when the expression gives none")

    # -- to implement -------------------------------------------------------------------------------------
    def build(self, env: Env) -> Fn:  # pragma: no cover - abstract
        raise NotImplementedError

    def evaluate(self, item: Any, env: Env) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def children(self) -> Iterator[Op]:
        """Sub-expressions (for lineage, explain and diff)."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, Op):
                yield value
            elif isinstance(value, (list, tuple)):
                yield from (v for v in value if isinstance(v, Op))

    # -- provided -----------------------------------------------------------------------------------------
    def compile(self, env: Env) -> Fn:
        """``build`` wrapped with ``default`` and ``required`` (no wrapper when neither is set)."""
        fn = self.build(env)
        default, required, what = self.default, self.required, self.describe()
        if default is None and not required:
            return fn
        if not required:
            def with_default(item: Any) -> Any:
                value = fn(item)
                return default if value is None else value
            return with_default

        def checked(item: Any) -> Any:
            value = fn(item)
            if value is None:
                value = default
            if value is None:
                raise MissingValue(f"{what}: required", expected="a value", found="nothing")
            return value
        return checked

    def run(self, item: Any, env: Env) -> Any:
        """Reference semantics including ``default`` and ``required``."""
        value = self.evaluate(item, env)
        if value is None:
            value = self.default
        if value is None and self.required:
            raise MissingValue(f"{self.describe()}: required", expected="a value", found="nothing")
        return value

    def paths(self) -> Iterator[str]:
        """Every source path this expression reads, depth first."""
        for child in self.children():
            yield from child.paths()

    def describe(self) -> str:
        """A short one-line rendering for messages and `mapping explain`."""
        return self.name


def run_child(op: Op, item: Any, env: Env) -> Any:
    return op.run(item, env)
