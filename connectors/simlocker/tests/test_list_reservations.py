"""list_reservations against a real simulator: every state mapped to canonical, paging by cursor, the vendor clock."""

from __future__ import annotations

import pytest
import requests
import responses
from lockerhub_simlocker import SimlockerConnector
from lockerhub_simlocker.client import SimlockerClient
from lockerhub_simlocker.connector import state_crosswalk
from responses import matchers

from lockerhub.errors import MappingError
from lockerhub.model import ParcelStatus, ReservationKind
from lockerhub.plugins.protocols import Capability
from lockerhub.plugins.registry import Registry
from lockerhub.simulator import BookingState, SimulatorServer, World


def test_declared_and_verified() -> None:
    assert Capability.LIST_RESERVATIONS in Registry().load("simlocker").capabilities


def test_every_reservation_state_maps_to_a_canonical_status() -> None:
    table = state_crosswalk()
    assert {s.value for s in BookingState} == set(table.codes)
    assert table.map("returned").status is ParcelStatus.RETURNING  # as COURIER_COLLECTED_RETURN in statuses.yaml
    with pytest.raises(MappingError):
        table.map("teleported")


def test_reservations_in_every_state_come_back_mapped(
    connector: SimlockerConnector, world: World, sim: requests.Session, server: SimulatorServer
) -> None:
    start = world.reservations_page(limit=1_000_000)[0]
    locker = world.lockers(page=3, per_page=1)[0][0].locker_id
    soft = connector.reserve(locker, "A", idempotency_key="lr-soft")
    booked = connector.book(connector.reserve(locker, "A", idempotency_key="lr-book").reservation_id,
                            idempotency_key="lr-book")
    dropped = connector.reserve(locker, "A", idempotency_key="lr-drop")
    connector.cancel(dropped.reservation_id)
    deposited = connector.book(connector.reserve(locker, "B", idempotency_key="lr-dep").reservation_id,
                               idempotency_key="lr-dep")
    sim.post(f"{server.url}/sim/deposit", json={"reservation_id": deposited.reservation_id},
             timeout=5).raise_for_status()

    page = connector.list_reservations()
    assert page.next_cursor is None and page.as_of == world.now
    mine = {r.reservation_id: r for r in page.items[len(start):]}
    assert [(mine[r.reservation_id].status, mine[r.reservation_id].state, mine[r.reservation_id].kind)
            for r in (soft, booked, dropped, deposited)] == [
        (ParcelStatus.CREATED, "soft", ReservationKind.SOFT), (ParcelStatus.BOOKED, "booked", ReservationKind.HARD),
        (ParcelStatus.CANCELLED, "cancelled", ReservationKind.SOFT),
        (ParcelStatus.DEPOSITED, "deposited", ReservationKind.HARD)]
    assert mine[soft.reservation_id].expires_at == soft.expires_at
    assert mine[soft.reservation_id].created_at == world.now and mine[soft.reservation_id].locker_id == locker
    assert mine[booked.reservation_id].expires_at is None


def test_the_client_passes_the_cursor_along() -> None:
    base = "http://sim.test"
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        mocked.get(f"{base}/v1/reservations", json={"items": [], "next_cursor": "500", "as_of": None},
                   match=[matchers.query_param_matcher({"limit": "500"})])
        mocked.get(f"{base}/v1/reservations", json={"items": [], "next_cursor": None, "as_of": None},
                   match=[matchers.query_param_matcher({"limit": "500", "cursor": "500"})])
        client = SimlockerClient(base, "k")
        assert client.reservations()["next_cursor"] == "500"
        assert client.reservations("500")["next_cursor"] is None
