"""Configuration of the sample connector: a pydantic-settings model whose JSON Schema is the connector's spec.

Every field can come from the environment with the prefix ``LOCKERHUB_SAMPLE_``: ``LOCKERHUB_SAMPLE_BASE_URL``,
``LOCKERHUB_SAMPLE_TOKEN`` (the API token: give it this way, never in YAML), ``LOCKERHUB_SAMPLE_WEBHOOK_SECRET``,
``LOCKERHUB_SAMPLE_WEBHOOK_TOLERANCE_S`` and ``LOCKERHUB_SAMPLE_TIMEOUT_S``. Values passed explicitly win.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "LOCKERHUB_SAMPLE_"


class SampleConfig(BaseSettings):
    """Where the Sample Lockers API is and how to authenticate to it."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    base_url: str = Field(description="root of the API, e.g. https://api.sample-lockers.example")
    token: SecretStr = Field(description=f"bearer token; set {ENV_PREFIX}TOKEN rather than writing it in YAML",
                             json_schema_extra={"env": f"{ENV_PREFIX}TOKEN"})
    webhook_secret: SecretStr | None = Field(
        default=None, description=f"shared secret of the webhook signatures; set {ENV_PREFIX}WEBHOOK_SECRET; "
                                  "none = every webhook is refused",
        json_schema_extra={"env": f"{ENV_PREFIX}WEBHOOK_SECRET"})
    webhook_tolerance_s: float = Field(default=300, gt=0, description="replay window: a webhook signed more "
                                       "than this many seconds from the hub's clock is refused")
    timeout_s: float = Field(default=10, gt=0, description="read timeout per request, in seconds")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        text = value.strip().rstrip("/")
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.query:
            raise ValueError("expected an http(s) URL without credentials or query, e.g. https://api.example")
        return text
