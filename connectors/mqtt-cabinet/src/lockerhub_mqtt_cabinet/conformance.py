"""The conformance kit's handle on this connector: the cabinet simulator on a real MQTT broker, and a connector
pointed at it (see :mod:`lockerhub.testing.harness`).

The broker is ``LOCKERHUB_TEST_MQTT_URL`` (default ``mqtt://127.0.0.1:1883``, a Mosquitto without auth); each
harness uses a topic prefix of its own. MQTT has no pagination: every cabinet announces itself in its own retained
info message, so one "page" is one cabinet (``locker_page_size`` 1).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from lockerhub.model import Dimensions, Parcel
from lockerhub.simulator import World
from lockerhub.simulator.vendors.cabinet import CabinetSimulator, status_codes
from lockerhub.testing.harness import Harness
from lockerhub_mqtt_cabinet.config import MqttCabinetConfig
from lockerhub_mqtt_cabinet.connector import MqttCabinetConnector, crosswalk

CABINETS = 12
PARCEL = Parcel(parcel_id="CONF-1", dimensions=Dimensions.of(30, 20, 5, "cm"), weight_g=1200)


@contextmanager
def harness() -> Iterator[Harness]:
    world = World.generate(CABINETS, seed=2026)
    url = os.environ.get("LOCKERHUB_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
    prefix = f"lockerhub-conformance-{uuid.uuid4().hex[:10]}"
    config = MqttCabinetConfig(broker_url=url, topic_prefix=prefix, ack_timeout_s=1.0, info_window_s=0.3)
    lockers, _ = world.lockers(per_page=CABINETS)

    def reservation_ids() -> list[str]:
        ids, cursor = [], None
        while True:
            page, cursor = world.reservations_page(cursor)
            ids += [f"{view.locker_id}/{view.reservation_id}" for view in page]
            if cursor is None:
                return ids

    with CabinetSimulator(world, url, prefix=prefix), MqttCabinetConnector(config) as connector:
        yield Harness(
            connector=connector,
            locker_id=lockers[0].locker_id,
            parcel=PARCEL,
            locker_ids=[lk.locker_id for lk in lockers],
            locker_page_size=1,
            status_codes=status_codes(),
            map_status=lambda code: crosswalk().map(code).status,
            reservation_ids=reservation_ids,
            fail_next=lambda status, retry_after: world.inject_fault(status, 1, retry_after),
        )
