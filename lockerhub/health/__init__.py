"""Locker health monitoring: telemetry in, a 0-100 score per locker, predictions, alerts and a maintenance list.

    from lockerhub.health import run_health
    report = run_health(hub, notifiers=[log_notifier, my_airflow_notifier])

Steps (each its own function, each safe to re-run): :func:`collect_telemetry` (vendor -> ``telemetry`` table;
MQTT readings arrive through :class:`lockerhub.health.mqtt.TelemetrySubscriber`), :func:`assess` (signals ->
scores and flags), :func:`update_alerts` (flags -> the ``alerts`` table and notifiers), :func:`maintenance_list`.
Weights and thresholds are data: :class:`HealthPolicy`, the hub config's ``health:`` section.
See ``docs/locker-health.md``.
"""

from lockerhub.health.alerts import Alert, AlertChange, Notifier, log_notifier, open_alerts, update_alerts
from lockerhub.health.maintenance import MaintenanceItem, maintenance_list, write_maintenance_csv
from lockerhub.health.policy import ALERT_KINDS, CountRule, HealthPolicy, LevelRule, OfflineRule
from lockerhub.health.readings import RecordResult, prune_readings, record_readings
from lockerhub.health.run import (
    CollectReport,
    HealthReport,
    assess,
    collect_telemetry,
    policy_of,
    run_health,
    save_assessment,
)
from lockerhub.health.score import Flag, LockerHealth, score_locker
from lockerhub.health.signals import Signals, compute_signals, offline_share
from lockerhub.health.trend import Trend, days_to_cross, least_squares

__all__ = [
    "ALERT_KINDS",
    "Alert",
    "AlertChange",
    "CollectReport",
    "CountRule",
    "Flag",
    "HealthPolicy",
    "HealthReport",
    "LevelRule",
    "LockerHealth",
    "MaintenanceItem",
    "Notifier",
    "OfflineRule",
    "RecordResult",
    "Signals",
    "Trend",
    "assess",
    "collect_telemetry",
    "compute_signals",
    "days_to_cross",
    "least_squares",
    "log_notifier",
    "maintenance_list",
    "offline_share",
    "open_alerts",
    "policy_of",
    "prune_readings",
    "record_readings",
    "run_health",
    "save_assessment",
    "score_locker",
    "update_alerts",
    "write_maintenance_csv",
]
