"""ShipX webhooks as hints: which shipments to fetch now (no status is taken from the body).

ShipX posts ``{"event_ts", "event": "shipment_status_changed", "organization_id", "payload": {"shipment_id",
"status", "tracking_number"}}`` without a signature, so anyone who knows the URL could send one. The body is
therefore never trusted for a status: it only says which shipment changed, and the connector's ``get_status``
(an authenticated call) says how. Errors name fields, never their values.
"""

from __future__ import annotations

from lockerhub.errors import ParseError
from lockerhub.plugins.webhooks import json_kind, json_object

BODY_SHAPE = 'a JSON object {"organization_id": ..., "payload": {"shipment_id": ...}}'


def shipment_ids(body: bytes, *, organization_id: int) -> list[str]:
    """The shipment id a delivery names, as a one-item list; ``ParseError`` when the body is not a ShipX webhook
    or names another organisation."""
    data = json_object(body, "inpost webhook: body", BODY_SHAPE)
    org = data.get("organization_id")
    if not _whole(org) or int(org) != organization_id:
        raise ParseError("inpost webhook: organization_id", expected="the configured organization_id",
                         found="another organisation" if _whole(org) else json_kind(org))
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise ParseError("inpost webhook: payload", expected="an object", found=json_kind(payload))
    shipment_id = payload.get("shipment_id")
    if not _whole(shipment_id):
        raise ParseError("inpost webhook: payload.shipment_id", expected="a shipment id (a whole number)",
                         found=json_kind(shipment_id))
    return [str(int(shipment_id))]


def _whole(value: object) -> bool:
    """A positive whole number, as ShipX sends ids (a number, or its digits as a string)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    return isinstance(value, str) and value.isdigit() and len(value) <= 20 and int(value) > 0
