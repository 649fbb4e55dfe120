"""A harness for the project tests: one isolated pipeline (its own databases and sandboxes)
driven through the real `meltano` commands of this project."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psutil
import psycopg

from devstack import postgres
from sandbox.bigquery import BigQueryEmulator
from sandbox.klaviyo.sandbox import KlaviyoSandbox
from sandbox.onetrust.sandbox import OneTrustSandbox
from sandbox.pinterest.sandbox import PinterestSandbox
from sandbox.shopify.sandbox import ShopifySandbox

MELTANO = str(Path(sys.executable).parent / "meltano")
STATE_ID = "dev:tap-klaviyo-to-target-postgres"
SCHEMA = "tap_klaviyo"


def clean_env(*also: str) -> dict[str, str]:
    """This process's environment without any plugin's or Meltano's settings (nor variables
    starting with ``also``), so a command sees only what a test gives it."""
    drop = ("TAP_", "TARGET_", "MELTANO_", *also)
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def installed_plugin(root: Path, plugin_type: str, name: str, executable: str) -> Path:
    """An executable that `meltano install` put into the project's venv for a plugin."""
    return root / ".meltano" / plugin_type / name / "venv" / "bin" / executable


@dataclass
class Result:
    returncode: int
    output: str


@dataclass
class Project:
    """One isolated pipeline: its own database (data, Meltano's schema, dbt's) and sandboxes."""

    root: Path
    pg: postgres.Embedded
    sandbox: KlaviyoSandbox
    database: str
    extra_env: dict[str, str] = field(default_factory=dict)
    shopify: ShopifySandbox | None = None
    onetrust: OneTrustSandbox | None = None
    pinterest: PinterestSandbox | None = None
    bigquery: BigQueryEmulator | None = None

    def copy(self, database: str, **sandboxes: Any) -> Project:
        """A pipeline of its own on a copy of this one's database (which nobody may be using
        meanwhile), on the same sandboxes but those given (``onetrust=...``)."""
        with psycopg.connect(self.pg.url("postgres", driver="postgresql"), autocommit=True) as db:
            db.execute(f'create database "{database}" template "{self.database}"'.encode())
        return replace(self, database=database, **sandboxes)

    @property
    def data_url(self) -> str:
        return self.pg.url(self.database, driver="postgresql")

    def env(self, **overrides: str) -> dict[str, str]:
        env = clean_env()
        env.update(
            {
                "TAPWORKS_PG_HOST": str(self.pg.socket_dir),
                "TAPWORKS_KLAVIYO_URL": self.sandbox.api_url,
                "MELTANO_DATABASE_URI": self.pg.meltano_url(self.database),
                "TARGET_POSTGRES_SQLALCHEMY_URL": self.pg.url(self.database),
                "DBT_POSTGRES_DBNAME": self.database,
                "TAP_KLAVIYO_RATE_LIMIT_PERCENT": "0",
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                "TAPWORKS_SHOPIFY_URL": self.shopify.base_url if self.shopify else "",
                "TAPWORKS_ONETRUST_URL": self.onetrust.base_url if self.onetrust else "",
                "TAP_ONETRUST_RATE_LIMIT_PERCENT": "0",
                "TAPWORKS_PINTEREST_URL": self.pinterest.base_url if self.pinterest else "",
                "TAP_PINTEREST_ADS_RATE_LIMIT_PERCENT": "0",
                "TAPWORKS_BIGQUERY_URL": self.bigquery.rest_url if self.bigquery else "",
                # no Google metadata server here: never probe for one
                "NO_GCE_CHECK": "True",
                **self.extra_env,
                **overrides,
            }
        )
        return env

    def meltano(self, *args: str, **env: str) -> Result:
        done = subprocess.run(
            [MELTANO, *args],
            cwd=self.root,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return Result(done.returncode, done.stdout + done.stderr)

    def run(self, *args: str, **env: str) -> Result:
        return self.meltano("run", *args, "tap-klaviyo", "target-postgres", **env)

    def start_run(self, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [MELTANO, "run", "tap-klaviyo", "target-postgres"],
            cwd=self.root,
            env=self.env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def state(self, state_id: str = STATE_ID) -> dict[str, Any]:
        result = self.meltano("state", "get", state_id)
        assert result.returncode == 0, result.output[-2000:]
        text = result.output.strip().splitlines()
        return json.loads(next(line for line in reversed(text) if line.startswith("{")))

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.data_url) as connection:
            return list(connection.execute(sql.encode(), params))

    def count(self, table: str, schema: str = SCHEMA) -> int:
        if not self.query(
            "select 1 from information_schema.tables where table_schema=%s and table_name=%s",
            schema,
            table,
        ):
            return 0
        return int(self.query(f'select count(*) from {schema}."{table}"')[0][0])

    def ids(self, table: str, column: str = "id", schema: str = SCHEMA) -> list[Any]:
        return [row[0] for row in self.query(f'select {column} from {schema}."{table}"')]

    def duplicate_keys(self, table: str, keys: str = "id", schema: str = SCHEMA) -> int:
        return len(
            self.query(f'select {keys} from {schema}."{table}" group by {keys} having count(*) > 1')
        )


def kill_plugin(run: subprocess.Popen[str], executable: str) -> bool:
    """SIGKILL the plugin process (tap or target) `meltano run` started."""
    for child in psutil.Process(run.pid).children(recursive=True):
        if any(executable in part for part in child.cmdline()):
            child.kill()
            return True
    return False


def wait_for(condition: Any, timeout: float = 120, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")
