"""Scripted scenarios for the simulated networks: what couriers, recipients, lockers and vendor APIs do, step by
step, while a hub (or a trainee running one) reacts. A training sandbox for couriers and support staff
(docs/training.md), and the same script for tests.

A scenario is a YAML file::

    scenario: courier-day
    description: a courier round, most recipients collect, the rest expire
    steps:
      - advance: 3h                        # simulated time moves (every vendor's clock)
      - deposit: {share: 1.0}              # couriers put booked parcels into their compartments
      - advance: 5h
      - pickup: {share: 0.8}               # recipients collect with the code they were sent
      - locker: {state: offline, count: 1} # a locker drops off the network (count lockers of each vendor)
      - faults: {rate: 0.1, kinds: ["500", "503"]}   # the vendor APIs fail one call in ten from now on
      - burst: {status: 429, count: 5, retry_after: 2}  # the next five calls are rate-limited
      - faults: {rate: 0}                  # and recover
      - advance: 49h                       # past the pickup window: the rest expire
      - collect_returns: {share: 1.0}      # couriers take expired parcels back

Every step acts on every vendor's :class:`~lockerhub.simulator.World` (``vendor: NAME`` limits a step to one), and
picks its parcels or lockers with the scenario's seed, so a run is the same every time. Durations are ``<n>s``,
``<n>m``, ``<n>h`` or ``<n>d``. The bundled scenarios live beside this module (``scenarios/*.yaml``); ``lockerhub
simulate --scenario NAME|FILE`` plays one. A file that is not a scenario is refused with file:line:column.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lockerhub import _yaml
from lockerhub.errors import ConfigError
from lockerhub.model import LockerState
from lockerhub.simulator.faults import DEFAULT_KINDS, FaultKind, FaultRate
from lockerhub.simulator.state import BookingState, SimError, World

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str | float) -> timedelta:
    """``"90m"`` -> 90 minutes; a bare number is seconds."""
    if isinstance(text, int | float):
        return timedelta(seconds=float(text))
    found = _DURATION.fullmatch(str(text).strip())
    if found is None:
        raise ValueError("expected a duration such as 30s, 15m, 3h or 2d")
    return timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2)])


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor: str | None = Field(default=None, description="only this vendor's network (default: every one)")


class Share(_Step):
    share: float = Field(default=1.0, ge=0, le=1, description="the share of the parcels concerned")


class LockerChange(_Step):
    state: LockerState
    count: int = Field(default=1, ge=1, description="lockers of each vendor (online ones first for offline)")


class Faults(_Step):
    rate: float = Field(ge=0, le=1)
    kinds: list[FaultKind] = Field(default_factory=lambda: list(DEFAULT_KINDS), min_length=1)
    retry_after: float | None = Field(default=None, ge=0)


class Burst(_Step):
    status: int = Field(default=429, ge=400, le=599)
    count: int = Field(default=5, ge=1)
    retry_after: float | None = Field(default=None, ge=0)


Advance = Annotated[timedelta, Field(description="how far simulated time moves")]


class Step(BaseModel):
    """One step: exactly one of its fields."""

    model_config = ConfigDict(extra="forbid")

    advance: Advance | None = None
    deposit: Share | None = None
    pickup: Share | None = None
    collect_returns: Share | None = None
    locker: LockerChange | None = None
    faults: Faults | None = None
    burst: Burst | None = None

    @field_validator("advance", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return duration(value) if value is not None else None

    def action(self) -> tuple[str, Any]:
        given = [(name, value) for name, value in self if value is not None]
        if len(given) != 1:
            raise ValueError(f"a step does one thing: one of {', '.join(type(self).model_fields)}")
        return given[0]


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1)
    description: str = ""
    seed: int = 0
    steps: list[Step] = Field(min_length=1)

    @field_validator("steps", mode="after")
    @classmethod
    def _one_thing_each(cls, steps: list[Step]) -> list[Step]:
        for step in steps:
            step.action()
        return steps


def bundled() -> dict[str, Path]:
    """The scenarios shipped with lockerhub, by name."""
    folder = resources.files("lockerhub.simulator") / "scenarios"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".yaml")}


def load(name_or_path: str | Path) -> Scenario:
    """A bundled scenario by name, or a scenario file; errors name file:line:column."""
    path = bundled().get(str(name_or_path)) or Path(name_or_path)
    if not path.is_file():
        raise ConfigError("no such scenario", expected=f"a file, or one of {', '.join(sorted(bundled()))}",
                          found=str(name_or_path))
    data, positions = _yaml.load(path)
    scenario = _yaml.validate(Scenario, data, file=str(path), positions=positions)
    assert isinstance(scenario, Scenario)
    return scenario


@dataclass(slots=True)
class StepResult:
    step: int
    action: str
    done: dict[str, int] = field(default_factory=dict)  # vendor -> parcels or lockers acted on

    def summary(self) -> str:
        return ", ".join(f"{vendor}: {n}" for vendor, n in self.done.items()) or "-"


class Player:
    """Plays a scenario on the vendors' worlds, one step at a time (``step()``) or all at once (``play()``)."""

    def __init__(self, scenario: Scenario, worlds: Mapping[str, World]) -> None:
        unknown = {s.action()[1].vendor for s in scenario.steps if not isinstance(s.action()[1], timedelta)} - {
            None, *worlds}
        if unknown:
            raise ConfigError(f"scenario {scenario.scenario}: a step names a vendor that is not simulated",
                              expected=", ".join(worlds), found=", ".join(sorted(str(u) for u in unknown)))
        self.scenario = scenario
        self.worlds = dict(worlds)
        self.rng = random.Random(scenario.seed)
        self.position = 0

    @property
    def done(self) -> bool:
        return self.position >= len(self.scenario.steps)

    def play(self, on_step: Callable[[StepResult], None] | None = None) -> list[StepResult]:
        results = []
        while not self.done:
            results.append(self.step())
            if on_step is not None:
                on_step(results[-1])
        return results

    def step(self) -> StepResult:
        name, args = self.scenario.steps[self.position].action()
        self.position += 1
        result = StepResult(self.position, name)
        for vendor, world in self.worlds.items():
            if getattr(args, "vendor", None) not in (None, vendor):
                continue
            result.done[vendor] = getattr(self, f"_{name}")(world, args)
        return result

    # --- the actions: each returns how many parcels or lockers it touched --------------------------------------

    def _advance(self, world: World, by: timedelta) -> int:
        world.advance(by)
        return 0

    def _pick(self, world: World, state: BookingState, share: float) -> list[str]:
        ids = [r.reservation_id for r in _reservations(world) if r.state == state]
        return [rid for rid in ids if self.rng.random() < share]

    def _deposit(self, world: World, args: Share) -> int:
        return _each(self._pick(world, BookingState.BOOKED, args.share), world.deposit)

    def _pickup(self, world: World, args: Share) -> int:
        return _each(self._pick(world, BookingState.DEPOSITED, args.share),
                     lambda rid: world.pickup(rid, world.recipient_code(rid)))

    def _collect_returns(self, world: World, args: Share) -> int:
        return _each(self._pick(world, BookingState.PICKUP_EXPIRED, args.share), world.return_collect)

    def _locker(self, world: World, args: LockerChange) -> int:
        lockers, _ = world.lockers(page=1, per_page=1_000_000)
        candidates = [lk for lk in lockers if lk.state != args.state]
        chosen = self.rng.sample(candidates, min(args.count, len(candidates)))
        for locker in chosen:
            world.set_locker_state(locker.locker_id, args.state)
        return len(chosen)

    def _faults(self, world: World, args: Faults) -> int:
        seed = self.rng.randrange(2**31)
        world.inject_fault_rate(FaultRate(args.rate, tuple(args.kinds), seed, args.retry_after) if args.rate else None)
        return 0

    def _burst(self, world: World, args: Burst) -> int:
        world.inject_fault(args.status, args.count, args.retry_after)
        return args.count


def _reservations(world: World) -> list[Any]:
    out, cursor = [], None
    while True:
        page, cursor = world.reservations_page(cursor, limit=1000)
        out.extend(page)
        if cursor is None:
            return out


def _each(ids: list[str], act: Callable[[str], object]) -> int:
    """Act on each reservation; one that changed meanwhile (a hub cancelled it) is passed over."""
    done = 0
    for rid in ids:
        try:
            act(rid)
        except SimError:
            continue
        done += 1
    return done

