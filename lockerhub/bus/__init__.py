"""The message bus (kombu): the outbox relay publishes, workers consume.

Embedded default: kombu's SQLAlchemy transport on a SQLite file under the data dir (no server); production:
RabbitMQ via ``LOCKERHUB_BROKER_URL=amqp://...`` with publisher confirms, durable queues and persistent messages.
"""

from lockerhub.bus.relay import publish_pending
from lockerhub.bus.topology import Topology
from lockerhub.bus.worker import Worker

__all__ = ["Topology", "Worker", "publish_pending"]
