from __future__ import annotations

import socket

import pytest
import requests

from lockerhub.simulator import SimulatorServer, SimulatorStartError, World, create_app


def test_starts_on_a_free_port_and_stops(world: World) -> None:
    server = SimulatorServer(world, api_key="k")
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    with server as running:
        assert running.port > 0 and running.url == f"http://127.0.0.1:{running.port}"
        assert requests.get(running.url + "/healthz", timeout=5).status_code == 200
        port = running.port
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_a_taken_port_is_a_clear_error(world: World) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(SimulatorStartError, match=f"cannot listen on 127.0.0.1:{port}"):
            SimulatorServer(world, api_key="k", port=port).start()


def test_two_servers_share_nothing_but_the_world(world: World) -> None:
    with SimulatorServer(world, api_key="a") as one, SimulatorServer(world, api_key="b") as two:
        assert one.port != two.port
        assert requests.get(two.url + "/sim/clock", headers={"X-API-Key": "a"}, timeout=5).status_code == 401
        requests.post(one.url + "/sim/clock/advance", json={"seconds": 60}, headers={"X-API-Key": "a"},
                      timeout=5).raise_for_status()
        assert requests.get(two.url + "/sim/clock", headers={"X-API-Key": "b"}, timeout=5).json()["now"].endswith(
            "08:01:00+00:00")


def test_create_app_needs_a_key(world: World) -> None:
    with pytest.raises(ValueError):
        create_app(world, "")
