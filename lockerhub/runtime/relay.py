"""Outbox relay: publish pending status messages to each partner's TMS sink, then mark them published.

Partners whose connector has no ``write_status`` capability keep their messages in the outbox (counted in the
report) until it has one. The sink writes deterministic, atomically replaced files named after the message sequence
numbers, so a crash between writing and marking only rewrites the same file on the next run (at-least-once,
idempotent effect).

A sink that calls the partner (SOAP) may fail for one message: the batch is then sent one message at a time. A
message the partner refuses (a SOAP fault, or any error a retry cannot fix) is quarantined at stage ``bus``, as the
bus worker dead-letters it, with the partner's answer, and marked published so the rest flow; ``lockerhub
quarantine replay`` sends it again. A transient failure (timeout, 503) stops the partner's relay for this run: the
message and those after it stay pending, in order, for the next run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lockerhub.errors import ConfigError, LockerhubError, TransientError
from lockerhub.model import ParcelEvent
from lockerhub.plugins.protocols import Capability, StatusUpdate
from lockerhub.runtime import quarantine
from lockerhub.runtime.hub import Hub
from lockerhub.store import OutboxRow

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class RelayReport:
    published: int = 0
    files: list[Path] = field(default_factory=list)
    waiting: dict[str, int] = field(default_factory=dict)  # partner -> messages kept for lack of a status sink
    refused: list[str] = field(default_factory=list)  # quarantine ids of messages a partner refused
    deferred: dict[str, str] = field(default_factory=dict)  # partner -> the transient failure that stopped it


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
        while partner not in report.deferred:
            with hub.store.transaction() as s:
                rows = list(s.scalars(
                    select(OutboxRow).where(OutboxRow.destination == partner, OutboxRow.published_at.is_(None))
                    .order_by(OutboxRow.id).limit(batch)))
                if not rows:
                    break
                try:
                    paths = sink.write_status([_update(partner, r) for r in rows])
                except ConfigError:  # e.g. no outbox configured: nothing is marked, the messages stay
                    paths = None
                except LockerhubError:  # the partner refused one of them, or is unreachable: one at a time
                    paths = _one_by_one(hub, s, sink, partner, rows, report)
                else:
                    now = hub.clock()
                    for r in rows:
                        r.published_at, r.published_to = now, ",".join(p.name for p in paths)
                    report.published += len(rows)
            if paths is None:
                _keep(hub, partner, report)
                break
            report.files.extend(paths)
    return report


def _update(partner: str, row: OutboxRow) -> StatusUpdate:
    return StatusUpdate(partner=partner, shipment_reference=row.payload["shipment_reference"],
                        parcel_id=row.payload["parcel_id"], event=ParcelEvent.model_validate(row.payload["event"]),
                        sequence=row.id)


def _one_by_one(hub: Hub, session: Session, sink: Any, partner: str, rows: list[OutboxRow],
                report: RelayReport) -> list[Path]:
    """Send each message alone (rows are locked in ``session``): refused ones are quarantined and marked; a
    transient failure stops the partner for this run (``report.deferred``), the rest staying pending in order."""
    from lockerhub.bus.relay import message

    paths: list[Path] = []
    for row in rows:
        try:
            written = sink.write_status([_update(partner, row)])
        except TransientError as exc:
            report.deferred[partner] = exc.render()
            logger.warning("status messages for %s deferred from %d on: %s", partner, row.id, exc.message)
            break
        except ConfigError:
            raise
        except LockerhubError as exc:
            kept = quarantine.put(session, hub.cipher, source="relay:status", partner=partner,
                                  location=f"status message {row.id} for {partner}", stage="bus", errors=[exc],
                                  payload=json.dumps({"queue": "status", "body": message(row)}, sort_keys=True))
            report.refused.append(kept.qid)
            row.published_at, row.published_to = hub.clock(), f"quarantine:{kept.qid}"
            logger.warning("status message %d for %s refused, quarantined as %s: %s", row.id, partner, kept.qid,
                           exc.message)
            continue
        row.published_at, row.published_to = hub.clock(), ",".join(p.name for p in written)
        report.published += 1
        paths.extend(written)
    return paths
