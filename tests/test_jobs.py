"""The jobs of meltano.yml: each source's job builds only its own models, so both run at the
same moment; the cross-source marts wait for both sources; the reconcile job reads only events."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from devstack.testing import MELTANO, Project

ROOT = Path(__file__).resolve().parents[1]
TRANSFORM = ROOT / "transform"
MARTS = "analytics_marts"


def start_job(project: Project, job: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [MELTANO, "run", job],
        cwd=project.root,
        env=project.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_together(project: Project, *jobs: str) -> None:
    """`meltano run` each job (or step), all started at the same moment; each must pass."""
    runs = {job: start_job(project, job) for job in jobs}
    outputs = {job: run.communicate(timeout=600)[0] for job, run in runs.items()}
    for job, run in runs.items():
        assert run.returncode == 0, f"{job}:\n{outputs[job][-4000:]}"


def models_in_folders(source: str) -> set[str]:
    """The source's own models: staging, intermediate and marts folders named after it."""
    return {
        path.stem
        for layer in ("staging", "intermediate", "marts")
        for path in (TRANSFORM / "models" / layer / source).glob("*.sql")
    }


def built(target: str) -> dict[str, set[str]]:
    """What the last dbt build into transform/target/<target> ran: each node's upstream sources,
    from its run_results and manifest, after checking that every node passed."""
    results = json.loads((TRANSFORM / "target" / target / "run_results.json").read_text())
    assert results["args"]["which"] == "build", target
    failed = [r["unique_id"] for r in results["results"] if r["status"] not in ("success", "pass")]
    assert not failed, failed
    manifest = json.loads((TRANSFORM / "target" / target / "manifest.json").read_text())
    return {
        r["unique_id"]: upstream_sources(manifest["parent_map"], r["unique_id"])
        for r in results["results"]
    }


def upstream_sources(parents: dict[str, list[str]], node: str) -> set[str]:
    seen: set[str] = set()
    todo = [node]
    while todo:
        for parent in parents.get(todo.pop(), []):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    # source.tapworks.<source name>.<table>
    return {parent.split(".")[2] for parent in seen if parent.startswith("source.")}


def models(nodes: dict[str, set[str]]) -> set[str]:
    return {node.split(".")[-1] for node in nodes if node.startswith("model.")}


def test_both_source_jobs_at_the_same_moment_and_then_the_cross_source_marts(
    shop_project: Project,
) -> None:
    project = shop_project
    assert project.shopify is not None
    # Nothing loaded yet: the cross-source job stops at its check instead of building
    # the customers mart from empty stand-ins.
    early = project.meltano("run", "cross-source-marts")
    assert early.returncode != 0
    assert 'relation "tap_shopify.' in early.output, early.output[-3000:]
    assert project.count("customers", MARTS) == 0

    run_together(project, "klaviyo-to-postgres", "shopify-to-postgres")
    # The loads take different times, so the jobs' dbt steps may not have overlapped: start
    # those two together too (before, both built every node and collided on the Klaviyo ones).
    run_together(project, "dbt-postgres:build-klaviyo", "dbt-postgres:build-shopify")

    klaviyo, shopify = built("klaviyo"), built("shopify")
    assert models(klaviyo) == models_in_folders("klaviyo")
    assert models(shopify) == models_in_folders("shopify")
    # tests too: every node a job ran reads its own source only
    assert {frozenset(s) for s in klaviyo.values()} == {frozenset({"tap_klaviyo"})}
    assert {frozenset(s) for s in shopify.values()} == {frozenset({"tap_shopify"})}
    assert project.count("fct_klaviyo_events", MARTS) == len(project.sandbox.control.truth("event"))
    assert project.count("fct_shopify_orders", MARTS) == len(project.shopify.control.truth("order"))

    marts = project.meltano("run", "cross-source-marts")
    assert marts.returncode == 0, marts.output[-4000:]
    cross = built("cross-source")
    assert models(cross) == {"customers", "pipeline_runs", "stg_meltano__runs",
                             "ingestion_attempts", "stg_ops__ingestion_log"}  # fmt: skip
    assert all(len(s) == 2 or s in ({"meltano"}, {"ops"}) for s in cross.values()), cross
    assert project.query(
        f"select count(*) filter (where is_in_klaviyo and is_in_shopify) > 0 from {MARTS}.customers"
    ) == [(True,)]
    pipelines = {row[0] for row in project.query(f"select pipeline from {MARTS}.pipeline_runs")}
    assert {"tap-klaviyo-to-target-postgres", "tap-shopify-to-target-postgres"} <= pipelines


def reconcile_plugin(project: Project) -> dict[str, Any]:
    listed = project.meltano("config", "list", "--extras", "--all", "tap-klaviyo-reconcile")
    assert listed.returncode == 0, listed.output[-2000:]
    extras = {}
    for line in listed.output.splitlines():
        if line.startswith(("_select ", "_load_schema ")):
            name, _, value = line.partition(" current value: ")
            extras[name.split()[0]] = value.split(" (from")[0]
    return extras


def test_the_reconcile_job_reads_only_events_into_tap_klaviyo(loaded_project: Project) -> None:
    project = loaded_project  # loaded and built
    assert reconcile_plugin(project) == {"_select": "['events.*']", "_load_schema": "'tap_klaviyo'"}
    control = project.sandbox.control
    seen = max((r["seq"] for r in control.requests()), default=0)
    new_events = control.create("event", count=5)
    control.update("profile", count=3)

    job = project.meltano("run", "klaviyo-reconcile")
    assert job.returncode == 0, job.output[-4000:]
    paths = {r["path"] for r in control.requests(seen)}
    assert paths
    assert all(path.startswith("/api/events") for path in paths), paths
    assert project.query(
        "select schema_name from information_schema.schemata where schema_name like %s",
        "tap_klaviyo%",
    ) == [("tap_klaviyo",)]
    assert set(new_events) <= set(project.ids("events"))
    assert project.count("fct_klaviyo_events", MARTS) == len(control.truth("event"))
    nodes = built("klaviyo-reconcile")
    assert {"stg_klaviyo__events", "fct_klaviyo_events"} <= models(nodes)
    assert models(nodes) < models_in_folders("klaviyo")
    assert all(s == {"tap_klaviyo"} for s in nodes.values())
