"""A fault rate for the simulator's tenant API (``/v1``): every request fails with a given probability.

``POST /sim/faults`` has two modes (see :mod:`lockerhub.simulator.app`)::

    {"status": 503, "count": 2, "retry_after": 1}        the next 2 /v1 requests answer 503, Retry-After: 1
    {"rate": 0.2, "kinds": ["500", "503", "429", "timeout"], "seed": 7, "retry_after": 0.01, "timeout_s": 0.5}
                                                         each /v1 request fails with probability 0.2
    {"rate": 0}                                          clears the fault rate

In rate mode the kind of each failure is drawn uniformly from ``kinds`` by a ``random.Random(seed)``: the same seed
and the same sequence of requests give the same faults. ``"500"``, ``"502"``, ``"503"`` and ``"429"`` answer that
status at once (with ``Retry-After: retry_after`` when given) and change nothing. ``"timeout"`` is the worst case a
client can meet: the request **is applied** (a reservation made, a booking confirmed), then its answer is held back
``timeout_s`` seconds. With ``timeout_s`` above the client's read timeout the client sees a timeout and cannot know
whether anything happened; only an idempotency key makes its retry safe. A client that waits long enough gets the
real answer, late.

Counted faults, when both are set, are used up first. Only ``/v1`` requests are faulted; ``/sim`` control calls and
``/healthz`` never are.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum


class FaultKind(StrEnum):
    HTTP_429 = "429"
    HTTP_500 = "500"
    HTTP_502 = "502"
    HTTP_503 = "503"
    TIMEOUT = "timeout"


DEFAULT_KINDS = (FaultKind.HTTP_500, FaultKind.HTTP_503, FaultKind.HTTP_429, FaultKind.TIMEOUT)


@dataclass
class FaultRate:
    """Fail each request with probability ``rate``; not thread-safe on its own (the World's lock guards it)."""

    rate: float
    kinds: tuple[FaultKind, ...] = DEFAULT_KINDS
    seed: int | None = None
    retry_after: float | None = None
    timeout_s: float = 0.5
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0 <= self.rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        if not self.kinds:
            raise ValueError("kinds must not be empty")
        if self.timeout_s <= 0 or (self.retry_after is not None and self.retry_after < 0):
            raise ValueError("timeout_s must be > 0 and retry_after >= 0")
        self.kinds = tuple(FaultKind(k) for k in self.kinds)
        self._rng = random.Random(self.seed)

    def draw(self) -> FaultKind | None:
        """The fault for the next request, or None (it goes through)."""
        if self.rate <= 0 or self._rng.random() >= self.rate:
            return None
        return self._rng.choice(self.kinds)
