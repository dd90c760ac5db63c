"""The conformance kit's harness: the inpost connector wired to the bundled ShipX-style simulator.

Registered under the ``lockerhub.conformance`` entry point; ``pytest --lockerhub-connector inpost`` enters it.
ShipX webhooks are unsigned, so ``webhook`` is None: the connector polls (``get_status``) as its source of truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from lockerhub.model import Dimensions, LockerState, Parcel, ParcelStatus
from lockerhub.simulator import World
from lockerhub.simulator.vendors import inpost as simulator
from lockerhub.testing.harness import Harness
from lockerhub_inpost.config import InpostConfig
from lockerhub_inpost.connector import InpostConnector, crosswalk

TOKEN = "conformance-shipx-token"
ORGANIZATION_ID = 4242
LOCKERS = 60
PAGE_SIZE = 25  # 60 lockers: three pages
SEED = 2026


def harness() -> AbstractContextManager[Harness]:
    """Start the simulator over a fresh World, yield the :class:`Harness`, stop everything on exit."""
    return _running()


def _map_status(code: str) -> ParcelStatus:
    return crosswalk().map(code).status


@contextmanager
def _running() -> Iterator[Harness]:
    world = World.generate(LOCKERS, seed=SEED, soft_ttl=None)  # ShipX shipments do not lapse by themselves
    lockers, _ = world.lockers(per_page=LOCKERS)
    with simulator.Server(world, token=TOKEN, organization_id=ORGANIZATION_ID) as server:
        config = InpostConfig(base_url=server.url, token=TOKEN, organization_id=ORGANIZATION_ID, per_page=PAGE_SIZE)
        with InpostConnector(config) as connector:
            yield Harness(
                connector=connector,
                locker_id=next(lk.locker_id for lk in lockers if lk.state == LockerState.ONLINE),
                parcel=Parcel(parcel_id="CONF-1", dimensions=Dimensions.of(30, 20, 5, "cm"), weight_g=1200),
                locker_ids=[lk.locker_id for lk in lockers],
                locker_page_size=PAGE_SIZE,
                status_codes=simulator.STATUSES,
                map_status=_map_status,
                reservation_ids=server.shipment_ids,
                fail_next=lambda status, retry_after: world.inject_fault(status, 1, retry_after),
                webhook=None,
            )
