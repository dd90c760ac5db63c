"""Several simulated locker vendors side by side: each vendor's simulator over its own share of one network.

The demo (``lockerhub demo --vendors``) and the sandbox (``lockerhub simulate --vendors``) both start them here:
:func:`split_network` deals one generated network out among the vendors (disjoint lockers, so ids stay unique and
every city has lockers of several vendors), :data:`SIMS` has one :class:`VendorSim` per vendor style, each serving
its World over the vendor's own API (HTTP on 127.0.0.1, the MQTT cabinets through a broker) and acting as couriers
and recipients through that simulator's control API.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

import requests

from lockerhub.errors import LockerhubError
from lockerhub.model import Locker
from lockerhub.simulator.server import SimulatorServer, SimulatorStartError
from lockerhub.simulator.state import World


class FleetError(LockerhubError):
    """The vendors cannot be simulated as asked (a broker that does not answer, a connector that is missing)."""


VENDORS = ("simlocker", "inpost", "boxnow", "gls", "mqtt-cabinet")
"""The simulated vendors the demo can run, each under its connector's id."""
DEFAULT_VENDORS = ("simlocker",)
DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"
MQTT_URL_ENV = "LOCKERHUB_MQTT_URL"


def parse_vendors(text: str) -> list[str]:
    """``"inpost, boxnow"`` -> ``["inpost", "boxnow"]``; ValueError naming what is wrong (unknown or repeated names)."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise ValueError(f"expected a comma-separated list of {', '.join(VENDORS)}")
    unknown = [n for n in names if n not in VENDORS]
    if unknown:
        raise ValueError(f"unknown vendor {unknown[0]!r}; the demo has {', '.join(VENDORS)}")
    repeated = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if repeated is not None:
        raise ValueError(f"{repeated!r} is listed twice; name each vendor once")
    return names


def split_network(network: Sequence[Locker], vendors: Sequence[str]) -> dict[str, list[Locker]]:
    """Deal the network out among ``vendors``: disjoint subsets, each city's lockers going round the vendors (the
    n-th locker of a city, counted from the city's own offset, to vendor ``n mod len(vendors)``), so that every city
    has lockers of several vendors. One vendor gets the whole network."""
    shares: dict[str, list[Locker]] = {name: [] for name in vendors}
    regions: dict[str | None, int] = {}
    seen: dict[str | None, int] = {}
    for locker in network:
        offset = regions.setdefault(locker.region, len(regions))
        number = seen[locker.region] = seen.get(locker.region, -1) + 1
        shares[vendors[(offset + number) % len(vendors)]].append(locker)
    return shares


class Control:
    """A simulator's control API (``/sim``) over HTTP: what couriers, recipients and time do."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers.update(headers or {})

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(f"{self.url}{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def get(self, path: str) -> dict[str, Any]:
        response = self.http.get(f"{self.url}{path}", timeout=10)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.http.close()


class VendorSim:
    """One vendor's simulator (the demo's, ``lockerhub simulate``'s), over its share of the network (its World).

    ``config`` is the connector's config for the YAML (nothing secret, nothing that changes from run to run);
    :meth:`start` serves the simulator and answers the connector's environment (URL and one-off secret). Couriers,
    recipients and time act through the simulator's control API with the hub's reservation id, which is the
    connector's; :meth:`world_id` turns it into the World's where the control API wants that one."""

    name: ClassVar[str] = ""
    world_options: ClassVar[dict[str, Any]] = {}  # for the World
    config: ClassVar[dict[str, Any]] = {}
    port = 0  # the HTTP port on 127.0.0.1 (0: a free one)

    def __init__(self, world: World, secret: str) -> None:
        self.world = world
        self.secret = secret
        self.control: Control | None = None
        self.server: Any = None

    def start(self) -> dict[str, str]:
        raise NotImplementedError

    def stop(self) -> None:
        if self.control is not None:
            self.control.close()
        if self.server is not None:
            self.server.stop()

    def secrets(self) -> list[str]:
        return [self.secret]

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        assert self.control is not None, f"the {self.name} simulator is not running"
        return self.control.post(path, body)

    def world_id(self, reservation_id: str) -> str:
        return reservation_id

    def deposit(self, reservation_id: str) -> None:
        self._post("/sim/deposit", {"reservation_id": self.world_id(reservation_id)})

    def pickup(self, reservation_id: str, access_code: str) -> None:
        self._post("/sim/pickup", {"reservation_id": self.world_id(reservation_id), "access_code": access_code})

    def advance(self, hours: float) -> None:
        self._post("/sim/clock/advance", {"seconds": hours * 3600})


class SimlockerSim(VendorSim):
    """lockerhub's reference locker API (``X-API-Key``); reservation ids are the World's."""

    name = "simlocker"

    def start(self) -> dict[str, str]:
        self.server = SimulatorServer(self.world, api_key=self.secret, port=self.port).start()
        self.control = Control(self.server.url, {"X-API-Key": self.secret})
        return {"LOCKERHUB_SIMLOCKER_API_KEY": self.secret, "LOCKERHUB_SIMLOCKER_BASE_URL": self.server.url}


class InpostSim(VendorSim):
    """ShipX style (bearer token); reservation ids are shipment ids, ``GET /sim/shipments/{id}`` names the World's."""

    name = "inpost"
    world_options: ClassVar[dict[str, Any]] = {"soft_ttl": None}  # ShipX shipments do not lapse by themselves
    config: ClassVar[dict[str, Any]] = {"organization_id": 1234}

    def start(self) -> dict[str, str]:
        from lockerhub.simulator.vendors import inpost

        self.server = inpost.Server(self.world, token=self.secret, organization_id=self.config["organization_id"])
        self.server.start()
        self.control = Control(self.server.url, {"Authorization": f"Bearer {self.secret}"})
        return {"LOCKERHUB_INPOST_TOKEN": self.secret, "LOCKERHUB_INPOST_BASE_URL": self.server.url}

    def world_id(self, reservation_id: str) -> str:
        assert self.control is not None
        return str(self.control.get(f"/sim/shipments/{reservation_id}")["reservation_id"])


class BoxnowSim(VendorSim):
    """BoxNow style (OAuth2 client credentials); reservation ids are parcel ids ``92NNNNNNNN`` (``rsv-NNNNNN``)."""

    name = "boxnow"
    config: ClassVar[dict[str, Any]] = {"client_id": "lockerhub-demo"}

    def start(self) -> dict[str, str]:
        from lockerhub.simulator.vendors import boxnow

        self.server = boxnow.Server(self.world, client_id=self.config["client_id"], client_secret=self.secret)
        self.server.start()
        self.control = Control(self.server.url)  # the control API is unauthenticated (bound to localhost)
        return {"LOCKERHUB_BOXNOW_CLIENT_SECRET": self.secret, "LOCKERHUB_BOXNOW_BASE_URL": self.server.url}

    def world_id(self, reservation_id: str) -> str:
        from lockerhub.simulator.vendors import boxnow

        return boxnow.reservation_id(reservation_id)


class GlsSim(VendorSim):
    """GLS/NXT style (``X-API-Key``); reservation ids are the carrier's parcel ids, which its control API takes."""

    name = "gls"

    def start(self) -> dict[str, str]:
        from lockerhub.simulator.vendors import gls

        self.server = gls.Server(self.world, api_key=self.secret).start()
        self.control = Control(self.server.url, {"X-API-Key": self.secret})
        return {"LOCKERHUB_GLS_API_KEY": self.secret, "LOCKERHUB_GLS_BASE_URL": self.server.api_url}

    def deposit(self, reservation_id: str) -> None:
        self._post("/sim/courier/deliver", {"carrierParcelId": reservation_id})

    def pickup(self, reservation_id: str, access_code: str) -> None:
        self._post("/sim/consignee/collect", {"carrierParcelId": reservation_id, "code": access_code})


class CabinetSim(VendorSim):
    """IoT cabinets over MQTT, under a topic prefix of this run's own. Cabinets have no HTTP control API: couriers
    and recipients act at the cabinet (the World), which reports it over MQTT. Reservation ids are
    ``<cabinet id>/<the World's reservation id>``."""

    name = "mqtt-cabinet"

    def __init__(self, world: World, secret: str, *, mqtt_url: str) -> None:
        super().__init__(world, secret)
        self.mqtt_url = mqtt_url
        self.prefix = f"lockerhub-demo-{uuid.uuid4().hex[:10]}"

    def secrets(self) -> list[str]:
        from lockerhub.health.mqtt import Broker

        password = Broker.from_url(self.mqtt_url).password
        return [password] if password else []

    def start(self) -> dict[str, str]:
        from lockerhub.health.mqtt import Broker
        from lockerhub.simulator.vendors.cabinet import CabinetSimulator

        broker = Broker.from_url(self.mqtt_url)
        self.server = CabinetSimulator(self.world, self.mqtt_url, prefix=self.prefix)
        try:
            self.server.start()
        except SimulatorStartError as exc:
            self.server = None
            raise FleetError(broker_paragraph(broker, str(exc))) from None
        env = {"LOCKERHUB_MQTT_CABINET_BROKER_URL": str(broker), "LOCKERHUB_MQTT_CABINET_TOPIC_PREFIX": self.prefix}
        if broker.username is not None:
            env["LOCKERHUB_MQTT_CABINET_USERNAME"] = broker.username
        if broker.password is not None:
            env["LOCKERHUB_MQTT_CABINET_PASSWORD"] = broker.password
        return env

    def world_id(self, reservation_id: str) -> str:
        return reservation_id.split("/", 1)[1]

    def deposit(self, reservation_id: str) -> None:
        self.world.deposit(self.world_id(reservation_id))

    def pickup(self, reservation_id: str, access_code: str) -> None:
        self.world.pickup(self.world_id(reservation_id), access_code)

    def advance(self, hours: float) -> None:
        self.world.advance(hours * 3600)


SIMS: dict[str, type[VendorSim]] = {sim.name: sim for sim in (SimlockerSim, InpostSim, BoxnowSim, GlsSim,
                                                                   CabinetSim)}
assert tuple(SIMS) == VENDORS


def broker_paragraph(broker: Any, problem: str) -> str:
    """What to do when the cabinets' MQTT broker (a :class:`lockerhub.health.mqtt.Broker`) does not answer."""
    return (f"the mqtt-cabinet vendor needs an MQTT broker, and the one at {broker} does not answer ({problem}). "
            f"Start Mosquitto there (`mosquitto -p {broker.port}`, `sudo systemctl start mosquitto`, or "
            f"`docker run --rm -p {broker.port}:1883 eclipse-mosquitto:2 mosquitto -c /mosquitto-no-auth.conf`), "
            f"point the demo at another broker with --mqtt-url or {MQTT_URL_ENV}, or leave mqtt-cabinet out of "
            "--vendors")


def require_broker(url: str) -> None:
    """Fail fast, before anything is laid out, when the MQTT broker cannot be reached (or paho is missing)."""
    from lockerhub.health.mqtt import Broker

    try:
        broker = Broker.from_url(url)
    except LockerhubError:
        raise FleetError(f"the MQTT broker URL (--mqtt-url or {MQTT_URL_ENV}) cannot be used",
                        expected="mqtt://host[:port] or mqtts://host[:port]") from None
    try:
        import paho.mqtt.client  # noqa: F401
    except ImportError:
        raise FleetError("the mqtt-cabinet vendor needs paho-mqtt, which is not installed",
                        hint="install lockerhub[mqtt], e.g. uv run --extra mqtt lockerhub demo ...") from None
    try:
        socket.create_connection((broker.host, broker.port), timeout=3).close()
    except OSError as exc:
        raise FleetError(broker_paragraph(broker, exc.strerror or type(exc).__name__)) from None


def require_connectors(vendors: Sequence[str]) -> None:
    from lockerhub.plugins.registry import registry

    reg = registry()
    for name in vendors:
        try:
            reg.load(name)
        except LockerhubError as exc:
            raise FleetError(f"the {name} vendor needs the {name} connector, which cannot be loaded: {exc.message}",
                            hint="install the built-in connectors: uv sync --group connectors") from None


def hub_vendors(sims: Sequence[VendorSim]) -> dict[str, dict[str, Any]]:
    """The hub config's ``vendors`` section for these simulators: each under its connector's id, with the
    connector's non-secret config (URLs and secrets come from its environment variables)."""
    return {sim.name: {"connector": sim.name, "config": dict(sim.config)} for sim in sims}
