"""Scripted scenarios: the bundled ones play the same way every time on every vendor's world; bad files are refused
with file:line:column."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from lockerhub.errors import ConfigError, ErrorGroup
from lockerhub.model import LockerState
from lockerhub.simulator import BookingState, SimError, World, build_network
from lockerhub.simulator.network import load_network
from lockerhub.simulator.scenario import Player, Scenario, bundled, duration, load


def booked_world(seed: int, parcels: int = 20) -> World:
    world = World(build_network(6, seed=seed), seed=seed)
    lockers, _ = world.lockers()
    for n in range(parcels):
        soft = world.reserve(lockers[n % len(lockers)].locker_id, "A", idempotency_key=f"p{n}")
        world.confirm(soft.reservation_id)
    return world


def states(world: World) -> Counter[str]:
    page, _ = world.reservations_page(limit=1000)
    return Counter(str(r.state) for r in page)


def test_the_courier_day_plays_on_every_vendor() -> None:
    worlds = {"inpost": booked_world(1), "gls": booked_world(2)}
    results = Player(load("courier-day"), worlds).play()
    assert [r.action for r in results] == ["advance", "deposit", "advance", "pickup", "advance", "collect_returns"]
    assert results[1].done == {"inpost": 20, "gls": 20}
    for world in worlds.values():
        final = states(world)
        assert final[BookingState.COLLECTED] + final[BookingState.RETURNED] == 20
        assert 10 < final[BookingState.COLLECTED] < 20  # about 80 % collected, the rest expired and went back


def test_a_scenario_plays_the_same_every_time() -> None:
    runs = []
    for _ in range(2):
        worlds = {"boxnow": booked_world(3)}
        Player(load("courier-day"), worlds).play()
        runs.append(sorted((r.reservation_id, str(r.state)) for r in worlds["boxnow"].reservations_page(limit=99)[0]))
    assert runs[0] == runs[1]


def test_the_outage_takes_a_locker_down_fails_calls_and_recovers() -> None:
    world = booked_world(4)
    player = Player(load("outage"), {"gls": world})
    player.step()
    assert sum(lk.state == LockerState.OFFLINE for lk in world.lockers()[0]) == 1
    player.step()
    player.step()
    assert world.take_fault() is not None  # the 429 burst comes first
    player.play()
    assert all(lk.state == LockerState.ONLINE for lk in world.lockers()[0])
    assert [world.take_fault() is not None for _ in range(5)] == [True] * 4 + [False]  # the burst, then recovered


def test_one_step_can_be_limited_to_one_vendor(tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text("scenario: one\nsteps:\n  - deposit: {share: 1.0, vendor: gls}\n", "utf-8")
    worlds = {"inpost": booked_world(5), "gls": booked_world(6)}
    [result] = Player(load(path), worlds).play()
    assert result.done == {"gls": 20}
    assert states(worlds["inpost"])[BookingState.BOOKED] == 20


def test_bad_scenarios_are_refused_with_their_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("scenario: bad\nsteps:\n  - advance: 3 weeks\n  - pickup: {share: 2}\n", "utf-8")
    with pytest.raises(ErrorGroup) as bad:
        load(path)
    text = "\n".join(str(e) for e in bad.value.errors)
    assert f"{path}:3:" in text and "30s, 15m, 3h or 2d" in text
    assert f"{path}:4:" in text
    two = tmp_path / "two.yaml"
    two.write_text("scenario: two\nsteps:\n  - {advance: 1h, deposit: {share: 1}}\n", "utf-8")
    with pytest.raises(ErrorGroup) as twice:
        load(two)
    assert "a step does one thing" in str(twice.value.errors[0])
    with pytest.raises(ConfigError) as missing:
        load("no-such-scenario")
    assert "courier-day" in str(missing.value)
    stray = tmp_path / "stray.yaml"
    stray.write_text("scenario: stray\nsteps:\n  - deposit: {vendor: dhl}\n", "utf-8")
    with pytest.raises(ConfigError) as vendor:
        Player(load(stray), {"gls": booked_world(7)})
    assert "dhl" in str(vendor.value)


def test_durations() -> None:
    assert duration("90m").total_seconds() == 5400 and duration("2d").days == 2 and duration(5).seconds == 5
    assert set(bundled()) >= {"courier-day", "outage"}


def test_couriers_and_recipients_reach_a_shop_locker_only_when_it_is_open(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text("""lockers:
  - locker_id: SHOP-1
    city: Warszawa
    opening_hours: Mo-Fr 08:00-20:00
    modules: [{A: 3, B: 1}]
  - locker_id: ALWAYS-1
    city: Warszawa
    modules: [{A: 2}, {C: 1}]
""", "utf-8")
    lockers, classes = load_network(path)
    assert [len(lk.compartments()) for lk in lockers] == [4, 3] and [c.code for c in classes] == ["A", "B", "C"]
    world = World(lockers, seed=1)  # starts on a Monday at 08:00 UTC
    shop = world.confirm(world.reserve("SHOP-1", "A").reservation_id)
    always = world.confirm(world.reserve("ALWAYS-1", "A").reservation_id)
    world.advance(timedelta(hours=13))  # 21:00: the shop is closed
    [result] = Player(Scenario(scenario="night", steps=[{"deposit": {"share": 1.0}}]), {"v": world}).play()
    assert result.done == {"v": 1}  # the 24/7 locker only
    assert world.reservation(shop.reservation_id).state == BookingState.BOOKED
    assert world.reservation(always.reservation_id).state == BookingState.DEPOSITED
    with pytest.raises(SimError) as closed:
        world.deposit(shop.reservation_id)
    assert closed.value.error == "locker_closed"
    world.advance(timedelta(hours=12))  # Tuesday 09:00
    world.deposit(shop.reservation_id)


def test_network_files_are_checked_with_their_positions(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("lockers:\n  - locker_id: X\n    modules: [{A: 1, Z: 2}]\n"
                    "  - locker_id: X\n    modules: [{A: 1}]\n", "utf-8")
    with pytest.raises(ErrorGroup) as bad:
        load_network(path)
    assert "unknown size class 'Z'" in str(bad.value.errors[0]) and str(path) in str(bad.value.errors[0])


def test_shops_do_not_change_the_rest_of_a_generated_network() -> None:
    plain, shops = build_network(30, seed=4), build_network(30, seed=4, shop_share=0.5)
    assert [lk.model_dump(exclude={"opening_hours"}) for lk in plain] == [
        lk.model_dump(exclude={"opening_hours"}) for lk in shops]
    assert 5 < sum(lk.opening_hours is not None for lk in shops) < 25
