"""The sample connector's conformance harness: the fake API running, the connector pointed at it.

Registered under the entry point group ``lockerhub.conformance`` as ``sample``::

    pytest --lockerhub-connector sample                                   (the plugin installed)
    PYTHONPATH=src pytest --lockerhub-harness lockerhub_sample.conformance:harness   (from this folder)

The kit calls ``harness()`` once per session, uses the handles of the :class:`~lockerhub.testing.Harness` it
yields, and leaves the ``with`` block when its checks are done, which stops the fake API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

from pydantic import SecretStr

from lockerhub.model import Dimensions, Parcel, ParcelStatus
from lockerhub.simulator import EventCode, SimEvent, World
from lockerhub.testing import Harness
from lockerhub_sample.config import SampleConfig
from lockerhub_sample.connector import SampleConnector, vendor_status
from lockerhub_sample.fakeapi import PAGE_SIZE, STATUS, FakeSampleApi, delivery

LOCKERS = 45  # three pages of 20
TOKEN = "sample-test-token"  # not a credential: the fake API accepts the token it is started with
WEBHOOK_SECRET = "sample-test-webhook-secret"  # not a credential
PARCEL = Parcel(parcel_id="SAMPLE-1", dimensions=Dimensions(length_mm=300, width_mm=200, height_mm=50), weight_g=900)


@contextmanager
def harness() -> Iterator[Harness]:
    world = World.generate(LOCKERS, seed=7)
    lockers, _ = world.lockers(per_page=LOCKERS)
    with FakeSampleApi(world, token=TOKEN) as api:
        config = SampleConfig(base_url=api.url, token=SecretStr(TOKEN), webhook_secret=SecretStr(WEBHOOK_SECRET))
        connector = SampleConnector(config)
        try:
            yield Harness(
                connector=connector,
                locker_id=lockers[0].locker_id,
                parcel=PARCEL,
                locker_ids=[locker.locker_id for locker in lockers],
                locker_page_size=PAGE_SIZE,
                status_codes=list(STATUS.values()),  # every status the vendor sends
                map_status=map_status,
                reservation_ids=lambda: reservation_ids(world),
                fail_next=lambda status, retry_after: world.inject_fault(status, 1, retry_after),
                webhook=lambda signed_at, valid: webhook(world, lockers[0].locker_id, signed_at, valid),
            )
        finally:
            connector.close()


def map_status(code: str) -> ParcelStatus:
    """The connector's own crosswalk (``statuses.yaml``) on one code; an unknown code raises MappingError."""
    return vendor_status(code).status


def reservation_ids(world: World) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = world.reservations_page(cursor, limit=1000)
        ids.extend(view.reservation_id for view in page)
        if cursor is None:
            return ids


def webhook(world: World, locker_id: str, signed_at: datetime, valid: bool) -> tuple[Mapping[str, str], bytes]:
    """A delivery of one event signed as the vendor signs it, with the wrong secret when not ``valid``."""
    event = SimEvent("ev-sample", EventCode.COURIER_DEPOSITED, world.now, "rsv-sample", locker_id, f"{locker_id}-M1-01")
    secret = WEBHOOK_SECRET if valid else "not-the-webhook-secret"
    return delivery(secret, int(signed_at.timestamp()), [event])
