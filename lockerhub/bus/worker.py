"""``lockerhub worker``: the outbox relay and the bus consumers in one process.

Guarantees (tested in ``tests/integration/test_bus_*.py`` on RabbitMQ and PostgreSQL):

- A message is acknowledged only after its effect is committed. A worker killed at any moment leaves its
  unacknowledged messages to the broker, which delivers them again; effects are idempotent by domain key.
- Messages are taken ``prefetch`` at a time and applied in batches (one transaction per batch, up to ``batch``
  messages or ``max_wait_s`` of waiting); a batch that fails is retried message by message, so one bad message
  does not hold up the others.
- A message that fails with a transient error (database busy, reservation not known yet, vendor down) is retried
  with exponential backoff and full jitter, held unacknowledged by this worker meanwhile; after
  ``max_attempts`` it is dead-lettered to the quarantine (stage ``bus``) and acknowledged. An error no retry can
  fix (a forbidden status change, a bad message) goes to the quarantine at once.
- SIGTERM/SIGINT: stop taking messages, finish the batch in hand, acknowledge it, and close; messages still
  waiting for a retry go back to the broker. A lost broker connection is re-established with back-off.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kombu import Connection, Consumer, Message
from sqlalchemy.exc import DBAPIError

from lockerhub.bus import handlers
from lockerhub.bus.relay import Confirms, publish_pending, requeue_unfinished
from lockerhub.bus.topology import ROUTES, Topology
from lockerhub.errors import LockerhubError, TransientError
from lockerhub.runtime import quarantine
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.retry import RetryPolicy

logger = logging.getLogger("lockerhub.bus.worker")


@dataclass
class WorkerStats:
    applied: int = 0
    retried: int = 0
    dead_lettered: int = 0
    quarantined: int = 0
    published: int = 0
    reconnects: int = 0


@dataclass
class Worker:
    hub: Hub
    topology: Topology
    queues: tuple[str, ...] = ("events", "status")
    relay: bool = True
    prefetch: int = 256
    batch: int = 200
    max_wait_s: float = 0.02
    relay_poll_s: float = 0.01
    max_attempts: int = 5
    retry: RetryPolicy = field(default_factory=RetryPolicy)  # its back-off (base, cap, jitter) paces retries
    on_batch: Callable[[int], None] | None = None  # called with the number of messages acknowledged
    on_ready: Callable[[], None] | None = None  # called once the signal handlers are in place
    stats: WorkerStats = field(default_factory=WorkerStats)
    _stop: threading.Event = field(default_factory=threading.Event)
    _buffer: list[tuple[str, dict, Message]] = field(default_factory=list)
    _buffered_at: float = 0.0
    _delayed: list[tuple[float, int, str, dict, Message, int]] = field(default_factory=list)
    _seq: itertools.count = field(default_factory=itertools.count)
    _publisher: tuple[Connection, Confirms | None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def stop(self, *_: object) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> WorkerStats:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        if self.on_ready:
            self.on_ready()
        if self.relay and not self.topology.is_amqp:
            requeued = requeue_unfinished(self.hub)
            if requeued:
                logger.info("embedded bus: %d message(s) in flight when the last worker stopped are sent again",
                            requeued)
        relay = threading.Thread(target=self._relay_loop, name="lockerhub-relay", daemon=True) if self.relay else None
        if relay:
            relay.start()
        try:
            self._consume_loop()
        finally:
            self._stop.set()
            if relay:
                relay.join(timeout=30)
        return self.stats

    def _pause(self, attempt: int) -> None:
        self._stop.wait(min(self.retry.cap_s, self.retry.base_s * 2 ** min(attempt, 10)))

    # -- relay -------------------------------------------------------------------------------------------------
    def _relay_loop(self) -> None:
        failures = 0
        while not self.stopping:
            try:
                with self.topology.open() as conn:
                    confirms = Confirms(conn) if self.topology.is_amqp else None
                    failures = 0
                    while not self.stopping:
                        conn.heartbeat_check()
                        published = publish_pending(self.hub, self.topology, conn, confirms=confirms)
                        self.stats.published += published
                        if not published:
                            self._stop.wait(self.relay_poll_s)
            except Exception as exc:  # noqa: BLE001 - broker or database away: log, back off, reconnect
                failures += 1
                logger.warning("outbox relay: %s; retrying", _describe(exc))
                self._pause(failures)

    # -- consumers ---------------------------------------------------------------------------------------------
    def _consume_loop(self) -> None:
        failures = 0
        while not self.stopping:
            try:
                with self.topology.open() as conn:
                    channel = conn.channel()
                    channel.basic_qos(0, self.prefetch, False)
                    self._publisher = (conn, Confirms(conn) if self.topology.is_amqp else None)
                    queues = [self.topology.queue(q) for q in self.queues]
                    with Consumer(channel, queues, callbacks=[self._receive], accept=["json"]):
                        failures = 0
                        while not self.stopping:
                            idle = False
                            try:
                                conn.drain_events(timeout=self.max_wait_s)
                            except socket.timeout:
                                idle = True
                                conn.heartbeat_check()
                            self._flush(idle)
                        self._flush(True)  # graceful stop: finish what is in hand
            except Exception as exc:  # noqa: BLE001 - connection lost: unacked messages return to the broker
                self._publisher = None
                self._buffer.clear()
                self._delayed.clear()
                if self.stopping:
                    break
                failures += 1
                self.stats.reconnects += 1
                logger.warning("bus consumer: %s; reconnecting", _describe(exc))
                self._pause(failures)

    def _receive(self, body: dict, message: Message) -> None:
        if not self._buffer:
            self._buffered_at = time.monotonic()
        self._buffer.append((ROUTES.get(body.get("kind"), "events"), body, message))

    def _flush(self, idle: bool) -> None:
        now = time.monotonic()
        while self._delayed and self._delayed[0][0] <= now:
            _, _, queue, body, message, attempt = heapq.heappop(self._delayed)
            self._one(queue, body, message, attempt)
        if not self._buffer or not (idle or len(self._buffer) >= self.batch
                                    or now - self._buffered_at >= self.max_wait_s):
            return
        taken, self._buffer = self._buffer, []
        for queue in ("events", "status"):
            group = [(b, m) for q, b, m in taken if q == queue]
            if group:
                self._batch(queue, group)

    def _effect(self, queue: str, bodies: list[dict]) -> None:
        if queue == "events":
            with self.hub.store.transaction() as s:
                queued = handlers.apply_events(self.hub, s, bodies)
            self._publish_now(queued)
        else:
            handlers.write_status(self.hub, bodies)

    def _publish_now(self, ids: list[int]) -> None:
        """Publish the status messages just committed, ahead of the relay's next poll (saves a hop of latency and
        the relay's work); any that fail here stay pending and the relay sends them."""
        if not ids or self._publisher is None:
            return
        try:
            publish_pending(self.hub, self.topology, self._publisher[0], confirms=self._publisher[1], ids=ids)
        except Exception as exc:  # noqa: BLE001 - the relay will publish them
            logger.warning("publishing %d status message(s) at once failed (%s); the relay sends them", len(ids),
                           _describe(exc))

    def _batch(self, queue: str, group: list[tuple[dict, Message]]) -> None:
        try:
            self._effect(queue, [b for b, _ in group])
        except Exception:  # noqa: BLE001 - one message spoiled the batch: go one by one to find it
            for body, message in group:
                self._one(queue, body, message, 0)
            return
        for _, message in group:
            message.ack()
        self.stats.applied += len(group)
        if self.on_batch:
            self.on_batch(len(group))

    def _one(self, queue: str, body: dict, message: Message, attempt: int) -> None:
        try:
            self._effect(queue, [body])
        except Exception as exc:  # noqa: BLE001 - sorted below: fix-by-retry, fix-by-hand, or a bad message
            if isinstance(exc, LockerhubError) and not isinstance(exc, TransientError):
                # no retry can fix it: a forbidden status change, a vendor or partner not configured
                self._dead_letter(queue, body, exc, attempts=attempt + 1,
                                  stage="status" if queue == "events" else "bus")
            elif isinstance(exc, (KeyError, TypeError, ValueError)):
                self._dead_letter(queue, body, exc, attempts=attempt + 1)  # a malformed message
            elif attempt + 1 >= self.max_attempts:
                self._dead_letter(queue, body, exc, attempts=attempt + 1)
            else:  # transient (database busy, reservation not known yet) or unexpected: retried with back-off
                delay = self.retry.delay(attempt, exc.retry_after if isinstance(exc, TransientError) else None)
                heapq.heappush(self._delayed, (time.monotonic() + delay, next(self._seq), queue, body, message,
                                               attempt + 1))
                self.stats.retried += 1
                return
        else:
            self.stats.applied += 1
        message.ack()
        if self.on_batch:
            self.on_batch(1)

    def _dead_letter(self, queue: str, body: dict, exc: Exception, *, attempts: int, stage: str = "bus") -> None:
        error = exc if isinstance(exc, LockerhubError) else LockerhubError(f"{queue} message: {_describe(exc)}")
        errors: list[LockerhubError | str] = [error]
        if attempts > 1:
            errors.append(f"gave up after {attempts} attempts on the {queue} queue")
        location, partner = handlers.event_place(self.hub, body) if queue == "events" else (
            f"status message {body.get('outbox_id')} for {body.get('destination')}", body.get("destination"))
        # stage "status" keeps the event alone (as polling does); stage "bus" keeps the whole message to replay
        payload = json.dumps(body["payload"]["event"]) if stage == "status" else json.dumps(
            {"queue": queue, "body": body}, sort_keys=True)
        with self.hub.store.transaction() as s:
            quarantine.put(s, self.hub.cipher, source=f"bus:{queue}", partner=partner, location=location,
                           stage=stage, errors=errors, payload=payload)
            handlers.mark_done(self.hub, s, [body])  # handled: the quarantine holds it now
        if stage == "bus":
            self.stats.dead_lettered += 1
        else:
            self.stats.quarantined += 1
        logger.warning("%s message quarantined (%s): %s", queue, stage, error.message)


def _describe(exc: BaseException) -> str:
    """One line, class and message, no traceback, no SQL parameters (they may hold PII)."""
    if isinstance(exc, DBAPIError):
        return f"{type(exc).__name__}: {type(exc.orig).__name__}"
    if isinstance(exc, LockerhubError):
        return exc.render()
    return f"{type(exc).__name__}: {exc}"
