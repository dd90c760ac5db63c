"""The conformance harness: it starts the simulator, and each handle it hands the kit works."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points

import pytest
from lockerhub_boxnow import BoxnowConnector
from lockerhub_boxnow.conformance import harness

from lockerhub.errors import AuthError, MappingError, ReplayWindowError, TransientError
from lockerhub.model import ParcelStatus, ReservationKind


def test_the_harness_is_registered_and_each_handle_works() -> None:
    [ep] = [ep for ep in entry_points(group="lockerhub.conformance") if ep.name == "boxnow"]
    assert ep.load() is harness
    with harness() as h:
        assert isinstance(h.connector, BoxnowConnector)
        lockers = [lk.locker_id for lk in h.connector.list_lockers()]
        assert lockers == list(h.locker_ids) and len(lockers) > h.locker_page_size
        assert h.connector.config.page_size == h.locker_page_size
        size = next(s.code for s in h.connector.size_classes() if h.parcel.dimensions.fits_in(s.inner))

        before = set(h.reservation_ids())
        first = h.connector.reserve(h.locker_id, size, idempotency_key="conformance-key")
        again = h.connector.reserve(h.locker_id, size, idempotency_key="conformance-key")
        assert first == again and first.kind == ReservationKind.SOFT
        assert set(h.reservation_ids()) - before == {first.reservation_id}

        assert all(isinstance(h.map_status(code), ParcelStatus) for code in h.status_codes)
        with pytest.raises(MappingError):
            h.map_status("no-such-state")

        h.fail_next(503, 1.5)
        with pytest.raises(TransientError) as err:
            h.connector.get_status(first.reservation_id)
        assert err.value.retry_after == 1.5
        h.fail_next(401, None)
        with pytest.raises(AuthError):
            h.connector.get_status(first.reservation_id)
        assert h.connector.get_status(first.reservation_id)[0].event.status == ParcelStatus.CREATED

        assert h.webhook is not None
        now = datetime.now(UTC)
        headers, body = h.webhook(now, True)
        delivery_id = h.connector.verify_webhook(headers, body, now=now)
        assert delivery_id and h.connector.parse_webhook(headers, body)[0].event.status == ParcelStatus.DEPOSITED
        with pytest.raises(AuthError):
            h.connector.verify_webhook(*h.webhook(now, False), now=now)
        with pytest.raises(ReplayWindowError):
            h.connector.verify_webhook(*h.webhook(now - timedelta(hours=1), True), now=now)
