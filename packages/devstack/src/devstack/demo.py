"""The main job, end to end: install, load Klaviyo (the sandbox) into Postgres, show what landed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

STATE_ID = "dev:tap-klaviyo-to-target-postgres"
SCHEMA = "tap_klaviyo"
JOB = "klaviyo-to-postgres"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Lines of the job's log worth showing: problems, and dbt's summary.
SHOWN = ("[error", "[warning", "Done. PASS=", "WARN ", "Nothing to do")


def meltano(root: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "meltano"), "--log-level=warning", *args]
    return subprocess.run(
        command, cwd=root, text=True, capture_output=capture, check=False, env=os.environ.copy()
    )


def run_job(root: Path, job: str, log_path: Path) -> int:
    """Run a Meltano job with its full log in ``log_path``; show problems and dbt's summary."""
    command = [str(Path(sys.executable).parent / "meltano"), "run", job]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=root, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            plain = ANSI.sub("", line)
            if any(marker in plain for marker in SHOWN):
                print(plain.rstrip(), flush=True)
    return process.wait()


def run(root: Path, values: dict[str, str]) -> int:
    os.environ.update(values)
    print("\n== meltano install", flush=True)
    if meltano(root, "install").returncode != 0:
        print("demo: `meltano install` failed; see the messages above", file=sys.stderr)
        return 1
    log_path = root / ".local" / "demo.log"
    print(
        f"\n== meltano run {JOB}   (tap-klaviyo target-postgres, dbt freshness, dbt build; full log: {log_path.relative_to(root)})",
        flush=True,
    )
    if (code := run_job(root, JOB, log_path)) != 0:
        print(
            f"demo: `meltano run {JOB}` failed (exit {code}); the full log is {log_path}",
            file=sys.stderr,
        )
        return code
    print(f"\n== rows per table in {SCHEMA}", flush=True)
    print(row_counts(values.get("TAPWORKS_PG_HOST")))
    for title, args in (
        ("meltano state list", ("state", "list")),
        (f"meltano state get {STATE_ID}", ("state", "get", STATE_ID)),
    ):
        print(f"\n== {title}", flush=True)
        done = meltano(root, *args, capture=True)
        print(_pretty(done.stdout.strip()) or done.stderr.strip())
    return 0


def row_counts(socket_dir: str | None) -> str:
    import psycopg

    url = os.environ.get("TARGET_POSTGRES_SQLALCHEMY_URL", "").replace(
        "postgresql+psycopg://", "postgresql://"
    )
    url = url or f"postgresql://postgres@/tapworks?host={socket_dir}"
    with psycopg.connect(url) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables where table_schema = %s order by 1",
                (SCHEMA,),
            )
        ]
        rows = [(t, _scalar(connection, f'select count(*) from "{SCHEMA}"."{t}"')) for t in tables]
    width = max((len(t) for t, _ in rows), default=5)
    return "\n".join(f"{table:<{width}}  {count:>9,}" for table, count in rows)


def _scalar(connection: Any, sql: str) -> Any:
    row = connection.execute(sql).fetchone()
    return row[0] if row else None


def _pretty(text: str) -> str:
    """JSON indented for reading; anything else as it is."""
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text
