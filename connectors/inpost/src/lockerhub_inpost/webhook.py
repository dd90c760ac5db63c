"""ShipX webhooks as hints: which shipments to fetch now (no status is taken from the body).

ShipX posts ``{"event_ts", "event": "shipment_status_changed", "organization_id", "payload": {"shipment_id",
"status", "tracking_number"}}`` without a signature, so anyone who knows the URL could send one. The body is
therefore never trusted for a status: it only says which shipment changed, and the connector's ``get_status``
(an authenticated call) says how. Errors name fields, never their values.
"""

from __future__ import annotations

import json
from typing import Any

from lockerhub.errors import ParseError

BODY_SHAPE = 'a JSON object {"organization_id": ..., "payload": {"shipment_id": ...}}'


def shipment_ids(body: bytes, *, organization_id: int) -> list[str]:
    """The shipment id a delivery names, as a one-item list; ``ParseError`` when the body is not a ShipX webhook
    or names another organisation."""
    data = _object(body)
    org = data.get("organization_id")
    if not _whole(org) or int(org) != organization_id:
        raise ParseError("inpost webhook: organization_id", expected="the configured organization_id",
                         found="another organisation" if _whole(org) else _kind(org))
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise ParseError("inpost webhook: payload", expected="an object", found=_kind(payload))
    shipment_id = payload.get("shipment_id")
    if not _whole(shipment_id):
        raise ParseError("inpost webhook: payload.shipment_id", expected="a shipment id (a whole number)",
                         found=_kind(shipment_id))
    return [str(int(shipment_id))]


def _whole(value: object) -> bool:
    """A positive whole number, as ShipX sends ids (a number, or its digits as a string)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    return isinstance(value, str) and value.isdigit() and len(value) <= 20 and int(value) > 0


def _object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except UnicodeDecodeError:
        raise ParseError("inpost webhook: body", expected=BODY_SHAPE, found="bytes that are not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ParseError("inpost webhook: body", expected=BODY_SHAPE,
                         found=f"invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ParseError("inpost webhook: body", expected=BODY_SHAPE, found=_kind(data))
    return data


def _kind(value: object) -> str:
    """What was found, by JSON type only (values may be anything a sender put there)."""
    if value is None:
        return "nothing"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)
