"""OAuth2 client credentials: one token for many calls, renewed before expiry and once on a 401."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import requests

from lockerhub.errors import AuthError
from lockerhub.simulator import World
from lockerhub.simulator.vendors.boxnow import Server


def issued(server: Server) -> int:
    assert server.desk is not None
    return server.desk.tokens_issued


def test_one_token_serves_many_calls(server: Server, world: World, kit: SimpleNamespace) -> None:
    start = issued(server)
    with kit.boxnow(server.url) as conn:
        for _ in range(3):
            assert len(list(conn.list_lockers())) == kit.LOCKERS  # three pages each
        conn.get_status(conn.reserve(world.lockers()[0][0].locker_id, "1", idempotency_key="auth-1").reservation_id)
    assert issued(server) == start + 1


def test_a_token_the_server_expired_is_renewed_once_on_401(server: Server, world: World,
                                                           kit: SimpleNamespace) -> None:
    with kit.boxnow(server.url) as conn:
        list(conn.list_lockers())
        start = issued(server)
        world.advance(3601)  # the simulator's tokens live 3600 s of the World's clock; the client still holds it
        assert len(list(conn.list_lockers())) == kit.LOCKERS
        assert issued(server) == start + 1
        list(conn.list_lockers())
        assert issued(server) == start + 1


def test_a_second_401_is_an_auth_error(server: Server, world: World, kit: SimpleNamespace) -> None:
    with kit.boxnow(server.url) as conn:
        list(conn.list_lockers())
        start = issued(server)
        world.inject_fault(401, 2)
        with pytest.raises(AuthError, match="HTTP 401"):
            list(conn.list_lockers())
        assert issued(server) == start + 1  # renewed once, then gave up
        assert len(list(conn.list_lockers())) == kit.LOCKERS


def test_a_fresh_token_refused_is_not_renewed(server: Server, world: World, kit: SimpleNamespace) -> None:
    with kit.boxnow(server.url) as conn:
        start = issued(server)
        world.inject_fault(401, 1)
        with pytest.raises(AuthError, match="HTTP 401"):
            list(conn.list_lockers())
        assert issued(server) == start + 1


@pytest.fixture
def short_lived(world: World, kit: SimpleNamespace) -> Iterator[Server]:
    with Server(world, client_id=kit.CLIENT_ID, client_secret=kit.CLIENT_SECRET, token_ttl_s=1) as running:
        yield running


def test_the_client_renews_a_token_before_it_expires(short_lived: Server, kit: SimpleNamespace) -> None:
    with kit.boxnow(short_lived.url) as conn:
        list(conn.list_lockers())
        list(conn.list_lockers())
        assert issued(short_lived) == 1
        time.sleep(0.6)  # expires_in 1 s: renewed once half of it is gone (the margin is capped at half)
        list(conn.list_lockers())
    assert issued(short_lived) == 2


def test_the_token_endpoint_refuses_a_wrong_grant_without_echoing_secrets(server: Server,
                                                                           kit: SimpleNamespace) -> None:
    answer = requests.post(f"{server.url}/api/v1/auth-sessions", timeout=5, json={
        "grant_type": "password", "client_id": kit.CLIENT_ID, "client_secret": kit.CLIENT_SECRET})
    assert (answer.status_code, answer.json()["code"]) == (400, "unsupported_grant_type")
    wrong = requests.post(f"{server.url}/api/v1/auth-sessions", timeout=5, json={
        "grant_type": "client_credentials", "client_id": kit.CLIENT_ID, "client_secret": "not-it"})
    assert wrong.status_code == 401 and "not-it" not in wrong.text
    anonymous = requests.get(f"{server.url}/api/v1/destinations", timeout=5)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthorized")
