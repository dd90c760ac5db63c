"""Reconciliation: once a day, compare the TMS manifest, the locker vendor's reservations and the hub's parcels.

Each discrepancy (missing in vendor, missing in hub, status mismatch, orphan booking, stale reservation) is fixed
automatically where that is safe (the vendor is ahead: its status is applied forward-only; a stale hold is
cancelled) or opened as a quarantine item. The CSV + HTML report is published as the Asset
``lockerhub_reconciliation_report`` (its event carries the report's paths and the counts per kind), so downstream
DAGs and people can follow it.

The manifest is the newest ``*.csv`` in ``manifests/`` beside the hub config, or the run parameter ``manifest``.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, Param, dag, task

from lockerhub.airflow import tasks
from lockerhub.airflow.defaults import START, TAGS, default_args

REPORT = Asset(name="lockerhub_reconciliation_report", uri="lockerhub://reconciliation/report")


@dag(dag_id="reconciliation", schedule="@daily", start_date=START, catchup=False, max_active_runs=1,
     default_args=default_args(), tags=[*TAGS, "reconciliation"], doc_md=__doc__,
     params={"manifest": Param(None, type=["null", "string"], description="manifest file (default: the newest)"),
             "dry_run": Param(False, type="boolean", description="report only, change nothing")})
def reconciliation() -> None:
    @task(outlets=[REPORT])
    def reconcile(params: Any = None, outlet_events: Any = None) -> dict:
        summary = tasks.reconcile(params["manifest"], dry_run=params["dry_run"])
        outlet_events[REPORT].extra = {"html": summary["report"]["html"], "csv": summary["report"]["csv"],
                                       "counts": summary["counts"], "total": summary["total"]}
        return summary

    reconcile()


reconciliation()
