"""tap-klaviyo's real output (the Klaviyo sandbox) through the lake and back: what tap-lake
sends a loader is what the tap sent, record for record, with its final bookmarks, and
target-postgres builds the same tables from it as from the tap; and the benchmark runs (at a
tiny size)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from devstack import postgres
from sandbox.klaviyo.sandbox import KlaviyoSandbox
from tap_klaviyo.tap import TapKlaviyo
from tapkit.testing import TapRunner
from target_lake.testing import Lake, without_nulls
from target_postgres.testing import SCHEMA, Database

ROOT = Path(__file__).resolve().parents[3]
STREAMS = ["events", "profiles", "metrics"]
#: set by each load: the time of the load, not of the data
LOAD_TIME = ("_sdc_received_at", "_sdc_batched_at", "_sdc_sync_started_at", "_sdc_ingested_at")


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir = tmp_path_factory.mktemp("pg") / "data"
    embedded = postgres.start(data_dir, databases=())
    yield embedded
    postgres.stop(data_dir)


def database(pg: postgres.Embedded, workdir: Path) -> Database:
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres.create_databases(pg, (name,))
    return Database(pg.url(name), pg.url(name, driver="postgresql"), workdir)


def tables(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, without the columns each load sets, in key order."""
    found = {}
    for (table,) in db.rows(
        "select table_name from information_schema.tables where table_schema = %s", SCHEMA
    ):
        columns = [
            c
            for (c,) in db.rows(
                "select column_name from information_schema.columns where table_schema = %s "
                "and table_name = %s order by ordinal_position",
                SCHEMA,
                table,
            )
            if c not in LOAD_TIME and c != "_sdc_sequence"  # (a load's counter)
        ]
        found[table] = db.rows(f"select {', '.join(columns)} from {SCHEMA}.{table} order by id")
    return found


def test_tap_klaviyo_through_the_lake(lake: Lake, tmp_path: Path, pg: Any) -> None:
    with KlaviyoSandbox(seed=5, profiles=150, events=1_500) as sandbox:
        config = {"api_key": "pk_test_lake", "api_url": sandbox.api_url}
        start = {"start_date": "2000-01-01T00:00:00Z"}
        tap = TapRunner("tap_klaviyo", TapKlaviyo, tmp_path / "tap", {**config, **start})
        sent = tap(streams=STREAMS)
    assert sent.returncode == 0, sent.stderr[-2000:]
    assert len(sent.records("events")) == 1_500
    for fmt in ("parquet", "jsonl"):
        tap_name = f"tap-klaviyo-{fmt}"
        written = lake.write(
            sent.stdout.encode(), tap=tap_name, format=fmt, partition_date_field="datetime"
        )
        assert written.states[-1] == sent.state
        assert lake.check_files(tap_name) == sum(len(sent.records(s)) for s in STREAMS)
        replay = lake.replay(tap=tap_name)
        for stream in STREAMS:
            expected = sent.records(stream)
            if fmt == "parquet":
                expected = [without_nulls(r) for r in expected]
            assert replay.records(stream) == expected, stream
        final = replay.states[-1]["value"]
        assert {k: v for k, v in final.items() if k != "tap_lake"} == sent.state
        if fmt == "parquet":  # the medallion way gives the tables the direct way gives
            direct, medallion = database(pg, tmp_path), database(pg, tmp_path)
            direct.load(sent.stdout)
            medallion.load(replay.stdout)
            assert tables(medallion) == tables(direct)
            assert len(tables(direct)) == len(STREAMS)
            assert all(tables(direct).values())


def test_the_benchmark_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "lake.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout.splitlines()
    assert table[0].startswith("machine: ")
    assert [line.split()[:3] for line in table[2:6]] == [
        [fmt, "extraction", size] for size in ("1,000", "3,000") for fmt in ("parquet", "jsonl")
    ]
    assert "parquet: peak RSS at 3,000 is" in done.stdout
