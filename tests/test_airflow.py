"""Airflow runs the generated DAGs: real Airflow (its own cached venv), the real `meltano`, the
Klaviyo sandbox and the embedded Postgres as Airflow's metadata database, with the scheduler,
DAG processor and API server started once for the module (LocalExecutor)."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from devstack import postgres
from devstack.testing import STATE_ID, Project, wait_for

ROOT = Path(__file__).resolve().parents[1]
DAG_ID = "klaviyo-to-postgres-hourly"
GROUPS = {"profiles": ["profiles"], "events": ["events"],
          "campaigns": ["campaigns", "campaign_messages"], "lists": ["lists", "list_members"],
          "segments": ["segments", "segment_members"],
          "catalog": ["templates", "metrics", "flows", "flow_actions", "tags"]}  # fmt: skip


def _module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "orchestrate" / f"{name}.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


airflow_local = _module("airflow_local")
# This folder's conftest (pytest imports it under its own name): its sandbox and databases.
conftest = next(
    m for n, m in sys.modules.items() if n.endswith("conftest") and hasattr(m, "klaviyo_sandbox")
)


@dataclass
class Airflow:
    binary: Path
    env: dict[str, str]
    metadata: str  # psycopg URL of Airflow's metadata database
    project: Project  # the pipeline the scheduler's tasks load

    def cli(self, *args: str, timeout: float = 600, **env: str) -> str:
        return str(
            airflow_local.airflow_cli(self.binary, {**self.env, **env}, *args, timeout=timeout)
        )

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.metadata) as connection:
            return list(connection.execute(sql.encode(), params))


@pytest.fixture(scope="module")
def airflow(
    pg: postgres.Embedded, installed: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Airflow]:
    started = time.monotonic()
    binary = airflow_local.install()
    print(f"airflow venv ready in {time.monotonic() - started:.0f} s")
    home = tmp_path_factory.mktemp("airflow")
    meta = conftest.new_database(pg)
    with conftest.klaviyo_sandbox() as sandbox:
        project = Project(ROOT, pg, sandbox, conftest.new_database(pg))
        # One retry inside the tap, so a burst of 500s fails an attempt and Airflow retries it.
        env = {**project.env(TAP_KLAVIYO_MAX_RETRIES="1"), **airflow_local.settings(
            home, pg.url(meta, driver="postgresql+psycopg2"), airflow_local.free_port(), home / "dags.json")}  # fmt: skip
        # Manual DAGs only (no run for the last interval), quick retries.
        airflow_local.prepare(
            binary, env, ("--no-schedules", "--retries", "2", "--retry-delay-seconds", "2")
        )
        airflow_local.start(binary, env)
        try:
            yield Airflow(binary, env, pg.url(meta, driver="postgresql"), project)
        finally:
            airflow_local.stop(home)


def json_out(output: str) -> list[dict[str, Any]]:
    """The JSON list an `airflow ... -o json` printed after its log lines (none: empty)."""
    lines = [line for line in output.splitlines() if line.startswith("[")]
    return list(json.loads(lines[-1])) if lines else []


def log_rows(project: Project) -> list[tuple[Any, ...]]:
    return project.query(
        "select task_id, try_number, event, stream_group, rows, error from ops.ingestion_log order by id"
    )


def bookmarks(project: Project, state_id: str) -> dict[str, Any]:
    rows = project.query("select completed_state from meltano.state where state_id = %s", state_id)
    if not rows or not rows[0][0]:
        return {}
    state = rows[0][0] if isinstance(rows[0][0], dict) else json.loads(rows[0][0])
    return dict(state.get("singer_state", {}).get("bookmarks", {}))


def assert_same_table(ours: Project, serial: Project, stream: str) -> None:
    assert ours.count(stream) == serial.count(stream) > 0, stream
    columns = {r[0] for r in serial.query(
        "select column_name from information_schema.columns where table_schema='tap_klaviyo' and table_name=%s", stream)}  # fmt: skip
    if "id" in columns:
        assert sorted(ours.ids(stream)) == sorted(serial.ids(stream)), stream


@pytest.mark.timeout(900)  # the first use installs Airflow and migrates its database
def test_dags_list_shows_every_schedule_without_import_errors(airflow: Airflow) -> None:
    schedules = {"klaviyo-to-postgres-hourly", "shopify-to-postgres-hourly", "onetrust-to-postgres-6-hourly",
                 "pinterest-to-postgres-6-hourly", "cross-source-marts-hourly", "marketing-marts-6-hourly",
                 "klaviyo-reconcile-daily", "bigquery-to-postgres-15-minutely"}  # fmt: skip

    def listed() -> set[str]:
        return {d["dag_id"] for d in json_out(airflow.cli("dags", "list", "-o", "json"))}

    wait_for(lambda: schedules <= listed(), timeout=180, every=3)
    assert json_out(airflow.cli("dags", "list-import-errors", "-o", "json")) == []


@pytest.mark.timeout(900)
def test_dags_test_loads_the_sandbox_and_builds_dbt(
    airflow: Airflow, project: Project, built_project: Project
) -> None:
    airflow.cli("dags", "test", DAG_ID, **project.env())
    for streams in GROUPS.values():
        for stream in streams:
            assert_same_table(project, built_project, stream)
    assert project.query("select count(*) from analytics_marts.dim_klaviyo_profiles")[0][0] > 0
    events = {(task, event) for task, _, event, *_ in log_rows(project)}
    tasks = [f"tap-klaviyo_{group}" for group in GROUPS] + [
        "dbt-postgres_freshness-klaviyo", "dbt-postgres_build-klaviyo"]  # fmt: skip
    assert events == {(task, event) for task in tasks for event in ("start", "success")}
    rows = {task: n for task, _, event, _, n, _ in log_rows(project) if event == "success"}
    assert rows["tap-klaviyo_profiles"] == built_project.count("profiles")


def max_overlap(intervals: list[tuple[Any, Any]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
                   key=lambda e: (e[0], e[1]))  # fmt: skip
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


@pytest.mark.timeout(900)
def test_the_scheduler_keeps_to_the_pool_retries_and_isolates_a_failure(
    airflow: Airflow, built_project: Project
) -> None:
    ours = airflow.project
    control = ours.sandbox.control
    control.inject_fault("500", count=2, path="/api/tags")  # spent by the first attempt(s)
    control.inject_fault("500", count=100_000, path="/api/segments")  # never lets up
    airflow.cli("dags", "unpause", DAG_ID)
    airflow.cli("dags", "trigger", DAG_ID, "--run-id", "pool-check")

    def finished() -> bool:
        rows = airflow.query(
            "select state from dag_run where dag_id=%s and run_id='pool-check'", DAG_ID
        )
        return bool(rows) and rows[0][0] in ("success", "failed")

    wait_for(finished, timeout=600, every=3)
    tries = airflow.query(
        "select task_id, try_number, state, start_date, end_date from task_instance"
        " where dag_id=%s and run_id='pool-check' union all"
        " select task_id, try_number, state, start_date, end_date from task_instance_history"
        " where dag_id=%s and run_id='pool-check'", DAG_ID, DAG_ID)  # fmt: skip
    loads = [
        (start, end)
        for task, _, _, start, end in tries
        if task.startswith("tap-klaviyo_") and start
    ]
    assert 1 < max_overlap(loads) <= 3, loads
    # Each task's last try (the history holds the earlier ones, in no particular order).
    final = {
        task: (n, state)
        for task, n, state, *_ in sorted(tries, key=lambda t: t[1])
        if state in ("success", "failed", "upstream_failed")
    }
    assert final["tap-klaviyo_catalog"][1] == "success"
    assert final["tap-klaviyo_catalog"][0] > 1  # the 500s on /api/tags cost it an attempt
    assert final["tap-klaviyo_segments"] == (3, "failed")
    assert final["dbt-postgres_build-klaviyo"][1] == "upstream_failed"

    log = log_rows(ours)
    errors = [
        error
        for task, _, event, _, _, error in log
        if event == "error" and task == "tap-klaviyo_segments"
    ]
    assert len(errors) == 3, errors
    assert all("500" in e for e in errors), errors
    assert any(t == "tap-klaviyo_catalog" and e == "error" for t, _, e, *_ in log)
    serial = bookmarks(built_project, STATE_ID)
    for group, streams in GROUPS.items():
        ours_bookmarks = bookmarks(ours, f"{STATE_ID}:{group}")
        if group == "segments":
            assert not ours_bookmarks
            assert ours.count("segments") == 0
            continue
        assert ours_bookmarks == {s: serial[s] for s in streams if s in serial}, group
        for stream in streams:
            assert_same_table(ours, built_project, stream)
