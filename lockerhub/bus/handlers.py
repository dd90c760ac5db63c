"""What a worker does with each kind of message. Every effect is idempotent by its domain key.

- ``events``: a vendor status event for a reservation: applied to its parcel forward-only (deduplicated by the
  vendor's event id, resequenced by time, see :func:`lockerhub.runtime.events.record_event`), with the outbound
  status message in the same transaction. Many events are applied in one transaction; parcel rows are locked in
  reservation order so competing workers never deadlock.
- ``status``: status messages for a partner's TMS sink, written together (one file per partner per batch); the
  sink names files after the message sequence numbers and the TMS drops repeats by sequence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import String, cast, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lockerhub.errors import ConfigError, TransientError
from lockerhub.model import ParcelEvent
from lockerhub.plugins.protocols import StatusUpdate
from lockerhub.runtime.booking import HELD_FIELD, RELEASED_FIELD
from lockerhub.runtime.events import QUEUED, record_events
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.quarantine import parcel_location
from lockerhub.store import OutboxDoneRow, ParcelRow


class UnknownReservation(TransientError):
    """An event for a reservation the hub does not hold (yet): the booking may still be committing; retried."""


def _vendor_id(hub: Hub, vendor: str) -> str:
    """The vendor's name as parcels record it, once it is known to be a configured vendor."""
    if vendor not in hub.config.hub.vendors:
        raise ConfigError("vendor event for a vendor not in the hub config", expected=", ".join(hub.config.hub.vendors),
                          found=repr(vendor))
    return vendor


def locate(hub: Hub, session: Session, payloads: Sequence[dict]) -> dict[tuple[str, str], ParcelRow]:
    """The parcels vendor events are about, by (vendor name, reservation id), locked for update in reservation
    order (so competing workers lock in the same order and never deadlock)."""
    wanted: dict[str, set[str]] = {}
    for p in payloads:
        wanted.setdefault(p["vendor"], set()).add(str(p["reservation_id"]))
    found: dict[tuple[str, str], ParcelRow] = {}
    for vendor, reservations in wanted.items():
        rows = session.scalars(select(ParcelRow).where(
            ParcelRow.vendor == _vendor_id(hub, vendor), ParcelRow.reservation_id.in_(sorted(reservations)))
            .order_by(ParcelRow.reservation_id).with_for_update())
        found.update(((vendor, r.reservation_id), r) for r in rows)
    for p in payloads:
        key = (p["vendor"], str(p["reservation_id"]))
        if key not in found and not superseded(session, *key):
            raise UnknownReservation(f"no parcel holds reservation {p['reservation_id']} at {p['vendor']}")
    return found


def superseded(session: Session, vendor: str, reservation_id: str) -> bool:
    """Whether the reservation is one the hub knows but does not apply events of: a parcel's old reservation
    (released when it was re-routed), or a soft hold whose confirm is pending (the booking stage records it)."""
    needle = json.dumps(reservation_id)  # as it is written inside the parcel's JSON
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = session.scalars(select(ParcelRow).where(or_(
        ParcelRow.reservation_id == reservation_id,
        cast(ParcelRow.parcel, String).like(f"%{escaped}%", escape="\\"))))
    for row in rows:
        if row.vendor is None and row.reservation_id == reservation_id and row.parcel.get(HELD_FIELD) == vendor:
            return True
        if {"vendor": vendor, "reservation_id": reservation_id} in (row.parcel.get(RELEASED_FIELD) or []):
            return True
    return False


def apply_events(hub: Hub, session: Session, bodies: Sequence[dict]) -> list[int]:
    """Apply vendor events in one transaction (the caller's); raises on the first one that fails. Returns the ids
    of the status messages queued in the outbox (to publish once the transaction commits)."""
    payloads = [b["payload"] for b in bodies]
    rows = locate(hub, session, payloads)
    record_events(session, [(rows[p["vendor"], str(p["reservation_id"])], ParcelEvent.model_validate(p["event"]))
                            for p in payloads if (p["vendor"], str(p["reservation_id"])) in rows])  # else superseded
    mark_done(hub, session, bodies)
    session.flush()
    return [row.id for row in session.info.pop(QUEUED, [])]


def mark_done(hub: Hub, session: Session, bodies: Sequence[dict]) -> None:
    """Record that these outbox messages took effect (a restarted embedded worker re-sends only the others)."""
    ids = sorted({b["outbox_id"] for b in bodies if "outbox_id" in b})
    if not ids:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(OutboxDoneRow).values([{"outbox_id": i, "done_at": hub.clock()} for i in ids])
                    .on_conflict_do_nothing())


def event_place(hub: Hub, body: dict) -> tuple[str, str | None]:
    """Where a failed vendor event points, and the partner: its parcel when known, else its reservation."""
    payload = body.get("payload") or {}
    with hub.store.transaction() as s:
        try:
            row = next(iter(locate(hub, s, [payload]).values()))
        except Exception:  # noqa: BLE001 - a location is best effort; the error itself is reported separately
            return f"reservation {payload.get('vendor')}/{payload.get('reservation_id')}", None
        return parcel_location(row), row.partner


def write_status(hub: Hub, bodies: Sequence[dict]) -> None:
    """Write status messages through each partner's sink (one call per partner)."""
    by_partner: dict[str, list[StatusUpdate]] = {}
    for body in bodies:
        p = body["payload"]
        by_partner.setdefault(body["destination"], []).append(StatusUpdate(
            partner=body["destination"], shipment_reference=p["shipment_reference"], parcel_id=p["parcel_id"],
            event=ParcelEvent.model_validate(p["event"]), sequence=body["outbox_id"]))
    for partner, updates in by_partner.items():
        hub.partner(partner).write_status(updates)
    with hub.store.transaction() as s:
        mark_done(hub, s, bodies)
