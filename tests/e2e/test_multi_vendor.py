"""Multi-vendor routing end to end: one hub config routing to InPost-, BoxNow- and GLS-style lockers side by side
(``routing.vendors`` in order of preference), each vendor's own simulator over real HTTP with its own share of one
locker network.

The network (20 lockers, 4 per region; a region is one neighbourhood: every locker in it is near every recipient
in it)::

    POZ  inpost inpost inpost inpost      only InPost
    GDN  boxnow boxnow boxnow boxnow      only BoxNow
    WRO  gls    gls    gls    gls         only GLS
    WAW  gls    boxnow gls    boxnow      BoxNow and GLS: BoxNow preferred, though GLS has the lowest id
    KRK  gls    boxnow inpost boxnow      all three: InPost preferred, though GLS and BoxNow have lower ids

Each vendor's reservation ids are its own (an InPost shipment id, a BoxNow parcel id, a GLS carrier parcel id); the
test maps them to the World's to act as courier and recipient, as each simulator documents.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lockerhub.config import load_config
from lockerhub.errors import ConfigError, ErrorGroup
from lockerhub.model import CompartmentState, Locker, LockerState, ParcelStatus
from lockerhub.plugins.registry import registry
from lockerhub.runtime.booking import ACCESS_CODE_CONTEXT, HELD_FIELD, book_pending
from lockerhub.runtime.desk import Desk
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import ingest_inbox
from lockerhub.runtime.pipeline import run_once
from lockerhub.runtime.retry import RetryPolicy
from lockerhub.runtime.sync import sync_statuses
from lockerhub.settings import Settings
from lockerhub.simulator import BookingState, SimEvent, World, build_network
from lockerhub.simulator.state import EventCode
from lockerhub.simulator.tms_drops import render, sscc_for
from lockerhub.simulator.vendors import boxnow, gls, inpost
from lockerhub.store import EventRow, ParcelRow

ROOT = Path(__file__).resolve().parents[2]
PARTNER = "acme-tms"
CONNECTORS = ("inpost", "boxnow", "gls")  # routing.vendors, in order of preference
REGIONS = ["WAW", "KRK", "GDN", "POZ", "WRO"]
OWNERS = {
    **{f"SIM-POZ-{n:04d}": "inpost" for n in range(1, 5)},
    **{f"SIM-GDN-{n:04d}": "boxnow" for n in range(1, 5)},
    **{f"SIM-WRO-{n:04d}": "gls" for n in range(1, 5)},
    "SIM-WAW-0001": "gls", "SIM-WAW-0002": "boxnow", "SIM-WAW-0003": "gls", "SIM-WAW-0004": "boxnow",
    "SIM-KRK-0001": "gls", "SIM-KRK-0002": "boxnow", "SIM-KRK-0003": "inpost", "SIM-KRK-0004": "boxnow",
}
"""Locker id -> the connector (vendor) whose World holds it."""

# the simulators' own credentials, not secrets
INPOST_TOKEN, INPOST_ORG = "multi-vendor-shipx-token", 4242
BOXNOW_CLIENT, BOXNOW_SECRET = "multi-vendor-client", "multi-vendor-client-secret"
GLS_KEY = "multi-vendor-gls-key"


# --------------------------------------------------------------------------------------------- the three vendors


@dataclass
class Vendors:
    """The three running simulators, each over its own World (its share of the network)."""

    network: dict[str, Locker]
    worlds: dict[str, World]  # by connector id
    servers: dict[str, Any]

    def now(self) -> datetime:
        """One time line for the hub and every vendor (the Worlds' clocks move together)."""
        return max(w.now for w in self.worlds.values())

    def advance(self, seconds: float) -> None:
        for world in self.worlds.values():
            world.advance(seconds)

    def world_id(self, connector: str, reservation_id: str) -> str:
        """The World's reservation id of a vendor's own reservation id."""
        if connector == "inpost":
            return str(self.servers["inpost"].reservation_id(reservation_id))
        if connector == "boxnow":
            return boxnow.reservation_id(reservation_id)
        network = self.servers["gls"].network
        assert network is not None
        return str(network.parcel(reservation_id).reservation_id)


    def nearest(self, anchor: str, connector: str, *, skip: tuple[str, ...] = ()) -> str:
        """The vendor's locker nearest to ``anchor`` among its neighbours (same city or postal area): where the
        hub goes next at that vendor."""
        a = self.network[anchor]
        own = [lk for lk in self.worlds[connector].lockers(per_page=1000)[0] if lk.locker_id not in (anchor, *skip)
               and (lk.city == a.city or (lk.postal_code or "")[:2] == (a.postal_code or "")[:2])]

        def km(lk: Locker) -> float:
            x = math.radians(lk.longitude - a.longitude) * math.cos(math.radians((lk.latitude + a.latitude) / 2))
            return math.hypot(x, math.radians(lk.latitude - a.latitude))

        return min(own, key=lambda lk: (km(lk), lk.locker_id)).locker_id

    def reservations(self, connector: str) -> list[Any]:
        page, cursor = self.worlds[connector].reservations_page(limit=1000)
        assert cursor is None
        return page


@pytest.fixture
def vendors(monkeypatch: pytest.MonkeyPatch) -> Iterator[Vendors]:
    network = build_network(20, seed=11, regions=REGIONS)
    assert sorted(lk.locker_id for lk in network) == sorted(OWNERS)
    share = {c: [lk for lk in network if OWNERS[lk.locker_id] == c] for c in CONNECTORS}
    worlds = {
        "inpost": World(share["inpost"], seed=1, soft_ttl=None),  # ShipX shipments do not lapse by themselves
        "boxnow": World(share["boxnow"], seed=2),
        "gls": World(share["gls"], seed=3),
    }
    # secrets come from the environment, as each connector documents
    monkeypatch.setenv("LOCKERHUB_INPOST_TOKEN", INPOST_TOKEN)
    monkeypatch.setenv("LOCKERHUB_BOXNOW_CLIENT_SECRET", BOXNOW_SECRET)
    monkeypatch.setenv("LOCKERHUB_GLS_API_KEY", GLS_KEY)
    with ExitStack() as stack:
        servers = {
            "inpost": stack.enter_context(inpost.Server(worlds["inpost"], token=INPOST_TOKEN,
                                                        organization_id=INPOST_ORG)),
            "boxnow": stack.enter_context(boxnow.Server(worlds["boxnow"], client_id=BOXNOW_CLIENT,
                                                        client_secret=BOXNOW_SECRET)),
            "gls": stack.enter_context(gls.Server(worlds["gls"], api_key=GLS_KEY)),
        }
        yield Vendors({lk.locker_id: lk for lk in network}, worlds, servers)


def write_config(path: Path, vendors: Vendors, names: dict[str, str] | None = None,
                 routed: tuple[str, ...] = CONNECTORS) -> Path:
    """A hub config with one CSV partner and the three vendors, ``routed`` ones in that order; ``names`` gives each
    connector's vendor name in the config (default: the connector id)."""
    names = names or {c: c for c in CONNECTORS}
    urls = {"inpost": vendors.servers["inpost"].url, "boxnow": vendors.servers["boxnow"].url,
            "gls": vendors.servers["gls"].api_url}
    extra = {"inpost": f", organization_id: {INPOST_ORG}, per_page: 3",  # several pages of points
             "boxnow": f", client_id: {BOXNOW_CLIENT}, page_size: 5", "gls": ", page_size: 4"}
    text = (
        "partners:\n"
        f"  {PARTNER}:\n"
        "    connector: csv\n"
        f"    config: {{inbox: inbox, outbox: outbox, mapping: {ROOT / 'mappings' / 'acme-tms' / 'shipments.yaml'}}}\n"
        "vendors:\n"
        + "".join(f"  {names[c]}:\n    connector: {c}\n    config: {{base_url: \"{urls[c]}\"{extra[c]}}}\n"
                  for c in CONNECTORS)
        + "routing:\n"
        f"  vendors: [{', '.join(names[c] for c in routed)}]\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "inbox").mkdir(exist_ok=True)
    path.write_text(text, "utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path, vendors: Vendors, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOCKERHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LOCKERHUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("LOCKERHUB_PII_KEYS", raising=False)
    return write_config(tmp_path / "hub" / "lockerhub.yaml", vendors)


@pytest.fixture
def open_hub(config: Path, vendors: Vendors, tmp_path: Path) -> Iterator[Callable[..., Hub]]:
    """Hubs on the vendors' simulated clock, with sleepless retries (a new hub = a new run: fresh breakers and a
    fresh listing of the networks)."""
    hubs: list[Hub] = []

    def open_(path: Path = config) -> Hub:
        hubs.append(Hub.open(path, settings=Settings(data_dir=tmp_path / "data"), clock=vendors.now,
                             retry=RetryPolicy(sleep=lambda _: None, rng=random.Random(0))))
        return hubs[-1]

    yield open_
    for hub in hubs:
        hub.close()


# --------------------------------------------------------------------------------------------- drops and rows


def order(n: int, near: Locker, requested: str = "") -> list[str]:
    """One small parcel (fits the smallest compartment of every vendor) for a recipient near ``near``."""
    return [f"MV-{n:04d}", f"MVP{n:05d}", sscc_for(900 + n), f"Test Recipient {n:04d}", f"+48000{n:06d}",
            f"recipient{n:04d}@example.invalid", near.postal_code or "", near.city or "", requested,
            "30", "20", "5", "1.5", "ambient"]


def drop(config: Path, orders: list[list[str]], name: str = "drop.csv") -> None:
    (config.parent / "inbox" / name).write_bytes(render(orders))


def ingest_and_book(hub: Hub) -> None:
    [report] = ingest_inbox(hub, PARTNER)
    assert report.quarantined == 0, report
    book_pending(hub)


def parcels(hub: Hub) -> dict[str, ParcelRow]:
    """Every parcel by its shipment reference."""
    with hub.store.transaction() as s:
        rows = list(s.scalars(select(ParcelRow).order_by(ParcelRow.id)))
        s.expunge_all()
    return {r.shipment_ref: r for r in rows}


def events(hub: Hub, row: ParcelRow) -> list[EventRow]:
    with hub.store.transaction() as s:
        found = list(s.scalars(select(EventRow).where(EventRow.parcel_pk == row.id).order_by(EventRow.id)))
        s.expunge_all()
    return found


def access_code(hub: Hub, row: ParcelRow) -> str:
    code = hub.cipher.decrypt(row.access_code_enc, context=ACCESS_CODE_CONTEXT)
    assert code is not None and re.fullmatch(r"\d{6}", code), "a booked parcel has its access code"
    return code


def fill(world: World, locker_id: str) -> None:
    """Hold every compartment of a locker (other customers' parcels): the vendor refuses any reservation there."""
    for compartment in world.locker(locker_id).compartments():
        if compartment.state == CompartmentState.FREE:
            world.reserve(locker_id, compartment.size_class)
    assert all(c.state == CompartmentState.RESERVED for c in world.locker(locker_id).compartments())


def assert_booked_at(vendors: Vendors, row: ParcelRow, connector: str, locker_id: str,
                     name: str | None = None) -> None:
    """Booked with vendor ``name`` (the config name of ``connector``) at ``locker_id``, and that vendor's World
    holds the hard booking at that locker."""
    assert (row.status, row.vendor, row.locker_id) == (ParcelStatus.BOOKED.value, name or connector, locker_id), (
        row.shipment_ref, row.status, row.reason, row.vendor, row.locker_id)
    assert HELD_FIELD not in row.parcel
    view = vendors.worlds[connector].reservation(vendors.world_id(connector, row.reservation_id or ""))
    assert (view.state, view.locker_id) == (BookingState.BOOKED, locker_id)
    assert row.compartment_id in (None, view.compartment_id)  # ShipX does not say which compartment


# --------------------------------------------------------------------------------------------- 1. booking


def test_each_parcel_is_booked_with_the_vendor_that_lists_its_locker(config: Path, vendors: Vendors,
                                                                     open_hub: Callable[..., Hub]) -> None:
    lk = vendors.network
    expected = {  # shipment -> (vendor, locker)
        "MV-0001": ("inpost", "SIM-POZ-0001"), "MV-0002": ("inpost", "SIM-POZ-0001"),  # near InPost's only
        "MV-0003": ("boxnow", "SIM-GDN-0001"), "MV-0004": ("boxnow", "SIM-GDN-0001"),  # near BoxNow's only
        "MV-0005": ("gls", "SIM-WRO-0001"), "MV-0006": ("gls", "SIM-WRO-0001"),  # near GLS's only
        "MV-0007": ("inpost", "SIM-POZ-0003"),  # requested, each vendor's
        "MV-0008": ("boxnow", "SIM-GDN-0004"),
        "MV-0009": ("gls", "SIM-WRO-0002"),
        "MV-0010": ("gls", "SIM-WAW-0003"),  # requested where BoxNow is preferred: honoured
        "MV-0011": ("boxnow", "SIM-KRK-0004"),  # requested where InPost is preferred: honoured
        "MV-0012": ("gls", "SIM-KRK-0001"),
        "MV-0013": ("inpost", "SIM-KRK-0003"),
    }
    requested = {"MV-0007", "MV-0008", "MV-0009", "MV-0010", "MV-0011", "MV-0012", "MV-0013"}
    drop(config, [order(int(ref[3:]), lk[locker], locker if ref in requested else "")
                  for ref, (_, locker) in expected.items()])

    result = run_once(config)  # `lockerhub run`: ingest, book, sync, relay

    assert result.ingested[0].accepted == len(expected)
    assert (result.booking.booked, result.booking.rejected, result.booking.deferred) == (len(expected), 0, 0)
    hub = open_hub()
    rows = parcels(hub)
    assert sorted(rows) == sorted(expected)
    codes: dict[str, set[str]] = {}
    for ref, (connector, locker) in expected.items():
        assert_booked_at(vendors, rows[ref], connector, locker)
        codes.setdefault(locker, set()).add(access_code(hub, rows[ref]))
        assert hub.catalog().owner(locker) == connector
        assert [(e.source, e.status) for e in events(hub, rows[ref]) if e.outcome == "applied"] == [
            ("csv", ParcelStatus.CREATED.value), ("hub", ParcelStatus.BOOKED.value)]
    assert all(len(c) == len([r for r in expected.values() if r[1] == lk_]) for lk_, c in codes.items()), (
        "access codes are unique per locker")
    # nothing was reserved anywhere else: each World holds exactly the bookings routed to it
    for connector in CONNECTORS:
        mine = sorted(vendors.world_id(connector, rows[ref].reservation_id or "")
                      for ref, (c, _) in expected.items() if c == connector)
        assert sorted(v.reservation_id for v in vendors.reservations(connector)) == mine
    # the merged catalog has every vendor's lockers, each once, with its owner
    catalog = hub.catalog()
    assert {i: catalog.owner(i) for i in catalog.lockers} == OWNERS


# --------------------------------------------------------------------------------------------- 2. preference


def test_a_nearby_locker_at_two_vendors_goes_to_the_first_routed_vendor(config: Path, vendors: Vendors,
                                                                         open_hub: Callable[..., Hub]) -> None:
    lk = vendors.network
    # no requested locker: WAW has BoxNow and GLS lockers (GLS's has the lowest id); KRK has all three
    drop(config, [order(1, lk["SIM-WAW-0001"]), order(2, lk["SIM-WAW-0003"]), order(3, lk["SIM-KRK-0001"]),
                  order(4, lk["SIM-KRK-0004"])])
    hub = open_hub()
    ingest_and_book(hub)
    rows = parcels(hub)
    assert_booked_at(vendors, rows["MV-0001"], "boxnow", "SIM-WAW-0002")
    assert_booked_at(vendors, rows["MV-0002"], "boxnow", "SIM-WAW-0002")
    assert_booked_at(vendors, rows["MV-0003"], "inpost", "SIM-KRK-0003")
    assert_booked_at(vendors, rows["MV-0004"], "inpost", "SIM-KRK-0003")
    assert vendors.reservations("gls") == []


def test_the_preferred_vendors_locker_being_full_moves_on_to_the_next_vendor(config: Path, vendors: Vendors,
                                                                              open_hub: Callable[..., Hub]) -> None:
    """KRK: InPost's one locker full, then BoxNow's lockers full too: the next preferred vendor each time."""
    lk = vendors.network
    fill(vendors.worlds["inpost"], "SIM-KRK-0003")
    drop(config, [order(1, lk["SIM-KRK-0001"])], "first.csv")
    hub = open_hub()
    ingest_and_book(hub)
    assert_booked_at(vendors, parcels(hub)["MV-0001"], "boxnow", "SIM-KRK-0002")

    fill(vendors.worlds["boxnow"], "SIM-KRK-0002")
    fill(vendors.worlds["boxnow"], "SIM-KRK-0004")
    drop(config, [order(2, lk["SIM-KRK-0001"])], "second.csv")
    hub = open_hub()
    ingest_and_book(hub)
    assert_booked_at(vendors, parcels(hub)["MV-0002"], "gls", "SIM-KRK-0001")


# --------------------------------------------------------------------------------------------- 3. re-routing


def test_a_requested_locker_offline_or_refused_is_rerouted_to_another_vendor(config: Path, vendors: Vendors,
                                                                             open_hub: Callable[..., Hub]) -> None:
    lk = vendors.network
    vendors.worlds["gls"].set_locker_state("SIM-WAW-0001", LockerState.OFFLINE)  # listed as offline
    fill(vendors.worlds["boxnow"], "SIM-KRK-0002")  # BoxNow refuses the reservation (no free compartment)
    vendors.worlds["boxnow"].set_locker_state("SIM-KRK-0004", LockerState.MAINTENANCE)  # its other KRK one
    drop(config, [order(1, lk["SIM-WAW-0001"], "SIM-WAW-0001"), order(2, lk["SIM-KRK-0002"], "SIM-KRK-0002")])
    hub = open_hub()
    ingest_and_book(hub)
    assert hub.catalog().lockers["SIM-WAW-0001"].state == LockerState.OFFLINE
    rows = parcels(hub)
    # the offline GLS locker is skipped; the nearby lockers go preferred vendor first: BoxNow's nearest
    assert_booked_at(vendors, rows["MV-0001"], "boxnow", vendors.nearest("SIM-WAW-0001", "boxnow"))
    # BoxNow refused its own locker; InPost's nearest is next
    assert_booked_at(vendors, rows["MV-0002"], "inpost", vendors.nearest("SIM-KRK-0002", "inpost"))
    assert vendors.reservations("gls") == []  # nothing was asked of the offline locker's vendor


def test_a_locker_gone_offline_since_the_listing_is_refused_by_its_vendor_and_rerouted(
        config: Path, vendors: Vendors, open_hub: Callable[..., Hub]) -> None:
    lk = vendors.network
    drop(config, [order(1, lk["SIM-KRK-0003"], "SIM-KRK-0003"), order(2, lk["SIM-WAW-0004"], "SIM-WAW-0004")])
    hub = open_hub()
    [report] = ingest_inbox(hub, PARTNER)
    assert report.accepted == 2
    hub.catalog()  # listed while every locker is online
    vendors.worlds["inpost"].set_locker_state("SIM-KRK-0003", LockerState.OFFLINE)
    vendors.worlds["boxnow"].set_locker_state("SIM-WAW-0004", LockerState.OFFLINE)
    vendors.worlds["boxnow"].set_locker_state("SIM-WAW-0002", LockerState.OFFLINE)
    book_pending(hub)
    rows = parcels(hub)
    # InPost refuses its offline point; of the nearby lockers BoxNow's (preferred over GLS) nearest is taken
    assert_booked_at(vendors, rows["MV-0001"], "boxnow", vendors.nearest("SIM-KRK-0003", "boxnow"))
    # BoxNow refuses both its WAW lockers; GLS's nearest is taken
    assert_booked_at(vendors, rows["MV-0002"], "gls", vendors.nearest("SIM-WAW-0004", "gls"))
    assert [v.state for v in vendors.reservations("inpost")] == []  # refused: nothing held there


def test_a_requested_locker_gone_offline_since_the_listing_refused_at_precheck_is_rerouted(
        config: Path, vendors: Vendors, open_hub: Callable[..., Hub]) -> None:
    """GLS checks compartments before reserving (precheck). A GLS locker that went out of service after the hub
    listed the networks is refused at that precheck (409 BOOKING_REJECTED_LOCKER_UNAVAILABLE, a RejectedError):
    that is the vendor refusing the locker, as a refused reserve is, so the parcel goes to the next nearby locker
    (BoxNow's), not to REJECTED."""
    lk = vendors.network
    drop(config, [order(1, lk["SIM-WAW-0001"], "SIM-WAW-0001")])
    hub = open_hub()
    [report] = ingest_inbox(hub, PARTNER)
    assert report.accepted == 1
    hub.catalog()  # listed while every locker is online (a hub lists the networks once per catalog_max_age_s)
    vendors.worlds["gls"].set_locker_state("SIM-WAW-0001", LockerState.OFFLINE)
    book_pending(hub)
    assert_booked_at(vendors, parcels(hub)["MV-0001"], "boxnow", vendors.nearest("SIM-WAW-0001", "boxnow"))


# --------------------------------------------------------------------------------------------- 4. status sync


def deliver(vendors: Vendors, hub: Hub, row: ParcelRow, connector: str) -> None:
    """The courier deposits the parcel and the recipient collects it with the code the hub holds."""
    world, rid = vendors.worlds[connector], vendors.world_id(connector, row.reservation_id or "")
    world.deposit(rid)
    vendors.advance(60)
    world.pickup(rid, access_code(hub, row))
    vendors.advance(60)


def test_statuses_sync_from_every_vendor_and_a_vendor_down_holds_back_only_its_own(
        config: Path, vendors: Vendors, open_hub: Callable[..., Hub]) -> None:
    lk = vendors.network
    homes = {"MV-0001": ("inpost", "SIM-POZ-0002"), "MV-0002": ("inpost", "SIM-KRK-0003"),
             "MV-0003": ("boxnow", "SIM-GDN-0002"), "MV-0004": ("boxnow", "SIM-WAW-0002"),
             "MV-0005": ("gls", "SIM-WRO-0003"), "MV-0006": ("gls", "SIM-KRK-0001")}
    drop(config, [order(int(ref[3:]), lk[locker], locker) for ref, (_, locker) in homes.items()])
    hub = open_hub()
    ingest_and_book(hub)
    rows = parcels(hub)
    for ref, (connector, locker) in homes.items():
        assert_booked_at(vendors, rows[ref], connector, locker)
    vendors.advance(60)
    for ref, (connector, _) in homes.items():
        deliver(vendors, hub, rows[ref], connector)

    vendors.worlds["gls"].inject_fault(503, 10_000)  # GLS is down
    report = sync_statuses(hub)
    after = parcels(hub)
    assert report.polled == 6
    assert report.unreachable == 2
    assert report.quarantined == 0
    for ref, (connector, _) in homes.items():
        want = ParcelStatus.BOOKED if connector == "gls" else ParcelStatus.COLLECTED
        assert after[ref].status == want.value, (ref, after[ref].status)

    vendors.worlds["gls"].inject_fault(503, 0)  # back up; the next run (a new hub: fresh breakers) syncs it
    hub = open_hub()
    report = sync_statuses(hub)
    assert (report.polled, report.unreachable, report.quarantined) == (2, 0, 0)
    after = parcels(hub)
    for ref, (connector, locker) in homes.items():
        row = after[ref]
        assert row.status == ParcelStatus.COLLECTED.value, (ref, row.status)
        applied = [(e.source, e.status) for e in events(hub, row) if e.outcome == "applied"]
        assert applied[:2] == [("csv", ParcelStatus.CREATED.value), ("hub", ParcelStatus.BOOKED.value)]
        assert applied[-1] == (connector, ParcelStatus.COLLECTED.value), (ref, applied)
        # every status after the booking came from the vendor holding the parcel, about its locker
        assert {e.source for e in events(hub, row)} == {"csv", "hub", connector}, (ref, connector)
        assert {e.locker_id for e in events(hub, row) if e.source == connector} <= {locker, None}
    assert sync_statuses(open_hub()).polled == 0  # nothing open is left


def test_a_vendor_no_longer_routed_is_still_polled_for_its_open_bookings(
        config: Path, vendors: Vendors, open_hub: Callable[..., Hub]) -> None:
    lk = vendors.network
    drop(config, [order(1, lk["SIM-WRO-0001"], "SIM-WRO-0001"), order(2, lk["SIM-POZ-0001"], "SIM-POZ-0001")])
    hub = open_hub()
    ingest_and_book(hub)
    rows = parcels(hub)
    assert_booked_at(vendors, rows["MV-0001"], "gls", "SIM-WRO-0001")
    assert_booked_at(vendors, rows["MV-0002"], "inpost", "SIM-POZ-0001")
    vendors.advance(60)
    deliver(vendors, hub, rows["MV-0001"], "gls")
    deliver(vendors, hub, rows["MV-0002"], "inpost")
    write_config(config, vendors, routed=("inpost", "boxnow"))  # GLS taken off routing; still configured
    hub = open_hub()
    assert hub.vendor_names == ["inpost", "boxnow"]
    report = sync_statuses(hub)
    assert (report.polled, report.unreachable) == (2, 0)
    after = parcels(hub)
    assert [after[r].status for r in ("MV-0001", "MV-0002")] == [ParcelStatus.COLLECTED.value] * 2
    assert {e.source for e in events(hub, after["MV-0001"])} == {"csv", "hub", "gls"}


# --------------------------------------------------------------------------------------------- 5. cancel


def test_cancel_through_the_desk_releases_the_reservation_at_the_right_vendor(
        config: Path, vendors: Vendors, open_hub: Callable[..., Hub]) -> None:
    lk = vendors.network
    homes = {"MV-0001": ("inpost", "SIM-KRK-0003"), "MV-0002": ("boxnow", "SIM-KRK-0002"),
             "MV-0003": ("gls", "SIM-KRK-0001"), "MV-0004": ("boxnow", "SIM-GDN-0001")}
    drop(config, [order(int(ref[3:]), lk[locker], locker) for ref, (_, locker) in homes.items()])
    hub = open_hub()
    ingest_and_book(hub)
    rows = parcels(hub)
    for ref, (connector, locker) in homes.items():
        assert_booked_at(vendors, rows[ref], connector, locker)
    desk = Desk(hub, PARTNER, source="test")

    for ref in ("MV-0001", "MV-0002", "MV-0003"):
        [view] = desk.cancel(ref)
        assert view.status == ParcelStatus.CANCELLED.value
    for ref, (connector, locker) in homes.items():
        world = vendors.worlds[connector]
        reservation = world.reservation(vendors.world_id(connector, rows[ref].reservation_id or ""))
        want = BookingState.BOOKED if ref == "MV-0004" else BookingState.CANCELLED
        assert reservation.state == want, (ref, connector)
        compartment = next(c for c in world.locker(locker).compartments()
                           if c.compartment_id == reservation.compartment_id)
        assert compartment.state == (CompartmentState.RESERVED if ref == "MV-0004" else CompartmentState.FREE)
    assert parcels(hub)["MV-0004"].status == ParcelStatus.BOOKED.value
    # each World saw exactly its own cancellation
    for connector in CONNECTORS:
        cancelled = [v for v in vendors.reservations(connector) if v.state == BookingState.CANCELLED]
        assert len(cancelled) == 1, connector


def test_cancel_of_a_pending_hold_releases_it_at_the_vendor_holding_it(
        config: Path, vendors: Vendors, open_hub: Callable[..., Hub]) -> None:
    """GLS goes down between the soft reservation and its confirm: the parcel stays CREATED with the hold on record
    (``held_with``); cancelling it releases the hold at GLS, not at the first routed vendor."""
    lk = vendors.network
    world = vendors.worlds["gls"]

    def outage_after_reserve(event: SimEvent) -> None:  # called under the World's lock: only sets a fault
        if event.code == EventCode.RESERVATION_CREATED:
            world.inject_fault(503, 10_000)

    drop(config, [order(1, lk["SIM-WRO-0002"], "SIM-WRO-0002")])
    world.listeners.append(outage_after_reserve)
    hub = open_hub()
    ingest_and_book(hub)
    world.listeners.remove(outage_after_reserve)
    world.inject_fault(503, 0)
    row = parcels(hub)["MV-0001"]
    assert (row.status, row.vendor, row.locker_id) == (ParcelStatus.CREATED.value, None, "SIM-WRO-0002")
    assert row.parcel.get(HELD_FIELD) == "gls"
    rid = vendors.world_id("gls", row.reservation_id or "")
    assert world.reservation(rid).state == BookingState.SOFT

    [view] = Desk(hub, PARTNER, source="test").cancel("MV-0001")
    assert view.status == ParcelStatus.CANCELLED.value
    assert world.reservation(rid).state == BookingState.CANCELLED
    assert vendors.reservations("inpost") == [] and vendors.reservations("boxnow") == []


# --------------------------------------------------------------------------------------------- names != ids


def test_vendor_names_that_are_not_connector_ids(tmp_path: Path, vendors: Vendors,
                                                 open_hub: Callable[..., Hub]) -> None:
    """ParcelRow.vendor is the vendor's config name; booking, sync and cancel find the connector by it."""
    names = {"inpost": "shipx-pl", "boxnow": "apm-gr", "gls": "ooh-nxt"}
    config = write_config(tmp_path / "named" / "lockerhub.yaml", vendors, names)
    lk = vendors.network
    homes = {"MV-0001": ("inpost", "SIM-POZ-0001"), "MV-0002": ("boxnow", "SIM-GDN-0001"),
             "MV-0003": ("gls", "SIM-WRO-0001"), "MV-0004": ("gls", "SIM-WRO-0004")}
    drop(config, [order(1, lk["SIM-POZ-0004"]), order(2, lk["SIM-GDN-0003"]), order(3, lk["SIM-WRO-0002"]),
                  order(4, lk["SIM-WRO-0004"], "SIM-WRO-0004")])
    hub = open_hub(config)
    ingest_and_book(hub)
    rows = parcels(hub)
    for ref, (connector, locker) in homes.items():
        assert_booked_at(vendors, rows[ref], connector, locker, names[connector])
    vendors.advance(60)
    for ref in ("MV-0001", "MV-0002", "MV-0003"):
        deliver(vendors, hub, rows[ref], homes[ref][0])
    report = sync_statuses(hub)
    assert (report.polled, report.unreachable, report.quarantined) == (4, 0, 0)
    [view] = Desk(hub, PARTNER, source="test").cancel("MV-0004")
    assert view.status == ParcelStatus.CANCELLED.value
    after = parcels(hub)
    for ref, (connector, _) in homes.items():
        want = ParcelStatus.CANCELLED if ref == "MV-0004" else ParcelStatus.COLLECTED
        assert after[ref].status == want.value
        assert after[ref].vendor == names[connector]
        assert {e.source for e in events(hub, after[ref])} == {"csv", "hub", connector}
    rid = vendors.world_id("gls", after["MV-0004"].reservation_id or "")
    assert vendors.worlds["gls"].reservation(rid).state == BookingState.CANCELLED


# --------------------------------------------------------------------------------------------- 6. config errors


def routing_config(tmp_path: Path, routing: str) -> Path:
    path = tmp_path / "bad" / "lockerhub.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "vendors:\n"
        "  inpost:\n"
        "    connector: inpost\n"
        "    config: {base_url: \"http://127.0.0.1:9\", organization_id: 1}\n"
        "  boxnow:\n"
        "    connector: boxnow\n"
        "    config: {base_url: \"http://127.0.0.1:9\", client_id: c}\n"
        "  gls:\n"
        "    connector: gls\n"
        "    config: {base_url: \"http://127.0.0.1:9/ooh/carrier-connector/v1\"}\n"
        "routing:\n" + routing, "utf-8")
    return path


def position(path: Path, needle: str) -> str:
    """``file:line:column`` of the first ``needle`` in the file (1-based)."""
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if needle in line:
            return f"{path}:{number}:{line.index(needle) + 1}"
    raise AssertionError(f"{needle!r} not in {path}")


def config_errors(path: Path) -> list[ConfigError]:
    with pytest.raises(ErrorGroup) as caught:
        load_config(path, registry())
    assert all(isinstance(e, ConfigError) for e in caught.value.errors), caught.value.render()
    return caught.value.errors  # type: ignore[return-value]


def test_routing_to_an_unconfigured_vendor_is_a_config_error_at_its_line(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKERHUB_INPOST_TOKEN", INPOST_TOKEN)
    monkeypatch.setenv("LOCKERHUB_BOXNOW_CLIENT_SECRET", BOXNOW_SECRET)
    monkeypatch.setenv("LOCKERHUB_GLS_API_KEY", GLS_KEY)
    path = routing_config(tmp_path, "  vendors:\n    - inpost\n    - dhl\n    - gls\n")
    [error] = config_errors(path)
    assert str(error) == (f"{position(path, 'dhl')}: error: routing.vendors.1: not a configured vendor: expected "
                          "inpost or boxnow or gls, found 'dhl'")
    # and through Hub.open, as `lockerhub run` opens it
    with pytest.raises(ErrorGroup) as caught:
        Hub.open(path, settings=Settings(data_dir=tmp_path / "data"))
    assert caught.value.render() == str(error)


def test_routing_with_both_vendor_and_vendors_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKERHUB_INPOST_TOKEN", INPOST_TOKEN)
    monkeypatch.setenv("LOCKERHUB_BOXNOW_CLIENT_SECRET", BOXNOW_SECRET)
    monkeypatch.setenv("LOCKERHUB_GLS_API_KEY", GLS_KEY)
    path = routing_config(tmp_path, "  vendor: inpost\n  vendors: [inpost, gls]\n")
    [error] = config_errors(path)
    text = str(error)
    assert text.startswith(f"{path}:"), text
    assert re.match(rf"{re.escape(str(path))}:1[12]:\d+: error: routing", text), text
    assert "give either vendor (one) or vendors (a list in order of preference)" in text

    duplicate = routing_config(tmp_path, "  vendors: [gls, inpost, gls]\n")
    [error] = config_errors(duplicate)
    assert re.match(rf"{re.escape(str(duplicate))}:1[12]:\d+: error: routing", str(error)), str(error)
    assert "each vendor once" in str(error)

    neither = routing_config(tmp_path, "  regions: [WAW]\n")
    [error] = config_errors(neither)
    assert "give either vendor (one) or vendors" in str(error)

