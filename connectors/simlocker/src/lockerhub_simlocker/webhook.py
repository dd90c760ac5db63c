"""The simulator's signed webhooks: verify a delivery and read its events (no status mapping here).

The scheme is lockerhub's own, emulated and Stripe-like (see :mod:`lockerhub.simulator.webhooks`)::

    X-Simlocker-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>
    X-Simlocker-Delivery: <delivery id>
    {"delivery_id": "<delivery id>", "events": [{"event_id", "code", "occurred_at", "reservation_id",
                                                 "locker_id", "compartment_id"}, ...]}

The signature is checked first (constant time, every ``v1`` given, so a sender may sign with an old and a new
secret while rotating), then the timestamp against the replay window, then the delivery id, which is read from the
signed body: a header naming another delivery is refused. Errors name headers and fields, never their values.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lockerhub.errors import AuthError, ParseError
from lockerhub.plugins.webhooks import check_replay_window, header, json_kind, json_object

SIGNATURE_HEADER = "X-Simlocker-Signature"
DELIVERY_HEADER = "X-Simlocker-Delivery"
_DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_HEX = re.compile(r"[0-9a-f]{64}")
BODY_SHAPE = 'a JSON object {"delivery_id": "...", "events": [...]}'
REQUIRED_TEXT = ("reservation_id", "code", "occurred_at")
OPTIONAL_TEXT = ("event_id", "locker_id", "compartment_id")


def _signature(value: str | None) -> tuple[int, list[str]]:
    if value is None:
        raise AuthError(f"simlocker webhook: missing {SIGNATURE_HEADER} header")
    timestamp, macs = None, []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t" and item.isdigit() and len(item) <= 12:
            timestamp = int(item)
        elif key == "v1" and _HEX.fullmatch(item):
            macs.append(item)
    if timestamp is None or not macs:
        raise AuthError(f"simlocker webhook: malformed {SIGNATURE_HEADER} header",
                        expected="t=<unix seconds>,v1=<64 hex digits>")
    return timestamp, macs


def verify(headers: Mapping[str, str], body: bytes, *, secret: str, tolerance_s: float, now: datetime) -> str:
    """Check signature and replay window; return the delivery id (see the module docstring for the order)."""
    timestamp, macs = _signature(header(headers, SIGNATURE_HEADER))
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, mac) for mac in macs):  # every candidate is compared, in constant time
        raise AuthError(f"simlocker webhook: the {SIGNATURE_HEADER} signature does not match the body",
                        hint="check webhook_secret (LOCKERHUB_SIMLOCKER_WEBHOOK_SECRET)")
    check_replay_window(timestamp, now=now, tolerance_s=tolerance_s,
                        message="simlocker webhook: the signature timestamp is outside the replay window")
    delivery_id = json_object(body, "simlocker webhook: body", BODY_SHAPE).get("delivery_id")
    if not isinstance(delivery_id, str) or not _DELIVERY_ID.fullmatch(delivery_id):
        raise ParseError("simlocker webhook: delivery_id",
                         expected="a string of 1-64 letters, digits, '.', '_', ':' or '-'",
                         found="other characters" if isinstance(delivery_id, str) else json_kind(delivery_id))
    given = header(headers, DELIVERY_HEADER)
    if given is not None and not hmac.compare_digest(given.encode(), delivery_id.encode()):
        raise AuthError(f"simlocker webhook: the {DELIVERY_HEADER} header does not match the signed delivery_id")
    return delivery_id


def events(body: bytes) -> list[dict[str, Any]]:
    """The raw events of a delivery, each checked for the fields the status mapping needs."""
    items = json_object(body, "simlocker webhook: body", BODY_SHAPE).get("events")
    if not isinstance(items, list):
        raise ParseError("simlocker webhook: events", expected="a list of events", found=json_kind(items))
    for index, item in enumerate(items):
        path = f"events[{index}]"
        if not isinstance(item, dict):
            raise ParseError(f"simlocker webhook: {path}", expected="an object", found=json_kind(item))
        for name in REQUIRED_TEXT:
            if not isinstance(item.get(name), str) or not item[name]:
                raise ParseError(f"simlocker webhook: {path}.{name}", expected="a non-empty string",
                                 found=json_kind(item.get(name)))
        for name in OPTIONAL_TEXT:
            if item.get(name) is not None and not isinstance(item[name], str):
                raise ParseError(f"simlocker webhook: {path}.{name}", expected="a string or nothing",
                                 found=json_kind(item[name]))
        try:
            when = datetime.fromisoformat(item["occurred_at"])
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise ParseError(f"simlocker webhook: {path}.occurred_at", expected="an ISO 8601 time with a UTC offset",
                             found="another string")
    return items
