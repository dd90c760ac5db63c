"""Configuration of the mqtt-cabinet connector (a pydantic-settings model; its JSON Schema is the connector spec).

Environment variables (prefix ``LOCKERHUB_MQTT_CABINET_``) fill any field the configuration leaves out:
``LOCKERHUB_MQTT_CABINET_BROKER_URL``, ``..._USERNAME``, ``..._PASSWORD`` (the broker password: give it only
this way), ``..._TOPIC_PREFIX``, ``..._CLIENT_ID``, ``..._ACK_TIMEOUT_S``, ``..._INFO_WINDOW_S``,
``..._CONNECT_TIMEOUT_S``, ``..._BUFFER_SIZE``. Values passed explicitly win.

The broker URL never carries credentials (they would end up in YAML and logs): ``mqtt://host[:port]`` or
``mqtts://host[:port]`` (TLS, port 8883 by default).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "LOCKERHUB_MQTT_CABINET_"


class MqttCabinetConfig(BaseSettings):
    """Which broker the cabinets talk through, under which topic prefix, and how long to wait for them."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", hide_input_in_errors=True)

    broker_url: str = Field(default="mqtt://127.0.0.1:1883",
                            description="mqtt://host[:port] or mqtts://host[:port] (TLS), without credentials")
    username: str | None = Field(default=None, description="broker user name, if the broker wants one")
    password: SecretStr | None = Field(
        default=None, description="broker password; set LOCKERHUB_MQTT_CABINET_PASSWORD rather than writing it "
                                  "in YAML",
        json_schema_extra={"env": f"{ENV_PREFIX}PASSWORD"},
    )
    topic_prefix: str = Field(default="cabinets", description="topics are <prefix>/<cabinet id>/cmd|ack|events|"
                                                              "telemetry|info")
    client_id: str | None = Field(default=None, description="MQTT client id; set it for a persistent session (the "
                                                            "broker keeps QoS 1 events and telemetry while the hub "
                                                            "is away); leave it out for a fresh session each time")
    ack_timeout_s: float = Field(default=5.0, gt=0, description="how long a command waits for the cabinet's ack")
    info_window_s: float = Field(default=1.0, gt=0, description="how long to collect the retained info messages "
                                                                "(list_lockers, size_classes, unknown cabinets)")
    connect_timeout_s: float = Field(default=10.0, gt=0, description="how long to wait for the broker to accept "
                                                                     "the connection and the subscriptions")
    buffer_size: int = Field(default=10_000, ge=100, description="events and telemetry readings kept between two "
                                                                 "calls of events()/telemetry(); the oldest go first")

    @field_validator("broker_url", mode="after")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("expected mqtt://host[:port] or mqtts://host[:port]")
        if parts.username or parts.password:
            raise ValueError(f"expected a URL without credentials (set {ENV_PREFIX}USERNAME and "
                             f"{ENV_PREFIX}PASSWORD)")
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise ValueError("expected a URL without path, query or fragment")
        if parts.port == 0:  # reading .port also refuses ports above 65535
            raise ValueError("expected a port from 1 to 65535")
        return value.strip().rstrip("/")

    @field_validator("topic_prefix", mode="after")
    @classmethod
    def _topic_levels(cls, value: str) -> str:
        levels = value.split("/")
        if not value or any(not level or "+" in level or "#" in level for level in levels):
            raise ValueError("expected topic levels separated by '/', none empty, without '+' or '#'")
        return value

    @model_validator(mode="after")
    def _password_needs_user(self) -> MqttCabinetConfig:
        if self.password is not None and self.username is None:
            raise ValueError(f"password is set but username is not (set {ENV_PREFIX}USERNAME)")
        return self

    @property
    def tls(self) -> bool:
        return urlsplit(self.broker_url).scheme == "mqtts"

    @property
    def host(self) -> str:
        return urlsplit(self.broker_url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.broker_url).port or (8883 if self.tls else 1883)
