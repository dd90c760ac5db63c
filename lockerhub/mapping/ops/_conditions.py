"""The conditions of ``when``: a small union on ``test``. Each compiles to a predicate ``fn(item) -> bool``.

Values are compared as text (``str(value)``, booleans as ``true``/``false``), like lookup codes; a missing value
equals nothing, is in nothing and matches nothing. ``exists`` is false for a missing value and for blank text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field

from lockerhub.mapping.ops._base import Env, Op
from lockerhub.mapping.ops._values import as_text, blank, key
from lockerhub.mapping.ops.regex import compile_pattern

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr

Predicate = Callable[[Any], bool]


class Cond(BaseModel):
    """Base of the conditions: `build(env)` gives a predicate, `evaluate(item, env)` is the reference."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: ClassVar[str] = ""

    def ops(self) -> Iterator[Op]:
        """The expressions this condition reads (those of nested conditions too)."""
        for value in (getattr(self, attr) for attr in type(self).model_fields):
            for part in value if isinstance(value, list) else [value]:
                if isinstance(part, Op):
                    yield part
                elif isinstance(part, Cond):
                    yield from part.ops()


class EqualsTest(Cond):
    """The value equals `value` (both as text)."""

    name = "equals"
    test: Literal["equals"] = "equals"
    of: Expr = Field(description="the value to compare")
    value: Any = Field(description="what it must equal (compared as text)")

    def build(self, env: Env) -> Predicate:
        of, want = self.of.compile(env), key(self.value)
        return lambda item: (value := of(item)) is not None and key(value) == want

    def evaluate(self, item: Any, env: Env) -> bool:
        value = self.of.run(item, env)
        return value is not None and key(value) == key(self.value)

    def describe(self) -> str:
        return f"{self.of.describe()} equals {self.value!r}"


class InTest(Cond):
    """The value is one of `values` (as text)."""

    name = "in"
    test: Literal["in"] = "in"
    of: Expr = Field(description="the value to compare")
    values: list[Any] = Field(min_length=1, description="the values it may be one of (compared as text)")

    def build(self, env: Env) -> Predicate:
        of, allowed = self.of.compile(env), frozenset(key(v) for v in self.values)
        return lambda item: (value := of(item)) is not None and key(value) in allowed

    def evaluate(self, item: Any, env: Env) -> bool:
        value = self.of.run(item, env)
        return value is not None and any(key(value) == key(v) for v in self.values)

    def describe(self) -> str:
        return f"{self.of.describe()} in {len(self.values)} values"


class ExistsTest(Cond):
    """The value is there: not missing and not blank text."""

    name = "exists"
    test: Literal["exists"] = "exists"
    of: Expr = Field(description="the value that must be there (not missing, not blank)")

    def build(self, env: Env) -> Predicate:
        of = self.of.compile(env)
        return lambda item: not blank(of(item))

    def evaluate(self, item: Any, env: Env) -> bool:
        value = self.of.run(item, env)
        return value is not None and not (isinstance(value, str) and value.strip() == "")

    def describe(self) -> str:
        return f"{self.of.describe()} exists"


class MatchesTest(Cond):
    """The text contains a match of `pattern`."""

    name = "matches"
    test: Literal["matches"] = "matches"
    of: Expr = Field(description="the text to search")
    pattern: str = Field(description="a Python regular expression, searched anywhere in the text")

    def build(self, env: Env) -> Predicate:
        of, search, what = self.of.compile(env), compile_pattern(self.pattern).search, self.describe()
        return lambda item: (value := of(item)) is not None and search(as_text(value, what)) is not None

    def evaluate(self, item: Any, env: Env) -> bool:
        value = self.of.run(item, env)
        return value is not None and compile_pattern(self.pattern).search(as_text(value, self.describe())) is not None

    def describe(self) -> str:
        return f"{self.of.describe()} matches {self.pattern!r}"


class AllTest(Cond):
    """Every condition holds."""

    name = "all"
    test: Literal["all"] = "all"
    of: list[Condition] = Field(min_length=1, description="conditions that must all hold (checked in order)")

    def build(self, env: Env) -> Predicate:
        tests = tuple(t.build(env) for t in self.of)
        return lambda item: all(t(item) for t in tests)

    def evaluate(self, item: Any, env: Env) -> bool:
        for test in self.of:
            if not test.evaluate(item, env):
                return False
        return True

    def describe(self) -> str:
        return "(" + " and ".join(t.describe() for t in self.of) + ")"


class AnyTest(Cond):
    """At least one condition holds."""

    name = "any"
    test: Literal["any"] = "any"
    of: list[Condition] = Field(min_length=1, description="conditions of which one must hold (checked in order)")

    def build(self, env: Env) -> Predicate:
        tests = tuple(t.build(env) for t in self.of)
        return lambda item: any(t(item) for t in tests)

    def evaluate(self, item: Any, env: Env) -> bool:
        for test in self.of:
            if test.evaluate(item, env):
                return True
        return False

    def describe(self) -> str:
        return "(" + " or ".join(t.describe() for t in self.of) + ")"


class NotTest(Cond):
    """The condition does not hold."""

    name = "not"
    test: Literal["not"] = "not"
    of: Condition = Field(description="the condition that must not hold")

    def build(self, env: Env) -> Predicate:
        test = self.of.build(env)
        return lambda item: not test(item)

    def evaluate(self, item: Any, env: Env) -> bool:
        return not self.of.evaluate(item, env)

    def describe(self) -> str:
        return f"not {self.of.describe()}"


Condition = Annotated[
    Union[AllTest, AnyTest, EqualsTest, ExistsTest, InTest, MatchesTest, NotTest],  # noqa: UP007
    Discriminator("test"),
]
"""A test on the source (``{test: equals, of: status, value: X}``); the discriminator is ``test``."""
