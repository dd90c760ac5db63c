"""Circuit breakers per (vendor, operation): stop calling a vendor endpoint that keeps failing, probe it later.

    breakers = Breakers(failure_threshold=5, cooldown_s=30)
    result = guarded_call(retry, breakers.get("simlocker", "book"), lambda: vendor.book(...))
    # the runtime goes through Hub.call_vendor(operation, fn), which is exactly this

States (one breaker per ``vendor.operation``, e.g. ``simlocker.book``):

- ``closed``: calls go through. ``failure_threshold`` *consecutive* transient failures
  (:class:`~lockerhub.errors.TransientError`: 429, 5xx, timeouts, connection errors) open it. Consecutive
  failures, not a failure ratio over a window: it needs no window tuning, it is deterministic under test, and a
  vendor answering 20% errors at random keeps it closed (five in a row happens about once in 3,000 calls)
  while a vendor that is down opens it after a handful of calls.
- ``open``: calls fail at once with :class:`~lockerhub.errors.CircuitOpenError` (a ``TransientError`` whose
  ``retry_after`` is the time left until half-open), nothing is sent. The cool-down is ``cooldown_s``, or the
  vendor's last ``Retry-After`` when longer (capped at ``max_cooldown_s``).
- ``half_open``: after the cool-down one probe call is let through (others keep failing fast). Success closes
  the circuit; a transient failure opens it again for a fresh cool-down. A probe that never reports back (a
  crashed thread) frees its slot after another cool-down.

Any answer that is not a ``TransientError`` (a 4xx refusal, a 401) means the vendor is up: it counts as a
success for the circuit, and the error goes to the caller unchanged. Opening and closing are logged at WARNING
and INFO with the circuit name and the error class only, never URLs or bodies.

Where the breaker sits: inside the retry loop, around each attempt (:func:`guarded_call`). Every attempt is
counted, so an outage opens the circuit within one or two calls instead of after N exhausted retry loops; and
:class:`~lockerhub.runtime.retry.RetryPolicy` never retries a ``CircuitOpenError``, so a retry loop that meets
an open circuit stops at once instead of sleeping and knocking again.

Scope: breaker state lives in memory, per process. A fleet of N workers has N independent breakers per
endpoint (each worker finds out on its own, after ``failure_threshold`` failures); nothing is shared through the
database or the bus. Thread-safe: one lock per breaker, the clock is injectable (``time.monotonic`` by default).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from lockerhub.errors import CircuitOpenError, LockerhubError, TransientError
from lockerhub.runtime.retry import RetryPolicy

T = TypeVar("T")
VendorCall = Callable[[str, Callable[[], Any]], Any]  # (operation, fn) -> fn(), e.g. Hub.call_vendor

logger = logging.getLogger("lockerhub.runtime.breaker")


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    """One circuit; see the module docstring. ``call(fn)`` runs ``fn`` through it."""

    name: str
    failure_threshold: int = 5
    cooldown_s: float = 30.0
    max_cooldown_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: int = field(default=0, init=False)
    _open_until: float | None = field(default=None, init=False)  # None: closed
    _probe_since: float | None = field(default=None, init=False)  # a half-open probe is in flight
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.cooldown_s < 0 or self.max_cooldown_s < self.cooldown_s:
            raise ValueError("need failure_threshold >= 1 and 0 <= cooldown_s <= max_cooldown_s")

    @property
    def state(self) -> CircuitState:
        with self._lock:
            return self._state(self.clock())

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()`` if the circuit lets it through, else :class:`CircuitOpenError`; the outcome is recorded."""
        probe = self._admit()
        try:
            result = fn()
        except TransientError as exc:
            self._failed(exc, probe)
            raise
        except LockerhubError:
            self._succeeded(probe)  # the vendor answered (a refusal, an auth error): it is up
            raise
        except BaseException:
            self._release(probe)  # a bug or an interrupt says nothing about the vendor
            raise
        self._succeeded(probe)
        return result

    # --- transitions (all under the lock) ------------------------------------------------------------------

    def _state(self, now: float) -> CircuitState:
        if self._open_until is None:
            return CircuitState.CLOSED
        return CircuitState.OPEN if now < self._open_until else CircuitState.HALF_OPEN

    def _admit(self) -> bool:
        """Let a call through (True when it is the half-open probe) or raise CircuitOpenError."""
        with self._lock:
            now = self.clock()
            state = self._state(now)
            if state is CircuitState.CLOSED:
                return False
            if state is CircuitState.OPEN:
                assert self._open_until is not None
                raise CircuitOpenError(self.name, retry_after=self._open_until - now)
            if self._probe_since is not None and now - self._probe_since < max(self.cooldown_s, 1e-9):
                # Someone else's probe is in flight; its answer decides. Ask again after at most a cool-down.
                raise CircuitOpenError(self.name, retry_after=self.cooldown_s)
            self._probe_since = now
            return True

    def _failed(self, exc: TransientError, probe: bool) -> None:
        with self._lock:
            now = self.clock()
            if probe:
                self._probe_since = None
            elif self._open_until is not None:
                return  # a call admitted before the circuit opened: the circuit already knows
            self._failures += 1
            if probe or self._failures >= self.failure_threshold:
                cooldown = max(self.cooldown_s, min(exc.retry_after or 0.0, self.max_cooldown_s))
                self._open_until = now + cooldown
                logger.warning("circuit %s opened after %d consecutive transient failure(s) (last: %s); "
                               "calls fail fast for %.3g s", self.name, self._failures, type(exc).__name__,
                               cooldown)

    def _succeeded(self, probe: bool) -> None:
        with self._lock:
            if probe:
                self._probe_since = None
            if self._open_until is not None and not probe:
                return  # a straggler admitted before the circuit opened: only the probe may close it
            if self._open_until is not None:
                logger.info("circuit %s closed: the probe call succeeded", self.name)
            self._failures, self._open_until = 0, None

    def _release(self, probe: bool) -> None:
        if probe:
            with self._lock:
                self._probe_since = None


@dataclass
class Breakers:
    """The breakers of one process, created on first use per ``(vendor, operation)`` with the same settings."""

    failure_threshold: int = 5
    cooldown_s: float = 30.0
    max_cooldown_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _breakers: dict[tuple[str, str], CircuitBreaker] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def get(self, vendor: str, operation: str) -> CircuitBreaker:
        with self._lock:
            breaker = self._breakers.get((vendor, operation))
            if breaker is None:
                breaker = self._breakers[(vendor, operation)] = CircuitBreaker(
                    f"{vendor}.{operation}", self.failure_threshold, self.cooldown_s, self.max_cooldown_s,
                    self.clock)
            return breaker

    def states(self) -> dict[str, CircuitState]:
        """``{"vendor.operation": state}`` of every breaker used so far (for status pages and tests)."""
        with self._lock:
            breakers = list(self._breakers.values())
        return {b.name: b.state for b in sorted(breakers, key=lambda b: b.name)}


def guarded_call(retry: RetryPolicy, breaker: CircuitBreaker, fn: Callable[[], T]) -> T:
    """``fn`` with bounded retries, each attempt through ``breaker``; an open circuit ends the retries at once."""
    return retry.call(lambda: breaker.call(fn))
