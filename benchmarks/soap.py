"""The SOAP hot paths, each beside a peer measured in the same run.

``uv run python -m benchmarks.soap [--quick] [--profile inbound|push [--profile-seconds S]]``

1. Inbound parse+validate+map (CPU only, no database), on N createShipment envelopes built by zeep from the hub's
   own WSDL (a WS-Security PasswordText header, 1-4 parcels each, as a TMS pushing with zeep sends them):
   - lockerhub: ``safexml.parse`` + the Body's payload + ``schema().validate`` + ``InboundService.record`` (the
     inbound mapping into a canonical Shipment, positions and lineage kept);
   - peer: zeep on the same bytes with the same WSDL (``lockerhub-tms.wsdl``): ``zeep.loader.parse_xml`` + the
     binding operation's input ``deserialize(envelope)`` (zeep's objects; no schema validation beyond zeep's own
     typing, no canonical model, no positions).
   ``inbound_ratio`` = lockerhub envelopes/s / zeep envelopes/s (above 1: lockerhub is faster).
2. Inbound end to end in process, on SQLite: ``SoapConnector.handle_push(PushRequest, Desk(hub, "acme-soap"))`` for
   M distinct shipments (authentication, parse, validation, mapping, admission against the simulated network's
   catalogue, parcel creation, the reply envelope). Baseline: the same shipments as rows of one CSV drop
   (the pilot's ``acme-tms`` layout, one row per parcel) through ``ingest_file`` (mapping and parcel creation, no
   admission, no reply). ``push_per_s`` counts pushes (shipments), ``csv_ingest_per_s`` CSV rows (parcels);
   ``push_vs_csv_ratio`` compares the same work: push parcels/s / CSV parcels/s (above 1: pushes are faster).
3. Outbound status posts over real HTTP to the TMS simulator (in this process, uvicorn in a thread):
   ``SoapConnector.write_status`` (the status mapping, then zeep builds each call, posts it and parses the answer)
   vs a hand-written f-string envelope posted with a ``requests.Session`` whose status code is checked.
   ``zeep_overhead_ratio`` = status_post_per_s / raw_post_per_s (below 1: the zeep path is slower; 0.5 means each
   call costs twice the hand-written one).

Each measurement is the best of a few rounds (fresh shipments and message ids in every round of 2 and 3, so every
push creates parcels and every status is new to the TMS). Prints a table, then ``RESULT envelopes=...
inbound_per_s=... zeep_deserialize_per_s=... inbound_ratio=... pushes=... push_per_s=... csv_ingest_per_s=...
push_vs_csv_ratio=... status_posts=... status_post_per_s=... raw_post_per_s=... zeep_overhead_ratio=...``.

``--profile inbound`` (or ``push``) skips the benchmark and runs that path under cProfile for ``--profile-seconds``
(10 by default), printing the top functions by own time and by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import os
import pstats
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import requests
import yaml
import zeep
from lockerhub_soap import inbound, safexml
from lockerhub_soap.config import SoapConfig
from lockerhub_soap.connector import SoapConnector
from lockerhub_soap.tmssim import TNS as TMS_NS
from lockerhub_soap.tmssim import Package, TmsPusher, TmsShipment, TmsSimulator, TmsState
from lockerhub_soap.transport import zeep_settings
from lxml import etree
from rich.console import Console
from rich.table import Table
from zeep.loader import parse_xml
from zeep.wsse.username import UsernameToken

from lockerhub.demo import lay_out_pilot
from lockerhub.model import Locker, ParcelEvent, ParcelStatus
from lockerhub.plugins.protocols import PushRequest, SourceRecord, StatusUpdate
from lockerhub.runtime.desk import Desk
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import ingest_file
from lockerhub.settings import Settings
from lockerhub.simulator import SimulatorServer, World, build_network
from lockerhub.simulator.tms_drops import HEADER

PARTNER, CSV_PARTNER = "acme-soap", "acme-tms"
# Not credentials: the simulators and the hub of this run take whatever they are given.
API_KEY, PUSH_USER, PUSH_PASSWORD = "bench-only-key", "acme", "bench-push-password"
TMS_USER, TMS_PASSWORD = "lockerhub", "bench-tms-password"
STATUS_MAPPING = Path(__file__).resolve().parents[1] / "mappings" / "acme-soap" / "post_status.yaml"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
                 "#PasswordText")
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
console = Console()
if not console.is_terminal:  # a log file or a pipe: wide enough for the notes
    console = Console(width=132)


# -- workload ---------------------------------------------------------------------------------------------------
def shipments(n: int, lockers: list[Locker], *, seed: int, prefix: str) -> list[TmsShipment]:
    """``n`` fake shipments of 1-4 parcels that fit the simulated network's compartments (references
    ``<prefix>-NNNNNN``); 10% let the hub choose the locker."""
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        locker = rng.choice(lockers)
        ref = f"{prefix}-{i:06d}"
        packages = tuple(Package(f"{ref}-P{p}", Decimal(rng.choice(["0.2", "0.8", "1.5", "2.5", "4.0", "7.5"])),
                                 Decimal(rng.randint(15, 50)), Decimal(rng.randint(10, 30)),
                                 Decimal(rng.randint(2, 12)))
                         for p in range(1, rng.randint(1, 4) + 1))
        out.append(TmsShipment(reference=ref, name=f"Test Recipient {i:06d}", packages=packages,
                               locker_id=locker.locker_id if rng.random() < 0.9 else None,
                               phone=f"+48000{i:06d}", email=f"recipient{i:06d}@example.invalid",
                               zip=locker.postal_code, city=locker.city))
    return out


def envelopes(client: zeep.Client, batch: list[TmsShipment]) -> list[bytes]:
    """The createShipment requests a TMS pushing with zeep sends (``client`` carries the UsernameToken)."""
    return [etree.tostring(client.create_message(client.service, "createShipment", shipment=TmsPusher.shipment(s)),
                           xml_declaration=True, encoding="UTF-8") for s in batch]


def csv_drop(batch: list[TmsShipment]) -> bytes:
    """The same shipments as a drop of the pilot's CSV partner: one row per parcel."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    for s in batch:
        for p in s.packages:
            writer.writerow([s.reference, p.number, "", s.name, s.phone or "", s.email or "", s.zip or "",
                             s.city or "", s.locker_id or "", p.length_cm, p.width_cm, p.height_cm, p.weight_kg,
                             "ambient"])
    return buf.getvalue().encode("utf-8")


def parcels_of(batch: list[TmsShipment]) -> int:
    return sum(len(s.packages) for s in batch)


# -- 1. inbound parse + validate + map ----------------------------------------------------------------------------
@dataclass
class Inbound:
    service: inbound.InboundService
    operation: Any  # zeep's SoapOperation of createShipment
    peer: zeep.Client

    @classmethod
    def create(cls) -> Inbound:
        connector = SoapConnector(SoapConfig(inbound_username=PUSH_USER, inbound_password=PUSH_PASSWORD))
        connector.inbound_mapping  # noqa: B018 - load the mapping and the schema outside the timing
        inbound.schema()
        peer = zeep.Client(str(inbound.WSDL), settings=zeep_settings())
        return cls(connector.inbound, peer.service._binding._operations["createShipment"], peer)

    def ours(self, data: bytes) -> SourceRecord:
        root = safexml.parse(data, file="request")
        payload = inbound.body_of(root)
        if payload is None or not inbound.schema().validate(payload):
            raise RuntimeError("a generated envelope is not valid against the service's WSDL")
        return self.service.record(payload, partner=PARTNER)

    def zeep_objects(self, data: bytes) -> Any:
        envelope = parse_xml(data, self.peer.transport, settings=self.peer.settings)
        return self.operation.input.deserialize(envelope)


def check_inbound(bench: Inbound, data: list[bytes], batch: list[TmsShipment]) -> None:
    """Both readers see the same shipments."""
    for raw, s in zip(data, batch, strict=True):
        shipment = bench.ours(raw).shipment
        theirs = bench.zeep_objects(raw)
        assert shipment is not None and shipment.reference == theirs.reference == s.reference
        assert [p.weight_g for p in shipment.parcels] == [int(w.weightKg * 1000) for w in theirs.parcels.parcel]


# -- 2. + 3. the hub, the simulated network and the TMS ---------------------------------------------------------
@contextmanager
def _env(values: dict[str, str], drop: tuple[str, ...]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in (*values, *drop)}
    for k in drop:
        os.environ.pop(k, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class Stack:
    hub: Hub
    tms: TmsSimulator
    lockers: list[Locker]
    csv_inbox: Path


@contextmanager
def stack(work: Path) -> Iterator[Stack]:
    """The pilot on SQLite under ``work``, the simulated locker network and the SOAP TMS over HTTP."""
    network = build_network(30, seed=1)
    tms_state = TmsState(username=TMS_USER, password=TMS_PASSWORD)
    with SimulatorServer(World(network, seed=1), api_key=API_KEY) as sim, TmsSimulator(tms_state) as tms, _env(
            {"LOCKERHUB_DATA_DIR": str(work / "data"), "LOCKERHUB_SIMLOCKER_API_KEY": API_KEY,
             "LOCKERHUB_SIMLOCKER_BASE_URL": sim.url, "LOCKERHUB_SOAP_WSDL_URL": tms.wsdl_url,
             "ACME_SOAP_PASSWORD": TMS_PASSWORD, "ACME_SOAP_PUSH_PASSWORD": PUSH_PASSWORD},
            ("LOCKERHUB_DATABASE_URL", "LOCKERHUB_PII_KEYS")):
        config = lay_out_pilot(work / "pilot")
        hub = Hub.open(config, settings=Settings(data_dir=work / "data"))
        try:
            assert isinstance(hub.partner(PARTNER), SoapConnector)
            hub.catalog()  # the network's lockers and size classes: listed once per hub, outside the timing
            yield Stack(hub, tms, network, config.parent / "inbox" / CSV_PARTNER)
        finally:
            hub.close()


def push_all(st: Stack, data: list[bytes]) -> None:
    connector: SoapConnector = st.hub.partner(PARTNER)
    for body in data:
        reply = connector.handle_push(PushRequest(partner=PARTNER, url=f"http://127.0.0.1/tms/{PARTNER}",
                                                  headers={"Content-Type": inbound.CONTENT_TYPE}, body=body),
                                      Desk(st.hub, PARTNER, source=f"push:{PARTNER}"))
        assert reply.status == 200 and b">ACCEPTED<" in reply.body, reply.body[:600]


def ingest_csv(st: Stack, drop: bytes, name: str, parcels: int) -> None:
    path = st.csv_inbox / name
    path.write_bytes(drop)
    report = ingest_file(st.hub, CSV_PARTNER, path)
    assert (report.accepted, report.quarantined, report.error) == (parcels, 0, None), report


def updates(batch: list[TmsShipment], first_sequence: int) -> list[StatusUpdate]:
    out = []
    for s in batch:
        for p in s.packages:
            event = ParcelEvent(status=ParcelStatus.DEPOSITED, occurred_at=T0 + timedelta(minutes=len(out)),
                                source="simlocker", locker_id=s.locker_id or "SIM-WAW-0001")
            out.append(StatusUpdate(partner=PARTNER, shipment_reference=s.reference, parcel_id=p.number,
                                    event=event, sequence=first_sequence + len(out)))
    return out


class RawPoster:
    """The hand-written baseline: an f-string envelope (values escaped), one requests.Session, the status code
    checked."""

    ACTION = f'"{TMS_NS}/PostParcelStatus"'

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.codes = yaml.safe_load(STATUS_MAPPING.read_text("utf-8"))["tables"]["acme_status"]
        self.security = (f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken><wsse:Username>{TMS_USER}'
                         f'</wsse:Username><wsse:Password Type="{PASSWORD_TEXT}">{escape(TMS_PASSWORD)}'
                         "</wsse:Password></wsse:UsernameToken></wsse:Security>")

    def post(self, u: StatusUpdate) -> None:
        e = u.event
        reason = f"<t:Reason>{escape(e.reason)}</t:Reason>" if e.reason else ""
        locker = f"<t:LockerId>{escape(e.locker_id)}</t:LockerId>" if e.locker_id else ""
        body = (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{inbound.SOAP11}" '
                f'xmlns:t="{TMS_NS}"><soap:Header>{self.security}</soap:Header><soap:Body><t:PostParcelStatus>'
                f"<t:MessageId>{u.sequence}</t:MessageId><t:ShipmentNo>{escape(u.shipment_reference)}</t:ShipmentNo>"
                f"<t:PackageNo>{escape(u.parcel_id)}</t:PackageNo><t:StatusCode>{self.codes[e.status.value]}"
                f"</t:StatusCode>{reason}<t:EventTime>{e.occurred_at.isoformat()}</t:EventTime>{locker}"
                "</t:PostParcelStatus></soap:Body></soap:Envelope>")
        response = self.session.post(self.url, data=body.encode("utf-8"), timeout=30,
                                     headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": self.ACTION})
        if response.status_code != 200:
            raise RuntimeError(f"PostParcelStatus: HTTP {response.status_code} {response.text[:300]}")

    def post_all(self, batch: list[StatusUpdate]) -> None:
        for u in batch:
            self.post(u)


# -- running ------------------------------------------------------------------------------------------------------
def duel(ours: Callable[[int], object], peer: Callable[[int], object], rounds: int) -> tuple[float, float]:
    """Best wall times of ``ours(round)`` and ``peer(round)``, alternated round by round (so that whatever else the
    machine does disturbs both alike)."""
    best = [float("inf"), float("inf")]
    for r in range(rounds):
        for i, fn in enumerate((ours, peer)):
            start = time.perf_counter()
            fn(r)
            best[i] = min(best[i], time.perf_counter() - start)
    return best[0], best[1]


@dataclass
class Row:
    name: str
    ops: int
    unit: str
    seconds: float
    note: str

    @property
    def per_s(self) -> float:
        return self.ops / self.seconds


def table(sections: list[tuple[str, list[Row]]]) -> None:
    t = Table(title="SOAP hot paths (best round; peers measured in the same run)")
    for column, justify in (("implementation", "left"), ("operations", "right"), ("seconds", "right"),
                            ("ops/s", "right"), ("notes", "left")):
        t.add_column(column, justify=justify)  # type: ignore[arg-type]
    for title, rows in sections:
        t.add_section()
        t.add_row(f"[bold]{title}", "", "", "", "")
        for r in rows:
            t.add_row(r.name, f"{r.ops:,} {r.unit}", f"{r.seconds:.3f}", f"{r.per_s:,.0f}", r.note)
    console.print(t)


def run(quick: bool) -> None:
    n, m = (1_000, 100) if quick else (5_000, 500)
    rounds, push_rounds = (4, 3) if quick else (7, 4)  # every push round takes fresh shipments: fewer of them
    network = build_network(30, seed=1)
    bench = Inbound.create()
    maker = zeep.Client(str(inbound.WSDL), wsse=UsernameToken(PUSH_USER, PUSH_PASSWORD))
    batch = shipments(n, network, seed=1, prefix="IN")
    data = envelopes(maker, batch)
    check_inbound(bench, data[:200], batch[:200])
    t_ours, t_zeep = duel(lambda _: [bench.ours(d) for d in data], lambda _: [bench.zeep_objects(d) for d in data],
                          rounds)
    avg_kb = sum(map(len, data)) / len(data) / 1024
    inbound_rows = [
        Row("lockerhub: safexml + schema + record", n, "envelopes", t_ours,
            f"{avg_kb:.1f} KB each, {parcels_of(batch) / n:.1f} parcels; canonical Shipment + lineage"),
        Row("zeep: parse_xml + input.deserialize", n, "envelopes", t_zeep, "zeep objects only (peer)"),
    ]

    with tempfile.TemporaryDirectory(prefix="lockerhub-bench-soap-") as tmp, stack(Path(tmp)) as st:
        # 2. pushes vs a CSV drop of the same shipments; fresh references every round, the two alternating
        work = [shipments(m, st.lockers, seed=100, prefix=f"R{r}") for r in range(push_rounds)]  # same shapes
        pushes = [envelopes(maker, w) for w in work]
        drops = [csv_drop(w) for w in work]
        parcels = parcels_of(work[0])
        t_push, t_csv = duel(lambda r: push_all(st, pushes[r]),
                             lambda r: ingest_csv(st, drops[r], f"round{r}.csv", parcels), push_rounds)
        push_rows = [
            Row("lockerhub: SoapConnector.handle_push", m, "pushes", t_push,
                f"{parcels:,} parcels = {parcels / t_push:,.0f} parcels/s; auth, admission, reply"),
            Row("baseline: ingest_file of a CSV drop", parcels, "rows", t_csv,
                "the same shipments as acme-tms rows (parcels); no admission, no reply"),
        ]

        # 3. status posts over HTTP: zeep (write_status) vs f-string + requests
        connector: SoapConnector = st.hub.partner(PARTNER)
        raw = RawPoster(st.tms.url + "/transport")
        sample = work[0]
        k = parcels_of(sample)
        warm = updates(sample[:1], 10)
        connector.write_status(warm)  # loads the TMS's WSDL over HTTP, outside the timing
        raw.post_all(updates(sample[:1], 20))
        t_status, t_raw = duel(lambda r: connector.write_status(updates(sample, 1_000_000 * (1 + r))),
                               lambda r: raw.post_all(updates(sample, 1_000_000 * (100 + r))), rounds)
        got = st.tms.state.statuses
        zeep_msg = {k2: v for k2, v in got[1_000_000].items() if k2 != "MessageId"}
        raw_msg = {k2: v for k2, v in got[100_000_000].items() if k2 != "MessageId"}
        assert zeep_msg == raw_msg, (zeep_msg, raw_msg)
        assert len(got) == 2 * len(warm) + 2 * rounds * k, len(got)
    status_rows = [
        Row("lockerhub: SoapConnector.write_status", k, "calls", t_status,
            "status mapping + zeep serialise, post, parse"),
        Row("baseline: f-string + requests.Session", k, "calls", t_raw, "status code checked only"),
    ]
    table([("1. inbound parse+validate+map, CPU only", inbound_rows),
           ("2. inbound end to end, SQLite", push_rows),
           ("3. PostParcelStatus over HTTP", status_rows)])
    result: dict[str, float | int] = {
        "envelopes": n, "inbound_per_s": round(n / t_ours), "zeep_deserialize_per_s": round(n / t_zeep),
        "inbound_ratio": t_zeep / t_ours,
        "pushes": m, "push_per_s": round(m / t_push), "push_parcels_per_s": round(parcels / t_push),
        "csv_ingest_per_s": round(parcels / t_csv), "push_vs_csv_ratio": t_csv / t_push,
        "status_posts": k, "status_post_per_s": round(k / t_status), "raw_post_per_s": round(k / t_raw),
        "zeep_overhead_ratio": t_raw / t_status,
    }
    print("RESULT " + " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()))


def profile(path: str, seconds: float) -> None:
    """Run one path under cProfile for ``seconds``; print the top functions."""
    maker = zeep.Client(str(inbound.WSDL), wsse=UsernameToken(PUSH_USER, PUSH_PASSWORD))
    prof = cProfile.Profile()
    done = 0
    if path == "inbound":
        bench = Inbound.create()
        data = envelopes(maker, shipments(200, build_network(30, seed=1), seed=1, prefix="IN"))
        deadline = time.perf_counter() + seconds
        prof.enable()
        while time.perf_counter() < deadline:
            for d in data:
                bench.ours(d)
            done += len(data)
        prof.disable()
    else:
        with tempfile.TemporaryDirectory(prefix="lockerhub-bench-soap-") as tmp, stack(Path(tmp)) as st:
            deadline = time.perf_counter() + seconds
            chunk = 0
            while time.perf_counter() < deadline:
                data = envelopes(maker, shipments(50, st.lockers, seed=chunk, prefix=f"PR{chunk}"))
                prof.enable()
                push_all(st, data)
                prof.disable()
                done += len(data)
                chunk += 1
    console.print(f"{path}: {done:,} operations profiled")
    stats = pstats.Stats(prof)
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller N (the whole run under a minute)")
    parser.add_argument("--profile", choices=("inbound", "push"), help="profile one path instead of benchmarking")
    parser.add_argument("--profile-seconds", type=float, default=10.0)
    opts = parser.parse_args()
    if opts.profile:
        profile(opts.profile, opts.profile_seconds)
    else:
        run(opts.quick)


if __name__ == "__main__":
    main()
