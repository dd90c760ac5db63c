"""``lockerhub simulate``: simulated locker vendors side by side, as a sandbox for pilots and training.

    lockerhub simulate --vendors inpost,boxnow,gls --lockers 1000 --faults 0.1 --scenario courier-day

One generated network is shared out among the vendors (:func:`~lockerhub.simulator.fleet.split_network`); each
vendor's simulator serves its share in that vendor's API style (:mod:`lockerhub.simulator.fleet`). The sandbox
writes two files into its folder (``<data dir>/sandbox`` by default):

- ``vendors.yaml``: the ``vendors`` and ``routing`` sections of a hub config for them (no secrets), to paste into
  the hub config of a pilot or training run;
- ``sandbox.env``: each connector's ``LOCKERHUB_<VENDOR>_*`` variables (URLs and this run's one-off secrets),
  readable by its owner only (0600); ``set -a; . sandbox.env; set +a`` before starting the hub.

Faults (``--faults RATE[:KIND+KIND...]``, kinds ``500``, ``503``, ``429``, ``timeout``) make every vendor API fail
that share of calls from the start. A scenario (:mod:`lockerhub.simulator.scenario`) then plays its steps, one every
``step_every`` seconds, while the hub runs against the sandbox (``lockerhub run CONFIG --interval 10``): couriers
deposit, recipients collect, lockers go offline, APIs fail and recover. Without a scenario the sandbox serves until
Ctrl-C; with ``until_done`` it stops once the scenario has played.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lockerhub.errors import ConfigError
from lockerhub.security import masking
from lockerhub.simulator.faults import DEFAULT_KINDS, FaultKind, FaultRate
from lockerhub.simulator.fleet import (
    SIMS,
    CabinetSim,
    FleetError,
    VendorSim,
    hub_vendors,
    require_broker,
    require_connectors,
    split_network,
)
from lockerhub.simulator.network import SIZE_CLASSES, build_network, load_network
from lockerhub.simulator.scenario import Player, Scenario, StepResult
from lockerhub.simulator.state import World

ENV_FILE = "sandbox.env"
VENDORS_FILE = "vendors.yaml"


def parse_faults(text: str) -> FaultRate | None:
    """``"0.1"`` or ``"0.1:500+503+429"`` -> a fault plan (None for ``"0"``); ValueError saying what is expected."""
    rate_text, _, kinds_text = text.partition(":")
    try:
        rate = float(rate_text)
    except ValueError:
        raise ValueError("expected RATE[:KIND+KIND...], e.g. 0.1 or 0.1:500+503+429") from None
    if not 0 <= rate <= 1:
        raise ValueError("the fault rate is a share of calls, between 0 and 1")
    try:
        kinds = tuple(FaultKind(k) for k in kinds_text.split("+")) if kinds_text else DEFAULT_KINDS
    except ValueError:
        raise ValueError(f"fault kinds are {', '.join(k.value for k in FaultKind)}") from None
    return FaultRate(rate, kinds) if rate else None


@dataclass
class Sandbox:
    """The running vendors: their worlds (by vendor), where the files are, and the scenario's progress."""

    folder: Path
    sims: list[VendorSim]
    player: Player | None = None
    played: list[StepResult] = field(default_factory=list)

    @property
    def worlds(self) -> dict[str, World]:
        return {sim.name: sim.world for sim in self.sims}

    @property
    def env_file(self) -> Path:
        return self.folder / ENV_FILE

    @property
    def vendors_file(self) -> Path:
        return self.folder / VENDORS_FILE


def run_sandbox(
    vendors: Sequence[str], *, folder: Path, lockers: int = 40, seed: int = 7, faults: FaultRate | None = None,
    scenario: Scenario | None = None, step_every: float = 30.0, until_done: bool = False,
    mqtt_url: str = "mqtt://127.0.0.1:1883", simlocker_port: int = 0, network: Path | None = None,
    shop_share: float = 0.0,
    on_ready: Callable[[Sandbox], None] | None = None,
    on_step: Callable[[StepResult], None] | None = None, stop: threading.Event | None = None,
) -> Sandbox:
    """Start the vendors, write the files, call ``on_ready``, play the scenario (``on_step`` after each step), and
    serve until ``stop`` is set (or, with ``until_done``, the scenario has played). The network is ``network`` (a
    network file, see :func:`~lockerhub.simulator.network.load_network`) or ``lockers`` generated ones, of which
    ``shop_share`` inside shops (opening hours). Raises :class:`~lockerhub.simulator.fleet.FleetError` when a vendor
    cannot be simulated."""
    names = list(vendors)
    if network is not None:
        all_lockers, classes = load_network(network)
        styled = [n for n in names if n != "simlocker"]
        if {c.code for c in classes} != set(SIZE_CLASSES) and styled:
            raise FleetError(f"{network}: own size classes are served by simlocker only",
                             expected="the simulator's A, B and C (each vendor style maps them to its own sizes)",
                             found=", ".join(c.code for c in classes), hint=f"drop size_classes or {styled[0]}")
    else:
        all_lockers, classes = build_network(lockers, seed=seed, shop_share=shop_share), list(SIZE_CLASSES.values())
    lockers = len(all_lockers)
    shares = split_network(all_lockers, names)
    empty = [name for name, share in shares.items() if not share]
    if empty:
        raise FleetError(f"{lockers} lockers are too few for {len(names)} vendors: {empty[0]} would have none",
                         hint="give more --lockers")
    if "mqtt-cabinet" in names:
        require_broker(mqtt_url)
    require_connectors(names)
    sims: list[VendorSim] = []
    for index, name in enumerate(names):
        world = World(shares[name], seed=seed + index, size_classes=classes, **SIMS[name].world_options)
        if faults is not None:
            world.inject_fault_rate(FaultRate(faults.rate, faults.kinds, seed + index, faults.retry_after,
                                              faults.timeout_s))
        secret = (os.environ.get("LOCKERHUB_SIMLOCKER_API_KEY") if name == "simlocker" else None) or (
            secrets.token_urlsafe(18))
        sims.append(CabinetSim(world, secret, mqtt_url=mqtt_url) if SIMS[name] is CabinetSim
                    else SIMS[name](world, secret))
        if name == "simlocker":
            sims[-1].port = simlocker_port
    for sim in sims:
        for secret in sim.secrets():
            masking.register_secret(secret)
    sandbox = Sandbox(folder, sims, Player(scenario, {s.name: s.world for s in sims}) if scenario else None)
    stop = stop or threading.Event()
    try:
        env: dict[str, str] = {}
        for sim in sims:
            env.update(sim.start())
        _write_files(sandbox, env)
        if on_ready is not None:
            on_ready(sandbox)
        while not stop.is_set():
            player = sandbox.player
            if player is not None and not player.done:
                sandbox.played.append(player.step())
                if on_step is not None:
                    on_step(sandbox.played[-1])
                if not player.done:
                    stop.wait(step_every)
                continue
            if until_done and player is not None:
                break
            stop.wait(1.0)
    finally:
        for sim in sims:
            sim.stop()
    return sandbox


def _write_files(sandbox: Sandbox, env: dict[str, str]) -> None:
    sandbox.folder.mkdir(parents=True, exist_ok=True)
    config = {
        "vendors": hub_vendors(sandbox.sims),
        "routing": {"vendors": [s.name for s in sandbox.sims]},
    }
    header = ("# written by lockerhub simulate: the simulated vendors, in order of preference. Paste into a hub\n"
              f"# config; their URLs and this run's secrets are in {ENV_FILE} beside this file (not here).\n")
    sandbox.vendors_file.write_text(header + yaml.safe_dump(config, sort_keys=False), "utf-8")
    fd = os.open(sandbox.env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("# lockerhub simulate: this run's vendor URLs and one-off secrets (owner-readable only)\n")
        out.writelines(f"{key}={value}\n" for key, value in sorted(env.items()))
    os.chmod(sandbox.env_file, 0o600)  # an existing file keeps its mode through O_TRUNC


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of a ``sandbox.env`` (for a process that starts the hub itself)."""
    out: dict[str, str] = {}
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ConfigError(f"{path}:{number}: not a variable", expected="NAME=value", found="another line")
        out[key.strip()] = value
    return out
