"""B3 (``meltano run tap-klaviyo target-postgres`` end to end, ours (our tap as the project
configures it, our target-postgres) against the stock configuration (singer-sdk's writer,
MeltanoLabs' target-postgres with its defaults), and where the time goes) and B5 (a second run when nothing changed).

The runs happen in a throwaway Meltano project whose plugins are the executables the repository's
``meltano install`` made, so nothing is installed twice and the repository's state is untouched.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import yaml
from common import ROOT, Result, Sandbox, Watcher, drop_schema, median
from tap_runs import history_start

from devstack.postgres import Embedded
from devstack.testing import installed_plugin

STREAMS = ["profiles.*", "events.*"]
# what each process runs (its program and script) -> where its CPU time is counted
PROCESSES = {
    "stock_tap": "tap",
    "tap-klaviyo": "tap",
    "target-postgres": "target",
    "bin/meltano": "meltano (start-up, discovery, relay)",
}


def write_project(project: Path, sandbox: Sandbox, pg: Embedded) -> None:
    tap_bin = installed_plugin(ROOT, "extractors", "tap-klaviyo", "tap-klaviyo").parent
    target = installed_plugin(ROOT, "loaders", "target-postgres", "target-postgres")
    stock_target = installed_plugin(
        ROOT, "loaders", "target-postgres-meltanolabs", "target-postgres"
    )
    if not all(p.exists() for p in (tap_bin / "tap-klaviyo", target, stock_target)):
        raise RuntimeError("the project's plugins are not installed: run `uv run meltano install`")
    project.mkdir(parents=True, exist_ok=True)
    stock_tap = project / "stock-tap-klaviyo"
    stock_tap.write_text(
        f'#!/bin/sh\nexec {tap_bin / "python"} {ROOT / "bench" / "stock_tap.py"} "$@"\n'
    )
    stock_tap.chmod(0o755)
    tap_config = {
        "api_key": "pk_bench",
        "api_url": sandbox.api_url,
        "start_date": history_start(sandbox),
        "rate_limit_percent": 0,
    }
    extractor = {
        "namespace": "tap_klaviyo",
        "capabilities": ["about", "catalog", "discover", "state"],
    }
    loader = {"namespace": "target_postgres", "executable": str(target)}
    meltano_yml = {
        "version": 1,
        "project_id": "tapworks-bench",
        "send_anonymous_usage_stats": False,
        "default_environment": "bench",
        "environments": [{"name": "bench"}],
        "plugins": {
            "extractors": [
                # as this project runs it: msgspec writer, records validated once, in the tap
                {
                    **extractor,
                    "name": "tap-klaviyo",
                    "executable": str(tap_bin / "tap-klaviyo"),
                    "config": tap_config,
                    "select": STREAMS,
                },
                # singer-sdk's stock writer; a stock SDK tap does not validate its records
                {
                    **extractor,
                    "name": "tap-klaviyo-stock",
                    "executable": str(stock_tap),
                    # MeltanoLabs' loader cannot store NUL inside objects
                    "config": {
                        **tap_config,
                        "validate_records": False,
                        "replace_nul_characters": True,
                    },
                    "select": STREAMS,
                },
                # every stream, for the no-change rerun
                {
                    **extractor,
                    "name": "tap-klaviyo-all",
                    "executable": str(tap_bin / "tap-klaviyo"),
                    "config": tap_config,
                },
            ],
            "loaders": [
                {
                    **loader,
                    "name": "target-postgres",
                    "config": {"sqlalchemy_url": pg.url("bench"), "default_target_schema": "ours"},
                },
                {
                    **loader,
                    "name": "target-postgres-stock",
                    "executable": str(stock_target),
                    "config": {"sqlalchemy_url": pg.url("bench"), "default_target_schema": "stock"},
                },
                {
                    **loader,
                    "name": "target-postgres-all",
                    "config": {"sqlalchemy_url": pg.url("bench"), "default_target_schema": "rerun"},
                },
            ],
        },
    }
    (project / "meltano.yml").write_text(yaml.safe_dump(meltano_yml, sort_keys=False))


def meltano_run(project: Path, *args: str) -> tuple[float, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_", "MELTANO_"))}
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    log = project / "meltano.log"
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "meltano"), "run", *args],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        with Watcher(process.pid, PROCESSES) as watcher:
            process.wait()
        wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"meltano run {' '.join(args)} failed:\n{log.read_text()[-3000:]}")
    usage = {name: round(u.cpu_seconds, 2) for name, u in watcher.totals().items()}
    return wall, usage


def count_rows(pg: Embedded, schema: str) -> int:
    with psycopg.connect(pg.url("bench", driver="postgresql")) as connection:
        total = 0
        for table in ("profiles", "events"):
            row = connection.execute(f"select count(*) from {schema}.{table}".encode()).fetchone()
            total += row[0] if row else 0
        return total


def end_to_end(profiles: int, events: int, runs: int, workdir: Path, pg: Embedded) -> list[Result]:
    """B3: both configurations, alternating, so drift in the machine hits both alike."""
    with Sandbox(profiles=profiles, events=events) as sandbox:
        project = workdir / "meltano-bench"
        write_project(project, sandbox, pg)
        counts = sandbox.control.info()["counts"]
        records = counts["profile"] + counts["event"]
        walls: dict[str, list[float]] = {"ours": [], "stock": []}
        usage: dict[str, dict[str, Any]] = {}
        pairs = {
            "ours": ("tap-klaviyo", "target-postgres", "ours"),
            "stock": ("tap-klaviyo-stock", "target-postgres-stock", "stock"),
        }
        for _ in range(runs):
            for label, (tap_name, target_name, schema) in pairs.items():
                drop_schema(pg, schema)
                wall, usage[label] = meltano_run(project, "--full-refresh", tap_name, target_name)
                walls[label].append(wall)
                loaded = count_rows(pg, schema)
                if loaded != records:
                    raise RuntimeError(f"{label}: {loaded} rows loaded, the sandbox has {records}")
    ours, stock = median(walls["ours"]), median(walls["stock"])
    return [
        Result(
            "B3",
            f"meltano run, {profiles:,} profiles + {events:,} events",
            records / ours,
            "records/s",
            records / stock,
            "stock configuration",
            stock / ours,
            ">= 2x the stock configuration",
            stock >= 2 * ours,
            {"wall_s": walls, "cpu_s_last_run": usage},
        )
    ]


def tied_at_newest(sandbox: Sandbox) -> dict[str, int]:
    """Per member path, how many members joined at that list's or segment's newest instant."""
    tied: dict[str, int] = {}
    for kind, key, group in (
        ("list-member", "list_id", "lists"),
        ("segment-member", "segment_id", "segments"),
    ):
        members = sandbox.control.truth(kind)
        newest: dict[str, str] = {}
        for m in members:
            newest[m[key]] = max(newest.get(m[key], ""), m["joined_group_at"])
        for m in members:
            if m["joined_group_at"] == newest[m[key]]:
                path = f"/api/{group}/{m[key]}/profiles"
                tied[path] = tied.get(path, 0) + 1
    return tied


def rerun_without_changes(profiles: int, events: int, workdir: Path, pg: Embedded) -> list[Result]:
    """B5: every stream, run twice; the second run should ask for each partition or window once."""
    with Sandbox(profiles=profiles, events=events) as sandbox:
        project = workdir / "meltano-rerun"
        write_project(project, sandbox, pg)
        drop_schema(pg, "rerun")
        meltano_run(project, "tap-klaviyo-all", "target-postgres-all")
        since = sandbox.control.requests()[-1]["seq"]
        wall, _ = meltano_run(project, "tap-klaviyo-all", "target-postgres-all")
        seen = sandbox.control.requests(since)
        ties = tied_at_newest(sandbox)
    follow_ups = [r for r in seen if "page[cursor]" in r["query"]]
    served = Counter[str]()
    for r in seen:
        served[r["path"]] += r["records"] or 0
    # Member streams re-read, inclusively, the members who joined at the bookmark's instant
    # (so none is lost); a bulk import makes that more than a page. Anything else is a miss.
    unexplained = sorted(
        {r["path"] for r in follow_ups if served[r["path"]] != ties.get(r["path"])}
    )
    return [
        Result(
            "B5",
            f"second run, nothing changed, every stream ({profiles:,} profiles, {events:,} events)",
            len(seen),
            "requests",
            len(seen) - len(follow_ups),
            "partitions and windows",
            None,
            "one request per partition or window, beyond it only ties at the bookmark",
            not unexplained,
            {
                "wall_s": round(wall, 1),
                "records_served": dict(served),
                "follow_up_pages": [r["path"] for r in follow_ups],
                "members_tied_at_bookmark": {
                    p: ties[p] for p in {r["path"] for r in follow_ups} if p in ties
                },
                "unexplained": unexplained,
            },
        )
    ]
