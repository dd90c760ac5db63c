"""Locker health: collect telemetry from the vendor, score every locker (offline time, door faults, failed
openings, API errors, battery and temperature, with trend predictions), open and close alerts, and write the
maintenance list for the rapid-response teams.

Alert changes go to the task log and to ``LockerAlertNotifier`` (which also POSTs them to the ``lockerhub_alerts``
Connection when it exists); a failed run is reported the same way. Thresholds and weights are the ``health``
section of the hub config.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from lockerhub.airflow import tasks
from lockerhub.airflow.defaults import START, TAGS, default_args
from lockerhub.airflow.notifier import LockerAlertNotifier


@dag(dag_id="locker_health", schedule=timedelta(hours=1), start_date=START, catchup=False, max_active_runs=1,
     default_args=default_args(), tags=[*TAGS, "health"], doc_md=__doc__,
     on_failure_callback=LockerAlertNotifier())
def locker_health() -> None:
    @task
    def assess() -> dict:
        return tasks.health(notifiers=[LockerAlertNotifier()])

    assess()


locker_health()
