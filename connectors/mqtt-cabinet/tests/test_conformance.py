"""The conformance harness starts the simulator, hands out working handles, and stops everything."""

from __future__ import annotations

import pytest
from lockerhub_mqtt_cabinet import MqttCabinetConnector

from lockerhub.errors import MappingError, TransientError
from lockerhub.model import ParcelStatus
from lockerhub.plugins.registry import Registry

pytestmark = pytest.mark.integration


def test_the_harness_is_registered_and_each_handle_works(broker_url: str) -> None:
    factory = Registry("lockerhub.conformance").entry_points["mqtt-cabinet"].load()
    with factory() as h:
        conn = h.connector
        assert isinstance(conn, MqttCabinetConnector) and h.webhook is None
        ids = [lk.locker_id for lk in conn.list_lockers()]
        assert sorted(ids) == sorted(h.locker_ids) and len(ids) > h.locker_page_size
        fitting = [s.code for s in conn.size_classes() if h.parcel.dimensions.fits_in(s.inner)]
        reservation = conn.reserve(h.locker_id, fitting[0], idempotency_key="conformance-1")
        assert list(h.reservation_ids()) == [reservation.reservation_id]
        assert {h.map_status(code) for code in h.status_codes} >= {ParcelStatus.BOOKED, ParcelStatus.COLLECTED}
        with pytest.raises(MappingError):
            h.map_status("not_a_code")
        h.fail_next(503, 0.5)
        with pytest.raises(TransientError) as caught:
            conn.book(reservation.reservation_id, idempotency_key="conformance-1")
        assert caught.value.retry_after == 0.5
        assert conn.book(reservation.reservation_id, idempotency_key="conformance-1").access_code is not None
    assert conn.client._client is None  # the connector was closed with the harness
