"""Quarantine replay: run a quarantined item again, from its original payload, through today's config and mapping.

Each stage has a replayer, registered with ``@replayer("<stage>")`` in the module that defines it (the built-in ones
are below: ``read``, ``map``, ``admit``, ``book``, ``status``). A replayer has the signature::

    def replay_x(ctx: ReplayContext, item: QuarantineItem) -> Done

``item.payload`` is the decrypted original; the replayer works through ``ctx.hub`` only (its store, connectors and
vendor), returns :class:`Done` when the item went through (a skipped side effect is a success: say so in the
detail), and raises a :class:`~lockerhub.errors.LockerhubError` when it fails again. The dispatcher owns the rest:
the item's state (``replayed``, or ``open`` with ``attempts += 1`` and the new errors), the audit entry
``quarantine.replay`` (actor, stage, outcome; never the payload), and the dry run. A module outside the core
registers through the ``lockerhub.replayers`` entry point group (name = stage, value = the replayer), loaded when an
item of that stage is first replayed.

Guarantees:
    - Nothing is booked twice: a ``book`` item whose parcel already holds a booking (a reservation on a parcel past
      CREATED, or an access code) is marked replayed, "already booked, skipped", with no vendor call; a CREATED
      parcel's pending soft reservation is resumed as the booking stage does. Bookings made here use the parcel's
      domain idempotency keys (:mod:`lockerhub.runtime.booking`), so a booking the vendor made before a time-out
      comes back instead of a second one. No door is opened and no access code issued other than by a first booking.
    - Status events go through :func:`~lockerhub.runtime.events.record_event`: forward-only, and a duplicate is a
      no-op.
    - ``dry_run``: every item runs in one database transaction that is rolled back, vendor writes (``reserve``,
      ``book``, ``cancel``) are recorded as "would call" and not sent (reads such as the locker list still are),
      and no file is written. Only the audit entries are kept.

Limits/Pitfalls:
    - A record-level item (``map``, ``admit``) holds one record's text; a CSV row needs its header and an EDI
      transaction its envelope, so the record is read again from the original file, found in the partner's inbox
      or its ``done/`` and ``failed/`` archive by that text. Once retention removed the file, re-send it instead.
    - Replay does not write a new acknowledgement: a partner that received a rejection (997/999, APERAK) for an
      ``admit`` item hears about the parcel through its status messages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from lockerhub.errors import ErrorGroup, LockerhubError, TransientError
from lockerhub.model import ParcelEvent, ParcelStatus, Reservation, ReservationKind, idempotency_key
from lockerhub.plugins.protocols import Capability, SourceRecord
from lockerhub.runtime import admission, quarantine
from lockerhub.runtime.booking import BookingReport, book_one
from lockerhub.runtime.events import record_event
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import IngestReport, _create_parcels
from lockerhub.runtime.quarantine import PAYLOAD_CONTEXT, QuarantineItem
from lockerhub.security import audit
from lockerhub.store import ParcelRow, QuarantineRow, Store, make_engine

ENTRY_POINT_GROUP = "lockerhub.replayers"
AUDIT_ACTION = "quarantine.replay"


@dataclass(frozen=True, slots=True)
class Done:
    """A replayer's success: ``code`` is short and free of personal data (it goes to the audit log)."""

    code: str
    detail: str


@dataclass(slots=True)
class ReplayContext:
    """What a replayer works with. ``hub`` is a copy of the caller's hub whose store and vendor are the dry run's
    in a dry run; ``vendor_calls`` lists the vendor writes of the current item."""

    hub: Hub
    dry_run: bool
    tap: _TapLog
    _files: dict[Path, list[SourceRecord] | LockerhubError] = field(default_factory=dict)

    @property
    def vendor_calls(self) -> list[str]:
        return self.tap.calls


Replayer = Callable[[ReplayContext, QuarantineItem], Done]
REPLAYERS: dict[str, Replayer] = {}


def replayer(stage: str) -> Callable[[Replayer], Replayer]:
    """Register the decorated function as the replayer of quarantine items of ``stage``."""

    def register(fn: Replayer) -> Replayer:
        known = REPLAYERS.get(stage)
        if known is not None and known is not fn:
            raise ValueError(f"stage {stage!r} already has a replayer: {known.__module__}.{known.__qualname__}")
        REPLAYERS[stage] = fn
        return fn

    return register


def replayer_for(stage: str) -> Replayer:
    """The registered replayer of ``stage`` (loading the ``lockerhub.replayers`` entry point of that name once)."""
    if stage not in REPLAYERS:
        for ep in entry_points(group=ENTRY_POINT_GROUP, name=stage):
            replayer(stage)(ep.load())
    if stage not in REPLAYERS:
        raise LockerhubError(f"no replayer for stage '{stage}'", expected=", ".join(sorted(REPLAYERS)),
                             hint="discard the item once it is resolved another way")
    return REPLAYERS[stage]


# --------------------------------------------------------------------------- selection and report


@dataclass(frozen=True, slots=True)
class ReplayFilter:
    """Which items: the given ``qids`` (any state), or every open item when empty; narrowed by ``stage``."""

    qids: tuple[str, ...] = ()
    stage: str | None = None


@dataclass(slots=True)
class ReplayResult:
    qid: str
    stage: str
    partner: str | None
    location: str
    outcome: str  # replayed | failed | skipped (not open)
    code: str
    detail: str
    errors: list[str] = field(default_factory=list)
    vendor_calls: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ReplayReport:
    dry_run: bool
    actor: str
    results: list[ReplayResult] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(r.outcome == "failed" for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "actor": self.actor, "failed": self.failed,
                "results": [dataclasses.asdict(r) for r in self.results]}


def _select(hub: Hub, selection: ReplayFilter | Sequence[str]) -> list[QuarantineRow]:
    chosen = selection if isinstance(selection, ReplayFilter) else ReplayFilter(tuple(selection))
    with hub.store.transaction() as s:
        if chosen.qids:
            rows = []
            for qid in dict.fromkeys(chosen.qids):
                row = s.get(QuarantineRow, quarantine.parse_qid(qid))
                if row is None:
                    raise LockerhubError(f"no quarantine item {qid}", hint="see `lockerhub quarantine list --all`")
                rows.append(row)
        else:
            rows = list(s.scalars(select(QuarantineRow).where(QuarantineRow.state == "open")
                                  .order_by(QuarantineRow.id)))
    return [r for r in rows if chosen.stage is None or r.stage == chosen.stage]


# --------------------------------------------------------------------------- the dispatcher


def replay(hub: Hub, selection: ReplayFilter | Sequence[str], *, dry_run: bool,
           actor: str | None = None) -> ReplayReport:
    """Replay the selected items (see the module docstring); ``actor`` defaults to ``LOCKERHUB_ACTOR`` or the OS
    user. Unknown ids are an error before anything runs."""
    report = ReplayReport(dry_run, actor or audit.current_actor())
    rows = _select(hub, selection)
    try:
        hub.catalog(refresh=True)  # a locker added since the item failed is known now
    except LockerhubError:
        hub._catalog = None  # the vendor is unreachable: each stage finds out and says so
    tap = _TapLog()  # every configured vendor is tapped: a booking may go to any routed one, a cancel to any
    taps = {("vendors", name): _tap(hub.vendor(name), tap, dry_run=dry_run) for name in hub.config.hub.vendors}
    connectors = {**hub._connectors, **taps}
    # bookings: a failure stays with this item instead of opening a second one (book_one's own quarantine)
    work = dataclasses.replace(hub, _connectors=connectors, max_booking_attempts=sys.maxsize)
    if not dry_run:
        ctx = ReplayContext(work, False, tap)
        for row in rows:
            result = _run_one(ctx, row)
            with hub.store.transaction() as s:
                _settle(s, row.id, result, report.actor, dry_run=False)
            report.results.append(result)
        return report
    with _RollbackStore(hub.store.url) as rollback:
        ctx = ReplayContext(dataclasses.replace(work, store=rollback), True, tap)  # type: ignore[arg-type]
        report.results = [_run_one(ctx, row) for row in rows]
    with hub.store.transaction() as s:
        for row, result in zip(rows, report.results, strict=True):
            _settle(s, row.id, result, report.actor, dry_run=True)
    return report


def _run_one(ctx: ReplayContext, row: QuarantineRow) -> ReplayResult:
    result = ReplayResult(row.qid, row.stage, row.partner, row.location, "failed", "error", "")
    ctx.tap.calls = []
    if row.state != "open":
        result.outcome, result.code, result.detail = "skipped", f"already_{row.state}", f"already {row.state}"
        return result
    payload = ctx.hub.cipher.decrypt(row.payload_enc or None, context=PAYLOAD_CONTEXT)
    if payload is None:
        result.code, result.detail = "payload_erased", "the original payload was erased (retention); discard it"
        return result
    item = QuarantineItem(row.qid, row.source, row.partner, row.location, row.stage, list(row.errors), row.state,
                          row.attempts, row.created_at, payload)
    try:
        done = replayer_for(row.stage)(ctx, item)
    except ErrorGroup as group:
        result.errors = [e.render() for e in group.errors]
    except LockerhubError as exc:
        result.errors = [exc.render()]
    else:
        result.outcome, result.code, result.detail = "replayed", done.code, done.detail
    if result.outcome == "failed":
        result.code = "unsupported" if row.stage not in REPLAYERS else "failed_again"
        result.detail = "; ".join(e.split(" error: ", 1)[-1] for e in result.errors)
    result.vendor_calls = list(ctx.tap.calls)
    return result


def _settle(session: Session, pk: int, result: ReplayResult, actor: str, *, dry_run: bool) -> None:
    """The item's new state (not in a dry run) and the audit entry, in one transaction."""
    row = session.get(QuarantineRow, pk)
    assert row is not None
    if not dry_run and result.outcome == "replayed":
        row.state = "replayed"
    elif not dry_run and result.code == "failed_again":
        row.attempts += 1
        row.errors = list(result.errors)
    audit.record(session, AUDIT_ACTION, subject=row.qid, actor=actor,
                 details={"stage": row.stage, "outcome": result.outcome, "code": result.code, "dry_run": dry_run})


# --------------------------------------------------------------------------- dry run: store and vendor


def _sqlite_driver_autocommit(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN/SAVEPOINT itself (pysqlite defers BEGIN)


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


class _RollbackStore:
    """A Store look-alike for dry runs: one outer transaction, each ``transaction()`` a savepoint in it; the
    outer transaction is rolled back on exit."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_driver_autocommit)
            event.listen(self.engine, "begin", _sqlite_begin)

    def __enter__(self) -> _RollbackStore:
        self._conn = self.engine.connect()
        self._outer = self._conn.begin()
        self._sessions = sessionmaker(bind=self._conn, join_transaction_mode="create_savepoint",
                                      expire_on_commit=False)
        return self

    def __exit__(self, *exc: object) -> None:
        self._outer.rollback()
        self._conn.close()
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session


@dataclass
class _TapLog:
    """What the vendor taps saw for the current item: the writes, and the last error (the booking stage reports a
    failure by its outcome alone)."""

    calls: list[str] = field(default_factory=list)
    last_error: LockerhubError | None = None


class _VendorTap:
    """A vendor as replay sees it: its writes are listed per item (and only listed, as "would call", in a dry
    run) in the shared :class:`_TapLog`, with the last error."""

    writes = ("reserve", "book", "cancel")

    def __init__(self, real: Any, log: _TapLog, *, dry_run: bool) -> None:
        self._real, self._dry_run, self._log = real, dry_run, log
        self._held: dict[str, Reservation] = {}

    def __getattr__(self, name: str) -> Any:
        member = getattr(self._real, name)
        if not callable(member):
            return member

        def call(*args: Any, **kwargs: Any) -> Any:
            if name in self.writes:
                shown = ", ".join(str(a) for a in args)
                self._log.calls.append(f"{'would call ' if self._dry_run else ''}{name}({shown})")
                if self._dry_run:
                    return self._would(name, *args)
            try:
                return member(*args, **kwargs)
            except LockerhubError as exc:
                self._log.last_error = exc
                raise

        return call

    def _would(self, name: str, *args: Any) -> Reservation | None:
        if name == "reserve":
            locker_id, size_class = args[0], args[1]
            held = Reservation(reservation_id=f"dry-run:{locker_id}:{size_class}", locker_id=locker_id,
                               size_class=size_class, kind=ReservationKind.SOFT)
            self._held[held.reservation_id] = held
            return held
        if name == "book":  # a pending reservation from an earlier run is not in _held
            held = self._held.get(args[0]) or Reservation(reservation_id=args[0], locker_id="dry-run",
                                                          size_class="dry-run", kind=ReservationKind.SOFT)
            return held.model_copy(update={"kind": ReservationKind.HARD})
        return None


def _tap(real: Any, log: _TapLog, *, dry_run: bool) -> _VendorTap:
    """A tap whose class declares the vendor's capabilities (the hub asks ``type(vendor).capabilities``)."""
    cls = type(f"{type(real).__name__}Tap", (_VendorTap,),
               {"capabilities": type(real).capabilities, "id": getattr(type(real), "id", "vendor")})
    return cls(real, log, dry_run=dry_run)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- shared by the stages


def _already_booked(row: ParcelRow) -> Done | None:
    pending = row.status == ParcelStatus.CREATED.value  # a reservation on a CREATED parcel: confirm pending
    if (row.reservation_id is not None and not pending) or row.access_code_enc is not None:
        return Done("already_booked", f"already booked (reservation {row.reservation_id}), skipped")
    if row.status != ParcelStatus.CREATED.value:
        return Done("not_bookable", f"parcel is {row.status}, skipped")
    return None


def _book(ctx: ReplayContext, row: ParcelRow) -> Done:
    """Book one CREATED parcel the way the booking stage does (same idempotency keys)."""
    done = _already_booked(row)
    if done is not None:
        return done
    report = BookingReport()
    ctx.tap.last_error = None
    book_one(ctx.hub, row, report)
    with ctx.hub.store.transaction() as s:
        fresh = s.get(ParcelRow, row.id)
        assert fresh is not None
    if report.booked:
        return Done("booked", f"booked at {fresh.locker_id}")
    if report.rejected:
        return Done("rejected", f"rejected: {fresh.reason} (the TMS is told by a status message)")
    raise ctx.tap.last_error or TransientError("booking deferred: the vendor did not answer")


def _parcel_rows(ctx: ReplayContext, keys: Sequence[str]) -> list[ParcelRow]:
    with ctx.hub.store.transaction() as s:
        return list(s.scalars(select(ParcelRow).where(ParcelRow.key.in_(keys)).order_by(ParcelRow.id)))


def take_in(ctx: ReplayContext, item: QuarantineItem, records: Sequence[tuple[SourceRecord, str]], *,
             admitted: bool = False) -> Done:
    """Records (with their origins) through admission, parcel creation and booking, as ingest and the next run
    would; a record that still fails fails the item. A booking the vendor cannot make now is left to the next run."""
    hub, partner = ctx.hub, item.partner or ""
    errors: list[LockerhubError] = []
    report = IngestReport(file=item.source)
    keys: list[str] = []
    for record, origin in records:
        if record.errors or record.shipment is None:
            errors.extend(record.errors)
            continue
        refused = [] if admitted else _admit(ctx, partner, record, origin)
        if refused:
            errors.extend(refused)
            continue
        _create_parcels(hub, record, record.shipment, hub.config.hub.partners[partner].connector, report, origin)
        keys += [idempotency_key(partner, record.shipment.reference, p.parcel_id) for p in record.shipment.parcels]
    if errors:
        raise ErrorGroup(errors)
    booked = []
    for row in _parcel_rows(ctx, keys):
        try:
            done = _book(ctx, row)
        except LockerhubError as exc:
            done = Done("deferred", f"booking deferred to the next run ({exc.message})")
        booked.append(f"{row.parcel_id}: {done.detail}")
    code = "created" if report.accepted else "duplicate"
    return Done(code, f"{report.accepted} parcel(s) created, {report.duplicates} already there; " + "; ".join(booked))


def _admit(ctx: ReplayContext, partner: str, record: SourceRecord, origin: str) -> list[LockerhubError]:
    source = ctx.hub.partner(partner)
    told = {Capability.WRITE_ACK, Capability.PUSH}  # partners told of a refusal at once: refused again the same way
    if not told & type(source).capabilities or record.shipment is None:
        return []
    return list(admission.check(ctx.hub, partner, record, record.shipment, origin))


def _read(ctx: ReplayContext, partner: str, path: Path) -> list[SourceRecord] | LockerhubError:
    if path not in ctx._files:
        try:
            ctx._files[path] = list(ctx.hub.partner(partner).read(path, partner=partner))
        except LockerhubError as exc:
            ctx._files[path] = exc
    return ctx._files[path]


def _archived(ctx: ReplayContext, item: QuarantineItem) -> list[Path]:
    """The original file and its archived copies (``done/``, ``failed/``, numbered on a name clash)."""
    original = Path(item.source)
    config = getattr(ctx.hub.partner(item.partner or ""), "config", None)
    found = [original] if original.is_file() else []
    for folder in (getattr(config, "done_dir", None), getattr(config, "failed_dir", None)):
        if folder is not None and Path(folder).is_dir():
            found += sorted(p for p in Path(folder).glob(f"{original.stem}*{original.suffix}")
                            if p.name == original.name or p.stem.removeprefix(original.stem + ".").isdigit())
    return found


# --------------------------------------------------------------------------- the built-in stages


@replayer("read")
def replay_read(ctx: ReplayContext, item: QuarantineItem) -> Done:
    """A whole file that could not be read: read it again; records that still fail become items of their own."""
    assert item.payload is not None
    partner = item.partner or ""
    original = next((p for p in _archived(ctx, item)
                     if p.read_bytes().decode("utf-8", errors="replace") == item.payload), None)
    with tempfile.TemporaryDirectory(prefix="lockerhub-replay-") as tmp:
        path = original or Path(tmp) / Path(item.source).name
        if original is None:
            path.write_text(item.payload, "utf-8")
        data = path.read_bytes()
        records = _read(ctx, partner, path)
        ctx._files.pop(path, None)
    if isinstance(records, LockerhubError):
        raise records
    sha, taken, kept = hashlib.sha256(data).hexdigest(), [], []
    for n, record in enumerate(records):
        problems = list(record.errors) if record.errors or record.shipment is None else \
            _admit(ctx, partner, record, f"{sha}#{n}")
        if not problems:
            taken.append((record, f"{sha}#{n}"))
            continue
        with ctx.hub.store.transaction() as s:
            kept.append(quarantine.put(s, ctx.hub.cipher, source=item.source, partner=partner,
                                       location=str(record.location), stage="admit" if record.shipment else "map",
                                       errors=problems, payload=record.raw).qid)
    done = take_in(ctx, item, taken, admitted=True) if taken else Done("empty", "no record could be taken in")
    more = f"; {len(kept)} record(s) quarantined as {', '.join(kept)}" if kept else ""
    return Done(done.code, f"{len(records)} record(s): {done.detail}{more}")


def _record_replayer(ctx: ReplayContext, item: QuarantineItem) -> Done:
    """One record that could not be mapped or was refused: find it in its file again, then take it in."""
    problems: list[LockerhubError] = []
    for path in _archived(ctx, item):
        records = _read(ctx, item.partner or "", path)
        if isinstance(records, LockerhubError):
            problems.append(records)
            continue
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        matches = [(r, f"{sha}#{n}") for n, r in enumerate(records) if r.raw == item.payload]
        if matches:
            return take_in(ctx, item, matches)
    if problems:
        raise ErrorGroup(problems)
    raise LockerhubError(f"{item.location}: the record's file is no longer in the inbox or its done/ and failed/ "
                         "folders", expected=f"{Path(item.source).name} (a CSV row needs its header, an EDI "
                         "transaction its envelope)", hint="ask the partner to send the file again")


replayer("map")(_record_replayer)
replayer("admit")(_record_replayer)


@replayer("book")
def replay_book(ctx: ReplayContext, item: QuarantineItem) -> Done:
    """A parcel the vendor could not book (payload: the parcel's domain key). Booked already: skipped."""
    rows = _parcel_rows(ctx, [item.payload or ""])
    if not rows:
        raise LockerhubError(f"{item.location}: the parcel no longer exists", hint="discard the item")
    return _book(ctx, rows[0])


@replayer("status")
def replay_status(ctx: ReplayContext, item: QuarantineItem) -> Done:
    """A status event that could not be applied (payload: the canonical event): applied forward-only now, a
    duplicate is a no-op."""
    event_ = ParcelEvent.model_validate_json(item.payload or "{}")
    partner = item.partner or ""
    ref, _, parcel_id = item.location.removeprefix(f"parcel {partner}/").rpartition("/")
    with ctx.hub.store.transaction() as s:
        row = s.scalar(select(ParcelRow).where(ParcelRow.key == idempotency_key(partner, ref, parcel_id)))
        if row is None:
            raise LockerhubError(f"{item.location}: the parcel no longer exists", hint="discard the item")
        outcome = record_event(s, row, event_)
        status = row.status
    what = {"applied": f"applied: parcel is {status}", "duplicate": "duplicate: already recorded, no-op",
            "stale": f"stale: recorded, parcel stays {status}"}
    return Done(str(outcome.value), what.get(str(outcome.value), str(outcome.value)))


# --------------------------------------------------------------------------- discard


def discard(store: Store, qid: str, *, reason: str, actor: str | None = None) -> QuarantineItem:
    """Close an open item without replaying it (state ``discarded``), audited as ``quarantine.discard`` with the
    reason (write what was done, not personal data)."""
    if not reason.strip():
        raise LockerhubError("discard needs a reason", expected="--reason TEXT", found="nothing")
    with store.transaction() as s:
        row = s.get(QuarantineRow, quarantine.parse_qid(qid))
        if row is None:
            raise LockerhubError(f"no quarantine item {qid}")
        if row.state != "open":
            raise LockerhubError(f"{row.qid} is {row.state}", expected="an open item")
        row.state = "discarded"
        audit.record(s, "quarantine.discard", subject=row.qid, actor=actor or audit.current_actor(),
                     details={"stage": row.stage, "reason": reason.strip()})
        return QuarantineItem(row.qid, row.source, row.partner, row.location, row.stage, list(row.errors),
                              row.state, row.attempts, row.created_at)
