"""Process settings from the environment (prefix ``LOCKERHUB_``); the YAML hub config is in ``config.py``.

| variable                  | default                              |
|---------------------------|--------------------------------------|
| LOCKERHUB_DATA_DIR        | ``./.lockerhub``                     |
| LOCKERHUB_DATABASE_URL    | ``sqlite:///<data dir>/lockerhub.db`` |
| LOCKERHUB_PII_KEYS        | ``<data dir>/keys/pii.keys`` (created on first use, mode 0600) |
| LOCKERHUB_BROKER_URL      | ``sqla+sqlite:///<data dir>/bus.db`` (embedded kombu transport); ``amqp://`` for RabbitMQ |
| LOCKERHUB_WEBHOOK_SILENCE_S | ``900``: a webhook vendor silent this long is polled for every open booking |
| LOCKERHUB_BUS_PREFIX      | ``lockerhub`` (exchange and queue name prefix; hubs sharing a broker use different ones) |
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOCKERHUB_", extra="ignore")

    data_dir: Path = Field(default=Path(".lockerhub"))
    database_url: str | None = None
    broker_url: str | None = None
    bus_prefix: str = "lockerhub"
    webhook_silence_s: float = Field(default=900.0, gt=0)
    pii_keys: SecretStr | None = Field(
        default=None, description="'kid:base64key[,kid:base64key...]', first is the active key"
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lockerhub.db').resolve()}"

    def resolved_broker_url(self) -> str:
        if self.broker_url:
            return self.broker_url
        return f"sqla+sqlite:///{(self.data_dir / 'bus.db').resolve()}"
