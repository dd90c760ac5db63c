from __future__ import annotations

import random

import pytest

from lockerhub.errors import RejectedError, TransientError
from lockerhub.runtime.retry import RetryPolicy


def policy(**kw) -> tuple[RetryPolicy, list[float]]:  # type: ignore[no-untyped-def]
    slept: list[float] = []
    return RetryPolicy(sleep=slept.append, rng=random.Random(0), **kw), slept


def flaky(failures: int, retry_after: float | None = None):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def fn() -> str:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise TransientError("HTTP 503", retry_after=retry_after)
        return "ok"

    return fn, calls


def test_retries_transient_then_succeeds() -> None:
    p, slept = policy(attempts=4)
    fn, calls = flaky(2)
    assert p.call(fn) == "ok"
    assert calls["n"] == 3 and len(slept) == 2


def test_bounded_attempts_raise_the_last_error() -> None:
    p, slept = policy(attempts=3)
    fn, calls = flaky(10)
    with pytest.raises(TransientError):
        p.call(fn)
    assert calls["n"] == 3 and len(slept) == 2


def test_retry_after_is_honoured_and_budget_bounds_it() -> None:
    p, slept = policy(attempts=5, budget_s=10)
    fn, _ = flaky(1, retry_after=4)
    p.call(fn)
    assert slept == [4]
    p2, slept2 = policy(attempts=5, budget_s=10)
    fn2, calls2 = flaky(5, retry_after=6)
    with pytest.raises(TransientError):
        p2.call(fn2)
    assert slept2 == [6] and calls2["n"] == 2  # a second 6 s wait would pass the 10 s budget


def test_other_errors_are_not_retried() -> None:
    p, slept = policy()

    def fn() -> None:
        raise RejectedError("HTTP 409")

    with pytest.raises(RejectedError):
        p.call(fn)
    assert slept == []
