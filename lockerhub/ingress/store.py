"""What the ingress writes: one ``vendor_event`` outbox row per event of a delivery, deduplicated by delivery id.

Row shape (the bus worker reads it)::

    OutboxRow(destination="events", kind="vendor_event", dedup_key=f"{vendor}:{delivery_id}:{i}",
              payload={"vendor", "reservation_id", "event" (ParcelEvent as JSON), "delivery_id", "received_at"})

``dedup_key`` is unique, so a delivery that comes again fails on its first row and nothing of it is written twice.
A signed delivery that cannot be read is kept in the quarantine (stage ``webhook``) and can be replayed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pydantic
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lockerhub.errors import LockerhubError, ValidationError
from lockerhub.plugins.protocols import VendorEvent
from lockerhub.runtime import quarantine
from lockerhub.runtime.hub import Hub
from lockerhub.store import OutboxRow, Store

DESTINATION = "events"
KIND = "vendor_event"


def dedup_key(vendor: str, delivery_id: str, index: int) -> str:
    return f"{vendor}:{delivery_id}:{index}"


def outbox_rows(vendor: str, delivery_id: str, events: Sequence[VendorEvent], *,
                received_at: datetime) -> list[OutboxRow]:
    return [
        OutboxRow(
            destination=DESTINATION, kind=KIND, dedup_key=dedup_key(vendor, delivery_id, i), created_at=received_at,
            payload={"vendor": vendor, "reservation_id": ev.reservation_id, "event": ev.event.model_dump(mode="json"),
                     "delivery_id": delivery_id, "received_at": received_at.isoformat()},
        )
        for i, ev in enumerate(events)
    ]


def record_delivery(store: Store, vendor: str, delivery_id: str, events: Sequence[VendorEvent], *,
                    received_at: datetime) -> bool:
    """Write a delivery's rows in one transaction; False (and nothing written) when it was recorded before."""
    try:
        with store.transaction() as s:
            s.add_all(outbox_rows(vendor, delivery_id, events, received_at=received_at))
    except IntegrityError:
        with store.transaction() as s:
            seen = s.scalar(select(OutboxRow.id).where(OutboxRow.dedup_key == dedup_key(vendor, delivery_id, 0)))
        if seen is None:  # some other constraint: not a duplicate
            raise
        return False
    return True


def parse_events(connector: Any, headers: Mapping[str, str], body: bytes) -> list[VendorEvent]:
    """The connector's reading of a delivery; every failure is a LockerhubError naming what did not fit."""
    try:
        return list(connector.parse_webhook(headers, body))
    except pydantic.ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "<root>" for e in exc.errors())
        raise ValidationError("the events do not fit the canonical parcel event", found=fields) from None


def keep(hub: Hub, vendor: str, delivery_id: str, body: bytes, error: LockerhubError) -> str:
    """Quarantine a signed delivery that could not be read (stage ``webhook``); returns the item id. Replaying it
    reads it again with the connector as it is then (:mod:`lockerhub.ingress.replay`)."""
    payload = json.dumps({"vendor": vendor, "delivery_id": delivery_id, "body": body.decode("utf-8", "replace")})
    with hub.store.transaction() as s:
        return quarantine.put(s, hub.cipher, source=f"webhook:{vendor}", partner=None,
                              location=f"webhook {vendor} delivery {delivery_id}", stage="webhook", errors=[error],
                              payload=payload).qid


def last_webhook_at(session: Session, vendor: str) -> datetime | None:
    """When the newest webhook event of ``vendor`` (a key under ``vendors:``) was accepted; None if never.

    For the polling fallback: a vendor whose webhooks fell silent is polled as if it had none."""
    escaped = vendor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return session.scalar(  # type: ignore[no-any-return]
        select(func.max(OutboxRow.created_at)).where(
            OutboxRow.kind == KIND, OutboxRow.dedup_key.like(f"{escaped}:%", escape="\\")))
