"""A broker that wants credentials: a private Mosquitto with a password file, started for this module."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from lockerhub_mqtt_cabinet import MqttCabinetConfig, MqttCabinetConnector
from pydantic import SecretStr

from lockerhub.errors import AuthError
from lockerhub.simulator import World
from lockerhub.simulator.vendors.cabinet import CabinetSimulator

from .conftest import eventually, service_missing

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secured_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mqtt://127.0.0.1:<port>`` of a Mosquitto that knows one user, ``hub`` / ``right-password``."""
    mosquitto, passwd = shutil.which("mosquitto") or "/usr/sbin/mosquitto", shutil.which("mosquitto_passwd")
    if not Path(mosquitto).exists() or passwd is None:
        service_missing("mosquitto and mosquitto_passwd", FileNotFoundError("not installed"))
    folder = tmp_path_factory.mktemp("mosquitto")
    subprocess.run([passwd, "-b", "-c", str(folder / "passwd"), "hub", "right-password"], check=True,
                   capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (folder / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {folder / 'passwd'}\n"
        "persistence false\nuser root\n", "utf-8")
    proc = subprocess.Popen([mosquitto, "-c", str(folder / "mosquitto.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        def listening() -> bool:
            assert proc.poll() is None, "mosquitto exited at startup"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return False
            return True

        eventually(listening)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_wrong_credentials_are_an_auth_error(secured_broker: str) -> None:
    config = MqttCabinetConfig(broker_url=secured_broker, username="hub", password=SecretStr("wrong-password"),
                               ack_timeout_s=0.9, info_window_s=0.2)
    with MqttCabinetConnector(config) as conn:
        with pytest.raises(AuthError, match="refused the connection") as caught:
            list(conn.list_lockers())
        assert "wrong-password" not in str(caught.value)
        result = conn.check()
    assert not result.ok and result.items[-1].name == "auth" and "LOCKERHUB_MQTT_CABINET_PASSWORD" in (
        result.items[-1].message)


def test_the_right_credentials_are_let_in(secured_broker: str) -> None:
    url = secured_broker.replace("mqtt://", "mqtt://hub:right-password@")  # the simulator takes them in its URL
    config = MqttCabinetConfig(broker_url=secured_broker, username="hub", password=SecretStr("right-password"),
                               ack_timeout_s=0.9, info_window_s=0.2)
    with CabinetSimulator(World.generate(2, seed=1), url), MqttCabinetConnector(config) as conn:
        assert conn.check().ok
        assert len(list(conn.list_lockers())) == 2
