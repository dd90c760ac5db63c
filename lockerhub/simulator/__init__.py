"""A simulated locker network behind lockerhub's reference locker API, served over real HTTP.

Used by connector tests, the conformance kit, demos and as a training sandbox::

    from lockerhub.simulator import SimulatorServer, World

    with SimulatorServer(World.generate(30, seed=1), api_key="dev-key") as srv:
        ...  # point the simlocker connector at srv.url

The API is lockerhub's own (modelled on the locker-operator reservation style: pre-check, soft reservation,
hard booking, access codes); it emulates no vendor's real API.
"""

from lockerhub.simulator.app import create_app
from lockerhub.simulator.network import SIZE_CLASSES, build_network
from lockerhub.simulator.server import SimulatorServer, SimulatorStartError
from lockerhub.simulator.state import BookingState, EventCode, ReservationView, SimError, SimEvent, World

__all__ = [
    "SIZE_CLASSES",
    "BookingState",
    "EventCode",
    "ReservationView",
    "SimError",
    "SimEvent",
    "SimulatorServer",
    "SimulatorStartError",
    "World",
    "build_network",
    "create_app",
]
