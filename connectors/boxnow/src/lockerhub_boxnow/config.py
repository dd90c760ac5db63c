"""Configuration of the boxnow connector (a pydantic-settings model; its JSON Schema is the connector spec).

Environment variables (prefix ``LOCKERHUB_BOXNOW_``) fill any field the configuration leaves out:
``LOCKERHUB_BOXNOW_CLIENT_ID``, ``LOCKERHUB_BOXNOW_CLIENT_SECRET`` (the usual way to give the secret),
``LOCKERHUB_BOXNOW_BASE_URL``, ``LOCKERHUB_BOXNOW_WEBHOOK_SECRET`` (the shared secret of the webhook signatures) and
one per other field. Values passed explicitly win.
"""

from __future__ import annotations

from pydantic import AnyHttpUrl, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from lockerhub.plugins.settings import VendorHttpSettings, not_blank

ENV_PREFIX = "LOCKERHUB_BOXNOW_"


class BoxnowConfig(VendorHttpSettings):
    """Where the partner API is, the OAuth2 client credentials, and the webhook secret."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)
    example_url = "https://api-stage.boxnow.gr"

    base_url: AnyHttpUrl | str = Field(
        description="the partner API_URL BoxNow support gives you, e.g. https://api-stage.boxnow.gr (the simulator's "
                    "Server.url in tests)",
    )
    client_id: str = Field(min_length=1, description="OAuth2 client id (OAUTH_CLIENT_ID from BoxNow support)",
                           json_schema_extra={"env": f"{ENV_PREFIX}CLIENT_ID"})
    client_secret: SecretStr = Field(
        description="OAuth2 client secret; set LOCKERHUB_BOXNOW_CLIENT_SECRET rather than writing it in YAML",
        json_schema_extra={"env": f"{ENV_PREFIX}CLIENT_SECRET"},
    )
    origin_location_id: str = Field(
        default="2", min_length=1,
        description="the warehouse (origin) location id delivery requests are picked up from (/api/v1/origins)",
    )
    page_size: int = Field(default=100, ge=1, le=100, description="destinations per page when listing lockers")
    token_refresh_margin_s: float = Field(
        default=60, ge=0, description="renew the access token this many seconds before it expires (at most half "
                                      "its lifetime)",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="shared secret of the webhooks' datasignature; set LOCKERHUB_BOXNOW_WEBHOOK_SECRET rather than "
                    "writing it in YAML; none = webhooks are refused",
        json_schema_extra={"env": f"{ENV_PREFIX}WEBHOOK_SECRET"},
    )
    webhook_tolerance_s: float = Field(
        default=300, gt=0, description="replay window: a webhook whose CloudEvent time is more than this many seconds "
                                       "before or after the hub's clock is refused",
    )

    _not_blank = not_blank("client_secret")
