"""Configuration of the simlocker connector (a pydantic-settings model; its JSON Schema is the connector spec).

Environment variables (prefix ``LOCKERHUB_SIMLOCKER_``) fill any field the configuration leaves out:
``LOCKERHUB_SIMLOCKER_API_KEY`` (the usual way to give the key), ``LOCKERHUB_SIMLOCKER_BASE_URL``,
``LOCKERHUB_SIMLOCKER_TIMEOUT_S``, ``LOCKERHUB_SIMLOCKER_VERIFY_TLS``, ``LOCKERHUB_SIMLOCKER_CA_BUNDLE`` (a PEM file
of the CA certificates to trust instead of the system's, for a vendor or proxy with a private CA),
``LOCKERHUB_SIMLOCKER_WEBHOOK_SECRET`` (the webhook signing secret), ``LOCKERHUB_SIMLOCKER_WEBHOOK_TOLERANCE_S``.
Values passed explicitly win.

TLS is verified by default. ``verify_tls: false`` turns verification off only when written as such (it is never
the default, and it cannot be combined with ``ca_bundle``); urllib3 then warns on every request.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "LOCKERHUB_SIMLOCKER_"


class SimlockerConfig(BaseSettings):
    """Where the simulator's API is and how to authenticate to it."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    base_url: AnyHttpUrl | str = Field(
        description="root of the API, e.g. http://127.0.0.1:8080 (the simulator's SimulatorServer.url)",
    )
    api_key: SecretStr = Field(
        description="sent as X-API-Key; set LOCKERHUB_SIMLOCKER_API_KEY rather than writing it in YAML",
        json_schema_extra={"env": f"{ENV_PREFIX}API_KEY"},
    )
    timeout_s: float = Field(default=10, gt=0, description="read timeout per request, in seconds")
    verify_tls: bool = Field(default=True, description="verify the server's TLS certificate (https only); false "
                                                       "only for a test server, never together with ca_bundle")
    ca_bundle: Path | None = Field(
        default=None, description="PEM file of the CA certificates to trust for this vendor instead of the system's "
                                  "(a private CA or a TLS-inspecting proxy)",
        json_schema_extra={"env": f"{ENV_PREFIX}CA_BUNDLE"},
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="shared secret of the webhook signatures (X-Simlocker-Signature); set "
                    "LOCKERHUB_SIMLOCKER_WEBHOOK_SECRET rather than writing it in YAML; none = webhooks are refused",
        json_schema_extra={"env": f"{ENV_PREFIX}WEBHOOK_SECRET"},
    )
    webhook_tolerance_s: float = Field(
        default=300, gt=0, description="replay window: a webhook signed more than this many seconds before or after "
                                       "the hub's clock is refused",
    )

    @field_validator("base_url", mode="after")
    @classmethod
    def _http_url(cls, value: AnyHttpUrl | str) -> str:
        # A plain str passes the union unchecked (and AnyHttpUrl adds a trailing slash): normalise both here.
        text = str(value).strip().rstrip("/")
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http(s) URL such as http://127.0.0.1:8080")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("expected a URL without credentials, query or fragment")
        return text

    @field_validator("ca_bundle", mode="after")
    @classmethod
    def _readable_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("expected a PEM file of CA certificates that exists")
        return value

    @model_validator(mode="after")
    def _one_way_to_verify(self) -> SimlockerConfig:
        if self.ca_bundle is not None and not self.verify_tls:
            raise ValueError("ca_bundle is set but verify_tls is false: remove one of them")
        return self

    def tls_verify(self) -> bool | str:
        """What ``requests`` takes as ``verify=``: the CA bundle's path, else ``verify_tls``."""
        return str(self.ca_bundle) if self.ca_bundle is not None else self.verify_tls

    @field_validator("api_key", mode="after")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError(f"must not be empty (set {ENV_PREFIX}API_KEY)")
        return value
