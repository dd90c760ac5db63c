"""Allocation decisions and status ingestion: lockerhub's paths vs hand-written floors measured in the same run.

Run with ``uv run python -m benchmarks.allocation [--quick]``.

1. Allocation decisions on a 1,000-locker x 60-compartment network (the lockers of
   ``lockerhub.simulator.build_network`` over all five regions, each refitted with 3 modules of 20 compartments of
   the simulator's size classes; 2 % offline), split between two vendors with ``Catalog.add``. N parcels of mixed
   sizes (a few too large or too heavy for any compartment), each for a recipient near a random locker, half of them
   asking for that locker. One decision is what ``lockerhub.runtime.booking`` does for a parcel without the HTTP:
   ``fitting_classes`` over the catalog, ``Catalog.candidates`` (5), per candidate the owner's classes, then the
   vendor's own pick in ``lockerhub.simulator.state.World``: ``precheck`` (classes with a free compartment that takes
   the parcel) and ``reserve`` (the first free compartment of the smallest such class).
   Baseline: a naive allocator written by hand over the same Locker models: every parcel scans every locker for the
   candidates, then every compartment of each candidate, trying the 6 orientations, and takes the smallest-volume
   free compartment. It must reach exactly the same decisions, or the run fails.
   A refusal is a decision too. ``Catalog.candidates`` orders the lockers near a recipient by vendor preference,
   then those with a free compartment that takes the parcel (as listed, less this run's reservations), then
   distance from the requested locker: lockers known to be full are not offered first.
2. Status updates ingested per vendor style, in process (no HTTP, no broker round trip): the events of parcel
   lifecycles run on a World (reserve, confirm, deposit, pickup; some cancelled, some holds lapsed, some pickups
   expired and returned), rendered and signed by the simulators' own helpers, then
   - simlocker: ``verify_webhook`` + ``parse_webhook`` (signed deliveries of 10 events each);
   - boxnow: ``verify_webhook`` + ``parse_webhook`` (one signed CloudEvent per event);
   - gls: ``verify_webhook`` + ``parse_webhook`` (one signed ParcelUpdates per event, with the parcel's history);
   - inpost: ``webhook_hint`` (ShipX webhooks are unsigned hints) + the ``statuses.yaml`` crosswalk. In production
     the status comes from the ``get_status`` call the hint triggers; here the status of the same ShipX tracking
     entry is taken from a list that goes with the bodies, so no HTTP is measured;
   - mqtt-cabinet (when a broker answers at ``LOCKERHUB_TEST_MQTT_URL``, default mqtt://127.0.0.1:1883, else
     skipped): ``CabinetClient.handle`` per message (JSON, dedup by message_id) + ``MqttCabinetConnector.events``
     (parse, crosswalk, forward-only apply), 1,000 messages per call. The broker only holds the subscription.
   Each event is then applied with ``lockerhub.model.apply_event`` per reservation (mqtt-cabinet applies it
   itself). Every style must end each parcel in the same status, and the lifecycle must refuse none of the events, or
   the run fails.
   Floor: ``json.loads`` of the same payloads plus a dict lookup of the vendor code.
Ratios are lockerhub's time / the baseline's (lower is better; above 1 = slower than the floor).
Prints two tables, then ``RESULT parcels=... lockers=... compartments=... decisions_per_s=... naive_per_s=...
allocation_ratio=... <style>_per_s=... <style>_floor_per_s=... <style>_ratio=... ...`` (``mqtt_cabinet=skipped``
without a broker).
"""

from __future__ import annotations

import json
import math
import os
import random
import socket
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import permutations
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table

from benchmarks._harness import args, best_of
from lockerhub.errors import AllocationError, TransitionError
from lockerhub.model import (
    Address,
    Compartment,
    CompartmentState,
    Dimensions,
    Locker,
    LockerState,
    Module,
    Parcel,
    ParcelEvent,
    ParcelState,
    Party,
    apply_event,
    lifecycle,
)
from lockerhub.runtime.allocation import Catalog, fitting_classes
from lockerhub.simulator import SIZE_CLASSES, SimEvent, World, build_network
from lockerhub.simulator.network import REGIONS
from lockerhub.simulator.state import EventCode, iso

MQTT_URL = os.environ.get("LOCKERHUB_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
SECRET = "bench-webhook-secret"
SENT_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the signing time, and the hub's clock when it verifies
STAMP = int(SENT_AT.timestamp())
MODULES, PER_MODULE = 3, 20  # 60 compartments per locker
CLASS_WEIGHTS = {"A": 5, "B": 3, "C": 2}  # as the simulator's network: small doors are the most common
VENDORS = ("vendor-a", "vendor-b")
CANDIDATES = 5  # routing.max_candidates' default
Decision = tuple[str, str] | None  # (locker id, compartment id), or no compartment


# --- 1. allocation ------------------------------------------------------------------------------------------------


def network(lockers: int, seed: int = 1) -> list[Locker]:
    """build_network's lockers (ids, addresses, regions), each with MODULES x PER_MODULE compartments."""
    rng = random.Random(seed)
    refitted = []
    for locker in build_network(lockers, seed=seed, regions=list(REGIONS)):
        modules = []
        for m in range(1, MODULES + 1):
            module_id = f"{locker.locker_id}-M{m}"
            codes = [*SIZE_CLASSES, *rng.choices(list(CLASS_WEIGHTS), weights=list(CLASS_WEIGHTS.values()),
                                                 k=PER_MODULE - len(SIZE_CLASSES))]
            codes.sort()
            modules.append(Module(module_id=module_id, compartments=[
                Compartment(compartment_id=f"{module_id}-{n:02d}", size_class=code, inner=SIZE_CLASSES[code].inner,
                            max_weight_g=SIZE_CLASSES[code].max_weight_g) for n, code in enumerate(codes, start=1)]))
        state = LockerState.OFFLINE if rng.random() < 0.02 else LockerState.ONLINE
        refitted.append(locker.model_copy(update={"modules": modules, "state": state}))
    return refitted


def parcels(lockers: list[Locker], n: int, seed: int = 2) -> list[tuple[Parcel, Party, str | None]]:
    """(parcel, recipient, requested locker) for ``n`` parcels of mixed sizes near random lockers."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        roll = rng.random()
        weight = rng.randint(100, 12_000)
        if roll < 0.55:  # fits A (8 cm)
            box = [rng.randint(100, 600), rng.randint(80, 370), rng.randint(10, 80)]
        elif roll < 0.80:  # B (19 cm)
            box = [rng.randint(150, 620), rng.randint(120, 370), rng.randint(81, 190)]
        elif roll < 0.95:  # C (41 cm)
            box = [rng.randint(200, 630), rng.randint(191, 375), rng.randint(191, 400)]
        elif roll < 0.98:  # too large for any class
            box = [rng.randint(650, 900), rng.randint(300, 500), rng.randint(100, 450)]
        else:  # too heavy
            box, weight = [300, 200, 100], rng.randint(25_001, 31_000)
        rng.shuffle(box)  # any orientation: the allocator must turn it
        near = rng.choice(lockers)
        recipient = Party(address=Address(postal_code=near.postal_code, city=near.city))
        parcel = Parcel(parcel_id=f"P{i:07d}", dimensions=Dimensions(length_mm=box[0], width_mm=box[1],
                                                                     height_mm=box[2]), weight_g=weight)
        out.append((parcel, recipient, near.locker_id if rng.random() < 0.5 else None))
    return out


def catalog_of(lockers: list[Locker]) -> tuple[Catalog, dict[str, list[Locker]]]:
    """Two vendors (3 lockers in 5 to the first), added in order of preference; their shares of the network."""
    shares = {VENDORS[0]: [lk for i, lk in enumerate(lockers) if i % 5 < 3],
              VENDORS[1]: [lk for i, lk in enumerate(lockers) if i % 5 >= 3]}
    catalog = Catalog({}, [])
    for vendor, share in shares.items():
        catalog.add(vendor, share, list(SIZE_CLASSES.values()))
    return catalog, shares


def lockerhub_allocate(catalog: Catalog, worlds: dict[str, World], work: list[tuple[Parcel, Party, str | None]]
                       ) -> list[Decision]:
    """lockerhub.runtime.booking's allocation for each parcel, with the vendors' Worlds in place of their APIs."""
    decisions: list[Decision] = []
    for parcel, recipient, requested in work:
        decision = None
        if fitting_classes(parcel, catalog.size_classes):
            try:
                candidates = catalog.candidates(recipient, requested, CANDIDATES, parcel)
            except AllocationError:
                candidates = []
            for locker in candidates:
                name = catalog.owner(locker.locker_id)
                classes = fitting_classes(parcel, catalog.classes_of(name))
                if not classes:
                    continue
                world = worlds[name]  # type: ignore[index]
                available = world.precheck(locker.locker_id, parcel.dimensions, parcel.weight_g, parcel.temperature)
                size = next((c for c in classes if c in available), None)
                if size is None:
                    continue
                view = world.reserve(locker.locker_id, size)
                catalog.taken(locker.locker_id, size)
                decision = (view.locker_id, view.compartment_id)
                break
        decisions.append(decision)
    return decisions


def naive_allocate(lockers: list[Locker], rank: dict[str, int], work: list[tuple[Parcel, Party, str | None]]
                   ) -> list[Decision]:
    """The same rules written the obvious way: scan every locker, then every compartment in every orientation."""
    taken: set[str] = set()
    decisions: list[Decision] = []
    for parcel, recipient, requested in work:
        d = parcel.dimensions
        box = (d.length_mm, d.width_mm, d.height_mm)
        address = recipient.address
        postal = (address.postal_code or "")[:2] if address else ""
        city = (address.city or "").casefold() if address else ""
        first, near = None, []
        for lk in lockers:
            if lk.locker_id == requested:
                first = lk
            elif (postal and (lk.postal_code or "")[:2] == postal) or (city and (lk.city or "").casefold() == city):
                near.append(lk)

        def fits(c: Any) -> bool:
            if (c.compartment_id in taken or c.state != CompartmentState.FREE
                    or c.temperature != parcel.temperature or parcel.weight_g > c.max_weight_g):
                return False
            inner = c.inner
            space = (inner.length_mm, inner.width_mm, inner.height_mm)
            return any(a <= space[0] and b <= space[1] and h <= space[2] for a, b, h in permutations(box))

        def km(lk: Locker) -> float:
            if first is None:
                return 0.0
            mid = math.radians((lk.latitude + first.latitude) / 2)
            x = math.radians(lk.longitude - first.longitude) * math.cos(mid)
            return 6371.0 * math.hypot(x, math.radians(lk.latitude - first.latitude))

        near.sort(key=lambda lk: (rank[lk.locker_id], not any(fits(c) for c in lk.compartments()), km(lk),
                                  lk.locker_id))
        chosen = [lk for lk in ([first] if first is not None else []) + near if lk.state == LockerState.ONLINE]
        decision = None
        for lk in chosen[:CANDIDATES]:
            best, best_volume = None, 0
            for c in lk.compartments():
                if fits(c):
                    volume = c.inner.length_mm * c.inner.width_mm * c.inner.height_mm
                    if best is None or volume < best_volume:
                        best, best_volume = c, volume
            if best is not None:
                taken.add(best.compartment_id)
                decision = (lk.locker_id, best.compartment_id)
                break
        decisions.append(decision)
    return decisions


def best_with_setup(setup: Callable[[], Any], run: Callable[[Any], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``run(setup())`` over ``repeat`` runs (setup not timed), and the last run's result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        state = setup()
        start = time.perf_counter()
        result = run(state)
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_allocation(n_lockers: int, n_parcels: int, repeat: int) -> dict[str, Any]:
    lockers = network(n_lockers)
    work = parcels(lockers, n_parcels)
    catalog, shares = catalog_of(lockers)
    rank = {lk.locker_id: VENDORS.index(catalog.owners[lk.locker_id]) for lk in lockers}

    def fresh() -> tuple[Catalog, dict[str, World]]:  # every run starts with every compartment free
        return catalog_of(lockers)[0], {vendor: World(share, seed=1, soft_ttl=None) for vendor, share in shares.items()}

    t_hub, hub = best_with_setup(fresh, lambda state: lockerhub_allocate(*state, work), repeat)
    t_naive, naive = best_with_setup(lambda: None, lambda _: naive_allocate(lockers, rank, work), repeat)
    if hub != naive:
        first = next(i for i, (a, b) in enumerate(zip(hub, naive, strict=True)) if a != b)
        raise SystemExit(f"the allocators disagree from parcel {first}: lockerhub {hub[first]}, naive {naive[first]}")
    return {"lockers": n_lockers, "compartments": sum(len(lk.compartments()) for lk in lockers),
            "parcels": n_parcels, "allocated": sum(d is not None for d in hub), "t_hub": t_hub, "t_naive": t_naive}


# --- 2. status ingestion --------------------------------------------------------------------------------------------


def lifecycles(parcels_n: int, seed: int = 3) -> tuple[World, list[SimEvent], Any]:
    """Run ``parcels_n`` parcels through a World in waves of 200; every event it emitted, in order, and the
    BoxNow desk the reservations were ordered through (for its order numbers)."""
    from lockerhub.simulator.vendors.boxnow import BoxnowError, Desk

    world = World.generate(40, seed=seed, soft_ttl=timedelta(minutes=15))
    desk = Desk(world, client_id="bench", client_secret="bench", token_ttl=timedelta(hours=1))
    events: list[SimEvent] = []
    world.listeners.append(events.append)
    rng = random.Random(seed)
    lockers = [lk.locker_id for lk in world.lockers(per_page=1000)[0] if lk.state == LockerState.ONLINE]
    made = 0
    while made < parcels_n:
        wave = []
        for _ in range(min(200, parcels_n - made)):
            size = rng.choice((1, 1, 1, 2, 2, 3))
            while True:  # another locker when this one has no free compartment of the size
                try:
                    view = desk.order(f"ORD-{made:07d}", rng.choice(lockers), size)
                except BoxnowError:
                    continue
                break
            wave.append(view.reservation_id)
            made += 1
        booked = []
        for rid in wave:
            roll = rng.random()
            if roll < 0.05:
                world.cancel(rid)
            elif roll >= 0.10:  # 5 % left to lapse
                booked.append((rid, world.confirm(rid).access_code))
        world.advance(timedelta(minutes=30))  # the lapsed holds expire
        for rid, _ in booked:
            world.deposit(rid)
        world.advance(timedelta(hours=5))
        late = []
        for rid, code in booked:
            if rng.random() < 0.92:
                world.pickup(rid, code or "")
            else:
                late.append(rid)
        world.advance(timedelta(hours=49))  # the rest expire in their compartments
        for rid in late:
            world.return_collect(rid)
    world.listeners.remove(events.append)
    return world, events, desk


class Style:
    """One vendor style: its payloads, the lockerhub path over them, and the floor over the same payloads."""

    def __init__(self, name: str, updates: int, ingest: Callable[..., int], floor: Callable[[], int],
                 setup: Callable[[], Any] | None = None) -> None:
        """``ingest`` takes what ``setup`` returns, when there is a setup (run before each timed run)."""
        self.name, self.updates, self.ingest, self.floor, self.setup = name, updates, ingest, floor, setup


class Applier:
    """Per reservation, apply each canonical event forward-only; counts outcomes, refuses nothing silently."""

    def __init__(self) -> None:
        self.states: dict[str, ParcelState] = {}
        self.outcomes: dict[str, int] = {}
        self.refused = 0

    def apply(self, reservation_id: str, event: ParcelEvent) -> None:
        try:
            outcome, state = apply_event(self.states.get(reservation_id) or ParcelState(), event.status, event.reason)
        except TransitionError:
            self.refused += 1
            return
        self.states[reservation_id] = state
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def codes_of(crosswalk: Any) -> dict[str, Any]:
    return {code: mapped.status for code, mapped in crosswalk.codes.items()}


def simlocker_style(events: list[SimEvent], check: Callable[[str, Applier], None]) -> Style:
    from pydantic import SecretStr

    from lockerhub.simulator.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign
    from lockerhub_simlocker.config import SimlockerConfig
    from lockerhub_simlocker.connector import SimlockerConnector, crosswalk

    connector = SimlockerConnector(SimlockerConfig(base_url="http://127.0.0.1:9", api_key=SecretStr("unused"),
                                                   webhook_secret=SecretStr(SECRET)))
    deliveries = []
    for start in range(0, len(events), 10):
        delivery_id = f"dlv-{start // 10:07d}"
        body = json.dumps({"delivery_id": delivery_id, "events": [e.to_json() for e in events[start:start + 10]]},
                          separators=(",", ":")).encode()
        deliveries.append(({SIGNATURE_HEADER: sign(SECRET, STAMP, body), DELIVERY_HEADER: delivery_id}, body))
    table = codes_of(crosswalk())

    def ingest() -> int:
        applier = Applier()
        for headers, body in deliveries:
            connector.verify_webhook(headers, body, now=SENT_AT)
            for vendor_event in connector.parse_webhook(headers, body):
                applier.apply(vendor_event.reservation_id, vendor_event.event)
        check("simlocker", applier)
        return len(applier.states)

    def floor() -> int:
        found = 0
        for _, body in deliveries:
            for item in json.loads(body)["events"]:
                found += table[item["code"]] is not None
        return found

    return Style("simlocker", len(events), ingest, floor)


def boxnow_style(events: list[SimEvent], desk: Any, check: Callable[[str, Applier], None]) -> Style:
    from lockerhub.simulator.vendors.boxnow import cloud_event
    from lockerhub_boxnow.config import BoxnowConfig
    from lockerhub_boxnow.connector import BoxnowConnector, crosswalk

    connector = BoxnowConnector(BoxnowConfig(base_url="http://127.0.0.1:9", client_id="bench", client_secret="bench",
                                             webhook_secret=SECRET))
    payloads = [data for data in map(desk.event_data, events) if data is not None]
    bodies = [cloud_event(data, secret=SECRET, event_id=f"ce-{i:08d}", sent_at=SENT_AT)
              for i, data in enumerate(payloads)]
    table = codes_of(crosswalk())

    def ingest() -> int:
        applier = Applier()
        for body in bodies:
            connector.verify_webhook({}, body, now=SENT_AT)
            for vendor_event in connector.parse_webhook({}, body):
                applier.apply(vendor_event.reservation_id, vendor_event.event)
        check("boxnow", applier)
        return len(applier.states)

    def floor() -> int:
        return sum(table[json.loads(body)["data"]["event"]] is not None for body in bodies)

    return Style("boxnow", len(bodies), ingest, floor)


def gls_style(world: World, events: list[SimEvent], check: Callable[[str, Applier], None]) -> Style:
    from lockerhub.simulator.vendors.gls import GlsNetwork, callback_headers
    from lockerhub_gls.config import GlsConfig
    from lockerhub_gls.connector import GlsConnector, crosswalk

    connector = GlsConnector(GlsConfig(base_url="http://127.0.0.1:9", api_key="unused", webhook_secret=SECRET))
    gls = GlsNetwork(world)
    deliveries = []
    for i, event in enumerate(events):
        body = json.dumps(gls.parcel_json(event.reservation_id, upto=event.event_id), separators=(",", ":")).encode()
        delivery_id = f"gls-{i:08d}"
        deliveries.append((callback_headers(SECRET, STAMP, delivery_id, body), body))
    table = codes_of(crosswalk())

    def ingest() -> int:
        applier = Applier()
        for headers, body in deliveries:
            connector.verify_webhook(headers, body, now=SENT_AT)
            for vendor_event in connector.parse_webhook(headers, body):  # the parcel's history up to this update
                applier.apply(vendor_event.reservation_id, vendor_event.event)
        check("gls", applier)
        return len(applier.states)

    def floor() -> int:
        return sum(table[json.loads(body)["shipmentStatus"]] is not None for _, body in deliveries)

    return Style("gls", len(deliveries), ingest, floor)


def inpost_style(events: list[SimEvent], check: Callable[[str, Applier], None]) -> Style:
    from pydantic import SecretStr

    from lockerhub.simulator.vendors.inpost import DEFAULT_ORGANIZATION_ID, EVENT_STATUSES, tracking_number
    from lockerhub_inpost.config import InpostConfig
    from lockerhub_inpost.connector import InpostConnector, crosswalk

    connector = InpostConnector(InpostConfig(base_url="http://127.0.0.1:9", token=SecretStr("unused"),
                                             organization_id=DEFAULT_ORGANIZATION_ID))
    shipment: dict[str, int] = {}
    bought: set[str] = set()
    hints = []  # (body, the status get_status would report for that tracking entry, its time)
    for event in events:  # the simulator's WebhookSender bodies, as requests serialises them (json=...)
        sid = shipment.setdefault(event.reservation_id, 10_000_001 + len(shipment))
        if event.code == EventCode.BOOKING_CONFIRMED:
            bought.add(event.reservation_id)
        number = tracking_number(sid) if event.reservation_id in bought else None
        for status in EVENT_STATUSES[event.code]:
            body = json.dumps({"event_ts": iso(event.occurred_at), "event": "shipment_status_changed",
                               "organization_id": DEFAULT_ORGANIZATION_ID,
                               "payload": {"shipment_id": sid, "status": status, "tracking_number": number}}).encode()
            hints.append((body, status, event.occurred_at.isoformat()))
    table = codes_of(crosswalk())

    def ingest() -> int:
        applier = Applier()
        statuses = crosswalk()
        for body, status, when in hints:
            for shipment_id in connector.webhook_hint(body):
                mapped = statuses.map(status)
                event = ParcelEvent(status=mapped.status, reason=mapped.reason,
                                    occurred_at=datetime.fromisoformat(when), source=connector.id, raw_code=status,
                                    event_id=f"{shipment_id}:{status}:{when}")
                applier.apply(shipment_id, event)
        check("inpost", applier)
        return len(applier.states)

    def floor() -> int:
        return sum(table[json.loads(body)["payload"]["status"]] is not None for body, _, _ in hints)

    return Style("inpost", len(hints), ingest, floor)


def broker_up(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 1883), timeout=1).close()
    except OSError:
        return False
    return True


def mqtt_style(events: list[SimEvent]) -> Style:
    from lockerhub.simulator.vendors.cabinet import PARCEL_CODES
    from lockerhub_mqtt_cabinet.config import MqttCabinetConfig
    from lockerhub_mqtt_cabinet.connector import MqttCabinetConnector, crosswalk

    prefix = f"bench-allocation-{os.getpid()}"  # nobody else publishes here
    seq: dict[str, int] = {}
    messages = []
    for i, event in enumerate(events):  # the cabinet simulator's parcel messages (json.dumps, as it publishes)
        seq[event.locker_id] = seq.get(event.locker_id, 0) + 1
        body = {"message_id": f"{i:032x}", "cabinet_id": event.locker_id, "seq": seq[event.locker_id],
                "type": "parcel", "code": PARCEL_CODES[event.code], "reservation_id": event.reservation_id,
                "event_id": event.event_id, "compartment_id": event.compartment_id,
                "occurred_at": iso(event.occurred_at)}
        messages.append((f"{prefix}/{event.locker_id}/events", json.dumps(body).encode()))
    table = codes_of(crosswalk())
    chunk = 1_000

    def setup() -> MqttCabinetConnector:  # a fresh session: nothing seen, no reservation states
        connector = MqttCabinetConnector(MqttCabinetConfig(broker_url=MQTT_URL, topic_prefix=prefix,
                                                           buffer_size=chunk))
        connector.client.start()
        return connector

    def ingest(connector: MqttCabinetConnector) -> int:
        forwarded = 0
        try:
            for start in range(0, len(messages), chunk):
                for topic, payload in messages[start:start + chunk]:
                    connector.client.handle(topic, payload)
                forwarded += sum(e.vendor_event is not None for e in connector.events())
        finally:
            connector.close()
        stats = connector.event_stats
        if stats.refused or stats.invalid or forwarded + stats.stale != len(messages):
            raise SystemExit(f"mqtt-cabinet: of {len(messages)} messages {forwarded} forwarded, {stats.stale} stale, "
                             f"{stats.refused} refused, {stats.invalid} invalid")
        return forwarded

    def floor() -> int:
        return sum(table[json.loads(payload)["code"]] is not None for _, payload in messages)

    return Style("mqtt-cabinet", len(messages), ingest, floor, setup)


def bench_ingestion(parcels_n: int, repeat: int) -> tuple[list[dict[str, Any]], int]:
    world, events, desk = lifecycles(parcels_n)
    lifecycle()  # load the table once, outside the timing

    finals: dict[str, Counter[str]] = {}

    def check(name: str, applier: Applier) -> None:
        """Every event in order is accepted, and every style ends each parcel where the first style did."""
        if applier.refused:
            raise SystemExit(f"{name}: {applier.refused} events refused by the lifecycle (the payloads are in order)")
        finals[name] = Counter(str(state.status) for state in applier.states.values())
        reference = next(iter(finals.values()))
        if finals[name] != reference:
            raise SystemExit(f"{name} ends its parcels as {dict(finals[name])}, the first style as {dict(reference)}")

    styles = [simlocker_style(events, check), boxnow_style(events, desk, check), gls_style(world, events, check),
              inpost_style(events, check)]
    mqtt_skipped = not broker_up(MQTT_URL)
    if not mqtt_skipped:
        styles.append(mqtt_style(events))
    rows = []
    for style in styles:
        if style.setup is None:
            t_ingest = best_of(style.ingest, repeat)
        else:
            t_ingest, _ = best_with_setup(style.setup, style.ingest, repeat)
        t_floor = best_of(style.floor, repeat)
        rows.append({"style": style.name, "updates": style.updates, "t_ingest": t_ingest, "t_floor": t_floor})
    if mqtt_skipped:
        rows.append({"style": "mqtt-cabinet", "skipped": f"no MQTT broker at {MQTT_URL}"})
    return rows, len(events)


# --- main -----------------------------------------------------------------------------------------------------------


def main() -> None:
    opts = args(__doc__ or "")
    n_parcels, n_lifecycles, repeat = (2_000, 1_000, 2) if opts.quick else (20_000, 10_000, 3)
    console = Console()

    alloc = bench_allocation(1_000, n_parcels, repeat)
    table = Table(title=f"allocation decisions: {alloc['parcels']:,} parcels on {alloc['lockers']:,} lockers x "
                        f"{alloc['compartments'] // alloc['lockers']} compartments ({alloc['allocated']:,} allocated, "
                        "the same by both)")
    for col in ("implementation", "seconds", "decisions/s", "ratio"):
        table.add_column(col, justify="left" if col == "implementation" else "right")
    table.add_row("lockerhub fitting_classes + Catalog.candidates + World.precheck/reserve",
                  f"{alloc['t_hub']:.3f}", f"{alloc['parcels'] / alloc['t_hub']:,.0f}",
                  f"{alloc['t_hub'] / alloc['t_naive']:.2f}")
    table.add_row("naive: every locker, every compartment, 6 orientations, smallest volume",
                  f"{alloc['t_naive']:.3f}", f"{alloc['parcels'] / alloc['t_naive']:,.0f}", "1.00")
    console.print(table)

    rows, n_events = bench_ingestion(n_lifecycles, repeat)
    table = Table(title=f"status updates ingested in process: {n_lifecycles:,} parcel lifecycles, {n_events:,} "
                        "World events as each vendor renders them")
    for col in ("vendor style", "updates", "lockerhub updates/s", "floor updates/s", "ratio"):
        table.add_column(col, justify="left" if col == "vendor style" else "right")
    result: dict[str, Any] = {
        "parcels": alloc["parcels"], "lockers": alloc["lockers"], "compartments": alloc["compartments"],
        "allocated": alloc["allocated"], "decisions_per_s": round(alloc["parcels"] / alloc["t_hub"]),
        "naive_per_s": round(alloc["parcels"] / alloc["t_naive"]),
        "allocation_ratio": alloc["t_hub"] / alloc["t_naive"], "lifecycles": n_lifecycles,
    }
    for row in rows:
        key = row["style"].replace("-", "_")
        if "skipped" in row:
            table.add_row(row["style"], "-", f"skipped: {row['skipped']}", "-", "-")
            result[key] = "skipped"
            continue
        per_s, floor_per_s = row["updates"] / row["t_ingest"], row["updates"] / row["t_floor"]
        table.add_row(row["style"], f"{row['updates']:,}", f"{per_s:,.0f}", f"{floor_per_s:,.0f}",
                      f"{row['t_ingest'] / row['t_floor']:.1f}")
        result |= {f"{key}_per_s": round(per_s), f"{key}_floor_per_s": round(floor_per_s),
                   f"{key}_ratio": row["t_ingest"] / row["t_floor"]}
    console.print(table)
    print("RESULT " + " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
