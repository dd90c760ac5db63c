"""Faults and failures: credentials, rate limits, 5xx, timeouts, check(), and what messages never contain."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests
from lockerhub_inpost import InpostConfig, InpostConnector

from lockerhub.errors import AuthError, TransientError
from lockerhub.plugins import http
from lockerhub.simulator import World
from lockerhub.simulator.faults import FaultKind, FaultRate
from lockerhub.simulator.vendors.inpost import Server

from .conftest import TOKEN, locker, make


def test_check_passes(connector: InpostConnector) -> None:
    result = connector.check()
    assert result.ok and [i.name for i in result.items] == ["config", "reachable", "auth"]


def test_wrong_token_is_an_auth_error(server: Server) -> None:
    secret = "definitely-wrong-token"
    with make(server, token=secret) as conn:
        with pytest.raises(AuthError) as err:
            list(conn.list_lockers())
        assert "HTTP 401" in str(err.value) and secret not in str(err.value)
        result = conn.check()
    assert [(i.name, i.ok) for i in result.items] == [("config", True), ("auth", False)]
    assert "refused the token" in result.items[-1].message and secret not in result.items[-1].message


def test_another_organisation_is_forbidden(server: Server) -> None:
    with make(server, organization_id=1) as conn:
        result = conn.check()
        assert not result.ok and "organisation 1" in result.items[-1].message
        with pytest.raises(AuthError, match="HTTP 403"):
            conn.reserve("SIM-WAW-0001", "small", idempotency_key="other-org")


def test_429_with_retry_after_is_transient(connector: InpostConnector, world: World) -> None:
    world.inject_fault(429, 1, retry_after=7)
    with pytest.raises(TransientError) as err:
        list(connector.list_lockers())
    assert err.value.retry_after == 7.0 and "HTTP 429" in str(err.value)
    assert len(list(connector.list_lockers())) == world.lockers()[1]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_transient(connector: InpostConnector, world: World, status: int) -> None:
    world.inject_fault(status, 1)
    with pytest.raises(TransientError, match=f"HTTP {status}") as err:
        connector.get_status("10000001")
    assert err.value.retry_after is None


def test_timeout_is_transient_and_the_retry_books_once(server: Server, world: World) -> None:
    """The request is applied but answered too late; the retry with the same key gets the same shipment."""
    before = len(server.shipment_ids())
    with make(server, timeout_s=0.5) as conn:
        world.inject_fault_rate(FaultRate(1.0, (FaultKind.TIMEOUT,), timeout_s=1.5))
        try:
            with pytest.raises(TransientError, match="request failed: ReadTimeout"):
                conn.reserve(locker(world, 10), "small", idempotency_key="slow-1")
        finally:
            world.inject_fault_rate(None)
        assert len(server.shipment_ids()) == before + 1
        again = conn.reserve(locker(world, 10), "small", idempotency_key="slow-1")
    assert len(server.shipment_ids()) == before + 1 and again.reservation_id in server.shipment_ids()


def test_unreachable() -> None:
    with socket.socket() as bound:  # bound, never listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}"
        conn = InpostConnector(InpostConfig(base_url=url + "/", token=TOKEN, organization_id=1, timeout_s=2))
        result = conn.check()
        assert [(i.name, i.ok) for i in result.items] == [("config", True), ("reachable", False)]
        assert f"cannot reach {url}" in result.items[-1].message
        with pytest.raises(TransientError, match="request failed: ConnectionError"):
            conn.cancel("1")


def test_no_io_in_init_and_no_secret_in_repr() -> None:
    conn = InpostConnector(InpostConfig(base_url="http://127.0.0.1:9", token="top-secret", organization_id=7))
    assert conn._client is None
    assert "top-secret" not in repr(conn) and "top-secret" not in repr(conn.config)
    assert "top-secret" not in repr(conn.client) and conn.client._session is None


def test_every_request_carries_a_timeout(monkeypatch: pytest.MonkeyPatch, server: Server, world: World) -> None:
    """requests waits forever without a timeout; every call of every verb must pass one."""
    sent: list[tuple[str, object]] = []

    class Recording(requests.Session):
        def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
            sent.append((str(method), kwargs.get("timeout")))
            return super().request(method, url, *args, **kwargs)

    monkeypatch.setattr(http, "session", lambda user_agent: Recording())
    with make(server, timeout_s=7) as conn:
        assert conn.check().ok and list(conn.list_lockers())
        soft = conn.reserve(locker(world, 11), "small", idempotency_key="timeouts-1")
        conn.book(soft.reservation_id, idempotency_key="timeouts-1")
        assert conn.get_status(soft.reservation_id)
        conn.cancel(soft.reservation_id)
    assert {m for m, _ in sent} == {"GET", "POST", "DELETE"}
    assert {t for _, t in sent} == {(3.05, 7)}
