"""The webhook ingress over a real hub (pilot config, temporary SQLite): verify, deduplicate, record, refuse."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lockerhub_simlocker import SimlockerConnector
from sqlalchemy import select

from lockerhub.ingress import IngressSettings, create_app, last_webhook_at
from lockerhub.model import ParcelEvent, ParcelStatus
from lockerhub.plugins.protocols import Capability
from lockerhub.runtime.hub import Hub
from lockerhub.simulator.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign
from lockerhub.store import OutboxRow

with warnings.catch_warnings():  # this starlette asks for httpx2; the project pins httpx (either works here)
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

SECRET = "test-webhook-secret"  # not a credential
NOW = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
LIMIT = 4096
DEPOSITED = {"event_id": "ev-000007", "code": "COURIER_DEPOSITED", "occurred_at": "2026-01-05T08:20:00+00:00",
             "reservation_id": "rsv-000001", "locker_id": "SIM-WAW-0001", "compartment_id": "SIM-WAW-0001-M1-C01"}
PICKED_UP = {**DEPOSITED, "event_id": "ev-000009", "code": "CONSIGNEE_PICKED_UP",
             "occurred_at": "2026-01-05T08:25:00+00:00"}


@pytest.fixture
def hub(pilot: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_BASE_URL", "http://127.0.0.1:9")  # never called by the ingress
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_API_KEY", "test-only-key")
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_WEBHOOK_SECRET", SECRET)
    opened = Hub.open(pilot, clock=lambda: NOW)
    yield opened
    opened.close()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub, settings=IngressSettings(max_body_bytes=LIMIT))) as test_client:
        yield test_client


def signed(body: bytes, delivery_id: str = "d-0001", *, at: datetime = NOW, secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", DELIVERY_HEADER: delivery_id,
            SIGNATURE_HEADER: sign(secret, int(at.timestamp()), body)}


def delivery(*events: dict[str, str], delivery_id: str = "d-0001") -> bytes:
    return json.dumps({"delivery_id": delivery_id, "events": list(events)}).encode()


def rows(hub: Hub) -> list[OutboxRow]:
    with hub.store.transaction() as s:
        return list(s.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def post(client: TestClient, body: bytes, headers: dict[str, str], vendor: str = "simlocker"):  # type: ignore[no-untyped-def]
    response = client.post(f"/webhooks/{vendor}", content=body, headers=headers)
    assert "Traceback" not in response.text and SECRET not in response.text
    return response


def refused(response, status: int, error: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == error
    return body["detail"]  # type: ignore[no-any-return]


def test_accepted_delivery_writes_one_row_per_event_in_the_agreed_shape(client: TestClient, hub: Hub) -> None:
    body = delivery(DEPOSITED, PICKED_UP)
    response = post(client, body, signed(body))
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "events": 2}
    written = rows(hub)
    assert [(r.destination, r.kind, r.dedup_key) for r in written] == [
        ("events", "vendor_event", "simlocker:d-0001:0"), ("events", "vendor_event", "simlocker:d-0001:1")]
    deposited = ParcelEvent(status=ParcelStatus.DEPOSITED, occurred_at=datetime(2026, 1, 5, 8, 20, tzinfo=UTC),
                            source="simlocker", raw_code="COURIER_DEPOSITED", locker_id="SIM-WAW-0001",
                            event_id="ev-000007")
    assert written[0].payload == {"vendor": "simlocker", "reservation_id": "rsv-000001",
                                  "event": deposited.model_dump(mode="json"), "delivery_id": "d-0001",
                                  "received_at": NOW.isoformat()}
    assert written[1].payload["event"]["status"] == "COLLECTED"
    assert all(r.published_at is None for r in written)
    with hub.store.transaction() as s:
        assert last_webhook_at(s, "simlocker") == NOW
        assert last_webhook_at(s, "simlock") is None and last_webhook_at(s, "s%") is None


def test_a_repeated_delivery_answers_200_and_writes_nothing(client: TestClient, hub: Hub) -> None:
    body = delivery(DEPOSITED)
    assert post(client, body, signed(body)).status_code == 202
    again = post(client, body, signed(body))
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    resigned = post(client, body, signed(body, at=NOW - timedelta(seconds=30)))  # a retry signs again
    assert (resigned.status_code, resigned.json()) == (200, {"status": "duplicate"})
    assert [r.dedup_key for r in rows(hub)] == ["simlocker:d-0001:0"]


@pytest.mark.parametrize("headers", [
    pytest.param(lambda body: signed(body, secret="another-test-secret"), id="wrong-secret"),
    pytest.param(lambda body: {DELIVERY_HEADER: "d-0001"}, id="no-signature"),
    pytest.param(lambda body: {SIGNATURE_HEADER: "v1=abc", DELIVERY_HEADER: "d-0001"}, id="malformed"),
    pytest.param(lambda body: signed(body + b" "), id="body-changed"),
    pytest.param(lambda body: signed(body, delivery_id="d-9999"), id="delivery-header-differs"),
])
def test_a_bad_signature_is_401(client: TestClient, hub: Hub, headers) -> None:  # type: ignore[no-untyped-def]
    body = delivery(DEPOSITED)
    detail = refused(post(client, body, headers(body)), 401, "bad_signature")
    assert detail == "the webhook signature is missing, malformed or does not match the body."
    assert rows(hub) == []


@pytest.mark.parametrize(("offset", "found"), [(-301, "older by 301 s"), (400, "newer by 400 s")])
def test_a_timestamp_outside_the_replay_window_is_401(client: TestClient, hub: Hub, offset: int, found: str) -> None:
    body = delivery(DEPOSITED)
    response = post(client, body, signed(body, at=NOW + timedelta(seconds=offset)))
    detail = refused(response, 401, "replay_window")
    assert detail == ("the signature timestamp is outside the replay window: expected within 300 s of the hub's "
                      f"clock, found {found}.")
    assert rows(hub) == []


def test_a_body_over_the_limit_is_413_by_content_length_or_by_counting(client: TestClient, hub: Hub) -> None:
    big = delivery(*[DEPOSITED] * 40)
    assert len(big) > LIMIT
    detail = refused(post(client, big, signed(big)), 413, "body_too_large")
    assert detail == f"the body is larger than the limit of {LIMIT} bytes."

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        for start in range(0, len(big), 1000):
            yield big[start:start + 1000]

    streamed = client.post("/webhooks/simlocker", content=chunks(), headers=signed(big))
    refused(streamed, 413, "body_too_large")
    assert rows(hub) == []


@pytest.mark.parametrize(("body", "detail", "kept"), [
    (b'{"delivery_id": "d-0001", "events": [', 'simlocker webhook: body: expected a JSON object {"delivery_id": '
     '"...", "events": [...]}, found invalid JSON (Expecting value at line 1 column 38).', False),
    (b'{"delivery_id": "d-0001"}', "simlocker webhook: events: expected a list of events, found nothing.", True),
    (delivery({**DEPOSITED, "occurred_at": "2026-01-05T08:20:00"}),
     "simlocker webhook: events[0].occurred_at: expected an ISO 8601 time with a UTC offset, found another string.",
     True),
    (delivery({**DEPOSITED, "code": "TELEPORTED"}),
     "simlocker webhook: events[0].code: expected a simlocker event code listed in statuses.yaml, found "
     "'TELEPORTED'.", True),
    (b'{"delivery_id": 7, "events": []}', "simlocker webhook: delivery_id: expected a string of 1-64 letters, "
     "digits, '.', '_', ':' or '-', found a number.", False),
])
def test_a_signed_body_that_is_not_a_delivery_is_422_saying_what_was_expected(
    client: TestClient, hub: Hub, body: bytes, detail: str, kept: bool
) -> None:
    """Once the delivery id is known (the signature checked), the unreadable delivery is kept for a replay."""
    expected = detail[:-1] + "; kept as q-000001 to replay." if kept else detail
    assert refused(post(client, body, signed(body)), 422, "invalid_payload") == expected
    assert rows(hub) == []


def test_unknown_vendor_and_vendor_without_webhooks_are_404(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = delivery(DEPOSITED)
    detail = refused(post(client, body, signed(body), vendor="nowhere"), 404, "unknown_vendor")
    assert detail == "no vendor with this name is configured in the hub."
    monkeypatch.setattr(SimlockerConnector, "capabilities",
                        SimlockerConnector.capabilities - {Capability.WEBHOOKS})
    refused(post(client, body, signed(body)), 404, "webhooks_not_supported")


def test_health_other_routes_and_internal_errors_answer_json_without_a_trace(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    refused(client.get("/nowhere"), 404, "not_found")
    refused(client.get("/webhooks/simlocker"), 405, "method_not_allowed")

    def broken(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("lockerhub.ingress.app.record_delivery", broken)
    body = delivery(DEPOSITED)
    response = post(client, body, signed(body))
    assert refused(response, 500, "internal") == "the webhook could not be recorded; it is safe to send it again."
    assert "disk on fire" not in response.text


def test_a_signed_delivery_with_an_unknown_code_is_kept_and_replays_once_the_code_is_known(
        client: TestClient, hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lockerhub_simlocker.connector as simlocker

    from lockerhub.model.crosswalk import load_crosswalk
    from lockerhub.runtime import quarantine
    from lockerhub.runtime.replay import replay

    teleported = {**DEPOSITED, "event_id": "ev-000011", "code": "PARCEL_TELEPORTED"}
    body = delivery(teleported, delivery_id="d-0042")
    detail = refused(post(client, body, signed(body, "d-0042")), 422, "invalid_payload")
    (item,) = quarantine.list_items(hub.store)
    assert f"kept as {item.qid} to replay" in detail and "events[0].code" in detail
    assert (item.stage, item.location) == ("webhook", "webhook simlocker delivery d-0042")
    assert rows(hub) == []

    assert replay(hub, [item.qid], dry_run=False, actor="test").results[0].outcome == "failed"  # still unknown
    known = tmp_path / "statuses.yaml"  # the vendor documented the new code: the crosswalk learns it
    shipped = Path(simlocker.__file__).with_name("statuses.yaml").read_text()
    known.write_text(shipped + "  PARCEL_TELEPORTED: IN_TRANSIT\n")
    monkeypatch.setattr(simlocker, "crosswalk", lambda: load_crosswalk(known))
    [result] = replay(hub, [item.qid], dry_run=False, actor="test").results
    assert (result.outcome, result.code) == ("replayed", "accepted")
    assert [r.payload["event"]["status"] for r in rows(hub)] == ["IN_TRANSIT"]
    assert post(client, body, signed(body, "d-0042")).json() == {"status": "duplicate"}  # the vendor's retry
