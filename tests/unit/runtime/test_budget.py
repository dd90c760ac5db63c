"""Per-vendor API budgets: token bucket, bookings before polling, Retry-After pauses everything, and through the hub
against the simulator a 429 burst is honoured without opening the circuit."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import yaml

from lockerhub.errors import TransientError
from lockerhub.runtime.budget import Bucket, BudgetExceeded, Budgets, Priority, Rate
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.retry import RetryPolicy
from lockerhub.settings import Settings
from lockerhub.simulator import SimulatorServer
from tests.conftest import TEST_API_KEY


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def bucket(per_second: float = 10, burst: int = 10, max_wait_s: float = 2.0) -> tuple[Bucket, Clock]:
    clock = Clock()
    return Bucket("v", Rate(per_second=per_second, burst=burst, max_wait_s=max_wait_s), clock, clock.sleep), clock


def test_bookings_may_drain_the_bucket_polling_leaves_a_reserve() -> None:
    b, clock = bucket(burst=10)
    for _ in range(5):
        b.take("list_lockers")  # background: down to half
    with pytest.raises(BudgetExceeded) as background:
        b.take("telemetry")
    assert background.value.retry_after == pytest.approx(0.1)  # one token's refill above the reserve
    for _ in range(3):
        b.take("get_status")  # sync: down to the 20 % reserve
    with pytest.raises(BudgetExceeded):
        b.take("get_status")
    b.take("book")
    b.take("reserve")  # bookings take the reserve
    assert clock.slept == []
    b.take("book")  # empty now: a booking waits for the refill instead of failing
    assert clock.slept == [pytest.approx(0.1)]
    assert b.taken == {Priority.BOOKING: 3, Priority.SYNC: 3, Priority.BACKGROUND: 5}
    assert b.refused == {Priority.BOOKING: 0, Priority.SYNC: 1, Priority.BACKGROUND: 1}


def test_sustained_rate_is_the_configured_one() -> None:
    b, clock = bucket(per_second=5, burst=5)
    for _ in range(105):
        b.take("book")
    assert clock.now == pytest.approx(100 / 5)  # the burst at once, then five per second


def test_retry_after_pauses_every_priority() -> None:
    b, clock = bucket()
    budgets = Budgets()
    budgets.buckets["v"] = b

    def limited() -> None:
        raise TransientError("429", retry_after=3)

    with pytest.raises(TransientError):
        budgets.wrap("v", "get_status", limited)()
    with pytest.raises(BudgetExceeded) as paused:
        b.take("get_status")
    assert paused.value.retry_after == pytest.approx(3)
    with pytest.raises(BudgetExceeded):
        b.take("book")  # 3 s is more than a booking may wait (2 s)
    clock.now += 1.5
    b.take("book")  # waits the remaining 1.5 s
    assert clock.slept[-1] == pytest.approx(1.5)


def test_unlimited_vendor_is_not_wrapped() -> None:
    def fn() -> int:
        return 1

    assert Budgets().wrap("nobody", "book", fn) is fn


def test_hub_pauses_the_vendor_on_429_and_sends_nothing_meanwhile(pilot: Path, sim: SimulatorServer,
                                                                  settings: Settings) -> None:
    config = yaml.safe_load(pilot.read_text("utf-8"))
    config["vendors"]["simlocker"]["rate_limit"] = {"per_second": 50, "burst": 5, "max_wait_s": 1}
    pilot.write_text(yaml.safe_dump(config), "utf-8")
    hub = Hub.open(pilot, settings=settings, retry=RetryPolicy(attempts=1))
    try:
        vendor = hub.vendor()
        requests.post(f"{sim.url}/sim/faults", json={"status": 429, "count": 2, "retry_after": 30},
                      headers={"X-API-Key": TEST_API_KEY}, timeout=5).raise_for_status()
        with pytest.raises(TransientError) as limited:
            hub.call_vendor("size_classes", vendor.size_classes)
        assert limited.value.retry_after == 30 and not isinstance(limited.value, BudgetExceeded)
        for operation in ("book", "get_status", "list_lockers"):  # every priority is held back, nothing is sent
            with pytest.raises(BudgetExceeded):
                hub.call_vendor(operation, vendor.size_classes)
        assert hub.breakers.states()["simlocker.size_classes"].value == "closed"
        hub.budgets.get("simlocker").paused_until = 0.0  # as if the 30 s were over
        with pytest.raises(TransientError):  # the second counted 429 was never used up: nothing was sent
            hub.call_vendor("size_classes", vendor.size_classes)
    finally:
        hub.close()
