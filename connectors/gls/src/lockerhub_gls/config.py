"""Configuration of the gls connector (a pydantic-settings model; its JSON Schema is the connector spec).

Environment variables (prefix ``LOCKERHUB_GLS_``) fill any field the configuration leaves out:
``LOCKERHUB_GLS_API_KEY`` (the usual way to give the key), ``LOCKERHUB_GLS_BASE_URL``, ``LOCKERHUB_GLS_TIMEOUT_S``,
``LOCKERHUB_GLS_VERIFY_TLS``, ``LOCKERHUB_GLS_CA_BUNDLE``, ``LOCKERHUB_GLS_PAGE_SIZE``,
``LOCKERHUB_GLS_WEBHOOK_SECRET`` (the callback signing secret), ``LOCKERHUB_GLS_WEBHOOK_TOLERANCE_S``. Values passed
explicitly win.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "LOCKERHUB_GLS_"
PRODUCTION_URL = "https://api.glsnxt.com/ooh/carrier-connector/v1"


class GlsConfig(BaseSettings):
    """Where the GLS/NXT carrier-connector API is and how to authenticate to it."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    base_url: str = Field(
        default=PRODUCTION_URL,
        description="root of the carrier-connector API including /ooh/carrier-connector/v1 (the simulator's "
                    "Server.api_url in tests)",
    )
    api_key: SecretStr = Field(
        description="sent as X-API-Key; set LOCKERHUB_GLS_API_KEY rather than writing it in YAML",
        json_schema_extra={"env": f"{ENV_PREFIX}API_KEY"},
    )
    timeout_s: float = Field(default=10, gt=0, description="read timeout per request, in seconds")
    verify_tls: bool = Field(default=True, description="verify the server's TLS certificate (https only); false "
                                                       "only for a test server, never together with ca_bundle")
    ca_bundle: Path | None = Field(
        default=None, description="PEM file of the CA certificates to trust for this vendor instead of the system's",
        json_schema_extra={"env": f"{ENV_PREFIX}CA_BUNDLE"},
    )
    page_size: int = Field(default=50, ge=1, le=100, description="lockers per page of GET /lockers")
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="shared secret of the callback signatures (X-GLS-Signature, emulated); set "
                    "LOCKERHUB_GLS_WEBHOOK_SECRET rather than writing it in YAML; none = callbacks are refused",
        json_schema_extra={"env": f"{ENV_PREFIX}WEBHOOK_SECRET"},
    )
    webhook_tolerance_s: float = Field(
        default=300, gt=0, description="replay window: a callback signed more than this many seconds before or "
                                       "after the hub's clock is refused",
    )

    @field_validator("base_url", mode="after")
    @classmethod
    def _http_url(cls, value: str) -> str:
        text = value.strip().rstrip("/")
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http(s) URL such as {PRODUCTION_URL}")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("expected a URL without credentials, query or fragment")
        return text

    @field_validator("api_key", mode="after")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError(f"must not be empty (set {ENV_PREFIX}API_KEY)")
        return value

    @field_validator("ca_bundle", mode="after")
    @classmethod
    def _readable_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("expected a PEM file of CA certificates that exists")
        return value

    @model_validator(mode="after")
    def _one_way_to_verify(self) -> GlsConfig:
        if self.ca_bundle is not None and not self.verify_tls:
            raise ValueError("ca_bundle is set but verify_tls is false: remove one of them")
        return self

    def tls_verify(self) -> bool | str:
        """What ``requests`` takes as ``verify=``: the CA bundle's path, else ``verify_tls``."""
        return str(self.ca_bundle) if self.ca_bundle is not None else self.verify_tls
