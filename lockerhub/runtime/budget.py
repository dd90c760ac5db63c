"""Per-vendor API budgets: a token bucket per vendor, with priorities, that honours the vendor's Retry-After.

    budgets = Budgets({"inpost": Rate(per_second=10, burst=20)})
    budgets.get("inpost").take("book")     # waits for a token (bookings first), or raises BudgetExceeded

A vendor allows so many calls per second (its published rate limit, or what the 3PL's contract buys). Every call
the hub makes to it takes one token; tokens refill at ``per_second`` up to ``burst``. Calls have priorities by
operation (:data:`PRIORITY`): **bookings** (reserve, book, precheck, cancel) may use every token; **status sync**
(get_status, list_reservations) leaves the last 20 % of the bucket to bookings; **background** work (list_lockers,
size_classes, telemetry) leaves the last half. So a polling storm never starves a booking, and a booking waits at
most one refill interval.

A 429 answer with ``Retry-After: N`` (a :class:`~lockerhub.errors.TransientError` with ``retry_after``) pauses the
whole bucket for N seconds: no call of any priority is sent before then (the vendor said so for the account, not
for one endpoint).

A caller never waits longer than ``max_wait_s`` (default 2 s for bookings, 0 for the rest): then
:class:`BudgetExceeded` (a ``TransientError`` with ``retry_after``) is raised without sending anything, which the
runtime treats as any transient failure: the parcel stays for the next run, the bus message is retried later.

Scope: per process, like the circuit breakers (:mod:`lockerhub.runtime.breaker`): N workers share a vendor's limit
only if each is given 1/N of it (``per_second`` in the hub config is per process). Thread-safe; the clock and the
sleep are injectable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

from pydantic import BaseModel, ConfigDict, Field

from lockerhub.errors import CircuitOpenError, TransientError


class Priority(IntEnum):
    BOOKING = 0
    SYNC = 1
    BACKGROUND = 2


PRIORITY: dict[str, Priority] = {
    "precheck": Priority.BOOKING, "reserve": Priority.BOOKING, "book": Priority.BOOKING, "cancel": Priority.BOOKING,
    "get_status": Priority.SYNC, "list_reservations": Priority.SYNC,
    "list_lockers": Priority.BACKGROUND, "size_classes": Priority.BACKGROUND, "telemetry": Priority.BACKGROUND,
}
_EPSILON = 1e-9  # tokens
RESERVE = {Priority.BOOKING: 0.0, Priority.SYNC: 0.2, Priority.BACKGROUND: 0.5}  # share of the burst left alone


class Rate(BaseModel):
    """A vendor's API budget in the hub config (``vendors.<name>.rate_limit``)."""

    model_config = ConfigDict(extra="forbid")

    per_second: float = Field(gt=0, description="calls per second this process may make to the vendor")
    burst: int = Field(default=10, ge=1, description="calls that may go at once after a quiet spell")
    max_wait_s: float = Field(default=2.0, ge=0, description="how long a booking call may wait for a token")


class BudgetExceeded(TransientError):
    """No token for this call now (or the vendor asked to wait): nothing was sent."""


@dataclass
class Bucket:
    name: str
    rate: Rate
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    tokens: float = field(init=False)
    updated: float = field(init=False)
    paused_until: float = field(init=False, default=0.0)
    taken: dict[Priority, int] = field(init=False, default_factory=lambda: dict.fromkeys(Priority, 0))
    refused: dict[Priority, int] = field(init=False, default_factory=lambda: dict.fromkeys(Priority, 0))
    lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.tokens, self.updated = float(self.rate.burst), self.clock()

    def _refill(self, now: float) -> None:
        self.tokens = min(float(self.rate.burst), self.tokens + (now - self.updated) * self.rate.per_second)
        self.updated = now

    def _wait(self, priority: Priority, now: float) -> float:
        """Seconds until a token is free for ``priority`` (0: now)."""
        if now < self.paused_until:
            return self.paused_until - now
        floor = RESERVE[priority] * self.rate.burst
        missing = floor + 1.0 - self.tokens
        # a refill that is short by a rounding error is full: waiting for 1e-17 s would never advance the clock
        return 0.0 if missing <= _EPSILON else missing / self.rate.per_second

    def take(self, operation: str) -> None:
        """One token for ``operation`` (waiting up to its priority's limit), or :class:`BudgetExceeded`."""
        priority = PRIORITY.get(operation, Priority.SYNC)
        limit = self.rate.max_wait_s if priority is Priority.BOOKING else 0.0
        waited = 0.0
        while True:
            with self.lock:
                now = self.clock()
                self._refill(now)
                wait = self._wait(priority, now)
                if wait == 0.0:
                    self.tokens -= 1.0
                    self.taken[priority] += 1
                    return
                if waited + wait > limit:
                    self.refused[priority] += 1
                    raise BudgetExceeded(f"API budget of {self.name}: no call for {operation} now",
                                         retry_after=wait, expected=f"at most {self.rate.per_second:g} calls/s",
                                         hint="bookings go first; polling and background calls wait their turn")
            self.sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """The vendor answered 429 with Retry-After: send nothing for ``seconds``."""
        with self.lock:
            self.paused_until = max(self.paused_until, self.clock() + seconds)


class Budgets:
    """The buckets of the configured vendors (a vendor without a rate limit is not limited)."""

    def __init__(self, rates: dict[str, Rate] | None = None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.buckets = {name: Bucket(name, rate, clock, sleep) for name, rate in (rates or {}).items()}

    def get(self, vendor: str) -> Bucket | None:
        return self.buckets.get(vendor)

    def wrap(self, vendor: str, operation: str, fn: Callable[[], object]) -> Callable[[], object]:
        """``fn`` taking a token first, and pausing the bucket when the vendor answers 429 with Retry-After."""
        bucket = self.get(vendor)
        if bucket is None:
            return fn

        def call() -> object:
            bucket.take(operation)
            try:
                return fn()
            except (BudgetExceeded, CircuitOpenError):
                raise  # not the vendor's answer: nothing to pause for
            except TransientError as exc:
                if exc.retry_after:
                    bucket.pause(exc.retry_after)
                raise
        return call
