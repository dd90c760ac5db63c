"""Outbox relay onto the bus: publish committed outbox rows, then mark them published.

A row is marked only after the broker confirmed it (AMQP publisher confirms); a crash in between publishes it
again and consumers drop the repeat by its domain key (at-least-once, idempotent effect). On PostgreSQL the rows
are claimed with ``FOR UPDATE SKIP LOCKED`` so several relays can run side by side.

Status messages are published only for partners whose connector can write status; the others stay in the outbox
(the batch relay in :mod:`lockerhub.runtime.relay` reports them).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Sequence
from typing import Any

from kombu import Connection, Producer
from sqlalchemy import or_, select, update

from lockerhub.bus.topology import ROUTES, Topology
from lockerhub.plugins.protocols import Capability
from lockerhub.runtime.hub import Hub
from lockerhub.store import OutboxDoneRow, OutboxRow


def message(row: Any) -> dict:
    """The bus message of an outbox row (an ORM row or a selected id, kind, destination, payload)."""
    return {"outbox_id": row.id, "kind": row.kind, "destination": row.destination, "payload": row.payload}


def _status_partners(hub: Hub) -> list[str]:
    return [p for p in hub.config.hub.partners if Capability.WRITE_STATUS in type(hub.partner(p)).capabilities]


class Confirms:
    """Publisher confirms for a batch (AMQP): publish many, then wait until the broker has taken all of them.

    Waiting per message costs a round trip and a disk sync each (about 1,000 messages/s); per batch, the broker
    acknowledges many at once (``multiple``)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.channel = connection.channel()
        self.channel.confirm_select()
        self.sent = self.floor = 0  # every tag <= floor is confirmed ("multiple" acks)
        self.singles: set[int] = set()  # tags above floor confirmed one by one (the broker may confirm out of order)
        self.nacked = False
        self.channel.events["basic_ack"].add(self._ack)
        self.channel.events["basic_nack"].add(self._nack)

    @property
    def acked(self) -> int:
        return self.floor + len(self.singles)

    def _ack(self, tag: int, multiple: bool) -> None:
        if multiple:
            self.floor = max(self.floor, tag)
            self.singles = {t for t in self.singles if t > self.floor}
        elif tag > self.floor:
            self.singles.add(tag)

    def _nack(self, tag: int, multiple: bool) -> None:
        self.nacked = True

    def wait(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.acked < self.sent and not self.nacked:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"broker confirmed {self.acked} of {self.sent} messages in {timeout:g} s")
            try:
                self.connection.drain_events(timeout=min(left, 1.0))
            except socket.timeout:
                logging.getLogger("lockerhub.bus.relay").warning("confirms: %d of %d after %.1f s", self.acked,
                                                                 self.sent, timeout - left + 1.0)
                self.connection.heartbeat_check()
        if self.nacked:
            raise ConnectionError("the broker refused (nack) a published message")


def publish_pending(hub: Hub, topology: Topology, connection: Connection, *, batch: int = 500,
                    confirms: Confirms | None = None, ids: Sequence[int] | None = None) -> int:
    """Publish up to ``batch`` pending outbox rows (oldest first), mark them published once the broker has them
    (``confirms``: AMQP publisher confirms for the batch); returns how many were published. ``ids``: only those
    rows (a consumer publishing the messages it just committed, ahead of the relay's next poll)."""
    channel = confirms.channel if confirms else connection.default_channel
    producer = Producer(channel, exchange=topology.exchange, serializer="json")
    wanted = or_(OutboxRow.kind == "vendor_event",
                 (OutboxRow.kind == "status") & OutboxRow.destination.in_(_status_partners(hub)))
    if ids is not None:
        wanted = wanted & OutboxRow.id.in_(list(ids))
    with hub.store.transaction() as s:
        rows = s.execute(  # columns, not ORM objects: the relay is hot and needs only these
            select(OutboxRow.id, OutboxRow.kind, OutboxRow.destination, OutboxRow.payload)
            .where(OutboxRow.published_at.is_(None), wanted)
            .order_by(OutboxRow.id).limit(batch).with_for_update(skip_locked=True)).all()
        if not rows:
            return 0
        publish, declare = producer.publish, topology.queues
        for row in rows:
            publish(message(row), routing_key=ROUTES[row.kind], message_id=f"outbox-{row.id}", declare=declare)
        if confirms:
            confirms.sent += len(rows)
            confirms.wait()
        now = hub.clock()
        for kind in {row.kind for row in rows}:
            s.execute(update(OutboxRow).where(OutboxRow.id.in_([r.id for r in rows if r.kind == kind]))
                      .values(published_at=now, published_to=f"bus:{ROUTES[kind]}")
                      .execution_options(synchronize_session=False))
    return len(rows)


def requeue_unfinished(hub: Hub) -> int:
    """Mark published-but-not-done outbox rows pending again, so the relay sends them once more.

    For the embedded transport, which forgets a message once it is handed to a consumer: a worker killed before
    committing its effect would otherwise lose it. Run when the (single) embedded worker starts; consumers drop
    the repeats of messages that did take effect."""
    with hub.store.transaction() as s:
        done = select(OutboxDoneRow.outbox_id).where(OutboxDoneRow.outbox_id == OutboxRow.id)
        result = s.execute(update(OutboxRow).where(OutboxRow.published_at.is_not(None), ~done.exists(),
                                                   OutboxRow.published_to.like("bus:%"))
                           .values(published_at=None, published_to=None))
        return int(result.rowcount or 0)
