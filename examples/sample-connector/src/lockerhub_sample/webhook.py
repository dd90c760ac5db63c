"""Sample Lockers webhooks: verify a delivery's signature and replay window, and read its events.

The vendor signs every delivery (an emulated scheme, like most signed webhooks)::

    X-Sample-Timestamp: <unix seconds>
    X-Sample-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>
    {"delivery": "<id>", "events": [{"id", "hold_id", "status", "at", "point_id"}, ...]}

The signature is checked first (in constant time), then the timestamp against the replay window, then the body.
Errors name headers and fields, never their values.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lockerhub.errors import AuthError, ParseError, ReplayWindowError

TIMESTAMP_HEADER = "X-Sample-Timestamp"
SIGNATURE_HEADER = "X-Sample-Signature"


def _signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def verify(headers: Mapping[str, str], body: bytes, *, secret: str, tolerance_s: float, now: datetime) -> str:
    """Check the signature, then the replay window; return the delivery id."""
    given = _header(headers, SIGNATURE_HEADER)
    stamp = _header(headers, TIMESTAMP_HEADER)
    if given is None or stamp is None or not stamp.isdigit():
        raise AuthError(f"sample webhook: missing or malformed {SIGNATURE_HEADER} / {TIMESTAMP_HEADER} header")
    if not hmac.compare_digest(_signature(secret, int(stamp), body), given):
        raise AuthError(f"sample webhook: the {SIGNATURE_HEADER} signature does not match the body",
                        hint="check webhook_secret (LOCKERHUB_SAMPLE_WEBHOOK_SECRET)")
    age = now.timestamp() - int(stamp)
    if abs(age) > tolerance_s:
        raise ReplayWindowError("sample webhook: the signature timestamp is outside the replay window",
                                expected=f"within {tolerance_s:g} s of the hub's clock",
                                found=f"{'older' if age > 0 else 'newer'} by {abs(age):.0f} s")
    delivery = _object(body).get("delivery")
    if not isinstance(delivery, str) or not delivery:
        raise ParseError("sample webhook: delivery", expected="a non-empty string")
    return delivery


def events(body: bytes) -> list[dict[str, Any]]:
    """The delivery's raw events, each checked for the fields the connector reads."""
    items = _object(body).get("events")
    if not isinstance(items, list):
        raise ParseError("sample webhook: events", expected="a list")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("hold_id", "status", "at")):
            raise ParseError(f"sample webhook: events[{index}]", expected="an object with hold_id, status and at")
    return items


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header whatever the case of its name."""
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise ParseError("sample webhook: body", expected="a JSON object") from None
    if not isinstance(data, dict):
        raise ParseError("sample webhook: body", expected="a JSON object", found=type(data).__name__)
    return data
