"""Conformance harness of the simlocker connector: the bundled simulator (:mod:`lockerhub.simulator`) over real HTTP.

Registered under the entry point group ``lockerhub.conformance`` as ``simlocker``, so
``pytest --lockerhub-connector simlocker`` runs the kit (:mod:`lockerhub.testing.checks`) against it. The simulator
is the vendor here: its ``EventCode`` values are every code it can send, ``World.inject_fault`` answers the next
request with an error, and webhook deliveries are signed as :mod:`lockerhub.simulator.webhooks` signs them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

from pydantic import SecretStr

from lockerhub.model import Dimensions, Parcel, ParcelStatus
from lockerhub.simulator import EventCode, SimEvent, SimulatorServer, World
from lockerhub.simulator.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign
from lockerhub.testing import Harness
from lockerhub_simlocker.config import SimlockerConfig
from lockerhub_simlocker.connector import SimlockerConnector, crosswalk

LOCKERS = 120  # more than two pages of the API's 50
SEED = 2026
API_KEY = "conformance-test-key"  # not a credential: the simulator accepts the key it is started with
WEBHOOK_SECRET = "conformance-webhook-secret"  # not a credential
PARCEL = Parcel(parcel_id="CONFORMANCE-1", dimensions=Dimensions(length_mm=300, width_mm=200, height_mm=50),
                weight_g=1200)


@contextmanager
def harness() -> Iterator[Harness]:
    """A simulator with 120 lockers and the connector pointed at it; both stop on exit."""
    world = World.generate(LOCKERS, seed=SEED)
    with SimulatorServer(world, api_key=API_KEY) as server:
        config = SimlockerConfig(base_url=server.url, api_key=SecretStr(API_KEY),
                                 webhook_secret=SecretStr(WEBHOOK_SECRET))
        with SimlockerConnector(config) as connector:
            lockers, _ = world.lockers(per_page=LOCKERS)
            yield Harness(
                connector=connector,
                locker_id=lockers[0].locker_id,
                parcel=PARCEL,
                locker_ids=[locker.locker_id for locker in lockers],
                locker_page_size=connector.client.per_page,
                status_codes=[str(code) for code in EventCode],
                map_status=_map_status,
                reservation_ids=lambda: _reservation_ids(world),
                fail_next=lambda status, retry_after: world.inject_fault(status, 1, retry_after),
                webhook=lambda signed_at, valid: _delivery(world, lockers[0].locker_id, signed_at, valid),
            )


def _map_status(code: str) -> ParcelStatus:
    return crosswalk().map(code).status


def _reservation_ids(world: World) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = world.reservations_page(cursor, limit=1000)
        ids.extend(view.reservation_id for view in page)
        if cursor is None:
            return ids


def _delivery(world: World, locker_id: str, signed_at: datetime, valid: bool) -> tuple[Mapping[str, str], bytes]:
    """One delivery of one event, signed as the simulator signs (with another secret when not ``valid``)."""
    delivery_id = str(uuid.uuid4())
    event = SimEvent("ev-conformance", EventCode.COURIER_DEPOSITED, world.now, "rsv-conformance", locker_id,
                     f"{locker_id}-M1-01")
    body = json.dumps({"delivery_id": delivery_id, "events": [event.to_json()]}, separators=(",", ":")).encode()
    secret = WEBHOOK_SECRET if valid else "not-the-webhook-secret"
    headers = {"Content-Type": "application/json", DELIVERY_HEADER: delivery_id,
               SIGNATURE_HEADER: sign(secret, int(signed_at.timestamp()), body)}
    return headers, body
