"""Airflow hooks for lockerhub's connection types (see :mod:`lockerhub.airflow.provider`).

A hook only stores its connection id in ``__init__`` (no network or database I/O: DAG files are parsed often);
the connection is read when a value is asked for, and every secret it holds is registered with Airflow's secrets
masker before it is used, so it never shows in task logs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.sdk.bases.hook import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException
from airflow.sdk.log import mask_secret

from lockerhub.settings import Settings


def _extra(conn: Any) -> dict[str, Any]:
    return dict(conn.extra_dejson or {})


def optional_connection(conn_id: str) -> Any:
    """The connection, or None when it is not defined (the YAML and environment then decide)."""
    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


class LockerhubHook(BaseHook):
    """The hub: config file, data dir, database URL and PII key ring from a ``lockerhub`` connection."""

    conn_name_attr = "lockerhub_conn_id"
    default_conn_name = "lockerhub_default"
    conn_type = "lockerhub"
    hook_name = "lockerhub hub"

    def __init__(self, lockerhub_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.lockerhub_conn_id = lockerhub_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {"hidden_fields": ["schema", "port", "login"],
                "relabeling": {"host": "Hub config file", "password": "PII key ring"}}

    def resolve(self) -> tuple[Path | None, Settings]:
        """(config file, settings). Without the connection: (None, settings from the environment)."""
        conn = optional_connection(self.lockerhub_conn_id)
        if conn is None:
            return None, Settings()
        extra = _extra(conn)
        values: dict[str, Any] = {k: extra[k] for k in ("data_dir", "database_url") if extra.get(k)}
        if conn.password:
            mask_secret(conn.password)
            values["pii_keys"] = conn.password
        if values.get("database_url"):
            mask_secret(values["database_url"])
        return (Path(conn.host) if conn.host else None), Settings(**values)


class LockerVendorHook(BaseHook):
    """A locker vendor's API: base URL, API key and other connector config from a ``lockerhub_vendor`` connection."""

    conn_name_attr = "vendor_conn_id"
    default_conn_name = "lockerhub_vendor_default"
    conn_type = "lockerhub_vendor"
    hook_name = "lockerhub locker vendor"

    def __init__(self, vendor_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.vendor_conn_id = vendor_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {"hidden_fields": ["schema", "port", "login"],
                "relabeling": {"host": "API base URL", "password": "API key"}}

    def config_overrides(self) -> dict[str, Any]:
        """Connector config values held by the connection ({} when it is not defined)."""
        conn = optional_connection(self.vendor_conn_id)
        if conn is None:
            return {}
        values = _extra(conn)
        if conn.host:
            values["base_url"] = conn.host
        if conn.password:
            mask_secret(conn.password)
            values["api_key"] = conn.password
        return values


class TmsPartnerHook(BaseHook):
    """A TMS trading partner: connector config values (extra) from a ``lockerhub_tms`` connection."""

    conn_name_attr = "partner_conn_id"
    default_conn_name = "lockerhub_partner_default"
    conn_type = "lockerhub_tms"
    hook_name = "lockerhub TMS partner"

    def __init__(self, partner_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.partner_conn_id = partner_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {"hidden_fields": ["schema", "port", "host"],
                "relabeling": {"login": "SOAP username (WS-Security)", "password": "SOAP password"}}

    def config_overrides(self) -> dict[str, Any]:
        """Connector config values held by the connection: its extra, and for a SOAP partner ``username`` and
        ``password`` from login and password ({} when the connection is not defined)."""
        conn = optional_connection(self.partner_conn_id)
        if conn is None:
            return {}
        values = _extra(conn)
        if conn.login:
            values["username"] = conn.login
        if conn.password:
            mask_secret(conn.password)
            values["password"] = conn.password
        return values
