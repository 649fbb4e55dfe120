"""target-lake: records/s into a local lake, Parquet and JSONL.gz, for Klaviyo-like events, and
its peak RSS at two sizes (flat: memory is bounded by a batch, not by the input).

    uv run python bench/lake.py                 # 1M events, memory at 100k and 1M
    uv run python bench/lake.py --smoke         # tiny sizes, no datetime rows: that it works

The events are tap-klaviyo's own output for a small sandbox account (SCHEMA and records),
repeated with new ids and later datetimes up to the size, in one Singer file; the target
(``.venv/bin/target-lake``, defaults: batches of 50,000 rows, zstd Parquet) reads it into a
fresh folder; its start-up is included.  Partitions by extraction day (the default: a batch
makes one file), and at the large size also by the events' own ``datetime`` (the events span
two years, so each batch makes a file per day it holds: hundreds of small files).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from common import ROOT, Sandbox, machine, timed
from tap_runs import tap

TARGET = ROOT / ".venv" / "bin" / "target-lake"
FORMATS = ("parquet", "jsonl")


def sample(workdir: Path, events: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """tap-klaviyo's SCHEMA message and records for ``events`` sandbox events."""
    with Sandbox(profiles=100, events=events) as sandbox:
        runner = tap(workdir, sandbox, rate_limit_percent=0)
        done = runner(streams=["events"])
    if done.returncode != 0:
        raise RuntimeError(f"tap-klaviyo failed:\n{done.stderr[-2000:]}")
    schema = next(m for m in done.messages if m["type"] == "SCHEMA")
    return schema, done.records("events")


def singer_file(path: Path, size: int, schema: dict[str, Any], records: list[dict[str, Any]]):
    """``size`` events shaped like ``records``: new ids, a second later each round, a STATE
    after every 1,000 (as the tap writes one per page)."""
    encode = msgspec.json.Encoder().encode
    extracted = "2026-12-01T00:00:00.000000+00:00"
    with path.open("wb") as out:
        out.write(encode(schema) + b"\n")
        lines: list[bytes] = []
        for n in range(size):
            base = records[n % len(records)]
            moment = datetime.fromisoformat(base["datetime"]) + timedelta(seconds=n // len(records))
            record = {**base, "id": f"{base['id']}-{n}", "datetime": moment.isoformat()}
            message = {"type": "RECORD", "stream": "events", "record": record}
            lines.append(encode({**message, "time_extracted": extracted}))
            if (n + 1) % 1_000 == 0:
                bookmark = {"events": {"replication_key_value": moment.isoformat()}}
                lines.append(encode({"type": "STATE", "value": {"bookmarks": bookmark}}))
            if len(lines) >= 10_000:
                out.write(b"\n".join(lines) + b"\n")
                lines.clear()
        if lines:
            out.write(b"\n".join(lines) + b"\n")


def load(path: Path, fmt: str, field: str | None, workdir: Path) -> tuple[float, float, int, int]:
    """The target on ``path`` into a fresh lake: wall seconds, peak RSS MB, lake bytes, files."""
    lake = Path(tempfile.mkdtemp(dir=workdir, prefix=f"lake-{fmt}-"))
    config = workdir / f"target-{fmt}.json"
    settings = {"root": str(lake), "tap": "tap-klaviyo", "format": fmt}
    config.write_text(json.dumps({**settings, "partition_date_field": field}))
    with path.open("rb") as source:
        wall, peak = timed([str(TARGET), "--config", str(config)], stdin=source)
    found = [f for f in lake.rglob("*") if f.is_file()]
    return wall, peak, sum(f.stat().st_size for f in found), len(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    args = parser.parse_args()
    sizes = (1_000, 3_000) if args.smoke else (100_000, 1_000_000)
    with tempfile.TemporaryDirectory(prefix="bench-lake-") as scratch:
        workdir = Path(scratch)
        schema, records = sample(workdir / "tap", 300 if args.smoke else 5_000)
        rows = []
        for size in sizes:
            path = workdir / f"events-{size}.singer"
            singer_file(path, size, schema, records)
            input_mb = path.stat().st_size / 2**20
            large = size == sizes[-1] and not args.smoke
            fields = (None, "datetime") if large else (None,)
            for field in fields:
                for fmt in FORMATS:
                    wall, peak, lake_bytes, count = load(path, fmt, field, workdir)
                    rows.append(
                        (fmt, field or "extraction", size, input_mb, wall, peak, lake_bytes, count)
                    )
            path.unlink()
    info = machine()
    print(
        f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, "
        f"Python {platform.python_version()}, pyarrow {_version('pyarrow')}, "
        f"msgspec {info['packages']['msgspec']}"
    )
    print(
        f"{'format':8} {'dt= from':10} {'records':>10} {'input MB':>9} {'seconds':>8} "
        f"{'records/s':>10} {'peak RSS MB':>12} {'lake MB':>8} {'files':>6}"
    )
    for fmt, field, size, input_mb, wall, peak, lake_bytes, count in rows:
        print(
            f"{fmt:8} {field:10} {size:>10,} {input_mb:>9.0f} {wall:>8.1f} {size / wall:>10,.0f} "
            f"{peak:>12.0f} {lake_bytes / 2**20:>8.1f} {count:>6}"
        )
    for fmt in FORMATS:
        small, big = (r[5] for r in rows if r[0] == fmt and r[1] == "extraction")
        print(f"{fmt}: peak RSS at {sizes[1]:,} is {big / small:.2f}x that at {sizes[0]:,}")


def _version(package: str) -> str:
    import importlib.metadata

    return importlib.metadata.version(package)


if __name__ == "__main__":
    main()
