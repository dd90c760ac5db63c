"""GDPR retention: once a day, erase the recipient PII of finished parcels and the payloads of quarantine items
older than ``privacy.retention_days`` (hub config); anonymised records stay for reports."""

from __future__ import annotations

from airflow.sdk import dag, task

from lockerhub.airflow import tasks
from lockerhub.airflow.defaults import START, TAGS, default_args


@dag(dag_id="gdpr_retention", schedule="@daily", start_date=START, catchup=False, max_active_runs=1,
     default_args=default_args(), tags=[*TAGS, "privacy"], doc_md=__doc__)
def gdpr_retention() -> None:
    @task
    def erase(data_interval_end=None) -> dict:  # type: ignore[no-untyped-def]
        return tasks.retention(now=data_interval_end)

    erase()


gdpr_retention()
