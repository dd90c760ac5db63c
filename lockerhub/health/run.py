"""One health run: collect telemetry from the vendor, score every locker, update alerts, list maintenance.

Each step is a function of its own, so an Airflow DAG can run them as separate tasks, or all at once with
:func:`run_health`. Every step is safe to re-run: readings are stored once, alerts are opened once.

Scores are computed *as of* a moment: by default the newest reading stored (the data's own clock, which for the
simulator is its simulated time); a DAG passes its logical date instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockerhub.errors import TransientError
from lockerhub.health.alerts import AlertChange, Notifier, update_alerts
from lockerhub.health.maintenance import MaintenanceItem, maintenance_list, write_maintenance_csv
from lockerhub.health.policy import HealthPolicy
from lockerhub.health.readings import record_readings
from lockerhub.health.score import LockerHealth, score_locker
from lockerhub.health.signals import latest_reading_time, load_signals
from lockerhub.plugins.protocols import Capability
from lockerhub.store import LockerHealthRow, Store

if TYPE_CHECKING:
    from lockerhub.runtime.hub import Hub


@dataclass(slots=True)
class CollectReport:
    vendor: str
    supported: bool = True  # False: the vendor's connector does not declare the telemetry capability
    since: datetime | None = None
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    error: str | None = None  # the vendor could not be read (scores then use what is stored)

    def as_dict(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "supported": self.supported,
                "since": self.since.isoformat() if self.since else None, "received": self.received,
                "stored": self.stored, "duplicates": self.duplicates, "error": self.error}


@dataclass(slots=True)
class HealthReport:
    as_of: datetime | None
    lockers: list[LockerHealth] = field(default_factory=list)
    changes: list[AlertChange] = field(default_factory=list)
    maintenance: list[MaintenanceItem] = field(default_factory=list)
    collected: list[CollectReport] = field(default_factory=list)  # one per routed vendor (none when not collected)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat() if self.as_of else None,
                "collected": [c.as_dict() for c in self.collected],
                "lockers": [h.as_dict() for h in self.lockers],
                "alerts": [c.as_dict() for c in self.changes],
                "maintenance": [m.as_dict() for m in self.maintenance]}


def policy_of(hub: Hub) -> HealthPolicy:
    """The hub config's ``health:`` section (the defaults when it has none)."""
    policy = getattr(hub.config.hub, "health", None)
    return policy if isinstance(policy, HealthPolicy) else HealthPolicy()


def collect_telemetry(hub: Hub, *, since: datetime | None = None, vendor: str | None = None) -> CollectReport:
    """Fetch a vendor's readings (the first routed vendor's by default) since ``since`` (default: the newest
    reading already stored from it, inclusive) and store the new ones. A vendor that stays unreachable through the
    hub's retries is reported (``error``), not raised, so scoring can go on with what is stored; a refused API key
    or request raises."""
    name = vendor or hub.vendor_name
    vendor_id = hub.vendor_id(name)
    report = CollectReport(vendor_id)
    if not hub.vendor_can(Capability.TELEMETRY, name):
        report.supported = False
        return report
    connector = hub.vendor(name)
    report.since = since if since is not None else latest_reading_time(hub.store, source=vendor_id)
    try:
        readings = hub.call_vendor(
            "telemetry", lambda: list(connector.telemetry(report.since)), vendor=name)  # type: ignore[attr-defined]
    except TransientError as exc:  # down or rate-limited after the retries; anything else is the user's to fix
        report.error = exc.message
        return report
    result = record_readings(hub.store, readings, source=vendor_id)
    report.received, report.stored, report.duplicates = result.received, result.stored, result.duplicates
    return report


def assess(store: Store, policy: HealthPolicy, *,
           as_of: datetime | None = None) -> tuple[datetime | None, list[LockerHealth]]:
    """Score every locker that has reported telemetry, as of ``as_of`` (default: the newest reading)."""
    as_of = as_of if as_of is not None else latest_reading_time(store)
    if as_of is None:
        return None, []
    return as_of, [score_locker(signals, policy) for signals in load_signals(store, policy, as_of=as_of)]


def save_assessment(store: Store, healths: Sequence[LockerHealth]) -> None:
    """Keep each locker's latest assessment (an older one does not replace a newer one)."""
    with store.transaction() as s:
        for health in healths:
            row = s.get(LockerHealthRow, health.locker_id)
            if row is None:
                row = LockerHealthRow(locker_id=health.locker_id)
                s.add(row)
            elif row.as_of > health.as_of:
                continue
            row.score, row.as_of = health.score, health.as_of
            row.flags = [f.as_dict() for f in health.flags]
            row.signals = health.signals.as_dict() if health.signals else {}


def run_health(hub: Hub, *, as_of: datetime | None = None, collect: bool = True, since: datetime | None = None,
               notifiers: Sequence[Notifier] | None = None, maintenance_csv: str | Path | None = None,
               policy: HealthPolicy | None = None) -> HealthReport:
    """Collect from every routed vendor (unless ``collect`` is False), assess, save, update alerts (telling ``notifiers``, default: the
    log), and build the maintenance list (also written to ``maintenance_csv`` when given)."""
    policy = policy or policy_of(hub)
    collected = [collect_telemetry(hub, since=since, vendor=name) for name in hub.vendor_names] if collect else []
    as_of, healths = assess(hub.store, policy, as_of=as_of)
    report = HealthReport(as_of, healths, collected=collected)
    if as_of is None:
        return report
    save_assessment(hub.store, healths)
    report.changes = update_alerts(hub.store, healths, as_of=as_of, notifiers=notifiers)
    report.maintenance = maintenance_list(healths, policy)
    if maintenance_csv is not None:
        write_maintenance_csv(report.maintenance, maintenance_csv)
    return report

