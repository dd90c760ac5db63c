"""The settings every HTTP locker-vendor connector shares: where the API is, how long to wait, how to verify TLS.

A connector's config subclasses :class:`VendorHttpSettings` (or :class:`CaBundleSettings`, which adds a private CA),
sets ``model_config = SettingsConfigDict(env_prefix="LOCKERHUB_<VENDOR>_")`` and ``example_url`` (named when
``base_url`` is not an http(s) URL), overrides ``base_url`` for its own description, and adds its fields. A required
secret is checked with ``_not_blank = not_blank("api_key")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env_name(cls: type[BaseSettings], field: str) -> str:
    return f"{cls.model_config.get('env_prefix', '')}{field.upper()}"


class VendorHttpSettings(BaseSettings):
    """``base_url``, ``timeout_s`` and ``verify_tls``; unknown keys are errors."""

    model_config = SettingsConfigDict(extra="forbid")

    example_url: ClassVar[str] = "https://api.example.com"

    base_url: AnyHttpUrl | str = Field(description="root of the vendor's API")
    timeout_s: float = Field(default=10, gt=0, description="read timeout per request, in seconds")
    verify_tls: bool = Field(default=True, description="verify the server's TLS certificate (https only)")

    @field_validator("base_url", mode="after")
    @classmethod
    def _http_url(cls, value: AnyHttpUrl | str) -> str:
        # A plain str passes the union unchecked (and AnyHttpUrl adds a trailing slash): normalise both here.
        text = str(value).strip().rstrip("/")
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http(s) URL such as {cls.example_url}")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("expected a URL without credentials, query or fragment")
        return text


def _ca_bundle_env(schema: dict[str, Any], cls: type[BaseSettings]) -> None:
    schema["properties"]["ca_bundle"]["env"] = _env_name(cls, "ca_bundle")


class CaBundleSettings(VendorHttpSettings):
    """:class:`VendorHttpSettings` plus ``ca_bundle``, a private CA to trust instead of the system's."""

    model_config = SettingsConfigDict(json_schema_extra=_ca_bundle_env)

    verify_tls: bool = Field(default=True, description="verify the server's TLS certificate (https only); false "
                                                       "only for a test server, never together with ca_bundle")
    ca_bundle: Path | None = Field(
        default=None, description="PEM file of the CA certificates to trust for this vendor instead of the system's "
                                  "(a private CA or a TLS-inspecting proxy)",
    )

    @field_validator("ca_bundle", mode="after")
    @classmethod
    def _readable_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("expected a PEM file of CA certificates that exists")
        return value

    @model_validator(mode="after")
    def _one_way_to_verify(self) -> Self:
        if self.ca_bundle is not None and not self.verify_tls:
            raise ValueError("ca_bundle is set but verify_tls is false: remove one of them")
        return self

    def tls_verify(self) -> bool | str:
        """What ``requests`` takes as ``verify=``: the CA bundle's path, else ``verify_tls``."""
        return str(self.ca_bundle) if self.ca_bundle is not None else self.verify_tls


def not_blank(field: str) -> Any:
    """A validator refusing a blank secret ``field``; the message names its environment variable."""

    def check(cls: type[BaseSettings], value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError(f"must not be empty (set {_env_name(cls, field)})")
        return value

    return field_validator(field, mode="after")(check)
