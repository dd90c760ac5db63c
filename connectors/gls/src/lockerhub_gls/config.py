"""Configuration of the gls connector (a pydantic-settings model; its JSON Schema is the connector spec).

Environment variables (prefix ``LOCKERHUB_GLS_``) fill any field the configuration leaves out:
``LOCKERHUB_GLS_API_KEY`` (the usual way to give the key), ``LOCKERHUB_GLS_BASE_URL``, ``LOCKERHUB_GLS_TIMEOUT_S``,
``LOCKERHUB_GLS_VERIFY_TLS``, ``LOCKERHUB_GLS_CA_BUNDLE``, ``LOCKERHUB_GLS_PAGE_SIZE``,
``LOCKERHUB_GLS_WEBHOOK_SECRET`` (the callback signing secret), ``LOCKERHUB_GLS_WEBHOOK_TOLERANCE_S``. Values passed
explicitly win.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from lockerhub.plugins.settings import CaBundleSettings, not_blank

ENV_PREFIX = "LOCKERHUB_GLS_"
PRODUCTION_URL = "https://api.glsnxt.com/ooh/carrier-connector/v1"


class GlsConfig(CaBundleSettings):
    """Where the GLS/NXT carrier-connector API is and how to authenticate to it."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)
    example_url = PRODUCTION_URL

    base_url: str = Field(
        default=PRODUCTION_URL,
        description="root of the carrier-connector API including /ooh/carrier-connector/v1 (the simulator's "
                    "Server.api_url in tests)",
    )
    api_key: SecretStr = Field(
        description="sent as X-API-Key; set LOCKERHUB_GLS_API_KEY rather than writing it in YAML",
        json_schema_extra={"env": f"{ENV_PREFIX}API_KEY"},
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

    _not_blank = not_blank("api_key")
