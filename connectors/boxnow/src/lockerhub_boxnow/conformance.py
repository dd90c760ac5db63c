"""The conformance harness of the boxnow connector: ``pytest --lockerhub-connector boxnow``.

:func:`harness` starts lockerhub's BoxNow-style simulator (:mod:`lockerhub.simulator.vendors.boxnow`) over a World
of 120 lockers (three pages of 50), points a :class:`BoxnowConnector` at it, yields the
:class:`~lockerhub.testing.Harness` and stops everything on exit. ``fail_next(401, ...)`` fails the call and its
one retry with a renewed token, so the connector sees the refusal; other statuses fail one request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

from lockerhub.model import Dimensions, Parcel, ParcelStatus
from lockerhub.simulator.state import World, iso
from lockerhub.simulator.vendors.boxnow import Server, cloud_event, parcel_id
from lockerhub.testing import Harness, WebhookFactory
from lockerhub_boxnow.config import BoxnowConfig
from lockerhub_boxnow.connector import BoxnowConnector, crosswalk

CLIENT_ID = "conformance-client"
CLIENT_SECRET = "conformance-client-secret"  # the test double's, not a credential
WEBHOOK_SECRET = "conformance-webhook-secret"  # likewise
LOCKERS = 120
PAGE_SIZE = 50
PARCEL = Parcel(parcel_id="CONF-1", dimensions=Dimensions.of(30, 20, 5, "cm"), weight_g=1200)


def _reservation_ids(world: World) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = world.reservations_page(cursor, limit=500)
        ids.extend(parcel_id(view.reservation_id) for view in page)
        if cursor is None:
            return ids


def _map_status(code: str) -> ParcelStatus:
    return crosswalk().map(code).status


def _webhook(locker_id: str) -> WebhookFactory:
    def build(signed_at: datetime, valid: bool) -> tuple[Mapping[str, str], bytes]:
        data = {"parcelId": parcel_id("rsv-000001"), "orderNumber": "conformance-1", "event": "final-destination",
                "parcelState": "final-destination", "eventLocation": {"locationId": locker_id},
                "time": iso(signed_at)}
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"boxnow-conformance/{signed_at.isoformat()}"))
        secret = WEBHOOK_SECRET if valid else "another-webhook-secret"
        return {"Content-Type": "application/json"}, cloud_event(data, secret=secret, event_id=event_id,
                                                                 sent_at=signed_at)
    return build


@contextmanager
def harness() -> Iterator[Harness]:
    world = World.generate(LOCKERS, seed=2026)
    locker_ids = [locker.locker_id for locker in world.lockers(per_page=LOCKERS)[0]]
    with Server(world, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as server:
        config = BoxnowConfig(base_url=server.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                              page_size=PAGE_SIZE, webhook_secret=WEBHOOK_SECRET)
        with BoxnowConnector(config) as connector:
            yield Harness(
                connector=connector, locker_id=locker_ids[0], parcel=PARCEL, locker_ids=locker_ids,
                locker_page_size=PAGE_SIZE, status_codes=tuple(crosswalk().codes), map_status=_map_status,
                reservation_ids=lambda: _reservation_ids(world),
                fail_next=lambda status, retry_after: world.inject_fault(status, 2 if status == 401 else 1,
                                                                         retry_after),
                webhook=_webhook(locker_ids[0]),
            )
