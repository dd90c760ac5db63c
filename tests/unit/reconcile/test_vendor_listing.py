"""The vendor source: the list_reservations capability (checked by the registry) and the simulator's paged listing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from pydantic import BaseModel

from lockerhub.errors import RegistryError
from lockerhub.plugins import Capability, CheckResult, ConnectorKind, verify
from lockerhub.plugins.protocols import ReservationPage
from lockerhub.simulator import BookingState, SimError, SimulatorServer, World

KEY = "test-only-key"


class _Config(BaseModel):
    pass


def vendor_class(**members: object) -> type:
    base = {
        "id": "acme", "kind": ConnectorKind.LOCKER_VENDOR, "version": "1.0",
        "capabilities": frozenset({Capability.LIST_RESERVATIONS}), "config_model": _Config,
        "check": lambda self: CheckResult(), "list_lockers": lambda self: iter(()), "size_classes": lambda self: [],
        "reserve": lambda self, locker_id, size_class, *, idempotency_key: None,
        "book": lambda self, reservation_id, *, idempotency_key: None,
        "cancel": lambda self, reservation_id: None, "get_status": lambda self, reservation_id: [],
    }
    return type("AcmeVendor", (), {**base, **members})


def test_the_registry_checks_the_verb_of_the_declared_capability() -> None:
    def list_reservations(self, *, cursor=None):  # type: ignore[no-untyped-def]
        return ReservationPage(())

    assert verify(vendor_class(list_reservations=list_reservations), where="acme") is not None
    with pytest.raises(RegistryError) as missing:
        verify(vendor_class(), where="connector 'acme' from package lockerhub-acme")
    assert "connector 'acme' from package lockerhub-acme: missing method 'list_reservations'" in str(missing.value)

    def positional(self, cursor=None):  # type: ignore[no-untyped-def]
        return ReservationPage(())

    with pytest.raises(RegistryError) as wrong:
        verify(vendor_class(list_reservations=positional), where="acme")
    assert "method 'list_reservations' signature: expected (*, cursor), found (cursor)" in str(wrong.value)


@pytest.fixture
def small_world(network) -> World:  # type: ignore[no-untyped-def]
    return World(network, seed=3)


def reserve_some(world: World, n: int) -> list[str]:
    locker = world.lockers(per_page=1)[0][0].locker_id
    return [world.reserve(locker, "A", idempotency_key=f"k{i}").reservation_id for i in range(n)]


def test_the_world_pages_every_reservation_oldest_first(small_world: World) -> None:
    ids = reserve_some(small_world, 5)
    small_world.confirm(ids[1], idempotency_key="c")
    small_world.cancel(ids[2])
    seen, cursor, pages = [], None, 0
    while True:
        items, cursor = small_world.reservations_page(cursor, limit=2)
        seen.extend(items)
        pages += 1
        if cursor is None:
            break
    assert pages == 3 and [r.reservation_id for r in seen] == ids
    assert [r.state for r in seen] == [BookingState.SOFT, BookingState.BOOKED, BookingState.CANCELLED,
                                       BookingState.SOFT, BookingState.SOFT]
    assert all(r.created_at == small_world.now and r.access_code is None for r in seen)
    with pytest.raises(SimError) as err:
        small_world.reservations_page("99")
    assert (err.value.status, err.value.error) == (422, "invalid_cursor")


def test_holds_without_expiry_are_never_swept(network) -> None:  # type: ignore[no-untyped-def]
    world = World(network, seed=3, soft_ttl=None)
    (rid,) = reserve_some(world, 1)
    world.advance(timedelta(days=3))
    view = world.reservation(rid)
    assert (view.state, view.expires_at) == (BookingState.SOFT, None)
    assert world.confirm(rid, idempotency_key="late").state == BookingState.BOOKED


@pytest.fixture
def api(small_world: World) -> Iterator[tuple[str, requests.Session]]:
    with SimulatorServer(small_world, api_key=KEY) as server, requests.Session() as http:
        http.headers["X-API-Key"] = KEY
        yield server.url, http


def test_the_http_listing_pages_with_a_cursor(api: tuple[str, requests.Session], small_world: World) -> None:
    url, http = api
    ids = reserve_some(small_world, 3)
    small_world.advance(60)
    first = http.get(f"{url}/v1/reservations", params={"limit": 2}, timeout=5).json()
    assert [r["reservation_id"] for r in first["items"]] == ids[:2] and first["next_cursor"] == "2"
    assert first["as_of"] == small_world.now.isoformat()
    assert set(first["items"][0]) >= {"reservation_id", "locker_id", "state", "kind", "created_at", "expires_at"}
    assert "access_code" not in first["items"][0]
    last = http.get(f"{url}/v1/reservations", params={"cursor": first["next_cursor"], "limit": 2}, timeout=5).json()
    assert [r["reservation_id"] for r in last["items"]] == ids[2:] and last["next_cursor"] is None
    bad = http.get(f"{url}/v1/reservations", params={"cursor": "x"}, timeout=5)
    assert (bad.status_code, bad.json()) == (422, {"error": "invalid_cursor"})
    assert http.get(f"{url}/v1/reservations", params={"limit": 1001}, timeout=5).status_code == 422
    assert requests.get(f"{url}/v1/reservations", timeout=5).status_code == 401
