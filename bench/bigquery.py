"""tap-bigquery's throughput: rows per second for one table of 1M rows read incrementally from
empty state against the BigQuery emulator, at ``max_parallel_reads`` 1 and 4, and end to end
(4 slices, piped into our target-postgres, into an embedded Postgres, until its last commit).

    uv run python bench/bigquery.py [--rows 1000000] [--page-size 10000]

The table is made by one CREATE TABLE AS SELECT in the emulator (loading a million rows through
streaming inserts would take longer than the reads); the tap runs as its real CLI with its
output counted, not parsed. The emulator serves from DuckDB through Python on the same 2 cores,
so these figures are the tap and the emulator together, a floor for what BigQuery itself gives.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, machine

from devstack import postgres
from sandbox.bigquery import BigQueryEmulator

# tapworks-target-postgres, from the workspace venv (targets/target-postgres)
TARGET = ROOT / ".venv" / "bin" / "target-postgres"

TABLE = """CREATE TABLE `bench.events` AS
SELECT n AS id,
       TIMESTAMP_ADD(TIMESTAMP '2024-01-01 00:00:00+00', INTERVAL n SECOND) AS occurred_at,
       CONCAT('/page/', CAST(MOD(n, 500) AS STRING)) AS page,
       MOD(n, 97) AS user_id,
       n * 0.5 AS value
FROM UNNEST(GENERATE_ARRAY(1, {rows})) AS n"""


def run_tap(config: dict[str, Any]) -> tuple[int, float]:
    """Records the tap wrote, and the run's wall time."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.json"
        path.write_text(json.dumps(config))
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "tap_bigquery", "--config", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert process.stdout is not None
        records = sum(line.startswith(b'{"type":"RECORD"') for line in process.stdout)
        if process.wait() != 0:
            raise SystemExit(f"the tap failed with {process.returncode}")
        return records, time.perf_counter() - started


def run_into_postgres(config: dict[str, Any], pg: postgres.Embedded) -> tuple[int, float]:
    """The tap piped into target-postgres: rows in the table after it, and the wall time."""
    with tempfile.TemporaryDirectory() as folder:
        tap_config, target_config = Path(folder) / "tap.json", Path(folder) / "target.json"
        tap_config.write_text(json.dumps(config))
        target_config.write_text(
            json.dumps({"sqlalchemy_url": pg.url("bench"), "default_target_schema": "bench_e2e"})
        )
        started = time.perf_counter()
        tap = subprocess.Popen(
            [sys.executable, "-m", "tap_bigquery", "--config", str(tap_config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        target = subprocess.run(
            [str(TARGET), "--config", str(target_config)],
            stdin=tap.stdout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        if tap.wait() != 0 or target.returncode != 0:
            raise SystemExit(
                f"the pipeline failed: tap {tap.returncode}, target {target.returncode}"
            )
        seconds = time.perf_counter() - started
    import psycopg

    with psycopg.connect(pg.url("bench", driver="postgresql")) as connection:
        row = connection.execute("select count(*) from bench_e2e.events").fetchone()
    return (int(row[0]) if row else 0), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=10_000)
    args = parser.parse_args()
    results: list[tuple[str, int, float]] = []
    with BigQueryEmulator() as emulator:
        client = emulator.client()
        client.create_dataset("bench")
        client.query(TABLE.format(rows=int(args.rows))).result()
        for parallel in (1, 4):
            config = {
                "project_id": emulator.project,
                "api_endpoint": emulator.rest_url,
                "read_api": "rest",
                "page_size": args.page_size,
                "max_parallel_reads": parallel,
                "progress_interval_seconds": 0,
                "streams": [
                    {
                        "name": "events",
                        "table": "bench.events",
                        "replication_key": "occurred_at",
                        "primary_keys": ["id"],
                    }
                ],
            }
            records, seconds = run_tap(config)
            assert records == args.rows, (records, args.rows)
            results.append((str(parallel), records, seconds))
        with tempfile.TemporaryDirectory() as folder:
            pg = postgres.start(Path(folder) / "pg", databases=("bench",))
            try:
                rows, seconds = run_into_postgres({**config, "max_parallel_reads": 4}, pg)
            finally:
                postgres.stop(Path(folder) / "pg")
            assert rows == args.rows, (rows, args.rows)
            results.append(("4, into Postgres", rows, seconds))
    described = machine()
    described["tapworks-tap-bigquery"] = importlib.metadata.version("tapworks-tap-bigquery")
    print(json.dumps(described, indent=2))
    print(f"\n{'max_parallel_reads':>18}  {'rows':>10}  {'seconds':>8}  {'rows/s':>8}")
    for reads, records, seconds in results:
        print(f"{reads:>18}  {records:>10,}  {seconds:>8.1f}  {records / seconds:>8,.0f}")


if __name__ == "__main__":
    main()
