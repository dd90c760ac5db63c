"""``lockerhub demo``: the pilot end to end on embedded defaults, deterministic for a seed.

1. Lays out a fresh pilot under ``<data dir>/demo`` from ``examples/pilot`` (config + mappings), generates CSV
   drops from a TMS (two files, a few broken rows, and the first file re-sent) and takes the EDI drops of
   ``examples/pilot/drops`` (an X12 204 file and an EDIFACT IFTMIN file, each with one broken transaction).
2. Starts the simulated locker network as a real HTTP server on 127.0.0.1 with a one-off API key (passed to
   the connector through ``LOCKERHUB_SIMLOCKER_*`` environment variables, never written to a file).
3. Starts a legacy TMS that speaks SOAP (``lockerhub_soap.tmssim``: its own WSDL, WS-Security) and the hub's ingress
   (``lockerhub serve``'s app) on 127.0.0.1; the TMS pushes shipments to the hub's inbound SOAP service with zeep
   (one for a locker the network does not have is refused with a SOAP fault); the hub posts their statuses back
   with PostParcelStatus calls, and the TMS refuses those of one shipment (a SOAP fault, kept in the quarantine
   with its detail).
4. Ingests the drops, books every parcel over HTTP, lets couriers deposit them, lets most recipients collect
   with their access codes, lets the simulated clock run past the pickup window, syncs statuses by polling, and
   sends status files to the partners' outboxes (CSV, X12 214, EDIFACT IFTSTA); the EDI partners also get an
   acknowledgement per file (999 + 990, CONTRL + APERAK) that accepts the good transactions and rejects the others.
5. Prints a summary table and where the outputs are.

Several vendors side by side (``vendors``, e.g. ``["inpost", "boxnow", "gls", "mqtt-cabinet"]``; the default is
``["simlocker"]``, the run above): the one generated network is dealt out among the vendors (disjoint locker subsets,
so every city has lockers of several vendors and locker ids stay unique), each vendor's simulator serves its share
over its own World (HTTP on 127.0.0.1, port 0; the MQTT cabinets through the broker at ``mqtt_url``), the laid-out
config's ``vendors`` and ``routing.vendors`` name them in that order (URLs and one-off secrets only in each
connector's ``LOCKERHUB_<VENDOR>_*`` variables), and couriers and recipients act on each vendor's World through that
simulator's control API (its own ids: :class:`VendorSim`). The summary then also counts per vendor.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from lockerhub.model import ParcelStatus
from lockerhub.runtime.booking import ACCESS_CODE_CONTEXT, book_pending
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import ingest_file
from lockerhub.runtime.relay import relay_outbox
from lockerhub.runtime.sync import sync_statuses
from lockerhub.security import masking
from lockerhub.settings import Settings
from lockerhub.simulator import World, build_network
from lockerhub.simulator.fleet import (
    DEFAULT_MQTT_URL,
    DEFAULT_VENDORS,
    MQTT_URL_ENV,
    SIMS,
    VENDORS,
    CabinetSim,
    FleetError,
    VendorSim,
    hub_vendors,
    parse_vendors,
    require_broker,
    require_connectors,
    split_network,
)
from lockerhub.simulator.tms_drops import pilot_drops
from lockerhub.store import EventRow, ParcelRow, QuarantineRow

PARTNER = "acme-tms"
SOAP_PARTNER = "acme-soap"
SOAP_SHIPMENTS = 6  # pushed over SOAP: #2 is for a locker not in the network; the TMS refuses the status of #4
NETWORK_REGIONS = ["WAW", "KRK", "GDN", "POZ"]
ROUTED_REGIONS = {"WAW", "KRK", "GDN"}  # as in examples/pilot/lockerhub.yaml; POZ has lockers but is not rolled out
PICKUP_SHARE = 0.8
DemoError = FleetError  # the demo cannot run as asked (a broker that does not answer, too few lockers, ...)
def pilot_root() -> Path:
    """Where ``examples/pilot`` and ``mappings/`` are: inside the wheel, or the source checkout."""
    packaged = Path(str(resources.files("lockerhub"))) / "_pilot"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


def lay_out_pilot(dest: Path) -> Path:
    """Copy the pilot (config + the mappings it uses) under ``dest`` with the same relative layout, so the
    config's relative paths hold; returns the config path. Inbox and outbox start empty."""
    root = pilot_root()
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(root / "examples" / "pilot", dest / "examples" / "pilot",
                    ignore=shutil.ignore_patterns("inbox", "outbox", "drops", "__pycache__"))
    shutil.copytree(root / "mappings", dest / "mappings", ignore=shutil.ignore_patterns("__pycache__"))
    config = dest / "examples" / "pilot" / "lockerhub.yaml"
    for ref in (yaml.safe_load(config.read_text("utf-8")).get("partners") or {}).values():
        inbox = (ref.get("config") or {}).get("inbox")
        if inbox:
            (config.parent / inbox).mkdir(parents=True, exist_ok=True)
    return config


def edi_drops() -> list[tuple[str, Path]]:
    """(partner, file) of the pilot's EDI drops, ``examples/pilot/drops/<partner>/*.edi``."""
    drops = pilot_root() / "examples" / "pilot" / "drops"
    return [(path.parent.name, path) for path in sorted(drops.glob("*/*.edi"))]


@dataclass(slots=True)
class DemoSummary:
    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    refused: int = 0
    booked: int = 0
    rejected: int = 0
    deposited: int = 0
    collected: int = 0
    expired: int = 0
    quarantined: int = 0
    status_messages: int = 0
    status_files: int = 0
    soap_status_calls: int = 0  # PostParcelStatus calls the TMS accepted
    soap_status_refused: int = 0  # status messages the TMS answered with a SOAP fault (quarantined)
    acknowledgements: int = 0
    rejected_reasons: dict[str, int] = field(default_factory=dict)
    # per vendor (a run with --vendors): lockers, booked, deposited, collected, expired; None in the default run
    vendors: dict[str, dict[str, int]] | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.vendors is None:  # the default run's summary keeps its shape
            del data["vendors"]
        return data

    def print(self, console: Console) -> None:
        table = Table(title="lockerhub pilot summary")
        table.add_column("stage")
        table.add_column("parcels", justify="right")
        table.add_column("note")
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.rejected_reasons.items()))
        for stage, count, note in (
            ("received", self.received, "CSV rows and EDI transactions from the drops, SOAP pushes"),
            ("accepted", self.accepted, "new parcels"),
            ("duplicates", self.duplicates, "already known (re-sent file), booked once"),
            ("refused", self.refused, "refused at once: told in the EDI acknowledgement or a SOAP fault"),
            ("booked", self.booked, "reserved and booked at a locker over HTTP" if self.vendors is None
             else f"reserved and booked at a locker of one of {len(self.vendors)} vendor(s)"),
            ("rejected", self.rejected, reasons),
            ("deposited", self.deposited, "placed in a compartment by a courier"),
            ("collected", self.collected, "picked up with the access code"),
            ("expired", self.expired, "not collected within the pickup window"),
            ("quarantined", self.quarantined, "kept with file:line:column and the reason"),
        ):
            table.add_row(stage, str(count), note)
        if self.vendors:
            table.add_section()
        for name, counts in (self.vendors or {}).items():  # one line per vendor: booked there, and what became of it
            table.add_row(f"at {name}", str(counts["booked"]),
                          f"booked at its {counts['lockers']} lockers: {counts['collected']} collected, "
                          f"{counts['expired']} expired")
        console.print(table)
        console.print(f"{self.status_messages} status messages sent: {self.status_files} status file(s) and "
                      f"{self.soap_status_calls} SOAP call(s), {self.soap_status_refused} refused by the TMS "
                      f"(quarantined); {self.acknowledgements} EDI acknowledgement file(s)")
        for what, where in self.outputs.items():
            console.print(f"  {what:<12} {where}", markup=False, highlight=False, soft_wrap=True)


@contextmanager
def _env(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _route_to(config: Path, sims: Sequence[VendorSim]) -> None:
    """Write the vendors into the laid-out config: ``vendors`` (each with its connector's non-secret config) and
    ``routing.vendors`` in this order, in place of the pilot's one vendor; everything else stays as it is."""
    text = config.read_text("utf-8")
    routing = {k: v for k, v in (yaml.safe_load(text).get("routing") or {}).items() if k not in ("vendor", "vendors")}
    note = (f"# written by lockerhub demo --vendors {','.join(sim.name for sim in sims)}: simulated vendors side by "
            "side, in order\n# of preference. Each connector's URL and one-off secret come from its "
            "LOCKERHUB_<VENDOR>_* variables.\n")
    text = _set_block(text, "vendors", note + yaml.safe_dump({"vendors": hub_vendors(sims)}, sort_keys=False))
    text = _set_block(text, "routing", yaml.safe_dump({"routing": {"vendors": [s.name for s in sims], **routing}},
                                                      sort_keys=False, default_flow_style=None))
    config.write_text(text, "utf-8")


def _set_block(text: str, key: str, block: str) -> str:
    """``text`` (YAML) with its top-level ``key:`` block (up to the next top-level key) replaced by ``block``."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(f"{key}:")), None)
    if start is None:
        return text + ("" if text.endswith("\n") else "\n") + block
    end = next((i for i in range(start + 1, len(lines))
                if lines[i][:1] not in ("", " ", "\t", "#", "\n", "\r")), len(lines))
    return "".join(lines[:start]) + block + "".join(lines[end:])


def _count(hub: Hub, query) -> int:  # type: ignore[no-untyped-def]
    with hub.store.transaction() as s:
        return int(s.scalar(query) or 0)


def _ever(status: ParcelStatus):  # type: ignore[no-untyped-def]
    return select(func.count(func.distinct(EventRow.parcel_pk))).where(
        EventRow.status == status.value, EventRow.outcome == "applied")


def _summarise(hub: Hub, summary: DemoSummary) -> None:
    summary.booked = _count(hub, _ever(ParcelStatus.BOOKED))
    summary.deposited = _count(hub, _ever(ParcelStatus.DEPOSITED))
    summary.collected = _count(hub, select(func.count()).where(ParcelRow.status == ParcelStatus.COLLECTED.value))
    summary.expired = _count(hub, select(func.count()).where(ParcelRow.status == ParcelStatus.PICKUP_EXPIRED.value))
    summary.quarantined = _count(hub, select(func.count()).select_from(QuarantineRow)
                                 .where(QuarantineRow.state == "open"))
    with hub.store.transaction() as s:
        rows = s.execute(select(ParcelRow.reason, func.count()).where(
            ParcelRow.status == ParcelStatus.REJECTED.value).group_by(ParcelRow.reason))
        summary.rejected_reasons = {str(r): int(c) for r, c in rows}
    summary.rejected = sum(summary.rejected_reasons.values())


def run_demo(*, seed: int = 7, parcels: int = 200, lockers: int = 40, console: Console | None = None,
             settings: Settings | None = None, vendors: Sequence[str] = DEFAULT_VENDORS,
             mqtt_url: str = DEFAULT_MQTT_URL) -> DemoSummary:
    """The demo run (see the module's docstring); ``vendors`` side by side, in order of preference. Raises
    :class:`DemoError` (before anything is laid out) when it cannot run as asked."""
    vendors = list(vendors)
    unknown = [name for name in vendors if name not in VENDORS]
    if unknown or not vendors or len(set(vendors)) != len(vendors):
        raise DemoError("vendors", expected=f"each of {', '.join(VENDORS)} at most once", found=repr(vendors))
    breakdown = vendors != list(DEFAULT_VENDORS)  # the default run keeps today's summary
    network = build_network(lockers, seed=seed, regions=NETWORK_REGIONS)
    shares = split_network(network, vendors)
    if not all(shares.values()):
        empty = next(name for name, share in shares.items() if not share)
        enough = next(n for n in range(lockers + 1, lockers + 100 * len(vendors))
                      if all(split_network(build_network(n, seed=seed, regions=NETWORK_REGIONS), vendors).values()))
        raise DemoError(f"{lockers} lockers are too few for {len(vendors)} vendors: {empty} would have none",
                        hint=f"give --lockers {enough} or more")
    if "mqtt-cabinet" in vendors:
        require_broker(mqtt_url)
    require_connectors(vendors)
    console = console or Console(stderr=True)
    base = (settings or Settings()).data_dir
    workdir = (base / "demo").resolve()
    config_path = lay_out_pilot(workdir)
    inbox = config_path.parent / "inbox" / PARTNER
    # Most recipients live in the pilot regions; a few chose a locker in a city not yet rolled out.
    routed = [lk for lk in network if lk.region in ROUTED_REGIONS]
    drops = pilot_drops(parcels, routed * 12 + [lk for lk in network if lk.region not in ROUTED_REGIONS],
                        seed=seed)
    rng = random.Random(seed)
    api_key = f"demo-{rng.getrandbits(64):016x}"
    tms_password, push_password = (f"demo-{rng.getrandbits(64):016x}" for _ in range(2))
    sims: list[VendorSim] = []
    for index, name in enumerate(vendors):
        cls = SIMS[name]
        world = World(shares[name], seed=seed + index, **cls.world_options)
        secret = api_key if name == "simlocker" else f"demo-{rng.getrandbits(64):016x}"
        sims.append(CabinetSim(world, secret, mqtt_url=mqtt_url) if cls is CabinetSim else cls(world, secret))
    for secret in (tms_password, push_password, *(s for sim in sims for s in sim.secrets())):
        masking.register_secret(secret)  # never in log output, whatever a library logs at DEBUG
    if breakdown:
        _route_to(config_path, sims)
    clock = sims[0].world  # every World starts at the same moment and is moved by the same steps
    summary = DemoSummary()
    tms = _soap_tms(routed, seed, tms_password)
    with ExitStack() as running:
        env: dict[str, str] = {}
        for sim in sims:
            env.update(sim.start())
            running.callback(sim.stop)
        running.enter_context(tms)
        running.enter_context(_env(**env, LOCKERHUB_SOAP_WSDL_URL=tms.wsdl_url, ACME_SOAP_PASSWORD=tms_password,
                                   ACME_SOAP_PUSH_PASSWORD=push_password))
        hub = Hub.open(config_path, settings=Settings(data_dir=workdir), clock=lambda: clock.now)
        progress = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=console, transient=False)
        try:
            with progress:
                edi = edi_drops()
                task = progress.add_task("ingest TMS drops", total=len(drops) + len(edi))
                arrivals = [(PARTNER, inbox / drop.name, drop.content) for drop in drops]
                arrivals += [(partner, config_path.parent / "inbox" / partner / path.name, path.read_bytes())
                             for partner, path in edi]
                for partner, path, content in arrivals:  # files arrive one after the other, as TMSs send them
                    path.write_bytes(content)
                    report = ingest_file(hub, partner, path)
                    summary.received += report.records
                    summary.accepted += report.accepted
                    summary.duplicates += report.duplicates
                    summary.refused += report.refused
                    summary.acknowledgements += len(report.acknowledgements)
                    progress.advance(task)
                _soap_pushes(hub, tms, push_password, progress, summary)
                task = progress.add_task("book lockers over HTTP" if "mqtt-cabinet" not in vendors
                                         else "book lockers (HTTP, MQTT)", total=summary.accepted)
                book_pending(hub, progress=lambda: progress.advance(task))
                _couriers_and_recipients(hub, sims, progress, seed)
                relayed = relay_outbox(hub)
                summary.status_messages = relayed.published
                summary.soap_status_refused = len(relayed.refused)
                summary.soap_status_calls = len(tms.state.statuses)
        finally:
            hub.close()
    _summarise(hub, summary)
    if breakdown:
        summary.vendors = _per_vendor(hub, {name: len(share) for name, share in shares.items()})
    outbox = config_path.parent / "outbox"
    summary.status_files = sum(1 for p in outbox.glob("*/*") if p.is_file() and not p.name.startswith("ack_"))
    summary.outputs = {
        "status files": _shown(outbox),
        "archived": _shown(config_path.parent / "inbox"),
        "database": _shown(workdir / "lockerhub.db"),
        "quarantine": f"LOCKERHUB_DATA_DIR={_shown(workdir)} uv run lockerhub quarantine list",
    }
    return summary


def _per_vendor(hub: Hub, lockers: dict[str, int]) -> dict[str, dict[str, int]]:
    """Per vendor (by its name in the config): its lockers, and the parcels booked, deposited, collected and expired
    there."""
    counts: dict[str, dict[str, int]] = {}
    for name, count in lockers.items():
        mine = ParcelRow.vendor == name
        counts[name] = {
            "lockers": count,
            "booked": _count(hub, _ever(ParcelStatus.BOOKED).join(ParcelRow, ParcelRow.id == EventRow.parcel_pk)
                             .where(mine)),
            "deposited": _count(hub, _ever(ParcelStatus.DEPOSITED)
                                .join(ParcelRow, ParcelRow.id == EventRow.parcel_pk).where(mine)),
            "collected": _count(hub, select(func.count()).where(
                mine, ParcelRow.status == ParcelStatus.COLLECTED.value)),
            "expired": _count(hub, select(func.count()).where(
                mine, ParcelRow.status == ParcelStatus.PICKUP_EXPIRED.value)),
        }
    return counts


def _soap_tms(lockers: list[Any], seed: int, password: str) -> Any:
    """The SOAP TMS (not started): its shipments for pilot lockers, one for a locker outside the network."""
    from lockerhub_soap.tmssim import Package, TmsShipment, TmsSimulator, TmsState

    rng = random.Random(seed + 2)
    shipments = []
    for n in range(1, SOAP_SHIPMENTS + 1):
        locker = "WAW-XX-999" if n == 2 else rng.choice(lockers).locker_id
        packages = tuple(Package(f"ACME-SOAP-{n:03d}-{p}", Decimal("1.2"), Decimal(30), Decimal(20), Decimal(8))
                         for p in range(1, 1 + rng.choice((1, 1, 2))))
        shipments.append(TmsShipment(reference=f"ACME-SOAP-{n:03d}", name=f"Test Recipient S{n:03d}",
                                     phone=f"+4810000{n:04d}", city="Warszawa", zip="00-950", locker_id=locker,
                                     packages=packages))
    state = TmsState(shipments=shipments, username="lockerhub", password=password, reject={"ACME-SOAP-004"})
    return TmsSimulator(state)


def _soap_pushes(hub: Hub, tms: Any, password: str, progress: Progress, summary: DemoSummary) -> None:
    """The SOAP TMS pushes its shipments to the hub's ingress (a real HTTP server for the run) with zeep."""
    import zeep.exceptions
    from lockerhub_soap.tmssim import TmsPusher

    from lockerhub.ingress.app import create_app
    from lockerhub.simulator.server import AppServer

    shipments = tms.state.shipments
    task = progress.add_task("SOAP TMS pushes", total=len(shipments))
    with AppServer(lambda: create_app(hub)) as ingress:
        pusher = TmsPusher(f"{ingress.url}/tms/{SOAP_PARTNER}", username="acme", password=password, digest=True)
        for shipment in shipments:
            summary.received += 1
            try:
                answer = pusher.create(shipment)
            except zeep.exceptions.Fault:  # refused: the fault says why; the request is in the quarantine
                summary.refused += 1
            else:
                summary.accepted += len(answer.shipment.parcel)
            progress.advance(task)


def _shown(path: Path) -> str:
    """Paths below the working directory are shown relative to it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _booked(hub: Hub, status: ParcelStatus) -> list[ParcelRow]:
    with hub.store.transaction() as s:
        return list(s.scalars(select(ParcelRow).where(ParcelRow.status == status.value).order_by(ParcelRow.id)))


def _couriers_and_recipients(hub: Hub, sims: Sequence[VendorSim], progress: Progress, seed: int) -> None:
    """Couriers deposit every booked parcel and most recipients collect theirs, each at the vendor that booked it;
    every vendor's clock moves by the same steps."""
    at = {sim.name: sim for sim in sims}

    def advance(hours: float) -> None:
        for sim in sims:
            sim.advance(hours)

    def vendor_of(row: ParcelRow) -> VendorSim:
        return at[row.vendor or sims[0].name]

    advance(3)  # the courier's round
    booked = _booked(hub, ParcelStatus.BOOKED)
    task = progress.add_task("couriers deposit", total=len(booked))
    for row in booked:
        vendor_of(row).deposit(row.reservation_id)
        progress.advance(task)
    task = progress.add_task("sync status (deposits)", total=len(booked))
    sync_statuses(hub, progress=lambda: progress.advance(task))
    advance(5)
    deposited = _booked(hub, ParcelStatus.DEPOSITED)
    rng = random.Random(seed + 1)
    collecting = [row for row in deposited if rng.random() < PICKUP_SHARE]
    task = progress.add_task("recipients collect", total=len(collecting))
    for row in collecting:  # the recipient received the code by SMS; here it comes from the encrypted store
        code = hub.cipher.decrypt(row.access_code_enc, context=ACCESS_CODE_CONTEXT)
        vendor_of(row).pickup(row.reservation_id, code)
        progress.advance(task)
    advance(49)  # past the simulators' 48 h pickup window: the rest expire
    task = progress.add_task("sync status (pickups)", total=len(deposited))
    sync_statuses(hub, progress=lambda: progress.advance(task))


__all__ = ["DEFAULT_MQTT_URL", "DEFAULT_VENDORS", "MQTT_URL_ENV", "VENDORS", "DemoError", "DemoSummary",
           "lay_out_pilot", "parse_vendors", "pilot_root", "run_demo", "split_network"]
