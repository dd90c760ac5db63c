"""What the DAGs in ``dags/`` run: one function per task, each opening the hub, doing one stage, returning a small
JSON-able summary (it becomes the task's XCom and shows in the Airflow UI).

Which hub: the ``lockerhub_default`` Airflow Connection (host = config file, password = PII key ring, extra =
``data_dir`` / ``database_url``), else the ``LOCKERHUB_CONFIG`` environment variable with the usual ``LOCKERHUB_*``
settings. Which partners, vendors and regions run comes from that YAML; their secrets and environment-specific
values from the Connections ``lockerhub_vendor_<name>`` / ``lockerhub_partner_<name>`` when they exist. A pilot
rollout by region is the YAML's ``routing.regions``: no DAG or code change.

Without Airflow installed these functions still run (the Connections are then simply not consulted), which is
how they are unit-tested and how ``lockerhub run`` shares their stages.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from lockerhub.errors import ConfigError
from lockerhub.plugins.protocols import Capability
from lockerhub.runtime.booking import book_pending
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import ingest_inbox
from lockerhub.runtime.relay import relay_outbox
from lockerhub.runtime.sync import sync_statuses
from lockerhub.security.retention import erase_expired
from lockerhub.settings import Settings

HUB_CONN_ID = "lockerhub_default"
CONFIG_ENV = "LOCKERHUB_CONFIG"


def _airflow() -> bool:
    try:
        import airflow.sdk  # noqa: F401
    except ImportError:
        return False
    return True


def _names(config: Path) -> dict[str, list[str]]:
    data = yaml.safe_load(config.read_text("utf-8")) or {}
    return {section: list((data.get(section) or {}).keys()) for section in ("partners", "vendors")}


def hub_source() -> tuple[Path, Settings, dict[tuple[str, str], dict[str, Any]]]:
    """(config file, settings, connector overrides) from Airflow Connections and the environment."""
    config: Path | None = None
    settings = Settings()
    overrides: dict[tuple[str, str], dict[str, Any]] = {}
    airflow = _airflow()
    if airflow:
        from lockerhub.airflow.hooks import LockerhubHook

        config, settings = LockerhubHook(HUB_CONN_ID).resolve()
    config = config or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    if config is None:
        raise ConfigError("no hub config", expected=f"the Airflow Connection {HUB_CONN_ID} (host = the config file) "
                                                    f"or the {CONFIG_ENV} environment variable", found="neither")
    if airflow:
        from lockerhub.airflow.hooks import LockerVendorHook, TmsPartnerHook

        names = _names(config)
        for name in names["vendors"]:
            if values := LockerVendorHook(f"lockerhub_vendor_{name}").config_overrides():
                overrides[("vendors", name)] = values
        for name in names["partners"]:
            if values := TmsPartnerHook(f"lockerhub_partner_{name}").config_overrides():
                overrides[("partners", name)] = values
    return config, settings, overrides


@contextmanager
def open_hub() -> Iterator[Hub]:
    """The hub, with lockerhub's log masking installed in this (task) process first."""
    from lockerhub.security import masking

    masking.install(handlers=False)
    config, settings, overrides = hub_source()
    hub = Hub.open(config, settings=settings, overrides=overrides)
    try:
        yield hub
    finally:
        hub.close()


def _plain(value: Any) -> Any:
    """A report as JSON-able data (dataclasses, paths and datetimes included)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (Path, datetime)):
        return str(value)
    return value


# -- tms_inbound_sync -------------------------------------------------------------------------------------------
def pending_drops() -> dict[str, int]:
    """Work waiting per partner: files in its inbox, plus one call for a partner whose TMS is asked for new
    shipments (FETCH); partners with neither are left out."""
    with open_hub() as hub:
        out: dict[str, int] = {}
        for name in hub.config.hub.partners:
            source = hub.partner(name)
            capabilities = type(source).capabilities
            if Capability.WATCH_INBOX in capabilities:
                out[name] = len(source.pending())
            if Capability.FETCH in capabilities and getattr(source, "fetches", True):
                out[name] = out.get(name, 0) + 1
        return out


def ingest_partner(partner: str) -> dict[str, Any]:
    """Ingest every waiting file of one partner (acknowledgements are written as each file is read)."""
    with open_hub() as hub:
        reports = ingest_inbox(hub, partner)
    return {"partner": partner, "files": _plain(reports),
            **{k: sum(getattr(r, k) for r in reports) for k in ("records", "accepted", "duplicates", "quarantined")}}


def book() -> dict[str, Any]:
    with open_hub() as hub:
        return _plain(book_pending(hub))  # type: ignore[no-any-return]


# -- locker_status_sync -----------------------------------------------------------------------------------------
def sync_targets() -> list[dict[str, Any]]:
    """One target per routed vendor and region of its network that holds lockers in service for the hub, each
    with its share of that vendor's ``poll_budget`` (status polls per run; none = unlimited)."""
    targets = []
    with open_hub() as hub:
        catalog = hub.catalog()
        for name in hub.vendor_names:
            regions = sorted({lk.region for lid, lk in catalog.lockers.items()
                              if lk.region and catalog.routed(lk) and (catalog.owner(lid) or name) == name})
            budget = hub.config.hub.vendors[name].poll_budget
            share = None if budget is None else max(1, budget // max(1, len(regions)))
            targets.extend({"vendor": name, "region": region, "budget": share} for region in regions)
    return targets


def sync_region(vendor: str, region: str, budget: int | None = None) -> dict[str, Any]:
    """Poll the open parcels of one vendor in one region's lockers, within ``budget`` polls."""
    with open_hub() as hub:
        if vendor not in hub.vendor_names:
            raise ConfigError("status sync target", expected="a routed vendor: " + ", ".join(hub.vendor_names),
                              found=vendor)
        catalog = hub.catalog()
        lockers = [lid for lid, lk in catalog.lockers.items()
                   if lk.region == region and (catalog.owner(lid) or vendor) == vendor]
        report = sync_statuses(hub, lockers=lockers, budget=budget, vendors=[vendor])
    return {"vendor": vendor, "region": region, **_plain(report)}


def relay() -> dict[str, Any]:
    with open_hub() as hub:
        return _plain(relay_outbox(hub))  # type: ignore[no-any-return]


# -- reconciliation ---------------------------------------------------------------------------------------------
MANIFESTS = "manifests"  # beside the hub config: where the TMS exports its manifests (``*.csv``)


def latest_manifest(config: Path) -> Path:
    """The newest ``*.csv`` in the ``manifests`` folder beside the hub config."""
    folder = config.parent / MANIFESTS
    found = sorted(folder.glob("*.csv"), key=lambda p: (p.stat().st_mtime, p.name)) if folder.is_dir() else []
    if not found:
        raise ConfigError("no TMS manifest to reconcile", expected=f"a *.csv file in {folder}", found="none",
                          hint="or pass the DAG parameter 'manifest'")
    return found[-1]


def reconcile(manifest: str | None = None, *, dry_run: bool = False) -> dict[str, Any]:
    """Three-way reconciliation of ``manifest`` (default: :func:`latest_manifest`), the hub and the routing vendor;
    the report goes to ``<data dir>/reports/reconcile-<time>``. Returns the summary (no per-item list)."""
    from lockerhub.reconcile.run import default_out_dir
    from lockerhub.reconcile.run import reconcile as run_reconcile

    with open_hub() as hub:
        path = Path(manifest) if manifest else latest_manifest(Path(hub.config.file))
        result = run_reconcile(hub, path, out_dir=default_out_dir(hub.clock(), hub.settings), dry_run=dry_run)
    return result.as_dict(items=False)


# -- locker_health ----------------------------------------------------------------------------------------------
def health(notifiers: list[Any] | None = None, maintenance_csv: str | Path | None = None) -> dict[str, Any]:
    """Collect telemetry, score every locker, open/close alerts (telling ``notifiers``), write the maintenance list;
    returns the lockers flagged, the alert changes and the maintenance list (not every score: XComs stay small)."""
    from lockerhub.health.alerts import DEFAULT_NOTIFIERS
    from lockerhub.health.run import run_health

    with open_hub() as hub:
        csv_path = Path(maintenance_csv) if maintenance_csv else hub.settings.data_dir / "health" / "maintenance.csv"
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        report = run_health(hub, notifiers=[*DEFAULT_NOTIFIERS, *(notifiers or [])], maintenance_csv=csv_path)
    data = report.as_dict()
    flagged = [h for h in data["lockers"] if h.get("flags")]
    return {"as_of": data["as_of"], "collected": data["collected"], "lockers": len(data["lockers"]),
            "flagged": flagged, "alerts": data["alerts"], "maintenance": data.get("maintenance", []),
            "maintenance_csv": str(csv_path)}


# -- gdpr_retention ---------------------------------------------------------------------------------------------
def retention(now: datetime | None = None) -> dict[str, Any]:
    with open_hub() as hub:
        return _plain(erase_expired(hub, now=now))  # type: ignore[no-any-return]
