"""Configuration of the inpost connector (a pydantic-settings model; its JSON Schema is the connector spec).

Environment variables (prefix ``LOCKERHUB_INPOST_``) fill any field the configuration leaves out:
``LOCKERHUB_INPOST_TOKEN`` (the ShipX organisation token: the usual way to give it), ``LOCKERHUB_INPOST_BASE_URL``,
``LOCKERHUB_INPOST_ORGANIZATION_ID``, ``LOCKERHUB_INPOST_SERVICE``, ``LOCKERHUB_INPOST_SENDING_METHOD``,
``LOCKERHUB_INPOST_PER_PAGE``, ``LOCKERHUB_INPOST_TIMEOUT_S``, ``LOCKERHUB_INPOST_VERIFY_TLS``,
``LOCKERHUB_INPOST_CA_BUNDLE``. Values passed explicitly win.
"""

from __future__ import annotations

from pydantic import AnyHttpUrl, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from lockerhub.plugins.settings import CaBundleSettings, not_blank

ENV_PREFIX = "LOCKERHUB_INPOST_"


class InpostConfig(CaBundleSettings):
    """Where the ShipX API is, which organisation books, and how."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)
    example_url = "https://api-shipx-pl.easypack24.net"

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

    _not_blank = not_blank("token")
