"""Replaying a refused createShipment push (quarantine stage ``soap``): the kept request (its payload, never its
security header) is mapped again with the partner's inbound mapping of today and taken in as the push would have
been. Its delivery id is the same, so a shipment created meanwhile by the TMS sending it again is not doubled.

Registered through the ``lockerhub.replayers`` entry point (see :mod:`lockerhub.runtime.replay`).
"""

from __future__ import annotations

from lockerhub.runtime.quarantine import QuarantineItem
from lockerhub.runtime.replay import Done, ReplayContext, take_in
from lockerhub_soap import safexml
from lockerhub_soap.inbound import delivery_of


def replay_push(ctx: ReplayContext, item: QuarantineItem) -> Done:
    partner = item.partner or ""
    payload = safexml.parse(item.payload or "", file=item.qid)
    record = ctx.hub.partner(partner).inbound.record(payload, partner=partner, file=item.qid)
    return take_in(ctx, item, [(record, delivery_of(payload))])
