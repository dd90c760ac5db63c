"""The circuit breaker's state machine, its registry, and how it sits in the retry loop."""

from __future__ import annotations

import logging
import pickle
import random
import threading

import pytest

from lockerhub.errors import AuthError, CircuitOpenError, RejectedError, TransientError
from lockerhub.runtime.breaker import Breakers, CircuitBreaker, CircuitState, guarded_call
from lockerhub.runtime.retry import RetryPolicy


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def breaker(clock: FakeClock, **kw) -> CircuitBreaker:  # type: ignore[no-untyped-def]
    return CircuitBreaker("sim.book", **{"failure_threshold": 3, "cooldown_s": 10.0, "clock": clock, **kw})


def fail(retry_after: float | None = None):  # type: ignore[no-untyped-def]
    def fn() -> None:
        raise TransientError("HTTP 503", retry_after=retry_after)

    return fn


def trip(b: CircuitBreaker, times: int, retry_after: float | None = None) -> None:
    for _ in range(times):
        with pytest.raises(TransientError):
            b.call(fail(retry_after))


def test_opens_after_consecutive_failures_and_rejects_without_calling(clock: FakeClock) -> None:
    b = breaker(clock)
    trip(b, 2)
    assert b.state is CircuitState.CLOSED
    trip(b, 1)
    assert b.state is CircuitState.OPEN
    called = []
    clock.advance(4)
    with pytest.raises(CircuitOpenError) as err:
        b.call(lambda: called.append(1))
    assert called == []
    assert isinstance(err.value, TransientError) and err.value.retry_after == pytest.approx(6.0)
    assert err.value.circuit == "sim.book" and "sim.book is open" in str(err.value)


def test_a_success_resets_the_count(clock: FakeClock) -> None:
    b = breaker(clock)
    trip(b, 2)
    assert b.call(lambda: "ok") == "ok"
    trip(b, 2)
    assert b.state is CircuitState.CLOSED


def test_refusals_mean_the_vendor_is_up(clock: FakeClock) -> None:
    b = breaker(clock)
    for error in (RejectedError("HTTP 409"), AuthError("HTTP 401"), RejectedError("HTTP 404")):
        trip(b, 2)

        def refuse(e: Exception = error) -> None:
            raise e

        with pytest.raises(type(error)):
            b.call(refuse)
    assert b.state is CircuitState.CLOSED


def test_half_open_probe_success_closes(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lockerhub.runtime.breaker")
    b = breaker(clock)
    trip(b, 3)
    clock.advance(10)
    assert b.state is CircuitState.HALF_OPEN
    assert b.call(lambda: "probe") == "probe"
    assert b.state is CircuitState.CLOSED
    trip(b, 2)
    assert b.state is CircuitState.CLOSED  # the count started again from zero
    assert [r.getMessage() for r in caplog.records] == [
        "circuit sim.book opened after 3 consecutive transient failure(s) (last: TransientError); "
        "calls fail fast for 10 s",
        "circuit sim.book closed: the probe call succeeded"]


def test_half_open_probe_failure_reopens_for_a_fresh_cooldown(clock: FakeClock) -> None:
    b = breaker(clock)
    trip(b, 3)
    clock.advance(10)
    trip(b, 1)
    assert b.state is CircuitState.OPEN
    clock.advance(9.5)
    with pytest.raises(CircuitOpenError) as err:
        b.call(lambda: None)
    assert err.value.retry_after == pytest.approx(0.5)


def test_only_one_probe_at_a_time(clock: FakeClock) -> None:
    b = breaker(clock)
    trip(b, 3)
    clock.advance(10)
    inner: list[BaseException] = []

    def probe() -> str:
        try:
            b.call(lambda: None)  # a second caller while the probe is in flight
        except CircuitOpenError as exc:
            inner.append(exc)
        return "probe"

    assert b.call(probe) == "probe"
    assert len(inner) == 1 and b.state is CircuitState.CLOSED


def test_a_lost_probe_frees_its_slot_after_a_cooldown(clock: FakeClock) -> None:
    b = breaker(clock)
    trip(b, 3)
    clock.advance(10)
    assert b._admit() is True  # a probe that never reports back (its thread died)
    with pytest.raises(CircuitOpenError):
        b.call(lambda: None)
    clock.advance(10)
    assert b.call(lambda: "second probe") == "second probe"
    assert b.state is CircuitState.CLOSED


def test_a_bug_in_the_probe_does_not_decide(clock: FakeClock) -> None:
    b = breaker(clock)
    trip(b, 3)
    clock.advance(10)

    def bug() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        b.call(bug)
    assert b.state is CircuitState.HALF_OPEN
    assert b.call(lambda: 1) == 1


def test_retry_after_longer_than_the_cooldown_is_honoured_up_to_the_cap(clock: FakeClock) -> None:
    b = breaker(clock, max_cooldown_s=60.0)
    trip(b, 3, retry_after=45)
    clock.advance(30)
    assert b.state is CircuitState.OPEN
    clock.advance(15)
    assert b.state is CircuitState.HALF_OPEN
    c = breaker(clock, max_cooldown_s=60.0)
    trip(c, 3, retry_after=3600)
    clock.advance(60)
    assert c.state is CircuitState.HALF_OPEN


def test_stragglers_do_not_close_or_extend_an_open_circuit(clock: FakeClock) -> None:
    b = breaker(clock)
    results: list[str] = []

    def straggler_ok() -> str:  # admitted while closed; the circuit opens while it runs
        trip(b, 3)
        return "late"

    results.append(b.call(straggler_ok))
    assert results == ["late"] and b.state is CircuitState.OPEN
    clock.advance(10)
    assert b.state is CircuitState.HALF_OPEN


def test_invalid_settings() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker("x", failure_threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker("x", cooldown_s=10, max_cooldown_s=5)


def test_the_error_pickles_with_its_attributes() -> None:
    error = pickle.loads(pickle.dumps(CircuitOpenError("sim.book", retry_after=2.5)))
    assert (error.circuit, error.retry_after) == ("sim.book", 2.5)
    assert str(error) == "error: circuit sim.book is open: the call was not sent (calls resume after a probe in 2.5 s " \
                         "succeeds)"


def test_breakers_are_per_vendor_and_operation(clock: FakeClock) -> None:
    board = Breakers(failure_threshold=2, cooldown_s=5, clock=clock)
    assert board.get("sim", "book") is board.get("sim", "book")
    trip(board.get("sim", "book"), 2)
    assert board.states() == {"sim.book": CircuitState.OPEN}
    assert board.get("sim", "reserve").call(lambda: "other operations still flow") == "other operations still flow"
    assert board.get("other", "book").state is CircuitState.CLOSED
    assert board.states() == {"other.book": CircuitState.CLOSED, "sim.book": CircuitState.OPEN,
                              "sim.reserve": CircuitState.CLOSED}


def test_registry_is_thread_safe(clock: FakeClock) -> None:
    board = Breakers(clock=clock)
    seen: list[CircuitBreaker] = []
    threads = [threading.Thread(target=lambda: seen.append(board.get("sim", "book"))) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(b) for b in seen}) == 1


def test_concurrent_failures_open_exactly_once(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="lockerhub.runtime.breaker")
    b = breaker(clock, failure_threshold=50)
    barrier = threading.Barrier(8)

    def hammer() -> None:
        barrier.wait()
        for _ in range(20):
            try:
                b.call(fail())
            except TransientError:
                pass

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert b.state is CircuitState.OPEN
    assert len([r for r in caplog.records if "opened" in r.getMessage()]) == 1


# --- in the retry loop ------------------------------------------------------------------------------------------


def policy(**kw) -> tuple[RetryPolicy, list[float]]:  # type: ignore[no-untyped-def]
    slept: list[float] = []
    return RetryPolicy(sleep=slept.append, rng=random.Random(0), **kw), slept


def test_each_attempt_counts_and_an_open_circuit_ends_the_retries(clock: FakeClock) -> None:
    b = breaker(clock)
    retry, slept = policy(attempts=6, budget_s=1000)
    calls = []

    def down() -> None:
        calls.append(1)
        raise TransientError("HTTP 503", retry_after=0.1)

    with pytest.raises(CircuitOpenError):
        guarded_call(retry, b, down)
    assert len(calls) == 3 and len(slept) == 3  # three attempts opened it; the fourth was refused, not retried
    with pytest.raises(CircuitOpenError):
        guarded_call(retry, b, down)
    assert len(calls) == 3 and len(slept) == 3  # the next call fails fast: no request, no sleep


def test_a_transient_blip_is_retried_through_a_closed_circuit(clock: FakeClock) -> None:
    b = breaker(clock)
    retry, slept = policy(attempts=4)
    outcomes = iter([TransientError("HTTP 429"), TransientError("HTTP 500"), "ok"])

    def flaky() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert guarded_call(retry, b, flaky) == "ok"
    assert len(slept) == 2 and b.state is CircuitState.CLOSED


def test_retry_policy_alone_never_retries_an_open_circuit() -> None:
    retry, slept = policy(attempts=5, budget_s=1000)
    calls = []

    def refused() -> None:
        calls.append(1)
        raise CircuitOpenError("sim.book", retry_after=0.5)

    with pytest.raises(CircuitOpenError):
        retry.call(refused)
    assert calls == [1] and slept == []
