"""Replaying a dead-lettered bus message (quarantine stage ``bus``): its effect is applied again, as a worker
would. Effects are idempotent by domain key (a vendor event recorded before is a duplicate; status files are
named by message sequence), so a replay never doubles anything; nothing here calls a vendor.

Registered through the ``lockerhub.replayers`` entry point (see :mod:`lockerhub.runtime.replay`).
"""

from __future__ import annotations

import json

from lockerhub.bus import handlers
from lockerhub.errors import LockerhubError
from lockerhub.runtime.quarantine import QuarantineItem
from lockerhub.runtime.replay import Done, ReplayContext


def replay_bus(ctx: ReplayContext, item: QuarantineItem) -> Done:
    try:
        kept = json.loads(item.payload or "")
        queue, body = kept["queue"], kept["body"]
    except (ValueError, KeyError, TypeError):
        raise LockerhubError(f"{item.qid}: the kept message is not a bus message", expected='{"queue", "body"}',
                             found=(item.payload or "")[:40]) from None
    if queue == "events":
        with ctx.hub.store.transaction() as s:
            handlers.apply_events(ctx.hub, s, [body])
        return Done("applied", "vendor event applied (forward-only; a repeat is a no-op)")
    if queue == "status":
        if ctx.dry_run:
            return Done("would_write", f"would write status message {body.get('outbox_id')} for "
                                       f"{body.get('destination')}")
        handlers.write_status(ctx.hub, [body])
        return Done("written", f"status message {body.get('outbox_id')} written for {body.get('destination')}")
    raise LockerhubError(f"{item.qid}: unknown bus queue", expected="events or status", found=repr(queue))
