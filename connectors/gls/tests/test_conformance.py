"""The conformance harness: it starts the simulator, and every handle it yields works once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lockerhub_gls.conformance import harness

from lockerhub.errors import AuthError, MappingError, TransientError
from lockerhub.model import ParcelStatus, ReservationKind


def test_each_handle_of_the_harness() -> None:
    with harness() as h:
        listed = [lk.locker_id for lk in h.connector.list_lockers()]
        assert listed == list(h.locker_ids) and len(listed) > h.locker_page_size
        sizes = h.connector.precheck(h.locker_id, h.parcel)
        assert sizes and sizes[0] == "SMALL"
        soft = h.connector.reserve(h.locker_id, sizes[0], idempotency_key="harness-1")
        assert h.connector.reserve(h.locker_id, sizes[0], idempotency_key="harness-1") == soft
        assert list(h.reservation_ids()) == [soft.reservation_id] and soft.kind == ReservationKind.SOFT
        assert all(isinstance(h.map_status(code), ParcelStatus) for code in h.status_codes)
        with pytest.raises(MappingError):
            h.map_status("NOT_A_GLS_CODE")
        h.fail_next(503, 2)
        with pytest.raises(TransientError) as info:
            h.connector.get_status(soft.reservation_id)
        assert info.value.retry_after == 2
        now = datetime.now(UTC)
        headers, body = h.webhook(now, True)
        delivery_id = h.connector.verify_webhook(headers, body, now=now)
        assert delivery_id and h.connector.parse_webhook(headers, body)[0].event.status == ParcelStatus.CREATED
        with pytest.raises(AuthError):
            h.connector.verify_webhook(*h.webhook(now, False), now=now)
