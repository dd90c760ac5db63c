"""The simulator's fault rate: seeded draws, the /sim/faults rate mode, and timeouts that still apply the request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from lockerhub.simulator import SimulatorServer, World
from lockerhub.simulator.faults import FaultKind, FaultRate

KEY = "test-key"


def test_draws_are_seeded_and_follow_the_rate() -> None:
    a, b = FaultRate(0.2, seed=7), FaultRate(0.2, seed=7)
    seq_a, seq_b = [a.draw() for _ in range(2000)], [b.draw() for _ in range(2000)]
    assert seq_a == seq_b
    faults = [k for k in seq_a if k is not None]
    assert 300 < len(faults) < 500  # 20% of 2,000, loosely
    assert set(faults) == {FaultKind.HTTP_500, FaultKind.HTTP_503, FaultKind.HTTP_429, FaultKind.TIMEOUT}
    assert {FaultRate(0.0, seed=1).draw() for _ in range(100)} == {None}
    assert {FaultRate(1.0, kinds=(FaultKind.TIMEOUT,)).draw() for _ in range(10)} == {FaultKind.TIMEOUT}


@pytest.mark.parametrize("bad", [{"rate": 1.5}, {"rate": 0.1, "kinds": ()}, {"rate": 0.1, "timeout_s": 0}])
def test_invalid_rates(bad: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        FaultRate(**bad)


def test_world_uses_counted_faults_first_then_the_rate(world: World) -> None:
    world.inject_fault_rate(FaultRate(1.0, kinds=(FaultKind.HTTP_429,), retry_after=0.25))
    world.inject_fault(500, 1)
    first, second = world.take_fault(), world.take_fault()
    assert first is not None and (first.status, first.delay_s) == (500, None)
    assert second is not None and (second.status, second.retry_after) == (429, 0.25)
    world.inject_fault_rate(FaultRate(1.0, kinds=(FaultKind.TIMEOUT,), timeout_s=0.3))
    late = world.take_fault()
    assert late is not None and late.delay_s == 0.3
    world.inject_fault_rate(FaultRate(0.0))
    assert world.take_fault() is None


class Api:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers["X-API-Key"] = KEY

    def __call__(self, method: str, path: str, timeout: float = 5, **kwargs: object) -> requests.Response:
        return self.http.request(method, self.url + path, timeout=timeout, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def api(world: World) -> Iterator[Api]:
    with SimulatorServer(world, api_key=KEY) as server:
        client = Api(server.url)
        yield client
        client.http.close()


def test_rate_mode_is_echoed_and_validated(api: Api) -> None:
    body = {"rate": 0.2, "kinds": ["500", "timeout"], "seed": 7, "retry_after": 0.01, "timeout_s": 0.3}
    assert api("POST", "/sim/faults", json=body).json() == body
    assert api("POST", "/sim/faults", json={"rate": 0}).json()["rate"] == 0
    for bad in ({}, {"status": 503, "rate": 0.1}, {"rate": 0.1, "kinds": ["418"]}, {"rate": 2},
                {"rate": 0.1, "kinds": []}):
        response = api("POST", "/sim/faults", json=bad)
        assert (response.status_code, response.json()["error"]) == (422, "invalid_request"), bad


def test_every_request_fails_at_rate_one_and_none_after_clearing(api: Api) -> None:
    api("POST", "/sim/faults", json={"rate": 1, "kinds": ["429", "503"], "seed": 3, "retry_after": 2})
    answers = [api("GET", "/v1/size-classes") for _ in range(20)]
    assert {r.status_code for r in answers} == {429, 503}
    assert {r.headers["Retry-After"] for r in answers} == {"2"}
    assert api("GET", "/sim/clock").status_code == 200  # control calls are never faulted
    api("POST", "/sim/faults", json={"rate": 0})
    assert {api("GET", "/v1/size-classes").status_code for _ in range(10)} == {200}


def test_a_timeout_applies_the_post_then_answers_too_late(api: Api, world: World) -> None:
    locker_id = world.lockers(per_page=1)[0][0].locker_id
    api("POST", "/sim/faults", json={"rate": 1, "kinds": ["timeout"], "timeout_s": 0.5})
    with pytest.raises(requests.Timeout):
        api("POST", "/v1/reservations", timeout=0.1, json={"locker_id": locker_id, "size_class": "A"},
            headers={"Idempotency-Key": "parcel-1"})
    api("POST", "/sim/faults", json={"rate": 0})
    held = world.reservations_page()[0]
    assert [(r.locker_id, r.kind) for r in held] == [(locker_id, "soft")]  # the server did apply it
    retried = api("POST", "/v1/reservations", json={"locker_id": locker_id, "size_class": "A"},
                  headers={"Idempotency-Key": "parcel-1"})
    assert retried.json()["reservation_id"] == held[0].reservation_id  # the key makes the retry the same hold
    assert len(world.reservations_page()[0]) == 1


def test_a_patient_client_gets_the_real_answer_late(api: Api) -> None:
    api("POST", "/sim/faults", json={"rate": 1, "kinds": ["timeout"], "timeout_s": 0.05})
    response = api("GET", "/v1/size-classes", timeout=5)
    assert response.status_code == 200 and [s["code"] for s in response.json()] == ["A", "B", "C"]
