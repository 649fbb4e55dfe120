"""B6 (peak memory of tap and our target as the data grows) and B7 (our target-postgres against
MeltanoLabs' and against the floor: msgspec decoding and a binary COPY of the same rows)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from common import ROOT, Result, Sandbox, drop_schema, median, meltanolabs_config, timed
from psycopg.types.json import set_json_dumps
from tap_runs import run, tap, tap_command

from devstack.postgres import Embedded
from devstack.testing import installed_plugin

TARGET = installed_plugin(ROOT, "loaders", "target-postgres-meltanolabs", "target-postgres")
# tapworks-target-postgres, from the workspace venv (targets/target-postgres)
OURS = ROOT / ".venv" / "bin" / "target-postgres"


def extract_to_file(sandbox: Sandbox, stream: str, out: Path, workdir: Path) -> float:
    """Run the tap into ``out``; its peak RSS in MB."""
    with out.open("wb") as sink:
        measured = run(tap_command(tap(workdir, sandbox), stream), sandbox, out=sink)
    return measured.peak_rss_mb


def load(
    singer_file: Path,
    pg: Embedded,
    schema: str,
    workdir: Path,
    *,
    ours: bool = False,
    fresh: bool = True,
) -> tuple[float, float]:
    """MeltanoLabs' target-postgres configured as this project's alternative, or ours
    (defaults), reading ``singer_file`` into ``schema`` (dropped first when ``fresh``): wall
    seconds and peak RSS in MB."""
    if fresh:
        drop_schema(pg, schema)
    config = workdir / f"target-{schema}.json"
    settings = (
        {"sqlalchemy_url": pg.url("bench"), "default_target_schema": schema}
        if ours
        else meltanolabs_config(pg, schema)
    )
    config.write_text(json.dumps(settings))
    with singer_file.open("rb") as source:
        return timed([str(OURS if ours else TARGET), "--config", str(config)], stdin=source)


def _converter(data_type: str) -> Callable[[Any], Any]:
    if data_type == "timestamp with time zone":
        return lambda v: _aware(datetime.fromisoformat(v))
    if data_type == "date":
        return lambda v: date.fromisoformat(v[:10])
    if data_type == "numeric":
        return lambda v: v if isinstance(v, Decimal) else Decimal(str(v))
    if data_type == "text":
        return lambda v: v if isinstance(v, str) else msgspec.json.encode(v).decode()
    return lambda v: v  # bigint, boolean, double precision, jsonb


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def binary_copy_floor(singer_file: Path, pg: Embedded, schema: str, table: str) -> float:
    """Seconds to decode the file's RECORD lines with msgspec and binary-COPY their values
    into a fresh table with the data columns of the table our target made (same types): the
    least a loader can do with these rows."""
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
        connection.execute(f"drop table if exists {schema}.floor_{table}".encode())
        connection.execute(
            f"create table {schema}.floor_{table} as select {', '.join(f'{chr(34)}{n}{chr(34)}' for n, _ in columns)} "
            f"from {schema}.{table} where false".encode()
        )
    names = [name for name, _ in columns]
    converters = [_converter(data_type) for _, data_type in columns]
    decode = msgspec.json.Decoder(float_hook=Decimal).decode
    started = time.perf_counter()
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        set_json_dumps(msgspec.json.Encoder(decimal_format="number").encode, context=cursor)
        column_list = ", ".join(f'"{n}"' for n in names)
        statement = f"copy {schema}.floor_{table} ({column_list}) from stdin (format binary)"
        with singer_file.open("rb") as source, cursor.copy(statement.encode()) as copy:
            copy.set_types([data_type for _, data_type in columns])
            for line in source:
                message: dict[str, Any] = decode(line)
                if message.get("type") != "RECORD":
                    continue
                record = message["record"]
                copy.write_row(
                    [
                        None if (value := record.get(name)) is None else convert(value)
                        for name, convert in zip(names, converters, strict=True)
                    ]
                )
        connection.commit()
    return time.perf_counter() - started


def load_rates(size: int, runs: int, workdir: Path, pg: Embedded) -> list[Result]:
    """B7: profiles (wide: nested location, properties, subscriptions) and events (narrow),
    through our target, MeltanoLabs' and the floor, in the same run."""
    results = []
    with Sandbox(profiles=size, events=size) as sandbox:
        counts = sandbox.control.info()["counts"]
        for stream, shape in (("profiles", "wide"), ("events", "narrow")):
            singer_file = workdir / f"{stream}-{size}.singer"
            extract_to_file(sandbox, stream, singer_file, workdir / "tap-load")
            records = counts[stream.removesuffix("s")]
            ours, again, theirs, floor = [], [], [], []
            for _ in range(runs):
                theirs.append(load(singer_file, pg, "load_theirs", workdir)[0])
                ours.append(load(singer_file, pg, "load_ours", workdir, ours=True)[0])
                # the same records again: every row goes through the merge, none changes
                again.append(load(singer_file, pg, "load_ours", workdir, ours=True, fresh=False)[0])
                floor.append(binary_copy_floor(singer_file, pg, "load_ours", stream))
            ours_rate = records / median(ours)
            theirs_rate, floor_rate = records / median(theirs), records / median(floor)
            details = {
                "ours_s": ours,
                "ours_unchanged_reload_s": again,
                "ours_unchanged_reload_records_per_s": round(records / median(again)),
                "meltanolabs_s": theirs,
                "floor_s": floor,
            }
            case = f"target-postgres (tapworks), {stream} ({shape}), {records:,}"
            results += [
                Result(
                    "B7",
                    case,
                    ours_rate,
                    "records/s",
                    theirs_rate,
                    "MeltanoLabs target-postgres",
                    ours_rate / theirs_rate,
                    ">= 5x MeltanoLabs",
                    ours_rate >= 5 * theirs_rate,
                    details,
                ),
                Result(
                    "B7",
                    case,
                    ours_rate,
                    "records/s",
                    floor_rate,
                    "msgspec decode + binary COPY",
                    ours_rate / floor_rate,
                    ">= 50% of the floor",
                    ours_rate >= 0.5 * floor_rate,
                    details,
                ),
            ]
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
        peaks["target"].append(load(singer_file, pg, "memory", workdir, ours=True)[1])
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
