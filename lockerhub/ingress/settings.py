"""Ingress settings (pydantic-settings, prefix ``LOCKERHUB_INGRESS_``).

| variable                            | default              |
|-------------------------------------|----------------------|
| LOCKERHUB_INGRESS_MAX_BODY_BYTES    | ``262144`` (256 KiB) |
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngressSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOCKERHUB_INGRESS_", extra="forbid")

    max_body_bytes: int = Field(default=256 * 1024, ge=1, description="larger webhook bodies are refused with 413 "
                                                                       "before they are read in full")
