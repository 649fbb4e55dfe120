"""Run one Airflow task's `meltano` command and write its start, success or error to the
ingestion log (table ops.ingestion_log of the data database), next to the data it loaded.

    python orchestrate/runner.py --source tap-klaviyo --group profiles --select 'profiles.*' \
        --dag-id D --task-id T --run-id R --try-number 1 -- run --state-id-suffix=profiles ...

Meltano's output goes through to Airflow's task log unchanged; the log row keeps the rows the
tap emitted (its summary's total, else its record_count metrics) and, on failure, the cause
with anything that looks like a secret replaced by ***. The exit code is meltano's, so Airflow
retries on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
MELTANO = str(Path(sys.executable).parent / "meltano")
LOG_SCHEMA = "ops"
DDL = f"""
create schema if not exists {LOG_SCHEMA};
create table if not exists {LOG_SCHEMA}.ingestion_log (
    id bigserial primary key,
    logged_at timestamptz not null default now(),
    source text not null,
    stream_group text not null,
    dag_id text not null,
    task_id text not null,
    run_id text not null,
    try_number integer not null,
    event text not null check (event in ('start', 'success', 'error')),
    rows bigint,
    duration_seconds double precision,
    error text
)
"""
# Our taps (tapkit) end with a summary per stream and a total line, also when a run fails; other
# SDK taps have only their record_count metrics, which Meltano's console shows as fields.
SUMMARY_TOTAL = re.compile(r"\bsummary +total +([\d,]+) ")
RECORD_COUNT = re.compile(r"\bmetric_name=record_count\b.*?\bmetric_value=(\d+)")
SENSITIVE_NAME = re.compile(
    r"(secret|token|password|passwd|api_?key|private_?key|credential)", re.I
)
# key=value, "key": "value" and key: value where the key names a secret; URL credentials; and
# the token formats of our sources (Klaviyo pk_, Shopify shpat_, Pinterest pinr_, bearer tokens).
SECRET_PATTERNS = (
    re.compile(
        r"""(?P<key>["']?[\w.-]*(?:secret|token|password|passwd|api_?key|private_?key|authorization)"""
        r"""[\w.-]*["']?\s*[:=]\s*)(?P<value>"[^"]*"|'[^']*'|[^\s,;}&]+)""",
        re.I,
    ),
    re.compile(r"(?P<key>://[^/\s:@]+:)(?P<value>[^@\s]+)(?=@)"),
    re.compile(r"(?P<key>\b(?:bearer|basic)\s+)(?P<value>[\w.~+/=-]{8,})", re.I),
    re.compile(r"(?P<key>)(?P<value>\b(?:pk|sk|shpat|shpss|pinr|pina)_[\w-]{6,})"),
)
ERROR_WORDS = re.compile(
    r"error|exception|traceback|failed|fault|refused|denied|\b[45]\d\d\b", re.I
)


def scrub(text: str, env: dict[str, str] | None = None) -> str:
    """``text`` with every value of a secret-looking setting (from the patterns and from the
    environment variables whose names say secret) replaced by ***."""
    for name, value in (env if env is not None else os.environ).items():
        if SENSITIVE_NAME.search(name) and len(value) >= 4:
            text = text.replace(value, "***")
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group('key')}***", text)
    return text


def rows_emitted(output: str) -> int:
    """The records the tap emitted: its summary's total (the last, if meltano printed more than
    one), else the sum of its record_count counters (each counts since the previous one)."""
    totals = SUMMARY_TOTAL.findall(output)
    if totals:
        return int(totals[-1].replace(",", ""))
    return sum(int(value) for value in RECORD_COUNT.findall(output))


def cause(output: str, limit: int = 2000) -> str:
    """The failure's cause: the last lines that say error, scrubbed, at most ``limit`` chars."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    telling = [line for line in lines if ERROR_WORDS.search(line)] or lines
    return scrub("\n".join(telling[-6:]))[-limit:] or "meltano failed without output"


def log_url() -> str:
    """The data database: TAPWORKS_INGESTION_LOG_URL, else the loader's, as psycopg takes it."""
    url = os.environ.get("TAPWORKS_INGESTION_LOG_URL") or os.environ.get(
        "TARGET_POSTGRES_SQLALCHEMY_URL"
    )
    if not url:
        host = os.environ.get("TAPWORKS_PG_HOST")
        if not host:
            raise SystemExit(
                "runner: set TAPWORKS_INGESTION_LOG_URL (or TARGET_POSTGRES_SQLALCHEMY_URL, or "
                "TAPWORKS_PG_HOST for the embedded Postgres) to say where the ingestion log goes"
            )
        url = f"postgresql://postgres@/tapworks?host={host}"
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def write(row: dict[str, object]) -> None:
    with psycopg.connect(log_url(), autocommit=True) as connection, connection.transaction():
        # Parallel tasks create the table at the same moment: one at a time.
        connection.execute("select pg_advisory_xact_lock(hashtext('ops.ingestion_log'))")
        connection.execute(DDL.encode())
        columns = ", ".join(row)
        values = ", ".join(["%s"] * len(row))
        connection.execute(
            f"insert into {LOG_SCHEMA}.ingestion_log ({columns}) values ({values})".encode(),
            list(row.values()),
        )


@contextmanager
def private_sys_dir(env: dict[str, str]) -> Iterator[Path]:
    """A .meltano of this task's own: links to the shared one's entries (the installed plugins'
    venvs, the logs) but for run/. Meltano writes a plugin's config, catalog and state files to
    .meltano/run/<plugin>/, so two groups of one tap running at once would overwrite and delete
    each other's (a tap failing on a missing state.json)."""
    shared = Path(env.get("MELTANO_SYS_DIR_ROOT") or ROOT / ".meltano")
    with tempfile.TemporaryDirectory(prefix="tapworks-meltano-") as private:
        for entry in shared.iterdir() if shared.is_dir() else ():
            if entry.name != "run":
                (Path(private) / entry.name).symlink_to(entry)
        yield Path(private)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run a meltano command, logging it")
    for name in ("source", "group", "dag-id", "task-id", "run-id"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--try-number", type=int, default=1)
    parser.add_argument("--select", action="append", default=[], help="a stream pattern")
    parser.add_argument("meltano", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [a for a in args.meltano if a != "--"]
    key = {"source": args.source, "stream_group": args.group, "dag_id": args.dag_id,
           "task_id": args.task_id, "run_id": args.run_id, "try_number": args.try_number}  # fmt: skip
    env = dict(os.environ)
    env.setdefault("MELTANO_JOB_TRIGGER", "airflow")
    if args.select:
        # Meltano reads a plugin's `select` extra from <PLUGIN>__SELECT.
        env[f"{args.source.upper().replace('-', '_')}__SELECT"] = json.dumps(args.select)
    write({**key, "event": "start"})
    started = time.monotonic()
    with private_sys_dir(env) as sys_dir:
        env["MELTANO_SYS_DIR_ROOT"] = str(sys_dir)
        done = subprocess.run(
            [MELTANO, *command], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, check=False,
        )  # fmt: skip
    sys.stdout.write(done.stdout)
    duration = time.monotonic() - started
    rows = rows_emitted(done.stdout)
    if done.returncode == 0:
        write({**key, "event": "success", "rows": rows, "duration_seconds": duration})
    else:
        write({**key, "event": "error", "rows": rows, "duration_seconds": duration,
               "error": cause(done.stdout)})  # fmt: skip
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
