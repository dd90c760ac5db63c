"""Replaying a kept webhook delivery (quarantine stage ``webhook``): read again with the vendor's connector as it
is now (a crosswalk that learnt a new event code), then recorded as the ingress records it, deduplicated by its
delivery id, so a replay never records an event twice. Registered through the ``lockerhub.replayers`` entry point.
"""

from __future__ import annotations

import json

from lockerhub.errors import LockerhubError
from lockerhub.ingress.store import parse_events, record_delivery
from lockerhub.runtime.quarantine import QuarantineItem
from lockerhub.runtime.replay import Done, ReplayContext


def replay_webhook(ctx: ReplayContext, item: QuarantineItem) -> Done:
    try:
        kept = json.loads(item.payload or "")
        vendor, delivery_id, body = kept["vendor"], kept["delivery_id"], kept["body"].encode()
    except (ValueError, KeyError, TypeError, AttributeError):
        raise LockerhubError(f"{item.qid}: the kept delivery is not readable",
                             expected='{"vendor", "delivery_id", "body"}', found=(item.payload or "")[:40]) from None
    if vendor not in ctx.hub.config.hub.vendors:
        raise LockerhubError(f"{item.qid}: vendor '{vendor}' is no longer configured", hint="discard the item")
    events = parse_events(ctx.hub.connector("vendors", vendor), {}, body)
    if ctx.dry_run:
        return Done("would_accept", f"{len(events)} event(s) would be recorded")
    if not record_delivery(ctx.hub.store, vendor, delivery_id, events, received_at=ctx.hub.clock()):
        return Done("duplicate", "this delivery was recorded before: nothing to do")
    return Done("accepted", f"{len(events)} event(s) recorded for the workers")
