"""Webhook bodies (simlocker): arbitrary and mutated deliveries give a typed lockerhub error or events, never a
crash, through the signature check and the parser the ingress calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from lockerhub_simlocker import SimlockerConnector
from lockerhub_simlocker.config import SimlockerConfig

from lockerhub.errors import LockerhubError
from lockerhub.ingress.store import parse_events
from lockerhub.simulator.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign

SECRET = "fuzz-webhook-secret"  # not a credential
NOW = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
SEED = json.dumps({"delivery_id": "d-1", "events": [
    {"event_id": "e1", "code": "COURIER_DEPOSITED", "reservation_id": "r1", "locker_id": "L1",
     "occurred_at": "2026-01-05T08:20:00+00:00"}]}).encode()


def test_signed_webhook_bodies(fuzz) -> None:  # type: ignore[no-untyped-def]
    connector = SimlockerConnector(SimlockerConfig(base_url="http://127.0.0.1:9", api_key="fuzz-only",  # type: ignore[arg-type]
                                                   webhook_secret=SECRET))

    @fuzz.settings
    @given(fuzz.inputs([SEED], alphabet=b'{}[]":,'), st.booleans())
    def run(body: bytes, good_signature: bool) -> None:
        secret = SECRET if good_signature else "another-secret"
        headers = {DELIVERY_HEADER: "d-1", SIGNATURE_HEADER: sign(secret, int(NOW.timestamp()), body)}
        try:
            connector.verify_webhook(headers, body, now=NOW)
            events = parse_events(connector, headers, body)
        except LockerhubError as exc:
            assert exc.render()
            return
        assert good_signature and all(e.reservation_id for e in events)

    run()
