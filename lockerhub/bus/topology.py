"""Exchange, queues and connections: one direct exchange, one durable queue per kind of work.

| queue                | routing key | what                                                         |
|----------------------|-------------|--------------------------------------------------------------|
| ``<prefix>.events``  | ``events``  | vendor status events (webhooks) to apply to parcels          |
| ``<prefix>.status``  | ``status``  | status messages for partners' TMS sinks (X12 214, IFTSTA, CSV) |

The prefix (``LOCKERHUB_BUS_PREFIX``, default ``lockerhub``) lets several hubs, or test runs, share one broker.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property

from kombu import Connection, Exchange, Queue

ROUTES = {"vendor_event": "events", "status": "status"}  # outbox kind -> routing key


@dataclass(frozen=True)
class Topology:
    url: str
    prefix: str = "lockerhub"

    @cached_property
    def exchange(self) -> Exchange:
        return Exchange(self.prefix, type="direct", durable=True, delivery_mode="persistent")

    def queue(self, key: str) -> Queue:
        return Queue(f"{self.prefix}.{key}", self.exchange, routing_key=key, durable=True)

    @cached_property
    def queues(self) -> list[Queue]:
        return [self.queue(key) for key in sorted(set(ROUTES.values()))]

    @property
    def is_amqp(self) -> bool:
        return self.url.split("://", 1)[0] in {"amqp", "amqps", "pyamqp"}

    def connect(self) -> Connection:
        """A new connection (the relay asks AMQP brokers for publisher confirms, see :class:`~.relay.Confirms`)."""
        if self.is_amqp:
            return Connection(self.url, heartbeat=30)
        # kombu's SQLAlchemy transport declares a relationship with ``lazy="noload"``, deprecated in SQLAlchemy 2.1
        warnings.filterwarnings("ignore", message=r"The ``noload`` loader strategy is deprecated")
        connection = Connection(self.url)
        connection.transport.polling_interval = 0.01  # the embedded transport polls its table
        return connection

    def open(self) -> Connection:
        """A connection that is up, with the exchange and queues declared (a broker that is away raises)."""
        connection = self.connect()
        try:
            connection.ensure_connection(max_retries=3)
            self.declare(connection)
        except BaseException:
            connection.release()
            raise
        return connection

    def masked_url(self) -> str:
        return Connection(self.url).as_uri(include_password=False)

    def declare(self, connection: Connection) -> None:
        channel = connection.default_channel
        for queue in self.queues:
            queue.bind(channel).declare()
