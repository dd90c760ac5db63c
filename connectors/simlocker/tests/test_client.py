"""Pure client unit tests with mocked HTTP: headers sent, and what errors may (not) contain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from lockerhub_simlocker.client import SimlockerClient
from responses import matchers

from lockerhub.errors import RejectedError, TransientError

BASE = "http://sim.test"


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def test_reserve_sends_key_and_idempotency_key(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/reservations", status=201, json={"reservation_id": "rsv-1"}, match=[
        matchers.header_matcher({"X-API-Key": "k", "Idempotency-Key": "idem-1"}),
        matchers.json_params_matcher({"locker_id": "L/1", "size_class": "A"}),
    ])
    mocked.post(f"{BASE}/v1/reservations/rsv%2F1/confirm", json={"reservation_id": "rsv/1"},
                match=[matchers.header_matcher({"Idempotency-Key": "idem-2"})])
    client = SimlockerClient(BASE + "/", "k")
    assert client.reserve("L/1", "A", idempotency_key="idem-1") == {"reservation_id": "rsv-1"}
    assert client.confirm("rsv/1", idempotency_key="idem-2") == {"reservation_id": "rsv/1"}


def test_pagination_stops_at_count(mocked: responses.RequestsMock) -> None:
    for page, items in ((1, [{"locker_id": "a"}, {"locker_id": "b"}]), (2, [{"locker_id": "c"}])):
        mocked.get(f"{BASE}/v1/lockers", json={"items": items, "page": page, "per_page": 2, "count": 3},
                   match=[matchers.query_param_matcher({"page": str(page), "per_page": "2"})])
    assert [lk["locker_id"] for lk in SimlockerClient(BASE, "k", per_page=2).iter_lockers()] == ["a", "b", "c"]


def test_rejection_names_the_code_not_the_body(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/lockers/L1/precheck", status=409,
                json={"error": "locker_offline", "message": "Jan Kowalski, +48 600 000 000"})
    with pytest.raises(RejectedError) as err:
        SimlockerClient(BASE, "k").precheck("L1", {})
    assert str(err.value) == "error: simlocker POST /v1/lockers/L1/precheck returned HTTP 409: locker_offline"


def test_odd_error_bodies_add_nothing(mocked: responses.RequestsMock) -> None:
    mocked.delete(f"{BASE}/v1/reservations/r1", status=400, json={"error": "Free text with spaces 123456"})
    mocked.get(f"{BASE}/v1/size-classes", status=502, body="<html>bad gateway</html>")
    client = SimlockerClient(BASE, "secret-key")
    with pytest.raises(RejectedError) as rejected:
        client.cancel("r1")
    assert str(rejected.value).endswith("returned HTTP 400")
    with pytest.raises(TransientError) as transient:
        client.size_classes()
    assert "html" not in str(transient.value) and "secret-key" not in str(transient.value)
