"""An Airflow notifier passed to update_alerts is called with the alert's context and renders its templates.

Runs in a child process with its own AIRFLOW_HOME, as the other Airflow tests do (importing Airflow configures
logging and settings process-wide)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.airflow

SCRIPT = '''
from datetime import UTC, datetime
from airflow.sdk.bases.notifier import BaseNotifier
from lockerhub.health import Flag, LockerHealth, update_alerts
from lockerhub.store import Store

sent = []

class ChatNotifier(BaseNotifier):
    template_fields = ("text",)

    def __init__(self, text):
        super().__init__()
        self.text = text

    def notify(self, context):
        sent.append(self.text)

store = Store("sqlite:///" + __import__("sys").argv[1])
store.migrate()
at = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
flagged = LockerHealth("L-1", at, 60.0, flags=[Flag("door_faults", "critical", "12 door faults")])
update_alerts(store, [flagged], as_of=at,
              notifiers=[ChatNotifier("{{ change }} {{ alert.locker_id }}/{{ alert.kind }}: {{ message }}")])
print(sent[0])
'''


def test_airflow_notifier_renders_the_alert(tmp_path: Path) -> None:
    if importlib.util.find_spec("airflow") is None:
        pytest.skip("needs the airflow extra (uv run --all-extras pytest)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "LOCKERHUB_"))}
    env.update({"AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "alerts.db")], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == (
        "opened L-1/door_faults: alert opened: L-1 door_faults (critical): 12 door faults")
