"""Inbound TMS sync: wait for drops, ingest each partner's inbox (one mapped task per partner, acknowledgements
written per file), then book the new parcels.

Partners come from the hub config; their inboxes and secrets from the YAML and ``lockerhub_partner_<name>``
Connections. When no file is waiting the run stops at the first task and the rest is skipped (a short-circuit
rather than a waiting sensor: the DAG itself runs every five minutes, so no worker slot is held while idle).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from lockerhub.airflow import tasks
from lockerhub.airflow.defaults import START, TAGS, default_args


@dag(dag_id="tms_inbound_sync", schedule=timedelta(minutes=5), start_date=START, catchup=False, max_active_runs=1,
     default_args=default_args(), tags=[*TAGS, "tms"], doc_md=__doc__)
def tms_inbound_sync() -> None:
    @task.short_circuit
    def drops_waiting() -> list[str]:
        return sorted(partner for partner, n in tasks.pending_drops().items() if n)

    @task(max_active_tis_per_dag=4)
    def ingest(partner: str) -> dict:
        return tasks.ingest_partner(partner)

    @task
    def book(ingested: list[dict]) -> dict:
        return tasks.book()

    book(ingest.expand(partner=drops_waiting()))


tms_inbound_sync()
