"""Configuration of the ``soap`` connector: one legacy TMS that speaks SOAP, both ways.

Config (pydantic-settings, prefix ``LOCKERHUB_SOAP_``; keyword arguments and YAML win over environment variables):

Calling the TMS (outbound, zeep):
    ``wsdl``             the TMS's WSDL as a local file (imports resolve beside it), or
    ``wsdl_url``         its URL (imports are fetched from the same host only)
    ``service``/``port`` which port of the WSDL to call (default: the first)
    ``address``          endpoint URL to call instead of the WSDL's ``soap:address`` (test vs production)
    ``username``         WS-Security UsernameToken user; the password comes from ``LOCKERHUB_SOAP_PASSWORD`` or the
                         environment variable named by ``password_env`` (one per partner); never from YAML
    ``password_digest``  send PasswordDigest (nonce + created) instead of PasswordText
    ``timeout_s``        connect/read timeout per call; ``retries``: attempts on transport errors (timeouts,
                         connection resets, HTTP 429/502/503/504) with exponential back-off
    ``verify_tls``/``ca_bundle`` TLS verification, as for vendor connectors
    ``fetch_operation``  operation that returns new shipments (``getNewShipments``); ``fetch_params`` its fixed
                         arguments; ``fetch_records`` the path below the response element to one shipment element
                         (``Shipments/Shipment``); ``fetch_mapping`` the ``xml`` mapping of one such element
    ``status_operation`` operation that takes one parcel status (``postParcelStatus``); ``status_mapping`` the
                         outbound mapping (``source: {format: canonical}``, ``target: json``) from a status update
                         to the operation's arguments

Being called by the TMS (inbound, ``/tms/<partner>`` of ``lockerhub serve``):
    ``inbound_username`` the UsernameToken user the TMS must send; the password comes from
                         ``LOCKERHUB_SOAP_INBOUND_PASSWORD`` or the variable named by ``inbound_password_env``.
                         Without both, every push is refused (UNAUTHORISED)
    ``inbound_mapping``  the ``xml`` mapping of the ``shipment`` element of ``createShipment`` (default: the bundled
                         ``inbound_shipment.yaml``, the service's own schema)
    ``inbound_tolerance_s`` how far a PasswordDigest's ``Created`` may be from the hub's clock

Limits/Pitfalls:
    - Unknown keys are errors (``extra="forbid"``).
    - ``password``/``inbound_password`` may be given as keyword arguments (an orchestrator passing an Airflow
      Connection's password); writing them in YAML works too, but do not: the YAML is in version control.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "LOCKERHUB_SOAP_"
INBOUND_MAPPING = Path(__file__).with_name("inbound_shipment.yaml")
_ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


def _http(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http(s) URL")
    if parts.username or parts.password:
        raise ValueError("expected a URL without credentials (use username and the password variable)")
    return value.strip()


class SoapConfig(BaseSettings):
    """A SOAP TMS: its WSDL and operations (outbound), and the credentials it pushes with (inbound)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    wsdl: Path | None = Field(default=None, description="the TMS's WSDL file (imports resolve beside it)")
    wsdl_url: str | None = Field(default=None, description="the TMS's WSDL URL (imports only from its host)")
    service: str | None = None
    port: str | None = None
    address: str | None = Field(default=None, description="endpoint URL overriding the WSDL's soap:address")
    username: str | None = None
    password: SecretStr | None = Field(default=None, json_schema_extra={"env": f"{ENV_PREFIX}PASSWORD"})
    password_env: str | None = Field(default=None, pattern=_ENV_NAME,
                                     description="name of the environment variable holding the password")
    password_digest: bool = False
    timeout_s: float = Field(default=30, gt=0)
    retries: int = Field(default=3, ge=1, le=10)
    verify_tls: bool = True
    ca_bundle: Path | None = None
    fetch_operation: str | None = None
    fetch_params: dict[str, Any] = Field(default_factory=dict)
    fetch_records: str | None = None
    fetch_mapping: Path | None = None
    status_operation: str | None = None
    status_mapping: Path | None = None
    inbound_username: str | None = None
    inbound_password: SecretStr | None = Field(default=None,
                                               json_schema_extra={"env": f"{ENV_PREFIX}INBOUND_PASSWORD"})
    inbound_password_env: str | None = Field(default=None, pattern=_ENV_NAME)
    inbound_mapping: Path = INBOUND_MAPPING
    inbound_tolerance_s: float = Field(default=300, gt=0)

    @field_validator("wsdl_url", "address", mode="after")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return _http(value)

    @model_validator(mode="after")
    def _consistent(self) -> SoapConfig:
        if self.wsdl is not None and self.wsdl_url is not None:
            raise ValueError("wsdl and wsdl_url are both set: keep one")
        if self.ca_bundle is not None and not self.verify_tls:
            raise ValueError("ca_bundle is set but verify_tls is false: remove one of them")
        for op, needs in (("fetch_operation", ("fetch_records", "fetch_mapping")),
                          ("status_operation", ("status_mapping",))):
            if getattr(self, op) is None:
                continue
            missing = [n for n in needs if getattr(self, n) is None]
            if missing:
                raise ValueError(f"{op} needs {' and '.join(missing)}")
        return self

    def secret(self, field: str, env_field: str) -> str | None:
        """A password: given directly, else from the environment variable its ``*_env`` field names."""
        value: SecretStr | None = getattr(self, field)
        if value is not None:
            return value.get_secret_value()
        name = getattr(self, env_field)
        return os.environ.get(name) if name else None

    def wsdl_location(self) -> str | None:
        return str(self.wsdl) if self.wsdl is not None else self.wsdl_url

    def tls_verify(self) -> bool | str:
        return str(self.ca_bundle) if self.ca_bundle is not None else self.verify_tls
