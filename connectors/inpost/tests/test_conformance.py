"""The conformance harness starts, hands over working handles, and stops."""

from __future__ import annotations

import pytest
from lockerhub_inpost.conformance import harness

from lockerhub.errors import MappingError, TransientError
from lockerhub.model import ParcelStatus


def test_harness_handles_work_once_each() -> None:
    with harness() as h:
        assert h.webhook is None and not hasattr(h.connector, "verify_webhook")
        listed = [lk.locker_id for lk in h.connector.list_lockers()]
        assert listed == list(h.locker_ids) and len(listed) > 2 * h.locker_page_size
        assert h.locker_id in listed and h.parcel.weight_g > 0
        assert all(isinstance(h.map_status(code), ParcelStatus) for code in h.status_codes)
        with pytest.raises(MappingError):
            h.map_status("other")
        soft = h.connector.reserve(h.locker_id, "small", idempotency_key="conf-1")
        h.connector.book(soft.reservation_id, idempotency_key="conf-1")
        assert list(h.reservation_ids()) == [soft.reservation_id]
        h.fail_next(503, 2)
        with pytest.raises(TransientError) as err:
            h.connector.get_status(soft.reservation_id)
        assert err.value.retry_after == 2.0
        assert h.connector.get_status(soft.reservation_id)[-1].event.status == ParcelStatus.BOOKED
