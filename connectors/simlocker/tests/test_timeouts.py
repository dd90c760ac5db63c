"""Every HTTP request the connector sends carries an explicit timeout (requests waits forever without one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from lockerhub_simlocker import SimlockerConfig, SimlockerConnector

from lockerhub.model import Dimensions, Parcel
from lockerhub.plugins import http
from lockerhub.plugins.http import DEFAULT_TIMEOUT, session
from lockerhub.simulator import SimulatorServer, World

from .conftest import API_KEY

PARCEL = Parcel(parcel_id="P-T", dimensions=Dimensions.of(30, 20, 5, "cm"), weight_g=1200)


class StrictSession(requests.Session):
    """Fails the test on any request sent without a timeout, and records what was sent."""

    sent: list[tuple[str, str, Any]]

    def __init__(self) -> None:
        super().__init__()
        self.sent = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        timeout = kwargs.get("timeout", args[6] if len(args) > 6 else None)
        assert timeout is not None, f"{method!s} {url!s} was sent without a timeout"
        self.sent.append((str(method), str(url), timeout))
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[StrictSession]]:
    made: list[StrictSession] = []

    def factory(user_agent: str) -> requests.Session:
        made.append(StrictSession())
        made[-1].headers["User-Agent"] = user_agent
        return made[-1]

    monkeypatch.setattr(http, "session", factory)  # what VendorHttpClient calls
    yield made


def test_every_verb_sends_a_timeout(strict: list[StrictSession], server: SimulatorServer, world: World) -> None:
    config = SimlockerConfig(base_url=server.url, api_key=API_KEY, timeout_s=7)
    locker_id = world.lockers(per_page=1)[0][0].locker_id
    with SimlockerConnector(config) as conn:
        assert conn.check().ok
        assert list(conn.list_lockers()) and conn.size_classes()
        assert conn.precheck(locker_id, PARCEL)
        soft = conn.reserve(locker_id, "A", idempotency_key="timeouts-1")
        conn.book(soft.reservation_id, idempotency_key="timeouts-1")
        assert conn.get_status(soft.reservation_id)
        conn.cancel(soft.reservation_id)
        assert conn.list_reservations().items
        next(iter(conn.telemetry()), None)
    sent = [call for s in strict for call in s.sent]
    paths = {url.removeprefix(server.url).split("?")[0] for _, url, _ in sent}
    assert {"/v1/lockers", "/v1/size-classes", f"/v1/lockers/{locker_id}/precheck", "/v1/reservations",
            f"/v1/reservations/{soft.reservation_id}/confirm", f"/v1/reservations/{soft.reservation_id}/events",
            f"/v1/reservations/{soft.reservation_id}", "/v1/telemetry"} <= paths
    assert {timeout for _, _, timeout in sent} == {(3.05, 7)}


def test_the_shared_session_adds_the_default_timeout_when_a_call_forgets() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        mocked.get("http://vendor.test/ping", json={})
        mocked.get("http://vendor.test/pong", json={})
        http = session("lockerhub-test")
        http.get("http://vendor.test/ping")
        http.get("http://vendor.test/pong", timeout=1.5)
        assert [c.request.req_kwargs["timeout"] for c in mocked.calls] == [DEFAULT_TIMEOUT, 1.5]
