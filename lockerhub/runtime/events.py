"""Applying status events to parcels: dedup by source event id, forward-only, outbox in the same transaction.

Per-parcel resequencing: an event that arrives after a later one (its ``occurred_at`` is older than the newest
event recorded for the parcel) is recorded, then the parcel's state is recomputed by folding all its events in
time order. Webhooks that arrive shuffled therefore give the same final state as the same webhooks in order,
e.g. REDIRECTED then IN_TRANSIT (re-dispatched) ends IN_TRANSIT whichever comes first.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from lockerhub.errors import LockerhubError, TransitionError
from lockerhub.model import Outcome, ParcelEvent, ParcelState, ParcelStatus, apply_event, lifecycle
from lockerhub.store import EventRow, OutboxRow, ParcelRow

QUEUED = "lockerhub.outbox_queued"  # session.info key: the outbox rows this session added
RESEQUENCED = "resequenced"  # a held event a later fold applied; the fold's one status message covers it


def state_of(row: ParcelRow) -> ParcelState:
    return ParcelState(ParcelStatus(row.status), ParcelStatus(row.interrupted) if row.interrupted else None)


def record_event(session: Session, row: ParcelRow, event: ParcelEvent) -> Outcome:
    """Record ``event`` for the parcel and apply it forward-only.

    A source event id seen before is a duplicate delivery and is not recorded again. Applied changes add an
    outbox message for the partner's TMS in the same transaction. Raises TransitionError for forbidden moves.
    """
    return record_events(session, [(row, event)])[0]


def record_events(session: Session, items: Sequence[tuple[ParcelRow, ParcelEvent]]) -> list[Outcome]:
    """:func:`record_event` for many events at once, in order, with two queries for all of them (what the bus
    worker does with a batch). Raises on the first event that cannot be applied; the caller rolls back."""
    pks = {row.id for row, _ in items}
    ids = {e.event_id for _, e in items if e.event_id is not None}
    seen = set(session.execute(select(EventRow.parcel_pk, EventRow.source, EventRow.source_event_id).where(
        EventRow.parcel_pk.in_(pks), EventRow.source_event_id.in_(ids))).all()) if ids else set()
    held_count = func.sum(case((EventRow.outcome == Outcome.HELD.value, 1), else_=0))
    known = {pk: (newest, held) for pk, newest, held in session.execute(
        select(EventRow.parcel_pk, func.max(EventRow.occurred_at), held_count)
        .where(EventRow.parcel_pk.in_(pks)).group_by(EventRow.parcel_pk)).all()}
    outcomes: list[Outcome] = []
    for row, event in items:
        key = (row.id, event.source, event.event_id)
        if event.event_id is not None and key in seen:
            outcomes.append(Outcome.DUPLICATE)
            continue
        newest, held = known.get(row.id, (None, 0))
        if held or (newest is not None and event.occurred_at < newest):
            session.flush()
            outcome = _resequence(session, row, event)
        else:
            outcome = _apply(session, row, event)
        known[row.id] = (max(newest, event.occurred_at) if newest else event.occurred_at,
                         _held(session, row) if outcome is Outcome.HELD or held else 0)
        outcomes.append(outcome)
        seen.add(key)
    session.flush()
    return outcomes


def _apply(session: Session, row: ParcelRow, event: ParcelEvent) -> Outcome:
    """The common case: an event newer than all the parcel's others, applied to its current state."""
    try:
        outcome, new_state = apply_event(state_of(row), event.status, event.reason)
    except TransitionError:
        if not _ahead(state_of(row), event.status):
            raise
        outcome, new_state = Outcome.HELD, state_of(row)
    _add_event(session, row, event, outcome)
    if outcome is Outcome.APPLIED:
        _change(session, row, new_state, event)
    return outcome


def _ahead(state: ParcelState, target: ParcelStatus) -> bool:
    """A forbidden move forward (BOOKED -> RETURNING) means events in between are missing: hold it. A forbidden
    move at the same or a terminal rank (COLLECTED -> CANCELLED) is a real conflict: the caller quarantines it."""
    table = lifecycle()
    rank, current = table.rank[target], table.rank[state.effective]
    return rank is not None and current is not None and rank > current and state.status not in table.terminal


def _held(session: Session, row: ParcelRow) -> int:
    session.flush()
    return int(session.scalar(select(func.count()).select_from(EventRow).where(
        EventRow.parcel_pk == row.id, EventRow.outcome == Outcome.HELD.value)) or 0)


def _add_event(session: Session, row: ParcelRow, event: ParcelEvent, outcome: Outcome) -> EventRow:
    added = EventRow(
        parcel_pk=row.id, status=event.status.value, outcome=outcome.value, reason=event.reason,
        occurred_at=event.occurred_at, source=event.source, source_event_id=event.event_id,
        raw_code=event.raw_code, locker_id=event.locker_id,
    )
    session.add(added)
    return added


def _change(session: Session, row: ParcelRow, state: ParcelState, event: ParcelEvent) -> None:
    """Move the parcel to ``state`` and queue the status message ``event`` for the partner's TMS."""
    row.status = state.status.value
    row.interrupted = state.interrupted.value if state.interrupted else None
    row.reason = event.reason
    message = OutboxRow(destination=row.partner, kind="status",
                        payload={"shipment_reference": row.shipment_ref, "parcel_id": row.parcel_id,
                                 "event": event.model_dump(mode="json")})
    session.add(message)
    session.info.setdefault(QUEUED, []).append(message)  # for a publisher that sends them as soon as committed


def _resequence(session: Session, row: ParcelRow, event: ParcelEvent) -> Outcome:
    """A late event, or a parcel with held events: record the event, fold every event of the parcel in time
    order, and apply the result if it differs from the current state: one status message, for the event that
    decided it (recorded ``applied``). Held events the fold could apply are settled (``resequenced``, or ``stale``);
    the others stay held."""
    lifecycle().check_reason(event.status, event.reason)
    arrived = _add_event(session, row, event, Outcome.STALE)
    session.flush()
    history = session.scalars(select(EventRow).where(EventRow.parcel_pk == row.id)
                              .order_by(EventRow.occurred_at, EventRow.id)).all()
    state, deciding = ParcelState(), None
    for past in history:
        try:
            outcome, folded = apply_event(state, past.status, past.reason)
        except LockerhubError:  # still ahead of a gap, or impossible in this order
            if past.outcome == Outcome.HELD.value or (past is arrived and _ahead(state, ParcelStatus(past.status))):
                past.outcome = Outcome.HELD.value
            continue
        if outcome is Outcome.APPLIED:
            state, deciding = folded, past
        if past.outcome == Outcome.HELD.value:  # settled: its move is part of the one message below
            past.outcome = RESEQUENCED if outcome is Outcome.APPLIED else Outcome.STALE.value
    if state == state_of(row) or deciding is None:
        return Outcome(arrived.outcome)
    arrived.outcome = Outcome.APPLIED.value
    _change(session, row, state, event if deciding is arrived else ParcelEvent(
        status=ParcelStatus(deciding.status), reason=deciding.reason, occurred_at=deciding.occurred_at,
        source=deciding.source, event_id=deciding.source_event_id, raw_code=deciding.raw_code,
        locker_id=deciding.locker_id))
    session.flush()
    return Outcome.APPLIED
