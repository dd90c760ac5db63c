"""The connector's config: environment variables, validation, and no secret in any rendering."""

from __future__ import annotations

import pydantic
import pytest
from lockerhub_mqtt_cabinet import MqttCabinetConfig, MqttCabinetConnector


def test_environment_fills_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKERHUB_MQTT_CABINET_BROKER_URL", "mqtts://iot.example.com")
    monkeypatch.setenv("LOCKERHUB_MQTT_CABINET_USERNAME", "hub")
    monkeypatch.setenv("LOCKERHUB_MQTT_CABINET_PASSWORD", "s3cret-pw")
    monkeypatch.setenv("LOCKERHUB_MQTT_CABINET_TOPIC_PREFIX", "acme/cabinets")
    config = MqttCabinetConfig()
    assert (config.host, config.port, config.tls, config.topic_prefix) == ("iot.example.com", 8883, True,
                                                                           "acme/cabinets")
    assert config.password is not None and config.password.get_secret_value() == "s3cret-pw"
    conn = MqttCabinetConnector(config)
    for text in (repr(config), str(config), repr(conn), repr(conn.client), config.model_dump_json()):
        assert "s3cret-pw" not in text
    assert MqttCabinetConfig.model_json_schema()["properties"]["password"]["env"] == (
        "LOCKERHUB_MQTT_CABINET_PASSWORD")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("broker_url", "http://127.0.0.1:1883", "expected mqtt://host"),
    ("broker_url", "mqtt://hub:pw@127.0.0.1:1883", "without credentials"),
    ("broker_url", "mqtt://127.0.0.1:99999", "Port out of range"),
    ("topic_prefix", "cabinets/+", "without '\\+' or '#'"),
    ("topic_prefix", "cabinets/", "none empty"),
    ("ack_timeout_s", 0, "greater than 0"),
])
def test_bad_values_name_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message) as caught:
        MqttCabinetConfig.model_validate({field: value})
    assert caught.value.errors()[0]["loc"] == (field,)
    assert "pw@" not in str(caught.value)  # inputs are never echoed (a URL may carry a password)


def test_a_password_needs_a_user_and_unknown_keys_are_errors() -> None:
    with pytest.raises(pydantic.ValidationError, match="username is not"):
        MqttCabinetConfig.model_validate({"password": "x"})
    with pytest.raises(pydantic.ValidationError, match="topic_prefx"):
        MqttCabinetConfig.model_validate({"topic_prefx": "cabinets"})
