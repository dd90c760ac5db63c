"""Locker status sync: poll the routing vendor for open parcels, one mapped task per region within the vendor's
API budget (``poll_budget`` in the hub config), then relay the status changes to the TMS partners (214, IFTSTA,
CSV status files).

Polling is the fallback for vendors whose webhooks are missing or silent; regions are those of the pilot rollout
(``routing.regions``), so rolling out a new city is a config change.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from lockerhub.airflow import tasks
from lockerhub.airflow.defaults import START, TAGS, default_args


@dag(dag_id="locker_status_sync", schedule=timedelta(minutes=10), start_date=START, catchup=False,
     max_active_runs=1, default_args=default_args(), tags=[*TAGS, "vendor"], doc_md=__doc__)
def locker_status_sync() -> None:
    @task
    def targets() -> list[dict]:
        return tasks.sync_targets()

    @task(max_active_tis_per_dag=4)
    def sync(vendor: str, region: str, budget: int | None) -> dict:
        return tasks.sync_region(vendor, region, budget)

    @task
    def relay(synced: list[dict]) -> dict:
        return tasks.relay()

    relay(sync.expand_kwargs(targets()))


locker_status_sync()
