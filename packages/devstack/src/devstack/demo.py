"""The main job, end to end: install, load Klaviyo (the sandbox) into Postgres, show what landed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

STATE_ID = "dev:tap-klaviyo-to-target-postgres"
SCHEMA = "tap_klaviyo"


def meltano(root: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "meltano"), "--log-level=warning", *args]
    return subprocess.run(
        command, cwd=root, text=True, capture_output=capture, check=False, env=os.environ.copy()
    )


def run(root: Path, values: dict[str, str]) -> int:
    os.environ.update(values)
    steps = [
        ("meltano install", ("install",)),
        ("meltano run klaviyo-to-postgres", ("run", "klaviyo-to-postgres")),
    ]
    for title, args in steps:
        print(f"\n== {title}", flush=True)
        done = meltano(root, *args)
        if done.returncode != 0:
            print(
                f"demo: `{title}` failed (exit {done.returncode}); see the messages above",
                file=sys.stderr,
            )
            return done.returncode
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
