"""Configuration of the inpost connector (a pydantic-settings model; its JSON Schema is the connector spec).

Environment variables (prefix ``LOCKERHUB_INPOST_``) fill any field the configuration leaves out:
``LOCKERHUB_INPOST_TOKEN`` (the ShipX organisation token: the usual way to give it), ``LOCKERHUB_INPOST_BASE_URL``,
``LOCKERHUB_INPOST_ORGANIZATION_ID``, ``LOCKERHUB_INPOST_SERVICE``, ``LOCKERHUB_INPOST_SENDING_METHOD``,
``LOCKERHUB_INPOST_PER_PAGE``, ``LOCKERHUB_INPOST_TIMEOUT_S``, ``LOCKERHUB_INPOST_VERIFY_TLS``,
``LOCKERHUB_INPOST_CA_BUNDLE``. Values passed explicitly win.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "LOCKERHUB_INPOST_"


class InpostConfig(BaseSettings):
    """Where the ShipX API is, which organisation books, and how."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    base_url: AnyHttpUrl | str = Field(
        description="root of the ShipX API: https://api-shipx-pl.easypack24.net (production), "
                    "https://sandbox-api-shipx-pl.easypack24.net (sandbox) or the simulator's Server.url",
    )
    token: SecretStr = Field(
        description="the organisation's API token, sent as 'Authorization: Bearer'; set LOCKERHUB_INPOST_TOKEN "
                    "rather than writing it in YAML",
        json_schema_extra={"env": f"{ENV_PREFIX}TOKEN"},
    )
    organization_id: int = Field(gt=0, description="the ShipX organisation id (in the shipments paths)")
    service: str = Field(default="inpost_locker_standard", min_length=1,
                         description="the ShipX service booked for locker deliveries")
    sending_method: str = Field(default="dispatch_order", min_length=1,
                                description="how parcels reach InPost (custom_attributes.sending_method)")
    per_page: int = Field(default=100, ge=1, le=500, description="points per page when listing lockers")
    timeout_s: float = Field(default=10, gt=0, description="read timeout per request, in seconds")
    verify_tls: bool = Field(default=True, description="verify the server's TLS certificate (https only); false "
                                                       "only for a test server, never together with ca_bundle")
    ca_bundle: Path | None = Field(
        default=None, description="PEM file of the CA certificates to trust instead of the system's "
                                  "(a TLS-inspecting proxy)",
        json_schema_extra={"env": f"{ENV_PREFIX}CA_BUNDLE"},
    )

    @field_validator("base_url", mode="after")
    @classmethod
    def _http_url(cls, value: AnyHttpUrl | str) -> str:
        text = str(value).strip().rstrip("/")
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http(s) URL such as https://api-shipx-pl.easypack24.net")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("expected a URL without credentials, query or fragment")
        return text

    @field_validator("token", mode="after")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError(f"must not be empty (set {ENV_PREFIX}TOKEN)")
        return value

    @field_validator("ca_bundle", mode="after")
    @classmethod
    def _readable_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("expected a PEM file of CA certificates that exists")
        return value

    @model_validator(mode="after")
    def _one_way_to_verify(self) -> InpostConfig:
        if self.ca_bundle is not None and not self.verify_tls:
            raise ValueError("ca_bundle is set but verify_tls is false: remove one of them")
        return self

    def tls_verify(self) -> bool | str:
        """What ``requests`` takes as ``verify=``: the CA bundle's path, else ``verify_tls``."""
        return str(self.ca_bundle) if self.ca_bundle is not None else self.verify_tls
