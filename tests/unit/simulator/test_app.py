"""The simulator's HTTP API, over a real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from lockerhub.simulator import SimulatorServer, World

KEY = "test-key"
PARCEL = {"length_mm": 300, "width_mm": 200, "height_mm": 50, "weight_g": 1200}


class Api:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers["X-API-Key"] = KEY

    def __call__(self, method: str, path: str, **kwargs: object) -> requests.Response:
        return self.http.request(method, self.url + path, timeout=5, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def api(world: World) -> Iterator[Api]:
    with SimulatorServer(world, api_key=KEY) as server:
        client = Api(server.url)
        yield client
        client.http.close()


def test_healthz_needs_no_key_but_the_api_does(api: Api) -> None:
    assert requests.get(api.url + "/healthz", timeout=5).json() == {"status": "ok"}
    for path in ("/v1/lockers", "/v1/size-classes", "/sim/clock", "/v1/nothing-here"):
        for headers in ({}, {"X-API-Key": "wrong"}):
            response = requests.get(api.url + path, headers=headers, timeout=5)
            assert (response.status_code, response.json()) == (401, {"error": "unauthorized"})


def test_lockers_pagination(api: Api, world: World) -> None:
    first = api("GET", "/v1/lockers", params={"page": 1, "per_page": 4}).json()
    second = api("GET", "/v1/lockers", params={"page": 2, "per_page": 4}).json()
    assert (first["page"], first["per_page"], first["count"], len(first["items"])) == (1, 4, 6, 4)
    assert len(second["items"]) == 2
    assert first["items"][0] == world.lockers()[0][0].model_dump(mode="json")
    assert api("GET", "/v1/lockers", params={"per_page": 101}).status_code == 422


def test_size_classes(api: Api) -> None:
    body = api("GET", "/v1/size-classes").json()
    assert [s["code"] for s in body] == ["A", "B", "C"]
    assert body[0]["inner"] == {"length_mm": 640, "width_mm": 380, "height_mm": 80}


def test_precheck(api: Api, locker_id: str) -> None:
    assert api("POST", f"/v1/lockers/{locker_id}/precheck", json=PARCEL).json() == {"size_classes": ["A", "B", "C"]}
    missing = api("POST", "/v1/lockers/SIM-XXX-0001/precheck", json=PARCEL)
    assert (missing.status_code, missing.json()) == (404, {"error": "unknown_locker", "locker_id": "SIM-XXX-0001"})
    api("POST", f"/sim/lockers/{locker_id}/state", json={"state": "offline"}).raise_for_status()
    offline = api("POST", f"/v1/lockers/{locker_id}/precheck", json=PARCEL)
    assert (offline.status_code, offline.json()["error"]) == (409, "locker_offline")


def test_reservation_flow(api: Api, locker_id: str) -> None:
    created = api("POST", "/v1/reservations", json={"locker_id": locker_id, "size_class": "B"})
    assert created.status_code == 201
    soft = created.json()
    assert soft["kind"] == "soft" and soft["expires_at"] == "2026-01-05T08:15:00+00:00"
    assert soft["compartment_id"].startswith(locker_id) and "access_code" not in soft
    rid = soft["reservation_id"]
    hard = api("POST", f"/v1/reservations/{rid}/confirm").json()
    assert hard["kind"] == "hard" and len(hard["access_code"]) == 6 and hard["valid_until"].endswith("+00:00")
    assert "access_code" not in api("GET", f"/v1/reservations/{rid}").json()
    assert api("POST", "/sim/pickup", json={"reservation_id": rid, "access_code": "x"}).status_code == 409
    api("POST", "/sim/deposit", json={"reservation_id": rid}).raise_for_status()
    wrong = api("POST", "/sim/pickup", json={"reservation_id": rid, "access_code": "not-it"})
    assert (wrong.status_code, wrong.json()["error"]) == (403, "wrong_access_code")
    api("POST", "/sim/pickup", json={"reservation_id": rid, "access_code": hard["access_code"]}).raise_for_status()
    events = api("GET", f"/v1/reservations/{rid}/events").json()["items"]
    assert [e["code"] for e in events] == ["RESERVATION_CREATED", "BOOKING_CONFIRMED", "COURIER_DEPOSITED",
                                           "CONSIGNEE_PICKED_UP"]
    assert set(events[0]) == {"event_id", "code", "occurred_at", "reservation_id", "locker_id", "compartment_id"}
    assert events[0]["occurred_at"] == "2026-01-05T08:00:00+00:00"


def test_expiry_cancel_and_return(api: Api, locker_id: str) -> None:
    soft = api("POST", "/v1/reservations", json={"locker_id": locker_id, "size_class": "A"}).json()
    to_cancel = api("POST", "/v1/reservations", json={"locker_id": locker_id, "size_class": "A"}).json()
    assert api("DELETE", f"/v1/reservations/{to_cancel['reservation_id']}").status_code == 204
    assert api("POST", "/sim/clock/advance", json={"seconds": 900}).json() == {"now": "2026-01-05T08:15:00+00:00"}
    expired = api("POST", f"/v1/reservations/{soft['reservation_id']}/confirm")
    assert (expired.status_code, expired.json()["error"]) == (410, "reservation_expired")
    rid = api("POST", "/v1/reservations", json={"locker_id": locker_id, "size_class": "C"}).json()["reservation_id"]
    api("POST", f"/v1/reservations/{rid}/confirm").raise_for_status()
    api("POST", "/sim/deposit", json={"reservation_id": rid}).raise_for_status()
    assert api("DELETE", f"/v1/reservations/{rid}").status_code == 409
    api("POST", "/sim/clock/advance", json={"seconds": 48 * 3600}).raise_for_status()
    assert api("GET", "/sim/clock").json() == {"now": "2026-01-07T08:15:00+00:00"}
    api("POST", "/sim/return-collect", json={"reservation_id": rid}).raise_for_status()
    codes = [e["code"] for e in api("GET", f"/v1/reservations/{rid}/events").json()["items"]]
    assert codes[-2:] == ["PICKUP_EXPIRED", "COURIER_COLLECTED_RETURN"]


def test_no_free_compartment(api: Api, world: World, locker_id: str) -> None:
    for c in world.locker(locker_id).compartments():
        if c.size_class == "C":
            api("POST", "/v1/reservations", json={"locker_id": locker_id, "size_class": "C"}).raise_for_status()
    full = api("POST", "/v1/reservations", json={"locker_id": locker_id, "size_class": "C"})
    assert (full.status_code, full.json()["error"]) == (409, "no_free_compartment")
    unknown = api("POST", "/v1/reservations", json={"locker_id": "nope", "size_class": "C"})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_locker")


def test_idempotency_key_replays_the_original_response(api: Api, locker_id: str) -> None:
    body = {"locker_id": locker_id, "size_class": "A"}
    headers = {"Idempotency-Key": "parcel-1"}
    first = api("POST", "/v1/reservations", json=body, headers=headers)
    again = api("POST", "/v1/reservations", json=body, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    other = api("POST", "/v1/reservations", json=body)
    assert other.json()["reservation_id"] != first.json()["reservation_id"]
    reused = api("POST", "/v1/reservations", json={**body, "size_class": "B"}, headers=headers)
    assert (reused.status_code, reused.json()["error"]) == (422, "idempotency_key_reused")
    advance = {"seconds": 60}
    assert api("POST", "/sim/clock/advance", json=advance, headers=headers).json()["now"].endswith("08:01:00+00:00")
    assert api("POST", "/sim/clock/advance", json=advance, headers=headers).json()["now"].endswith("08:01:00+00:00")


def test_faults_answer_the_next_requests(api: Api) -> None:
    injected = api("POST", "/sim/faults", json={"status": 503, "count": 2, "retry_after": 1})
    assert injected.json() == {"status": 503, "count": 2, "retry_after": 1.0}
    assert api("GET", "/sim/clock").status_code == 200  # control calls are not faulted
    for _ in range(2):
        response = api("GET", "/v1/size-classes")
        assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
    assert api("GET", "/v1/size-classes").status_code == 200


def test_validation_errors_name_fields_not_values(api: Api) -> None:
    response = api("POST", "/sim/pickup", json={"reservation_id": "rsv-000001", "access_code": 123456, "x": 1})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert {f["loc"] for f in response.json()["fields"]} == {"body.access_code", "body.x"}
    assert "123456" not in response.text
