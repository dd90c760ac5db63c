"""Airflow tests run real Airflow (3.x) in child processes with an isolated AIRFLOW_HOME and metadata database,
migrated once per session; DAGs run with ``dag.test()`` (see run_dag.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow.sdk", reason="needs the airflow extra (uv run --all-extras pytest)")

HERE = Path(__file__).resolve().parent
DAGS = HERE.parents[1] / "dags"


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("airflow")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "LOCKERHUB_"))}
    env.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
    })
    proc = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return env


RunDag = Callable[..., dict[str, Any]]


@pytest.fixture
def run_dag(airflow_env: dict[str, str]) -> RunDag:
    """Run a DAG once (``dag.test()``) with extra environment (Connections as ``AIRFLOW_CONN_*`` JSON)."""

    def run(dag_id: str, **env: str) -> dict[str, Any]:
        proc = subprocess.run([sys.executable, str(HERE / "run_dag.py"), dag_id], env={**airflow_env, **env},
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-5000:])
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        result["log"] = proc.stdout + proc.stderr
        return result

    return run
