"""The three-way comparison: three streaming passes over compact values. This is the hot path.

It creates no ORM objects or pydantic models per row. The hub is read with SQLAlchemy Core in batches
(``yield_per``, server-side cursors where the backend has them), the vendor page by page, and the manifest row
by row. What must be remembered is kept as ints in two dicts:

1. Hub pass. ``keys`` maps every parcel's key (its 128-bit idempotency key as an int) to 0. ``booked`` maps the
   reservation id of each parcel booked with this vendor to one packed int: the row id, the status, the status
   an EXCEPTION interrupted, and a seen bit. An active parcel with no reservation id is missing at the vendor
   by definition. A CREATED parcel's reservation (a soft hold, confirm pending: booking resumes it) is entered
   as already seen, so the vendor pass neither judges it nor calls it an orphan or stale.
2. Vendor pass. Each reservation is looked at once. A known one is marked seen, and its status is judged
   against the hub's; the verdict for a (hub state, vendor status) pair is computed once, from the lifecycle
   table. An unknown one is an orphan when it is a live confirmed booking, stale when it is a soft hold past
   its expiry (or past the TTL when it has none), and otherwise fine: a hold still in flight, or one that ended.
3. Manifest pass. Each row's key is looked up in ``keys``. An unknown key is missing in the hub. A known key is
   marked as listed, with its line and status. A key seen twice makes the second row a bad row.

Then every ``booked`` entry the vendor never listed, and whose status is active, is missing at the vendor. Only
the few parcels in discrepancies are read again (by row id) for their partner, shipment and parcel ids. Orphans
and stale holds are checked once more against the hub, because a booking may have finished while the vendor
was being read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from hashlib import sha256

from sqlalchemy import select

from lockerhub.errors import Location, LockerhubError, ValidationError
from lockerhub.model import ParcelState, ParcelStatus, ReservationKind, lifecycle
from lockerhub.model.state_machine import Outcome
from lockerhub.plugins.protocols import ReservationPage, VendorReservation
from lockerhub.reconcile.manifest import Manifest, ManifestRow
from lockerhub.reconcile.model import Action, Discrepancy, Kind
from lockerhub.store import ParcelRow, Store

STATUSES: tuple[ParcelStatus, ...] = tuple(ParcelStatus)
_INDEX = {s.value: i for i, s in enumerate(STATUSES)}
STATE_BITS = 8  # status index << 4 | (interrupted index + 1, or 0)
SEEN = 1 << STATE_BITS
ROW_SHIFT = STATE_BITS + 1
CHUNK = 500  # row ids or reservation ids per IN (...) query


def key_int(partner: str, reference: str, parcel_id: str) -> int:
    """``int(idempotency_key(partner, reference, parcel_id), 16)`` for values already stripped, without the hex
    round trip (a test holds the two together). The manifest pass computes one per row."""
    raw = f"{partner.lower()}\x1f{reference}\x1f{parcel_id}".encode()
    return int.from_bytes(sha256(raw).digest()[:16], "big")


def state_bits(status: str, interrupted: str | None) -> int:
    return _INDEX[status] << 4 | (_INDEX[interrupted] + 1 if interrupted else 0)


def state_of(bits: int) -> ParcelState:
    over = bits & 15
    return ParcelState(STATUSES[bits >> 4], STATUSES[over - 1] if over else None)


def active_statuses() -> frozenset[ParcelStatus]:
    """Statuses in which a parcel holds a booking at the vendor: from BOOKED on, up to (not including) the end."""
    table = lifecycle()
    booked = table.rank[ParcelStatus.BOOKED]
    assert booked is not None
    return frozenset(s for s, r in table.rank.items()
                     if r is not None and r >= booked and s not in table.terminal)


class Verdict(Enum):
    CONSISTENT = "consistent"
    AHEAD = "ahead"  # the vendor's status is a forward move from the hub's: safe to apply
    BEHIND = "behind"  # the hub is further along than the vendor
    FORBIDDEN = "forbidden"  # the lifecycle does not allow the vendor's status after the hub's


def judge(bits: int, vendor: ParcelStatus, reason: str | None) -> tuple[Verdict, str]:
    """How the vendor's status relates to the hub state ``bits``, and why (one short sentence)."""
    state = state_of(bits)
    if vendor == state.effective:  # the vendor's reservation state does not carry the hub's EXCEPTION overlay
        return Verdict.CONSISTENT, ""
    try:
        outcome, _ = lifecycle().apply(state, vendor, reason)
    except ValidationError as exc:
        return Verdict.FORBIDDEN, f"the vendor reports {vendor} without a valid reason ({exc.expected})"
    except LockerhubError:
        return Verdict.FORBIDDEN, f"the lifecycle does not allow {vendor} after the hub's {state.status}"
    if outcome is Outcome.DUPLICATE:
        return Verdict.CONSISTENT, ""
    if outcome is Outcome.APPLIED:
        return Verdict.AHEAD, f"the vendor is ahead: {state.status} -> {vendor} is a forward move"
    return Verdict.BEHIND, f"the hub is ahead of the vendor: {vendor} comes before {state.status}"


# (row id, key, status, interrupted, vendor, reservation id): what the hub pass reads of each parcel
HubRow = tuple[int, str, str, str | None, str | None, str | None]


def hub_rows(store: Store, *, batch: int = 10_000) -> Iterator[HubRow]:
    """Every parcel as a :data:`HubRow`, streamed in batches (a server-side cursor where the backend has one)."""
    p = ParcelRow
    query = select(p.id, p.key, p.status, p.interrupted, p.vendor, p.reservation_id)
    with store.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
        for partition in result.partitions():
            yield from partition  # type: ignore[misc]  # Row unpacks as the tuple it is


@dataclass(slots=True)
class Comparison:
    discrepancies: list[Discrepancy] = field(default_factory=list)
    hub_parcels: int = 0
    vendor_reservations: int = 0
    manifest_rows: int = 0


@dataclass(slots=True)
class _Found:
    """What the passes found, before the parcels' partner, shipment and parcel ids are looked up."""

    mismatches: list[tuple[int, int, VendorReservation, Verdict, str]] = field(default_factory=list)  # + why
    missing: list[tuple[int, int, str | None]] = field(default_factory=list)  # (row id, state bits, reservation id)
    unknown: list[tuple[Kind, VendorReservation, str]] = field(default_factory=list)  # orphans, stale holds


def compare(store: Store, pages: Iterable[ReservationPage], manifest: Manifest, *, vendor_id: str, now: datetime,
            soft_ttl: timedelta, can_cancel: bool) -> Comparison:
    """Run the three passes (see the module docstring)."""
    out = Comparison()
    found = _Found()
    listed = manifest.open()  # a manifest that cannot be read stops the run before the long passes
    keys: dict[int, int] = {}
    booked: dict[str, int] = {}
    out.hub_parcels = _hub_pass(hub_rows(store), vendor_id, keys, booked, found)
    out.vendor_reservations = _vendor_pass(pages, booked, found, now=now, soft_ttl=soft_ttl)
    active = {bits for bits in range(1 << STATE_BITS) if _valid(bits) and state_of(bits).effective
              in active_statuses()}
    for rid, packed in booked.items():
        if not packed & SEEN and packed & 0xFF in active:
            found.missing.append((packed >> ROW_SHIFT, packed & 0xFF, rid))
    del booked
    out.discrepancies.extend(_manifest_pass(manifest, listed, keys))
    out.manifest_rows = manifest.rows
    out.discrepancies.extend(_hub_side(store, found, keys))
    out.discrepancies.extend(_vendor_side(store, found, can_cancel))
    order = {k: i for i, k in enumerate(Kind)}
    out.discrepancies.sort(key=lambda d: (order[d.kind], d.manifest_line or 0, d.partner or "", d.shipment_ref or "",
                                          d.parcel_id or "", d.reservation_id or ""))
    return out


def _valid(bits: int) -> bool:
    return bits >> 4 < len(STATUSES) and (bits & 15) <= len(STATUSES)


def _hub_pass(rows: Iterable[HubRow], vendor_id: str, keys: dict[int, int], booked: dict[str, int],
              found: _Found) -> int:
    index = _INDEX
    active = {s.value for s in active_statuses()}
    created = ParcelStatus.CREATED.value
    n = 0
    for pk, key, status, interrupted, vendor, rid in rows:
        n += 1
        keys[int(key, 16)] = 0
        if vendor is not None and vendor != vendor_id:
            continue  # booked with another vendor: that vendor's reconciliation
        if rid is not None:
            packed = pk << ROW_SHIFT | index[status] << 4 | (index[interrupted] + 1 if interrupted else 0)
            # CREATED with a reservation: a soft hold whose confirm is pending. Booking resumes it (the vendor may
            # list it soft, booked or expired meanwhile), so it is known here but neither judged nor missed.
            booked[rid] = packed | SEEN if status == created else packed
        elif (interrupted or status) in active:
            found.missing.append((pk, state_bits(status, interrupted), None))
    return n


def _vendor_pass(pages: Iterable[ReservationPage], booked: dict[str, int], found: _Found, *, now: datetime,
                 soft_ttl: timedelta) -> int:
    effective = [state_of(b).effective if _valid(b) else None for b in range(1 << STATE_BITS)]
    verdicts: dict[tuple[int, ParcelStatus, str | None], tuple[Verdict, str]] = {}
    consistent = Verdict.CONSISTENT
    unknown_seen: set[str] = set()
    live = active_statuses() | {ParcelStatus.EXCEPTION}
    n = 0
    for page in pages:
        as_of = page.as_of or now
        for r in page.items:
            n += 1
            packed = booked.get(r.reservation_id)
            if packed is None:
                if r.reservation_id not in unknown_seen:
                    unknown_seen.add(r.reservation_id)
                    _unknown(r, as_of, soft_ttl, live, found)
                continue
            if packed & SEEN:
                continue  # listed twice by the vendor
            booked[r.reservation_id] = packed | SEEN
            bits = packed & 0xFF
            if r.status is effective[bits]:
                continue
            key = (bits, r.status, r.reason)
            verdict = verdicts.get(key)
            if verdict is None:
                verdict = verdicts[key] = judge(bits, r.status, r.reason)
            if verdict[0] is not consistent:
                found.mismatches.append((packed >> ROW_SHIFT, bits, r, verdict[0], verdict[1]))
    return n


def _unknown(r: VendorReservation, as_of: datetime, ttl: timedelta, live: frozenset[ParcelStatus],
             found: _Found) -> None:
    if r.status is ParcelStatus.CREATED:
        if r.expires_at is not None:
            if r.expires_at <= as_of:
                found.unknown.append((Kind.STALE_RESERVATION, r, (f"a soft hold that expired at "
                                      f"{r.expires_at.isoformat()} (vendor clock {as_of.isoformat()}) and was never "
                                      "confirmed; no hub parcel refers to it")))
        elif r.created_at is not None and r.created_at + ttl <= as_of:
            found.unknown.append((Kind.STALE_RESERVATION, r, (f"a soft hold without expiry, created at "
                                  f"{r.created_at.isoformat()}, older than the {_ttl(ttl)} TTL (vendor clock "
                                  f"{as_of.isoformat()}) and never confirmed; no hub parcel refers to it")))
    elif r.status in live:
        found.unknown.append((Kind.ORPHAN_BOOKING, r, (f"the vendor holds a live booking ({r.state}) at "
                              f"{r.locker_id} that no hub parcel refers to")))


def _ttl(ttl: timedelta) -> str:
    minutes = int(ttl.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def _manifest_pass(manifest: Manifest, rows: Iterator[ManifestRow], keys: dict[int, int]) -> Iterator[Discrepancy]:
    absent: dict[int, int] = {}
    codes = {s: i + 1 for i, s in enumerate(STATUSES)}
    for line, partner, ref, pid, status in rows:
        k = key_int(partner, ref, pid)
        seen = keys.get(k, -1)
        if seen == 0:
            keys[k] = line << 4 | (codes[status] if status is not None else 0)
            continue
        first = seen >> 4 if seen > 0 else absent.get(k)
        if first is not None:
            manifest.reject(line, ValidationError(
                "parcel listed twice", location=Location(manifest.file, line, 1),
                expected="each partner/shipment_ref/parcel_id once", found=f"again after line {first}"),
                partner=partner)
            continue
        absent[k] = line
        yield Discrepancy(Kind.MISSING_IN_HUB, "the TMS manifest lists this parcel; the hub never received it",
                          Action.QUARANTINE, partner=partner, shipment_ref=ref, parcel_id=pid, manifest_line=line,
                          manifest_status=status.value if status is not None else None)


def _listed(keys: dict[int, int], key: str) -> tuple[int | None, str | None]:
    seen = keys.get(int(key, 16), 0)
    if seen <= 0:
        return None, None
    code = seen & 15
    return seen >> 4, STATUSES[code - 1].value if code else None


def _parcels(store: Store, pks: list[int]) -> dict[int, tuple[str, str, str, str, str | None]]:
    """(key, partner, shipment_ref, parcel_id, locker_id) by row id, for the few parcels in discrepancies."""
    p = ParcelRow
    out: dict[int, tuple[str, str, str, str, str | None]] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(pks), CHUNK):
            chunk = pks[start:start + CHUNK]
            query = select(p.id, p.key, p.partner, p.shipment_ref, p.parcel_id, p.locker_id).where(p.id.in_(chunk))
            for pk, *rest in conn.execute(query):
                out[pk] = tuple(rest)  # type: ignore[assignment]
    return out


def _hub_side(store: Store, found: _Found, keys: dict[int, int]) -> Iterator[Discrepancy]:
    parcels = _parcels(store, sorted({m[0] for m in found.mismatches} | {m[0] for m in found.missing}))
    for pk, bits, rid in found.missing:
        key, partner, ref, pid, locker = parcels[pk]
        state = state_of(bits)
        line, status = _listed(keys, key)
        why = (f"the hub has it {state.status} at {locker or 'an unknown locker'} under reservation {rid}; the vendor "
               "lists no such reservation" if rid else
               f"the hub has it {state.status} but holds no reservation id for it")
        yield Discrepancy(Kind.MISSING_IN_VENDOR, why, Action.QUARANTINE, partner=partner, shipment_ref=ref,
                          parcel_id=pid, reservation_id=rid, locker_id=locker, manifest_line=line,
                          manifest_status=status, hub_status=state.status.value, hub_over=_over(state),
                          parcel_pk=pk)
    for pk, bits, r, verdict, why in found.mismatches:
        key, partner, ref, pid, _locker = parcels[pk]
        state = state_of(bits)
        line, status = _listed(keys, key)
        action = Action.APPLY_VENDOR_STATUS if verdict is Verdict.AHEAD else Action.QUARANTINE
        yield Discrepancy(Kind.STATUS_MISMATCH, why, action, partner=partner, shipment_ref=ref, parcel_id=pid,
                          reservation_id=r.reservation_id, locker_id=r.locker_id, manifest_line=line,
                          manifest_status=status, hub_status=state.status.value, hub_over=_over(state),
                          vendor_status=r.status.value, vendor_state=r.state, vendor_reason=r.reason, parcel_pk=pk)


def _over(state: ParcelState) -> str | None:
    return state.interrupted.value if state.interrupted is not None else None


def _vendor_side(store: Store, found: _Found, can_cancel: bool) -> Iterator[Discrepancy]:
    known = _known_reservations(store, [r.reservation_id for _, r, _ in found.unknown])
    for kind, r, why in found.unknown:
        if r.reservation_id in known:
            continue  # a booking finished while the vendor was being read
        cancel = kind is Kind.STALE_RESERVATION and can_cancel and r.kind is ReservationKind.SOFT
        yield Discrepancy(kind, why, Action.CANCEL_AT_VENDOR if cancel else Action.QUARANTINE,
                          reservation_id=r.reservation_id, locker_id=r.locker_id, vendor_status=r.status.value,
                          vendor_state=r.state, vendor_reason=r.reason)


def _known_reservations(store: Store, rids: list[str]) -> set[str]:
    known: set[str] = set()
    with store.engine.connect() as conn:
        for start in range(0, len(rids), CHUNK):
            chunk = rids[start:start + CHUNK]
            known.update(conn.scalars(select(ParcelRow.reservation_id).where(ParcelRow.reservation_id.in_(chunk))))
    return known
