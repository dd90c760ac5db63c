"""The webhook ingress: a FastAPI app that verifies, deduplicates and durably records vendor webhooks.

``POST /webhooks/{vendor}`` (``vendor`` = a key under ``vendors:`` in the hub config) hands headers and body to the
vendor connector's ``verify_webhook`` and ``parse_webhook`` and writes one outbox row per event, all in one
transaction, before answering 202; a delivery seen before answers 200 and writes nothing. A bus worker applies the
events later. ``lockerhub serve CONFIG`` runs it.
"""

from lockerhub.ingress.app import create_app
from lockerhub.ingress.settings import IngressSettings
from lockerhub.ingress.store import last_webhook_at, record_delivery

__all__ = ["IngressSettings", "create_app", "last_webhook_at", "record_delivery"]
