"""verify_webhook and parse_webhook of the simlocker connector, on deliveries signed as the simulator signs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from lockerhub_simlocker import SimlockerConfig, SimlockerConnector
from lockerhub_simlocker.connector import crosswalk

from lockerhub.errors import AuthError, ParseError, ReplayWindowError
from lockerhub.simulator import EventCode
from lockerhub.simulator.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign

SECRET = "test-webhook-secret"  # not a credential
NOW = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
EVENT = {"event_id": "ev-000003", "code": "BOOKING_CONFIRMED", "occurred_at": "2026-01-05T08:01:00+00:00",
         "reservation_id": "rsv-000002", "locker_id": "SIM-KRK-0004", "compartment_id": "SIM-KRK-0004-M1-C02"}


def connector(**config: object) -> SimlockerConnector:
    settings = {"base_url": "http://127.0.0.1:9", "api_key": "test-only-key", "webhook_secret": SECRET, **config}
    return SimlockerConnector(SimlockerConfig(**settings))  # type: ignore[arg-type]


def body(*events: dict[str, object], delivery_id: str = "d-0001") -> bytes:
    return json.dumps({"delivery_id": delivery_id, "events": list(events or [EVENT])}).encode()


def headers(payload: bytes, *, at: datetime = NOW, secret: str = SECRET, delivery_id: str | None = "d-0001"
            ) -> dict[str, str]:
    out = {SIGNATURE_HEADER: sign(secret, int(at.timestamp()), payload)}
    if delivery_id is not None:
        out[DELIVERY_HEADER] = delivery_id
    return out


def test_a_good_delivery_returns_its_id_whatever_the_header_case() -> None:
    payload = body()
    lowered = {k.lower(): v for k, v in headers(payload).items()}
    assert connector().verify_webhook(lowered, payload, now=NOW) == "d-0001"
    assert connector().verify_webhook(headers(payload, delivery_id=None), payload, now=NOW) == "d-0001"


def test_any_of_several_signatures_may_match_while_a_secret_rotates() -> None:
    payload = body()
    t = int(NOW.timestamp())
    old = sign("old-test-secret", t, payload).split(",")[1]
    both = {SIGNATURE_HEADER: f"{sign(SECRET, t, payload)},{old}"}
    assert connector(webhook_secret="old-test-secret").verify_webhook(both, payload, now=NOW) == "d-0001"
    assert connector().verify_webhook(both, payload, now=NOW) == "d-0001"


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: {}, "missing X-Simlocker-Signature header"),
    (lambda p: {SIGNATURE_HEADER: "t=now,v1=zz"}, "malformed X-Simlocker-Signature header"),
    (lambda p: headers(p, secret="another-test-secret"), "signature does not match the body"),
    (lambda p: headers(p + b"\n"), "signature does not match the body"),
    (lambda p: headers(p, delivery_id="d-0002"), "header does not match the signed delivery_id"),
])
def test_bad_signatures_are_auth_errors(make, message: str) -> None:  # type: ignore[no-untyped-def]
    payload = body()
    with pytest.raises(AuthError) as info:
        connector().verify_webhook(make(payload), payload, now=NOW)
    assert message in info.value.message and not isinstance(info.value, ReplayWindowError)
    assert SECRET not in str(info.value)


def test_without_a_secret_nothing_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCKERHUB_SIMLOCKER_WEBHOOK_SECRET", raising=False)
    payload = body()
    with pytest.raises(AuthError, match="no webhook_secret is configured") as info:
        connector(webhook_secret=None).verify_webhook(headers(payload), payload, now=NOW)
    assert info.value.hint == "set LOCKERHUB_SIMLOCKER_WEBHOOK_SECRET"


def test_the_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_WEBHOOK_SECRET", SECRET)
    config = SimlockerConfig(base_url="http://127.0.0.1:9", api_key="test-only-key")
    assert config.webhook_secret is not None and config.webhook_secret.get_secret_value() == SECRET
    assert SECRET not in repr(config)
    schema = SimlockerConfig.model_json_schema()["properties"]
    assert schema["webhook_secret"]["env"] == "LOCKERHUB_SIMLOCKER_WEBHOOK_SECRET"
    assert schema["webhook_tolerance_s"]["default"] == 300


@pytest.mark.parametrize(("tolerance", "age_s", "ok"), [
    (None, 300, True), (None, 301, False), (None, -301, False), (10, 9, True), (10, 11, False), (10, -11, False),
])
def test_the_replay_window(tolerance: float | None, age_s: int, ok: bool) -> None:
    conn = connector() if tolerance is None else connector(webhook_tolerance_s=tolerance)
    payload = body()
    signed = headers(payload, at=NOW - timedelta(seconds=age_s))
    if ok:
        assert conn.verify_webhook(signed, payload, now=NOW) == "d-0001"
        return
    with pytest.raises(ReplayWindowError) as info:
        conn.verify_webhook(signed, payload, now=NOW)
    assert info.value.expected == f"within {tolerance or 300:g} s of the hub's clock"
    assert info.value.found == f"{'older' if age_s > 0 else 'newer'} by {abs(age_s)} s"


def test_parse_maps_every_code_through_the_same_crosswalk_as_get_status() -> None:
    events = [{**EVENT, "event_id": f"ev-{i:06d}", "code": str(code)} for i, code in enumerate(EventCode)]
    parsed = connector().parse_webhook({}, body(*events))
    assert [(v.reservation_id, v.event.raw_code) for v in parsed] == [("rsv-000002", str(c)) for c in EventCode]
    table = crosswalk()
    for vendor_event in parsed:
        mapped = table.map(vendor_event.event.raw_code or "")
        assert (vendor_event.event.status, vendor_event.event.reason) == (mapped.status, mapped.reason)
        assert vendor_event.event.source == "simlocker" and vendor_event.event.locker_id == "SIM-KRK-0004"
    assert parsed[0].event.occurred_at == datetime(2026, 1, 5, 8, 1, tzinfo=UTC)


@pytest.mark.parametrize(("payload", "message", "expected", "found"), [
    (b"\xff", "simlocker webhook: body", 'a JSON object {"delivery_id": "...", "events": [...]}',
     "bytes that are not UTF-8"),
    (b"[]", "simlocker webhook: body", 'a JSON object {"delivery_id": "...", "events": [...]}', "a list"),
    (b'{"events": {}}', "simlocker webhook: events", "a list of events", "an object"),
    (body(["x"]), "simlocker webhook: events[0]", "an object", "a list"),  # type: ignore[arg-type]
    (body({**EVENT, "reservation_id": ""}), "simlocker webhook: events[0].reservation_id", "a non-empty string",
     "a string"),
    (body({**EVENT, "event_id": 3}), "simlocker webhook: events[0].event_id", "a string or nothing", "a number"),
    (body(EVENT, {**EVENT, "code": "NOPE"}), "simlocker webhook: events[1].code",
     "a simlocker event code listed in statuses.yaml", "'NOPE'"),
])
def test_parse_errors_name_the_field_what_was_expected_and_found(
    payload: bytes, message: str, expected: str, found: str
) -> None:
    with pytest.raises(ParseError) as info:
        connector().parse_webhook({}, payload)
    assert (info.value.message, info.value.expected, info.value.found) == (message, expected, found)
