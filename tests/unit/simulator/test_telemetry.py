"""Simulated telemetry: deterministic per seed whatever the queries, never from the future, and a few lockers
degrade in the way their profile says."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

from lockerhub.model import LockerState, TelemetryKind
from lockerhub.simulator import SimulatorServer, World, build_network
from lockerhub.simulator.telemetry import DEFAULT_HISTORY, Degradation

KEY = "test-key"


@pytest.fixture
def world() -> World:
    """Twelve lockers over three regions, seed 3 (the shared e2e fixture's network)."""
    return fresh()


def fresh(seed: int = 3, lockers: int = 12) -> World:
    return World(build_network(lockers, seed=seed, regions=["WAW", "KRK", "GDN"]), seed=seed)


def by_locker(world: World, kind: TelemetryKind) -> dict[str, list[tuple[float, float]]]:
    """(days since the world's start, value) per locker."""
    out: dict[str, list[tuple[float, float]]] = {}
    for r in world.telemetry_readings():
        if r.kind == kind:
            out.setdefault(r.locker_id, []).append(((r.observed_at - world.now) / timedelta(days=1), r.value))
    return out


def test_same_seed_same_readings_and_a_ten_day_history(world: World) -> None:
    readings = world.telemetry_readings()
    assert readings == fresh().telemetry_readings()
    assert readings != fresh(seed=4).telemetry_readings()
    assert readings[0].observed_at == world.now - DEFAULT_HISTORY and readings[-1].observed_at == world.now
    assert readings == sorted(readings, key=lambda r: (r.observed_at, r.locker_id, r.kind.value))


def test_asking_hour_by_hour_gives_the_same_readings(world: World) -> None:
    start = world.now - timedelta(days=2)
    whole = world.telemetry_readings(start)
    pieces = []
    for hour in range(48):
        since = start + timedelta(hours=hour)
        pieces += world.telemetry_readings(since, since + timedelta(hours=1) - timedelta(microseconds=1))
    pieces += world.telemetry_readings(world.now, world.now)
    assert pieces == whole


def test_nothing_from_the_future(world: World) -> None:
    before = world.telemetry_readings(until=world.now + timedelta(days=30))
    assert max(r.observed_at for r in before) == world.now
    world.advance(timedelta(hours=5))
    after = world.telemetry_readings()
    assert len(after) > len(before) and max(r.observed_at for r in after) <= world.now
    assert after[: len(before)] == before  # the past does not change when time moves on


def test_one_locker_per_degradation_each_where_it_applies(world: World) -> None:
    profiles = world.telemetry_profiles()
    assert len(profiles) == 12
    degrading = {p.degradation: p for p in profiles if p.degradation}
    assert set(degrading) == set(Degradation)
    assert degrading[Degradation.BATTERY].battery and degrading[Degradation.COOLING].chilled
    counts = Counter(p.battery for p in profiles), Counter(p.chilled for p in profiles)
    assert counts[0][True] == 4 and counts[1][True] == 3
    assert fresh(lockers=3).telemetry_profiles()[0].degradation is None  # too few lockers to spare one


def test_degrading_lockers_show_their_trends(world: World) -> None:
    profile = {p.degradation: p.locker_id for p in world.telemetry_profiles() if p.degradation}
    battery = by_locker(world, TelemetryKind.BATTERY)
    temperature = by_locker(world, TelemetryKind.TEMPERATURE)

    def day_mean(series: list[tuple[float, float]], day: int) -> float:
        values = [v for d, v in series if day <= d < day + 1]
        return sum(values) / len(values)

    failing = battery[profile[Degradation.BATTERY]]
    assert day_mean(failing, -10) - day_mean(failing, -1) > 25  # 3.5-4.5 % a day
    for locker_id, series in battery.items():
        if locker_id != profile[Degradation.BATTERY]:
            assert abs(day_mean(series, -10) - day_mean(series, -1)) < 3 and min(v for _, v in series) > 55
    warming = temperature[profile[Degradation.COOLING]]
    assert day_mean(warming, -1) - day_mean(warming, -10) > 2
    for locker_id, series in temperature.items():
        if locker_id != profile[Degradation.COOLING]:
            assert max(v for _, v in series) < 6.5
    events = Counter((r.locker_id, r.kind) for r in world.telemetry_readings() if r.kind.is_event)
    door = profile[Degradation.DOOR]
    assert events[(door, TelemetryKind.DOOR_FAULT)] >= 10 and events[(door, TelemetryKind.OPEN_FAILED)] >= 3
    assert events[(profile[Degradation.CONNECTIVITY], TelemetryKind.API_ERROR)] >= 10
    offline = Counter(r.locker_id for r in world.telemetry_readings()
                      if r.kind == TelemetryKind.ONLINE and r.value == 0)
    assert offline[profile[Degradation.CONNECTIVITY]] > 24  # 4-8 h a day
    assert all(n <= 4 for lid, n in offline.items() if lid != profile[Degradation.CONNECTIVITY])


def test_a_dead_battery_takes_the_locker_offline(world: World) -> None:
    [locker_id] = [p.locker_id for p in world.telemetry_profiles() if p.degradation is Degradation.BATTERY]
    world.advance(timedelta(days=20))  # 88 % - 30 days * >= 3.5 % a day < 3 %
    last = [r for r in world.telemetry_readings(world.now) if r.locker_id == locker_id]
    assert [(r.kind, r.value) for r in last] == [(TelemetryKind.ONLINE, 0.0)]


def test_control_api_offline_shows_in_telemetry(world: World) -> None:
    locker_id = world.telemetry_profiles()[0].locker_id
    world.set_locker_state(locker_id, LockerState.OFFLINE)
    world.advance(timedelta(hours=3))
    world.set_locker_state(locker_id, LockerState.ONLINE)
    world.advance(timedelta(hours=2))
    online = [r.value for r in world.telemetry_readings(world.now - timedelta(hours=5))
              if r.locker_id == locker_id and r.kind == TelemetryKind.ONLINE]
    assert online == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    assert not [r for r in world.telemetry_readings(world.now - timedelta(hours=5), world.now - timedelta(hours=3))
                if r.locker_id == locker_id and r.kind != TelemetryKind.ONLINE]


@pytest.fixture
def api(world: World) -> Iterator[tuple[str, requests.Session]]:
    with SimulatorServer(world, api_key=KEY) as server, requests.Session() as http:
        http.headers["X-API-Key"] = KEY
        yield server.url, http


def test_telemetry_endpoint_pages_one_snapshot(api: tuple[str, requests.Session], world: World) -> None:
    url, http = api
    since = (world.now - timedelta(hours=2)).isoformat()
    first = http.get(f"{url}/v1/telemetry", params={"since": since, "per_page": 20}, timeout=5).json()
    expected = [r.to_json() for r in world.telemetry_readings(world.now - timedelta(hours=2))]
    assert first["count"] == len(expected) and first["until"] == world.now.isoformat() and first["since"] == since
    world.advance(3600)  # the clock moves between pages; the snapshot does not
    items = list(first["items"])
    for page in range(2, 10):
        body = http.get(f"{url}/v1/telemetry", params={"since": since, "until": first["until"], "page": page,
                                                       "per_page": 20}, timeout=5).json()
        items += body["items"]
    assert items == expected
    assert set(items[0]) == {"locker_id", "kind", "value", "observed_at"} and items[0]["observed_at"] == since


def test_telemetry_endpoint_refuses_naive_times_and_needs_the_key(api: tuple[str, requests.Session]) -> None:
    url, http = api
    naive = http.get(f"{url}/v1/telemetry", params={"since": "2026-01-05T08:00:00"}, timeout=5)
    assert (naive.status_code, naive.json()) == (422, {"error": "naive_datetime", "field": "since"})
    assert requests.get(f"{url}/v1/telemetry", timeout=5).status_code == 401
    profiles = http.get(f"{url}/sim/telemetry/profiles", timeout=5).json()["items"]
    assert sorted(p["degradation"] for p in profiles if p["degradation"]) == sorted(Degradation)
