"""Run in a child process with an isolated AIRFLOW_HOME: ``python run_dag.py --bag`` prints what the DagBag holds
(import errors, and per DAG its schedule, owner, retries and tags); ``python run_dag.py DAG_ID`` runs one DagRun of
that DAG with ``dag.test()`` and prints its state, every task instance's state and the asset events it emitted as
JSON on the last line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from airflow.dag_processing.dagbag import DagBag

DAGS = Path(__file__).resolve().parents[2] / "dags"


def asset_events(run_id: str) -> list[dict]:
    """The asset events the run emitted: asset name and the event's extra."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (session.query(AssetEvent, AssetModel).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                .filter(AssetEvent.source_run_id == run_id).all())
        return [{"name": asset.name, "uri": asset.uri, "extra": event.extra} for event, asset in rows]


def main(argv: list[str]) -> int:
    bag = DagBag(dag_folder=str(DAGS))
    if argv[0] == "--bag":
        dags = {}
        for dag_id, dag in sorted(bag.dags.items()):
            dags[dag_id] = {
                "schedule": str(dag.schedule), "tags": sorted(dag.tags), "catchup": dag.catchup,
                "owners": sorted({t.owner for t in dag.tasks}), "retries": sorted({t.retries for t in dag.tasks}),
                "tasks": sorted(dag.task_ids), "doc": bool(dag.doc_md),
            }
        print(json.dumps({"import_errors": {str(k): str(v) for k, v in bag.import_errors.items()}, "dags": dags}))
        return 0
    dag = bag.dags[argv[0]]
    run = dag.test()
    states: dict[str, list[str]] = {}
    for ti in sorted(run.get_task_instances(), key=lambda t: (t.task_id, t.map_index)):
        states.setdefault(ti.task_id, []).append(str(ti.state))
    print(json.dumps({"state": str(run.state), "tasks": states, "assets": asset_events(run.run_id)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
