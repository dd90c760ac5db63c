"""GLS callbacks (ParcelUpdates, LockerUpdates): verify a delivery and read it (no status mapping here).

GLS/NXT documents the callback bodies but not how a carrier can tell they are genuine, so the signature is
lockerhub's emulation (the bundled simulator signs this way)::

    X-GLS-Timestamp: <unix seconds>
    X-GLS-Delivery: <delivery id, the same on every retry and duplicate of one delivery>
    X-GLS-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{delivery}.".encode() + body)>[,sha256=<hex>]

The signature is checked first (constant time, every ``sha256=`` given, so a sender may sign with an old and a new
secret while rotating), then the timestamp against the replay window. The delivery id is signed with the body, so a
forged one fails the signature. Errors name headers and fields, never their values.

ParcelUpdates body: one parcel (``carrierParcelId``, ``carrierLockerId``, ``shipmentUid``, ``shipmentStatus``,
``eventTimestamp``, ``events: [{timestamp, eventType}]``, ...). LockerUpdates body: one locker as ``GET /lockers``
lists it (``carrier.lockerId``, ``carrier.status``, ...) plus ``eventTimestamp``; a JSON array of them is read too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lockerhub.errors import AuthError, MappingError, ParseError
from lockerhub.model import LockerState
from lockerhub.plugins.webhooks import check_replay_window, header, json_kind, load_json

SIGNATURE_HEADER = "X-GLS-Signature"
TIMESTAMP_HEADER = "X-GLS-Timestamp"
DELIVERY_HEADER = "X-GLS-Delivery"
LOCKER_STATES: dict[str, LockerState] = {
    "ACTIVE": LockerState.ONLINE, "INACTIVE": LockerState.OFFLINE, "MAINTENANCE": LockerState.MAINTENANCE,
    "DECOMMISSIONED": LockerState.OFFLINE,
}
_DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_HEX = re.compile(r"[0-9a-f]{64}")
PARCEL_SHAPE = 'a JSON object {"carrierParcelId", "shipmentStatus", "eventTimestamp", "events": [...], ...}'
LOCKER_SHAPE = 'a JSON object {"carrier": {"lockerId", "status"}, ...} or a list of them'


def verify(headers: Mapping[str, str], body: bytes, *, secret: str, tolerance_s: float, now: datetime) -> str:
    """Check signature and replay window; return the delivery id (see the module docstring for the order)."""
    signature = header(headers, SIGNATURE_HEADER)
    if signature is None:
        raise AuthError(f"gls callback: missing {SIGNATURE_HEADER} header")
    macs = [part.strip()[len("sha256="):] for part in signature.split(",") if part.strip().startswith("sha256=")]
    macs = [mac for mac in macs if _HEX.fullmatch(mac)]
    stamp = header(headers, TIMESTAMP_HEADER) or ""
    if not macs or not stamp.isdigit() or len(stamp) > 12:
        raise AuthError(f"gls callback: malformed {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header",
                        expected=f"{SIGNATURE_HEADER}: sha256=<64 hex digits>, {TIMESTAMP_HEADER}: <unix seconds>")
    delivery_id = header(headers, DELIVERY_HEADER)
    if delivery_id is None or not _DELIVERY_ID.fullmatch(delivery_id):
        raise ParseError(f"gls callback: {DELIVERY_HEADER} header",
                         expected="1-64 letters, digits, '.', '_', ':' or '-'",
                         found="nothing" if delivery_id is None else "other characters")
    expected = hmac.new(secret.encode(), f"{stamp}.{delivery_id}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, mac) for mac in macs):  # every candidate, in constant time
        raise AuthError(f"gls callback: the {SIGNATURE_HEADER} signature does not match the body",
                        hint="check webhook_secret (LOCKERHUB_GLS_WEBHOOK_SECRET)")
    check_replay_window(int(stamp), now=now, tolerance_s=tolerance_s,
                        message="gls callback: the signature timestamp is outside the replay window")
    return delivery_id


def parcel_update(body: bytes) -> dict[str, Any]:
    """A ParcelUpdates body, checked for the fields the status mapping needs."""
    data = load_json(body, "gls callback: body", PARCEL_SHAPE)
    if not isinstance(data, dict):
        raise ParseError("gls ParcelUpdates: body", expected=PARCEL_SHAPE, found=json_kind(data))
    for name in ("carrierParcelId", "shipmentStatus"):
        _text(data, name, "gls ParcelUpdates: ")
    _time(data, "eventTimestamp", "gls ParcelUpdates: ")
    for name in ("carrierLockerId", "shipmentUid"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise ParseError(f"gls ParcelUpdates: {name}", expected="a string or nothing", found=json_kind(data[name]))
    events = data.get("events", [])
    if not isinstance(events, list):
        raise ParseError("gls ParcelUpdates: events", expected="a list of events", found=json_kind(events))
    for index, item in enumerate(events):
        where = f"gls ParcelUpdates: events[{index}]"
        if not isinstance(item, dict):
            raise ParseError(where, expected="an object", found=json_kind(item))
        _text(item, "eventType", where + ".")
        _time(item, "timestamp", where + ".")
    return data


def locker_state(status: object) -> LockerState:
    """A GLS locker status (``carrier.status``) as a :class:`LockerState`; unknown ones are a MappingError."""
    try:
        return LOCKER_STATES[status]  # type: ignore[index]
    except (KeyError, TypeError):
        raise MappingError("unknown gls locker status", expected=", ".join(LOCKER_STATES),
                           found=repr(status)[:40]) from None


def parse_locker_updates(body: bytes) -> list[tuple[str, LockerState]]:
    """The lockers a LockerUpdates callback reports, as ``(carrierLockerId, LockerState)``, in body order.

    Verify the delivery first (``GlsConnector.verify_webhook`` takes any GLS callback). A body that is not a locker
    (or a list of them) is a :class:`ParseError`; an unknown status a :class:`MappingError`."""
    data = load_json(body, "gls callback: body", LOCKER_SHAPE)
    items = data if isinstance(data, list) else [data]
    result = []
    for index, item in enumerate(items):
        where = "gls LockerUpdates: " + (f"[{index}]." if isinstance(data, list) else "")
        carrier = item.get("carrier") if isinstance(item, dict) else None
        if not isinstance(carrier, dict):
            raise ParseError(f"{where}carrier", expected=LOCKER_SHAPE, found=json_kind(carrier))
        result.append((_text(carrier, "lockerId", f"{where}carrier."), locker_state(carrier.get("status"))))
    return result


def _text(item: dict[str, Any], name: str, prefix: str) -> str:
    """``item[name]`` as a non-empty string; errors name ``prefix + name`` (``gls ParcelUpdates: events[0].``)."""
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise ParseError(f"{prefix}{name}", expected="a non-empty string", found=json_kind(value))
    return value


def _time(item: dict[str, Any], name: str, prefix: str) -> datetime:
    value = _text(item, name, prefix)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ParseError(f"{prefix}{name}", expected="an ISO 8601 time with a UTC offset", found="another string")
    return when
