from __future__ import annotations

import re

import pytest

from lockerhub.model import CompartmentState, Dimensions, LockerState, TemperatureClass
from lockerhub.simulator import SIZE_CLASSES, build_network


def test_same_seed_same_network() -> None:
    first = [lk.model_dump() for lk in build_network(12, seed=3)]
    assert first == [lk.model_dump() for lk in build_network(12, seed=3)]
    assert first != [lk.model_dump() for lk in build_network(12, seed=4)]


def test_ids_regions_and_postal_codes() -> None:
    network = build_network(9, seed=1)
    assert [lk.locker_id for lk in network[:4]] == ["SIM-WAW-0001", "SIM-KRK-0001", "SIM-GDN-0001", "SIM-WAW-0002"]
    prefixes = {"WAW": ("00", "01", "02", "03", "04"), "KRK": ("30", "31"), "GDN": ("80",)}
    cities = {"WAW": "Warszawa", "KRK": "Kraków", "GDN": "Gdańsk"}
    for lk in network:
        assert lk.region in prefixes and lk.locker_id.startswith(f"SIM-{lk.region}-")
        assert re.fullmatch(r"\d\d-\d\d\d", lk.postal_code or "") and lk.postal_code[:2] in prefixes[lk.region]
        assert lk.city == cities[lk.region] and lk.country == "PL" and lk.state == LockerState.ONLINE


def test_modules_and_compartments() -> None:
    ids: set[str] = set()
    for lk in build_network(40, seed=11):
        assert 1 <= len(lk.modules) <= 3
        assert 12 <= len(lk.compartments()) <= 30
        for module in lk.modules:
            assert {c.size_class for c in module.compartments} == set(SIZE_CLASSES)
        for c in lk.compartments():
            assert c.inner == SIZE_CLASSES[c.size_class].inner and c.state == CompartmentState.FREE
            ids.add(c.compartment_id)
    assert len(ids) == sum(len(lk.compartments()) for lk in build_network(40, seed=11))


def test_size_classes_follow_the_public_tables() -> None:
    assert list(SIZE_CLASSES) == ["A", "B", "C"]
    heights = [sorted(s.inner.model_dump().values()) for s in SIZE_CLASSES.values()]
    assert heights == [[80, 380, 640], [190, 380, 640], [380, 410, 640]]
    assert all(s.max_weight_g == 25_000 and s.temperature == TemperatureClass.AMBIENT for s in SIZE_CLASSES.values())
    assert Dimensions.of(60, 35, 7, "cm").fits_in(SIZE_CLASSES["A"].inner)


def test_custom_regions_and_bad_input() -> None:
    assert {lk.region for lk in build_network(4, seed=0, regions=["POZ"])} == {"POZ"}
    assert build_network(0, seed=0) == []
    with pytest.raises(ValueError, match="unknown region 'XYZ'"):
        build_network(1, seed=0, regions=["XYZ"])
    with pytest.raises(ValueError):
        build_network(-1, seed=0)
