"""Applying status events to parcels: dedup by source event id, forward-only, outbox in the same transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lockerhub.model import Outcome, ParcelEvent, ParcelState, ParcelStatus, apply_event
from lockerhub.store import EventRow, OutboxRow, ParcelRow


def state_of(row: ParcelRow) -> ParcelState:
    return ParcelState(ParcelStatus(row.status), ParcelStatus(row.interrupted) if row.interrupted else None)


def record_event(session: Session, row: ParcelRow, event: ParcelEvent) -> Outcome:
    """Record ``event`` for the parcel and apply it forward-only.

    A source event id seen before is a duplicate delivery and is not recorded again. Applied changes add an
    outbox message for the partner's TMS in the same transaction. Raises TransitionError for forbidden moves.
    """
    if event.event_id is not None:
        seen = session.scalar(
            select(EventRow.id).where(EventRow.parcel_pk == row.id, EventRow.source == event.source,
                                      EventRow.source_event_id == event.event_id)
        )
        if seen is not None:
            return Outcome.DUPLICATE
    outcome, new_state = apply_event(state_of(row), event.status, event.reason)
    session.add(EventRow(
        parcel_pk=row.id, status=event.status.value, outcome=outcome.value, reason=event.reason,
        occurred_at=event.occurred_at, source=event.source, source_event_id=event.event_id,
        raw_code=event.raw_code, locker_id=event.locker_id,
    ))
    if outcome is Outcome.APPLIED:
        row.status = new_state.status.value
        row.interrupted = new_state.interrupted.value if new_state.interrupted else None
        row.reason = event.reason
        session.add(OutboxRow(
            destination=row.partner, kind="status",
            payload={"shipment_reference": row.shipment_ref, "parcel_id": row.parcel_id,
                     "event": event.model_dump(mode="json")},
        ))
    session.flush()
    return outcome
