"""Generate the Airflow DAG spec from the Meltano project: one DAG per schedule (and per job
without one), its loads split into stream groups, each in its source's pool.

Reads meltano.yml, its include_paths (plugins/*.meltano.yml) and orchestrate/sources.yml; writes
one JSON file that the DAG module (orchestrate/dags/tapworks_dags.py) reads, so Airflow never
runs Meltano to parse a DAG. Run it again after changing a job, schedule or stream group:

    uv run python orchestrate/generate.py [--out .local/airflow/dags.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / ".local" / "airflow" / "dags.json"
TASK_ID_UNSAFE = re.compile(r"[^\w.-]")


def load_project(root: Path) -> dict[str, Any]:
    """meltano.yml with its included files' plugins merged in, as Meltano reads them."""
    project = yaml.safe_load((root / "meltano.yml").read_text())
    plugins: dict[str, list[dict[str, Any]]] = {}
    paths = [root / "meltano.yml"]
    for pattern in project.get("include_paths", []):
        paths += sorted(root.glob(pattern.removeprefix("./")))
    for path in paths:
        fragment = yaml.safe_load(path.read_text()) or {}
        for kind, entries in (fragment.get("plugins") or {}).items():
            plugins.setdefault(kind, []).extend(entries or [])
    project["plugins"] = plugins
    return project


def base_extractors(project: dict[str, Any]) -> dict[str, str]:
    """Each extractor's root ancestor (itself unless it inherits): the API its limit is for."""
    parents = {p["name"]: p.get("inherit_from") for p in project["plugins"].get("extractors", [])}

    def root_of(name: str) -> str:
        seen = {name}
        while parents.get(name):
            name = str(parents[name])
            if name in seen:
                raise ValueError(f"extractor {name} inherits from itself")
            seen.add(name)
        return name

    return {name: root_of(name) for name in parents}


def task_id(*parts: str) -> str:
    return TASK_ID_UNSAFE.sub("_", "_".join(parts))


def load_tasks(block: list[str], base: str, config: dict[str, Any]) -> list[dict[str, Any]]:
    """One task per stream group of the block's extractor, or one for the whole block."""
    extractor = block[0]
    groups = (config.get("stream_groups") or {}).get(extractor) or {}
    common = {"kind": "load", "source": extractor, "pool": base}
    if not groups:
        return [{**common, "task_id": task_id(extractor), "group": "all", "select": [],
                 "meltano": ["run", *block]}]  # fmt: skip
    return [
        {
            **common,
            "task_id": task_id(extractor, group),
            "group": group,
            "select": [f"{stream}.*" for stream in streams],
            "meltano": ["run", f"--state-id-suffix={group}", *block],
        }
        for group, streams in groups.items()
    ]


def dag_spec(
    dag_id: str,
    schedule: str | None,
    job: dict[str, Any],
    bases: dict[str, str],
    config: dict[str, Any],
) -> dict[str, Any]:
    """The job's loads in parallel (each in its pool), then each other step in order."""
    tasks: list[dict[str, Any]] = []
    upstream: list[str] = []
    loads: list[dict[str, Any]] = []
    sources = [word for step in job["tasks"] for word in step.split() if word in bases]
    source = sources[0] if sources else job["name"]
    for step in job["tasks"]:
        words = step.split()
        if words[0] in bases:
            loads += load_tasks(words, bases[words[0]], config)
            continue
        if loads:
            tasks += [{**load, "upstream": upstream} for load in loads]
            upstream = [load["task_id"] for load in loads]
            loads = []
        tid = task_id(*words)
        tasks.append({"kind": "step", "task_id": tid, "source": source, "group": step,
                      "pool": None, "select": [], "meltano": ["run", *words],
                      "upstream": upstream})  # fmt: skip
        upstream = [tid]
    tasks += [{**load, "upstream": upstream} for load in loads]
    return {"dag_id": dag_id, "schedule": schedule, "job": job["name"], "tasks": tasks}


def generate(
    root: Path = ROOT, config_path: Path | None = None, **overrides: Any
) -> dict[str, Any]:
    project = load_project(root)
    config = yaml.safe_load((config_path or root / "orchestrate" / "sources.yml").read_text())
    config.update({k: v for k, v in overrides.items() if v is not None})
    bases = base_extractors(project)
    jobs = {job["name"]: job for job in project.get("jobs", [])}
    dags = []
    scheduled: set[str] = set()
    for schedule in project.get("schedules", []):
        if "job" not in schedule:
            job = {
                "name": schedule["name"],
                "tasks": [f"{schedule['extractor']} {schedule['loader']}"],
            }
        elif schedule["job"] not in jobs:
            raise ValueError(
                f"schedule {schedule['name']} names job {schedule['job']}, which meltano.yml does not define"
            )
        else:
            job = jobs[schedule["job"]]
        scheduled.add(job["name"])
        dags.append(dag_spec(schedule["name"], schedule.get("interval"), job, bases, config))
    dags += [
        dag_spec(name, None, job, bases, config)
        for name, job in jobs.items()
        if name not in scheduled
    ]
    used = {task["pool"] for dag in dags for task in dag["tasks"] if task["pool"]}
    pools_config = config.get("pools") or {}
    pools = {
        pool: {
            "slots": int((pools_config.get(pool) or {}).get("slots", config["default_slots"])),
            "description": f"{pool}: {(pools_config.get(pool) or {}).get('kind', 'default')} limit from orchestrate/sources.yml",
            "include_deferred": False,
        }
        for pool in sorted(used)
    }
    retry = {k: config[k] for k in ("retries", "retry_delay_seconds", "max_retry_delay_seconds")}
    return {"retry": retry, "pools": pools, "dags": dags}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the DAG spec (JSON)")
    parser.add_argument("--pools-out", type=Path, help="also the pools, for `airflow pools import`")
    parser.add_argument("--config", type=Path, help="instead of orchestrate/sources.yml")
    parser.add_argument("--retries", type=int)
    parser.add_argument("--retry-delay-seconds", type=float)
    parser.add_argument(
        "--no-schedules", action="store_true", help="every DAG manual only (tests, a backfill host)"
    )
    args = parser.parse_args(argv)
    spec = generate(
        ROOT, args.config, retries=args.retries, retry_delay_seconds=args.retry_delay_seconds
    )
    if args.no_schedules:
        for dag in spec["dags"]:
            dag["schedule"] = None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(spec, indent=2) + "\n")
    if args.pools_out:
        args.pools_out.write_text(json.dumps(spec["pools"], indent=2) + "\n")
    print(
        f"{len(spec['dags'])} DAGs, pools {', '.join(spec['pools'])}: {args.out}", file=sys.stderr
    )


if __name__ == "__main__":
    main()
