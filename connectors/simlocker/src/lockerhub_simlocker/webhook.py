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
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lockerhub.errors import AuthError, ParseError, ReplayWindowError

SIGNATURE_HEADER = "X-Simlocker-Signature"
DELIVERY_HEADER = "X-Simlocker-Delivery"
_DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_HEX = re.compile(r"[0-9a-f]{64}")
BODY_SHAPE = 'a JSON object {"delivery_id": "...", "events": [...]}'
REQUIRED_TEXT = ("reservation_id", "code", "occurred_at")
OPTIONAL_TEXT = ("event_id", "locker_id", "compartment_id")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the case of its name (a plain dict or Starlette's ``Headers``)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


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
    age = now.timestamp() - timestamp
    if abs(age) > tolerance_s:
        raise ReplayWindowError("simlocker webhook: the signature timestamp is outside the replay window",
                                expected=f"within {tolerance_s:g} s of the hub's clock",
                                found=f"{'older' if age > 0 else 'newer'} by {abs(age):.0f} s")
    delivery_id = _object(body).get("delivery_id")
    if not isinstance(delivery_id, str) or not _DELIVERY_ID.fullmatch(delivery_id):
        raise ParseError("simlocker webhook: delivery_id",
                         expected="a string of 1-64 letters, digits, '.', '_', ':' or '-'",
                         found="other characters" if isinstance(delivery_id, str) else _kind(delivery_id))
    given = header(headers, DELIVERY_HEADER)
    if given is not None and not hmac.compare_digest(given.encode(), delivery_id.encode()):
        raise AuthError(f"simlocker webhook: the {DELIVERY_HEADER} header does not match the signed delivery_id")
    return delivery_id


def events(body: bytes) -> list[dict[str, Any]]:
    """The raw events of a delivery, each checked for the fields the status mapping needs."""
    items = _object(body).get("events")
    if not isinstance(items, list):
        raise ParseError("simlocker webhook: events", expected="a list of events", found=_kind(items))
    for index, item in enumerate(items):
        path = f"events[{index}]"
        if not isinstance(item, dict):
            raise ParseError(f"simlocker webhook: {path}", expected="an object", found=_kind(item))
        for name in REQUIRED_TEXT:
            if not isinstance(item.get(name), str) or not item[name]:
                raise ParseError(f"simlocker webhook: {path}.{name}", expected="a non-empty string",
                                 found=_kind(item.get(name)))
        for name in OPTIONAL_TEXT:
            if item.get(name) is not None and not isinstance(item[name], str):
                raise ParseError(f"simlocker webhook: {path}.{name}", expected="a string or nothing",
                                 found=_kind(item[name]))
        try:
            when = datetime.fromisoformat(item["occurred_at"])
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise ParseError(f"simlocker webhook: {path}.occurred_at", expected="an ISO 8601 time with a UTC offset",
                             found="another string")
    return items


def _object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except UnicodeDecodeError:
        raise ParseError("simlocker webhook: body", expected=BODY_SHAPE, found="bytes that are not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ParseError("simlocker webhook: body", expected=BODY_SHAPE,
                         found=f"invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ParseError("simlocker webhook: body", expected=BODY_SHAPE, found=_kind(data))
    return data


def _kind(value: object) -> str:
    """What was found, by JSON type only (values may be anything a sender put there)."""
    if value is None:
        return "nothing"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)
