"""``LockerAlertNotifier``: locker health alerts through Airflow's notifier mechanism.

An instance is a notifier in both senses: Airflow calls it as a DAG or task callback (``on_failure_callback=``),
and :func:`lockerhub.health.run.run_health` calls it with each alert change (``{"change", "alert", "message"}``).
It writes one line per change to the task log and, when the Connection ``lockerhub_alerts`` exists (an HTTP
endpoint: host = URL, password = bearer token), POSTs the change as JSON there (a chat webhook, an incident tool).
Airflow callback contexts (a failed task) are reported the same way, as a change of kind ``dag_failure``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests
from airflow.sdk.bases.notifier import BaseNotifier
from airflow.sdk.log import mask_secret

from lockerhub.airflow.hooks import optional_connection

logger = logging.getLogger("lockerhub.alerts")
TIMEOUT_S = 10


class LockerAlertNotifier(BaseNotifier):
    template_fields = ("conn_id",)

    def __init__(self, conn_id: str = "lockerhub_alerts") -> None:
        super().__init__()
        self.conn_id = conn_id

    @staticmethod
    def _payload(context: Mapping[str, Any]) -> dict[str, Any]:
        if "alert" in context:  # an alert change from run_health
            return {"change": context["change"], "alert": dict(context["alert"]), "message": context["message"]}
        ti = context.get("ti") or context.get("task_instance")
        where = f"{getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')}" if ti else "?"
        return {"change": "dag_failure", "alert": {"kind": "dag_failure", "severity": "critical", "where": where},
                "message": f"lockerhub task failed: {where}"}

    def notify(self, context: Mapping[str, Any]) -> None:  # type: ignore[override]
        payload = self._payload(context)
        logger.warning("lockerhub %s", payload["message"])
        conn = optional_connection(self.conn_id)
        if conn is None or not conn.host:
            return
        headers = {}
        if conn.password:
            mask_secret(conn.password)
            headers["Authorization"] = f"Bearer {conn.password}"
        requests.post(conn.host, json=payload, headers=headers, timeout=TIMEOUT_S).raise_for_status()
