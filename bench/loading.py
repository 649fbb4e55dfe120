"""B6 (peak memory of tap and target as the data grows) and B7 (target-postgres' load rate
against a plain COPY of the same rows through psycopg)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from common import ROOT, Result, Sandbox, drop_schema, median, our_target_config, timed
from tap_runs import run, tap, tap_command

from devstack.postgres import Embedded

TARGET = ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres"


def extract_to_file(sandbox: Sandbox, stream: str, out: Path, workdir: Path) -> float:
    """Run the tap into ``out``; its peak RSS in MB."""
    with out.open("wb") as sink:
        measured = run(tap_command(tap(workdir, sandbox), stream), sandbox, out=sink)
    return measured.peak_rss_mb


def load(singer_file: Path, pg: Embedded, schema: str, workdir: Path) -> tuple[float, float]:
    """target-postgres, configured as this project runs it, reading ``singer_file``: wall
    seconds and peak RSS in MB."""
    drop_schema(pg, schema)
    config = workdir / f"target-{schema}.json"
    config.write_text(json.dumps(our_target_config(pg, schema)))
    with singer_file.open("rb") as source:
        return timed([str(TARGET), "--config", str(config)], stdin=source)


def plain_copy(singer_file: Path, pg: Embedded, schema: str, table: str) -> float:
    """Seconds to decode the file's RECORD lines and COPY their values into a fresh table
    shaped as target-postgres made it (same columns, same types): the least a loader can do."""
    dsn = pg.url("bench", driver="postgresql")
    with psycopg.connect(dsn, autocommit=True) as connection:
        columns = [
            (name, data_type)
            for name, data_type in connection.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = %s and table_name = %s and column_name not like '\\_sdc%%' "
                "order by ordinal_position",
                (schema, table),
            )
        ]
        connection.execute(f"drop table if exists {schema}.plain_{table}".encode())
        connection.execute(
            f"create table {schema}.plain_{table} (like {schema}.{table} including defaults)".encode()
        )
    names = [name for name, _ in columns]
    as_json = {name for name, data_type in columns if data_type in ("json", "jsonb")}
    decode = msgspec.json.Decoder().decode
    encode = msgspec.json.encode
    started = time.perf_counter()
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        column_list = ", ".join(f'"{n}"' for n in names)
        with (
            singer_file.open("rb") as source,
            cursor.copy(f"copy {schema}.plain_{table} ({column_list}) from stdin".encode()) as copy,
        ):
            for line in source:
                message: dict[str, Any] = decode(line)
                if message.get("type") != "RECORD":
                    continue
                record = message["record"]
                copy.write_row(
                    [
                        encode(record.get(n)).decode()
                        if n in as_json and record.get(n) is not None
                        else record.get(n)
                        for n in names
                    ]
                )
        connection.commit()
    return time.perf_counter() - started


def load_rates(size: int, runs: int, workdir: Path, pg: Embedded) -> list[Result]:
    """B7: profiles (wide: nested location, properties, subscriptions) and events (narrow)."""
    results = []
    with Sandbox(profiles=size, events=size) as sandbox:
        counts = sandbox.control.info()["counts"]
        for stream, shape in (("profiles", "wide"), ("events", "narrow")):
            singer_file = workdir / f"{stream}-{size}.singer"
            extract_to_file(sandbox, stream, singer_file, workdir / "tap-load")
            records = counts[stream.removesuffix("s")]
            target_walls, copy_walls = [], []
            for _ in range(runs):
                target_walls.append(load(singer_file, pg, "load_rate", workdir)[0])
                copy_walls.append(plain_copy(singer_file, pg, "load_rate", stream))
            target_rate, copy_rate = records / median(target_walls), records / median(copy_walls)
            results.append(
                Result(
                    "B7",
                    f"target-postgres, {stream} ({shape}), {records:,}",
                    target_rate,
                    "records/s",
                    copy_rate,
                    "plain COPY via psycopg",
                    target_rate / copy_rate,
                    "report; below 25%, explain",
                    None,
                    {"target_s": target_walls, "copy_s": copy_walls},
                )
            )
            singer_file.unlink()
    return results


def peak_memory(sizes: tuple[int, int], workdir: Path, pg: Embedded) -> list[Result]:
    """B6: events through the tap (to a file) and the target (from it), small and large."""
    peaks: dict[str, list[float]] = {"tap": [], "target": []}
    for size in sizes:
        with Sandbox(profiles=100, events=size) as sandbox:
            singer_file = workdir / f"events-{size}.singer"
            peaks["tap"].append(
                extract_to_file(sandbox, "events", singer_file, workdir / "tap-mem")
            )
        peaks["target"].append(load(singer_file, pg, "memory", workdir)[1])
        singer_file.unlink()
    return [
        Result(
            "B6",
            f"{name} peak RSS, {sizes[0]:,} and {sizes[1]:,} events",
            large,
            "MB",
            small,
            f"at {sizes[0]:,}",
            large / small,
            "flat: within 15%",
            large <= 1.15 * small,
        )
        for name, (small, large) in peaks.items()
    ]
