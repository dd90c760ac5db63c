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

from pydantic import AnyHttpUrl, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from lockerhub.plugins.settings import CaBundleSettings, not_blank

ENV_PREFIX = "LOCKERHUB_SIMLOCKER_"


class SimlockerConfig(CaBundleSettings):
    """Where the simulator's API is and how to authenticate to it."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)
    example_url = "http://127.0.0.1:8080"

    base_url: AnyHttpUrl | str = Field(
        description="root of the API, e.g. http://127.0.0.1:8080 (the simulator's SimulatorServer.url)",
    )
    api_key: SecretStr = Field(
        description="sent as X-API-Key; set LOCKERHUB_SIMLOCKER_API_KEY rather than writing it in YAML",
        json_schema_extra={"env": f"{ENV_PREFIX}API_KEY"},
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

    _not_blank = not_blank("api_key")
