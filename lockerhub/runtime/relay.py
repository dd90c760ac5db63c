"""Outbox relay: publish pending status messages to each partner's TMS sink, then mark them published.

Partners whose connector has no ``write_status`` capability keep their messages in the outbox (counted in the
report) until it has one. The sink writes deterministic, atomically replaced files named after the message sequence numbers, so a crash
between writing and marking only rewrites the same file on the next run (at-least-once, idempotent effect).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from lockerhub.errors import ConfigError
from lockerhub.model import ParcelEvent
from lockerhub.plugins.protocols import Capability, StatusUpdate
from lockerhub.runtime.hub import Hub
from lockerhub.store import OutboxRow


@dataclass(slots=True)
class RelayReport:
    published: int = 0
    files: list[Path] = field(default_factory=list)
    waiting: dict[str, int] = field(default_factory=dict)  # partner -> messages kept for lack of a status sink


def _keep(hub: Hub, partner: str, report: RelayReport) -> None:
    """Record how many of ``partner``'s messages stay in the outbox (all of them, not one batch)."""
    with hub.store.transaction() as s:
        waiting = s.scalar(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.destination == partner, OutboxRow.published_at.is_(None)))
    if waiting:
        report.waiting[partner] = int(waiting)


def relay_outbox(hub: Hub, *, batch: int = 5000) -> RelayReport:
    report = RelayReport()
    for partner in hub.config.hub.partners:
        sink = hub.partner(partner)
        if Capability.WRITE_STATUS not in type(sink).capabilities:
            # The partner's connector cannot send status (yet): keep the messages in the outbox, count them.
            _keep(hub, partner, report)
            continue
        while True:
            with hub.store.transaction() as s:
                rows = list(s.scalars(
                    select(OutboxRow).where(OutboxRow.destination == partner, OutboxRow.published_at.is_(None))
                    .order_by(OutboxRow.id).limit(batch)))
                if not rows:
                    break
                updates = [
                    StatusUpdate(partner=partner, shipment_reference=r.payload["shipment_reference"],
                                 parcel_id=r.payload["parcel_id"],
                                 event=ParcelEvent.model_validate(r.payload["event"]), sequence=r.id)
                    for r in rows
                ]
                try:
                    paths = sink.write_status(updates)
                except ConfigError:  # e.g. no outbox configured: nothing is marked, the messages stay
                    paths = None
                else:
                    now = hub.clock()
                    for r in rows:
                        r.published_at, r.published_to = now, ",".join(p.name for p in paths)
            if paths is None:
                _keep(hub, partner, report)
                break
            report.published += len(rows)
            report.files.extend(paths)
    return report
