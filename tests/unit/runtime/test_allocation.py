from __future__ import annotations

import pytest

from lockerhub.errors import AllocationError
from lockerhub.model import Address, Dimensions, LockerState, Parcel, Party, TemperatureClass
from lockerhub.runtime.allocation import Catalog, distance_km, fitting_classes
from lockerhub.simulator import SIZE_CLASSES, build_network


def parcel(l: int, w: int, h: int, g: int = 1000, temp: TemperatureClass = TemperatureClass.AMBIENT) -> Parcel:
    return Parcel(parcel_id="P1", dimensions=Dimensions(length_mm=l, width_mm=w, height_mm=h), weight_g=g,
                  temperature=temp)


@pytest.mark.parametrize(("box", "expected"), [
    ((300, 200, 50), ["A", "B", "C"]),
    ((50, 300, 200), ["A", "B", "C"]),  # any orientation: 50 mm high once turned
    ((300, 200, 100), ["B", "C"]),
    ((600, 370, 400), ["C"]),
    ((650, 380, 80), []),  # 10 mm too long for every class
])
def test_fitting_classes_by_dimensions_smallest_first(box: tuple[int, int, int], expected: list[str]) -> None:
    assert fitting_classes(parcel(*box), SIZE_CLASSES.values()) == expected


def test_weight_and_temperature_limit_the_fit() -> None:
    assert fitting_classes(parcel(100, 100, 50, g=25_001), SIZE_CLASSES.values()) == []
    assert fitting_classes(parcel(100, 100, 50, temp=TemperatureClass.CHILLED), SIZE_CLASSES.values()) == []


@pytest.fixture
def catalog() -> Catalog:
    network = build_network(8, seed=1, regions=["WAW", "POZ"])
    return Catalog({lk.locker_id: lk for lk in network}, list(SIZE_CLASSES.values()), frozenset({"WAW"}))


def recipient_near(locker) -> Party:  # type: ignore[no-untyped-def]
    return Party(address=Address(postal_code=locker.postal_code, city=locker.city))


def test_requested_locker_first_then_neighbours(catalog: Catalog) -> None:
    waw = [lk for lk in catalog.lockers.values() if lk.region == "WAW"]
    got = catalog.candidates(recipient_near(waw[2]), waw[2].locker_id, limit=10)
    assert got[0].locker_id == waw[2].locker_id
    assert {lk.region for lk in got} == {"WAW"}
    assert len(got) == len({lk.locker_id for lk in got})


def test_offline_lockers_are_skipped(catalog: Catalog) -> None:
    waw = [lk for lk in catalog.lockers.values() if lk.region == "WAW"]
    waw[0].state = LockerState.OFFLINE
    got = catalog.candidates(recipient_near(waw[0]), waw[0].locker_id, limit=10)
    assert waw[0].locker_id not in [lk.locker_id for lk in got]


def test_unknown_and_unrouted_lockers_are_reasons(catalog: Catalog) -> None:
    with pytest.raises(AllocationError) as unknown:
        catalog.candidates(Party(), "SIM-XXX-9999", limit=3)
    assert unknown.value.message == "unknown_locker"
    poz = next(lk for lk in catalog.lockers.values() if lk.region == "POZ")
    with pytest.raises(AllocationError) as outside:
        catalog.candidates(recipient_near(poz), poz.locker_id, limit=3)
    assert outside.value.message == "outside_pilot_region"
    with pytest.raises(AllocationError) as no_choice:
        catalog.candidates(recipient_near(poz), None, limit=3)
    assert no_choice.value.message == "outside_pilot_region"
    with pytest.raises(AllocationError) as nowhere:
        catalog.candidates(Party(address=Address(postal_code="99-999", city="Nowhere")), None, limit=3)
    assert nowhere.value.message == "invalid_address"


def test_nearest_to_the_requested_locker_first_and_full_lockers_last(catalog: Catalog) -> None:
    waw = sorted((lk for lk in catalog.lockers.values() if lk.region == "WAW"), key=lambda lk: lk.locker_id)
    asked = waw[0]
    small = parcel(100, 100, 50)
    got = catalog.candidates(recipient_near(asked), asked.locker_id, limit=10, parcel=small)
    neighbours = [lk.locker_id for lk in got[1:]]
    km = {lk.locker_id: distance_km(asked, lk) for lk in got[1:]}
    assert neighbours == sorted(neighbours, key=lambda i: (km[i], i))  # nearest first
    first = got[1]
    for code in ("A", "B", "C"):  # this hub reserves every free compartment of the nearest neighbour
        for _ in range(catalog.free(first.locker_id)[code]):
            catalog.taken(first.locker_id, code)
    again = catalog.candidates(recipient_near(asked), asked.locker_id, limit=10, parcel=small)
    assert again[-1].locker_id == first.locker_id  # known full: tried last, not first
    assert sorted(lk.locker_id for lk in again) == sorted(lk.locker_id for lk in got)
