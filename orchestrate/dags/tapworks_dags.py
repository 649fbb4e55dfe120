"""The tapworks DAGs, built from the spec orchestrate/generate.py wrote (never from Meltano at
parse time): one DAG per Meltano schedule, its stream groups in parallel in the source's pool,
then the job's other steps (dbt) in order once every load succeeded.

Each task runs orchestrate/runner.py with the workspace's Python, which runs `meltano` and
writes the ingestion log. Settings (environment of the DAG processor and the workers):
TAPWORKS_DAGS_FILE (the spec; default <repo>/.local/airflow/dags.json), TAPWORKS_ROOT (the
repository), TAPWORKS_PYTHON (the workspace's Python).
"""

from __future__ import annotations

import json
import os
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

ROOT = Path(os.environ.get("TAPWORKS_ROOT") or Path(__file__).resolve().parents[2])
SPEC = Path(os.environ.get("TAPWORKS_DAGS_FILE") or ROOT / ".local" / "airflow" / "dags.json")
PYTHON = os.environ.get("TAPWORKS_PYTHON") or str(ROOT / ".venv" / "bin" / "python")
RUNNER = str(ROOT / "orchestrate" / "runner.py")
# Runs are identified to the log by Airflow's own ids, filled in when the task runs (run ids
# hold only letters, digits and _-.:+, so single quotes suffice).
IDS = (
    "--dag-id {{ dag.dag_id }} --task-id {{ task.task_id }}"
    " --run-id '{{ run_id }}' --try-number {{ ti.try_number }}"
)


def command(task: dict) -> str:
    words = [PYTHON, RUNNER, "--source", task["source"], "--group", task["group"]]
    for pattern in task["select"]:
        words += ["--select", pattern]
    return f"{shlex.join(words)} {IDS} -- {shlex.join(task['meltano'])}"


def build(spec: dict) -> dict[str, DAG]:
    retry = spec["retry"]
    default_args = {
        "owner": "tapworks",
        "retries": int(retry["retries"]),
        "retry_delay": timedelta(seconds=float(retry["retry_delay_seconds"])),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(seconds=float(retry["max_retry_delay_seconds"])),
    }
    dags = {}
    for entry in spec["dags"]:
        with DAG(
            dag_id=entry["dag_id"],
            schedule=entry["schedule"],
            start_date=datetime(2026, 1, 1, tzinfo=UTC),
            catchup=False,
            # Two runs of one job would share the state of each group.
            max_active_runs=1,
            default_args=default_args,
            tags=["tapworks", f"job:{entry['job']}"],
            doc_md=f"Meltano job `{entry['job']}` (generated from meltano.yml).",
        ) as dag:
            operators = {}
            for task in entry["tasks"]:
                extra = {"pool": task["pool"]} if task["pool"] else {}
                operators[task["task_id"]] = BashOperator(
                    task_id=task["task_id"], bash_command=command(task), cwd=str(ROOT), **extra
                )
            for task in entry["tasks"]:
                for upstream in task["upstream"]:
                    operators[upstream] >> operators[task["task_id"]]
        dags[entry["dag_id"]] = dag
    return dags


if SPEC.is_file():
    globals().update(build(json.loads(SPEC.read_text())))
else:
    raise FileNotFoundError(
        f"{SPEC} is missing: run `python orchestrate/generate.py` (TAPWORKS_DAGS_FILE)"
    )
