"""Bounded retries with exponential back-off and full jitter, honouring Retry-After.

Only :class:`~lockerhub.errors.TransientError` is retried; every other error is the caller's to handle.
Retries are bounded by default (attempts and a total sleep budget): an outage surfaces instead of hiding.
A :class:`~lockerhub.errors.CircuitOpenError` is never retried: the breaker already said "not now", and a retry
loop must not knock on an open circuit (see :mod:`lockerhub.runtime.breaker`). Nor is a
:class:`~lockerhub.runtime.budget.BudgetExceeded`: the vendor's API budget already waited what the call may wait.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from lockerhub.errors import CircuitOpenError, TransientError
from lockerhub.runtime.budget import BudgetExceeded

T = TypeVar("T")


@dataclass(slots=True)
class RetryPolicy:
    attempts: int = 4
    base_s: float = 0.2
    cap_s: float = 5.0
    budget_s: float = 15.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = self.rng.uniform(0, min(self.cap_s, self.base_s * 2**attempt))
        return max(backoff, retry_after or 0.0)

    def call(self, fn: Callable[[], T]) -> T:
        slept = 0.0
        for attempt in range(self.attempts):
            try:
                return fn()
            except (CircuitOpenError, BudgetExceeded):
                raise
            except TransientError as exc:
                wait = self.delay(attempt, exc.retry_after)
                if attempt + 1 >= self.attempts or slept + wait > self.budget_s:
                    raise
                self.sleep(wait)
                slept += wait
        raise AssertionError("unreachable")  # pragma: no cover
