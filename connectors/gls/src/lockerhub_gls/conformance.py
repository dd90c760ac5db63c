"""The conformance kit's handle on this connector: the GLS-style simulator over real HTTP, and the connector
pointed at it (entry point ``lockerhub.conformance`` ``gls``; see :mod:`lockerhub.testing.harness`)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

from lockerhub.model import Dimensions, Parcel, ParcelStatus
from lockerhub.simulator import World
from lockerhub.simulator.vendors.gls import Server, callback_headers
from lockerhub.testing import Harness, WebhookFactory
from lockerhub_gls.config import GlsConfig
from lockerhub_gls.connector import GlsConnector, crosswalk

API_KEY = "gls-conformance-key"  # not a credential: the simulator's own
WEBHOOK_SECRET = "gls-conformance-secret"  # not a credential: signs the harness's own deliveries
LOCKERS = 60
PAGE_SIZE = 25  # 60 lockers = 3 pages
PARCEL = Parcel(parcel_id="GLS-CONF-1", dimensions=Dimensions.of(30, 20, 5, "cm"), weight_g=1200)


def _map(code: str) -> ParcelStatus:
    return crosswalk().map(code).status


def _webhook(locker_id: str) -> WebhookFactory:
    def build(signed_at: datetime, valid: bool) -> tuple[Mapping[str, str], bytes]:
        when = signed_at.isoformat()
        body = json.dumps({
            "shipmentUid": "rsv-conformance", "lockerUid": "10000001", "carrierParcelId": "conformance-parcel",
            "carrierLockerId": locker_id, "shipmentType": "LAST_MILE", "dimensionsStatus": "PARCEL_DIMENSIONS_UNKNOWN",
            "shipmentStatus": "BOOKING_CREATED", "accessCodes": None, "consignee": None,
            "events": [{"timestamp": when, "eventType": "BOOKING_CREATED"}], "allocationType": "SOFT_RESERVATION",
            "eventTimestamp": when,
        }).encode()
        secret = WEBHOOK_SECRET if valid else "not-the-secret"
        stamp = int(signed_at.timestamp())
        return callback_headers(secret, stamp, f"conformance-{stamp}", body), body
    return build


@contextmanager
def harness() -> Iterator[Harness]:
    """Start the simulator, yield the harness, stop everything on exit."""
    world = World.generate(LOCKERS, seed=7)
    lockers, _ = world.lockers(per_page=LOCKERS)
    with Server(world, api_key=API_KEY) as server:
        assert server.network is not None
        network = server.network
        config = GlsConfig(base_url=server.api_url, api_key=API_KEY, webhook_secret=WEBHOOK_SECRET,
                           page_size=PAGE_SIZE)
        with GlsConnector(config) as connector:
            yield Harness(
                connector=connector,
                locker_id=lockers[0].locker_id,
                parcel=PARCEL,
                locker_ids=[lk.locker_id for lk in lockers],
                locker_page_size=PAGE_SIZE,
                status_codes=tuple(crosswalk().codes),
                map_status=_map,
                reservation_ids=network.carrier_parcel_ids,
                fail_next=lambda status, retry_after: world.inject_fault(status, 1, retry_after),
                webhook=_webhook(lockers[0].locker_id),
            )
