"""A seeded, plausible locker network for the simulator.

The size classes are modelled on the public compartment tables of Polish locker networks (InPost's
A/B/C "gabaryt": 8 x 38 x 64 cm, 19 x 38 x 64 cm, 41 x 38 x 64 cm, 25 kg each). They are lockerhub's own
reference classes, not any vendor's contract.

``build_network(lockers, seed=...)`` is deterministic for a seed: the same arguments always give the same
lockers, modules and compartments (it uses only ``random.Random(seed)``, never global state or the clock).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lockerhub import _yaml
from lockerhub.model import Compartment, Dimensions, Locker, LockerState, Module, SizeClass, TemperatureClass
from lockerhub.model.hours import parse_hours
from lockerhub.model.units import Grams

SIZE_CLASSES: dict[str, SizeClass] = {
    sc.code: sc
    for sc in (
        SizeClass(code="A", inner=Dimensions(length_mm=640, width_mm=380, height_mm=80), max_weight_g=25_000),
        SizeClass(code="B", inner=Dimensions(length_mm=640, width_mm=380, height_mm=190), max_weight_g=25_000),
        SizeClass(code="C", inner=Dimensions(length_mm=640, width_mm=380, height_mm=410), max_weight_g=25_000),
    )
}
"""Size classes by code, smallest first (all ambient)."""

# Share of compartments per class: small ones are the most common in real banks of lockers.
_CLASS_WEIGHTS = {"A": 5, "B": 3, "C": 2}


@dataclass(frozen=True, slots=True)
class _Region:
    city: str
    postal_prefixes: tuple[str, ...]  # first two digits of the Polish postal code (NN-NNN)
    latitude: float
    longitude: float
    districts: tuple[str, ...]


REGIONS: dict[str, _Region] = {
    "WAW": _Region("Warszawa", ("00", "01", "02", "03", "04"), 52.2297, 21.0122,
                   ("Mokotów", "Wola", "Praga-Południe", "Ursynów", "Bielany", "Śródmieście", "Targówek")),
    "KRK": _Region("Kraków", ("30", "31"), 50.0647, 19.9450,
                   ("Stare Miasto", "Kazimierz", "Podgórze", "Krowodrza", "Nowa Huta", "Bronowice")),
    "GDN": _Region("Gdańsk", ("80",), 54.3520, 18.6466,
                   ("Wrzeszcz", "Oliwa", "Przymorze", "Zaspa", "Śródmieście", "Orunia")),
    "POZ": _Region("Poznań", ("60", "61"), 52.4064, 16.9252,
                   ("Jeżyce", "Grunwald", "Wilda", "Rataje", "Winogrady")),
    "WRO": _Region("Wrocław", ("50", "51", "52", "53", "54"), 51.1079, 17.0385,
                   ("Krzyki", "Fabryczna", "Psie Pole", "Śródmieście", "Stare Miasto")),
}
"""Regions the generator knows: code -> city, postal code prefixes, centre and districts."""

DEFAULT_REGIONS = ["WAW", "KRK", "GDN"]


SHOP_HOURS = "Mo-Sa 08:00-20:00"  # a locker inside a shop; the others are open 24/7


def build_network(lockers: int, *, seed: int, regions: list[str] | None = None,
                  shop_share: float = 0.0) -> list[Locker]:
    """``lockers`` lockers spread round-robin over ``regions`` (default WAW, KRK, GDN), deterministic for ``seed``.

    Ids are ``SIM-<REGION>-<NNNN>``, numbered per region. Each locker has 1-3 modules and 12-30 compartments;
    every module holds at least one compartment of each size class. ``shop_share`` of the lockers stand inside
    shops (opening hours :data:`SHOP_HOURS`, chosen with their own random stream: the rest of the network is the
    same whatever the share).
    """
    if lockers < 0:
        raise ValueError(f"lockers must be >= 0, got {lockers}")
    codes = list(DEFAULT_REGIONS if regions is None else regions)
    if not codes:
        raise ValueError("regions must not be empty")
    unknown = [c for c in codes if c not in REGIONS]
    if unknown:
        raise ValueError(f"unknown region {unknown[0]!r}; known: {', '.join(REGIONS)}")
    rng, shops = random.Random(seed), random.Random(f"{seed}:shops")
    per_region: dict[str, int] = {}
    network = []
    for index in range(lockers):
        code = codes[index % len(codes)]
        per_region[code] = per_region.get(code, 0) + 1
        locker = _locker(rng, code, per_region[code])
        if shops.random() < shop_share:
            locker.opening_hours = SHOP_HOURS
        network.append(locker)
    return network


def _locker(rng: random.Random, code: str, number: int) -> Locker:
    region = REGIONS[code]
    locker_id = f"SIM-{code}-{number:04d}"
    module_count = rng.randint(1, 3)
    total = rng.randint(max(12, 3 * module_count), 30)
    sizes = _split(rng, total, module_count)
    modules = [
        Module(module_id=f"{locker_id}-M{m}", compartments=_compartments(rng, f"{locker_id}-M{m}", size))
        for m, size in enumerate(sizes, start=1)
    ]
    district = rng.choice(region.districts)
    return Locker(
        locker_id=locker_id,
        name=f"{region.city} {district} {number}",
        region=code,
        postal_code=f"{rng.choice(region.postal_prefixes)}-{rng.randint(1, 999):03d}",
        city=region.city,
        latitude=round(region.latitude + rng.uniform(-0.08, 0.08), 5),
        longitude=round(region.longitude + rng.uniform(-0.12, 0.12), 5),
        modules=modules,
    )


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` compartments over ``parts`` modules, each module getting at least three."""
    sizes = [3] * parts
    for _ in range(total - 3 * parts):
        sizes[rng.randrange(parts)] += 1
    return sizes


def _compartments(rng: random.Random, module_id: str, count: int) -> list[Compartment]:
    classes = list(SIZE_CLASSES)  # one of each, then a weighted mix
    classes += rng.choices(classes, weights=[_CLASS_WEIGHTS[c] for c in classes], k=count - len(classes))
    classes.sort()  # small doors on top, as in a real column
    return [
        Compartment(
            compartment_id=f"{module_id}-{n:02d}",
            size_class=sc,
            inner=SIZE_CLASSES[sc].inner,
            max_weight_g=SIZE_CLASSES[sc].max_weight_g,
            temperature=TemperatureClass.AMBIENT,
        )
        for n, sc in enumerate(classes, start=1)
    ]


class _ClassSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inner: Dimensions
    max_weight_g: Grams
    temperature: TemperatureClass = TemperatureClass.AMBIENT


class _NetworkLocker(BaseModel):
    """One locker of a network file: where it is, when it opens, and its compartments per module by size class."""

    model_config = ConfigDict(extra="forbid")

    locker_id: str = Field(min_length=1)
    name: str | None = None
    region: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str = "PL"
    latitude: float | None = None
    longitude: float | None = None
    opening_hours: str | None = None
    state: LockerState = LockerState.ONLINE
    modules: list[dict[str, int]] = Field(min_length=1, description="per module: size class -> compartments")

    @field_validator("opening_hours", mode="after")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hours(value)
        return value


class NetworkFile(BaseModel):
    """A locker network for the simulator, written by hand (``lockerhub simulate --network FILE``)."""

    model_config = ConfigDict(extra="forbid")

    size_classes: dict[str, _ClassSpec] = Field(default_factory=dict, description="default: the simulator's A/B/C")
    lockers: list[_NetworkLocker] = Field(min_length=1)

    @model_validator(mode="after")
    def _known(self) -> NetworkFile:
        classes = self.size_classes or SIZE_CLASSES
        for locker in self.lockers:
            for module in locker.modules:
                unknown = sorted(set(module) - set(classes))
                if unknown:
                    raise ValueError(f"locker {locker.locker_id}: unknown size class {unknown[0]!r}; "
                                     f"known: {', '.join(classes)}")
        ids = [lk.locker_id for lk in self.lockers]
        twice = next((i for n, i in enumerate(ids) if i in ids[:n]), None)
        if twice is not None:
            raise ValueError(f"locker {twice} is listed twice")
        return self

    def classes(self) -> list[SizeClass]:
        if not self.size_classes:
            return list(SIZE_CLASSES.values())
        return [SizeClass(code=code, inner=spec.inner, max_weight_g=spec.max_weight_g, temperature=spec.temperature)
                for code, spec in self.size_classes.items()]

    def network(self) -> list[Locker]:
        classes = {c.code: c for c in self.classes()}
        out = []
        for spec in self.lockers:
            modules = []
            for m, counts in enumerate(spec.modules, start=1):
                module_id = f"{spec.locker_id}-M{m}"
                codes = [code for code in classes if code in counts for _ in range(counts[code])]
                modules.append(Module(module_id=module_id, compartments=[
                    Compartment(compartment_id=f"{module_id}-{n:02d}", size_class=code, inner=classes[code].inner,
                                max_weight_g=classes[code].max_weight_g, temperature=classes[code].temperature)
                    for n, code in enumerate(codes, start=1)]))
            out.append(Locker(**spec.model_dump(exclude={"modules"}), modules=modules))
        return out


def load_network(path: str | Path) -> tuple[list[Locker], list[SizeClass]]:
    """The lockers and size classes of a network file; errors name file:line:column."""
    data, positions = _yaml.load(path)
    spec = _yaml.validate(NetworkFile, data, file=str(path), positions=positions)
    assert isinstance(spec, NetworkFile)
    return spec.network(), spec.classes()
