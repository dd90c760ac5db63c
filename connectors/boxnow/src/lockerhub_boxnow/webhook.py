"""BoxNow's webhooks: verify a delivery and read its parcel event (no status mapping here).

A delivery is one CloudEvent 1.0 in structured JSON mode; the signature travels inside it::

    {"specversion": "1.0", "type", "source", "subject": "<parcel id>", "id": "<message id>",
     "time": "<RFC 3339>", "datacontenttype": "application/json",
     "datasignature": "<hex HMAC-SHA256(secret, canonical JSON of data)>",
     "data": {"parcelId", "event", "time", "orderNumber"?, "parcelState"?, "eventLocation"?: {"locationId"}}}

The canonical JSON of ``data`` is UTF-8, keys sorted, no spaces (:func:`canonical`); BoxNow's partner API documents
``datasignature`` as "HMAC SHA256 digest of data" without the byte form, so this form is lockerhub's (emulated).

Order of checks: the body must be a JSON object, then the signature (constant time), then ``time`` against the
replay window, then ``id``. Only ``data`` is signed: ``id`` and ``time`` are not, so the replay window and the hub's
dedup by ``id`` narrow replays but cannot exclude them (status is applied forward-only, so a replayed event is
stale). Errors name fields, never their values.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lockerhub.errors import AuthError, ParseError
from lockerhub.plugins.webhooks import check_replay_window, json_kind, json_object

_HEX = re.compile(r"[0-9a-fA-F]{64}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
BODY_SHAPE = 'a CloudEvent JSON object {"specversion", "id", "time", "datasignature", "data", ...}'


def canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def verify(body: bytes, *, secret: str, tolerance_s: float, now: datetime) -> str:
    """Check the signature and the replay window; return the CloudEvent ``id`` (the delivery id)."""
    envelope = envelope_of(body)
    signature = envelope.get("datasignature")
    if not isinstance(signature, str) or not _HEX.fullmatch(signature):
        raise AuthError("boxnow webhook: missing or malformed datasignature",
                        expected="64 hex digits of HMAC-SHA256")
    data = _data(envelope)
    expected = hmac.new(secret.encode(), canonical(data), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise AuthError("boxnow webhook: the datasignature does not match the data",
                        hint="check webhook_secret (LOCKERHUB_BOXNOW_WEBHOOK_SECRET)")
    sent_at = _time(envelope.get("time"), "time")
    check_replay_window(sent_at.timestamp(), now=now, tolerance_s=tolerance_s,
                        message="boxnow webhook: the CloudEvent time is outside the replay window")
    event_id = envelope.get("id")
    if not isinstance(event_id, str) or not _ID.fullmatch(event_id):
        raise ParseError("boxnow webhook: id", expected="a string of 1-128 letters, digits, '.', '_', ':' or '-'",
                         found="other characters" if isinstance(event_id, str) else json_kind(event_id))
    return event_id


def event(body: bytes) -> dict[str, Any]:
    """The ``data`` of a delivery, checked for the fields the status mapping needs; ``time`` parsed."""
    data = _data(envelope_of(body))
    for name in ("parcelId", "event", "time"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise ParseError(f"boxnow webhook: data.{name}", expected="a non-empty string",
                             found=json_kind(data.get(name)))
    location = data.get("eventLocation")
    if location is not None and not (isinstance(location, dict)
                                     and isinstance(location.get("locationId"), str | None)):
        raise ParseError("boxnow webhook: data.eventLocation", expected='an object with a string "locationId"',
                         found=json_kind(location))
    return {**data, "time": _time(data["time"], "data.time")}


def envelope_of(body: bytes) -> dict[str, Any]:
    envelope = json_object(body, "boxnow webhook: body", BODY_SHAPE)
    if envelope.get("specversion") != "1.0":
        raise ParseError("boxnow webhook: specversion", expected='"1.0"', found=json_kind(envelope.get("specversion")))
    return envelope


def _data(envelope: dict[str, Any]) -> dict[str, Any]:
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise ParseError("boxnow webhook: data", expected="an object", found=json_kind(data))
    return data


def _time(value: object, name: str) -> datetime:
    when = None
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            when = None
    if when is None or when.tzinfo is None:
        raise ParseError(f"boxnow webhook: {name}", expected="an RFC 3339 time with a UTC offset",
                         found=json_kind(value) if not isinstance(value, str) else "another string")
    return when
