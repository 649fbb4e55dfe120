"""Fixtures: a real BigQuery emulator (``sandbox.bigquery``: bqemulator in a venv of its own
under .local/, built on the first run and reused), a fresh dataset per test loaded through
google-cloud-bigquery, and the tap run as its real CLI in a subprocess.

A proxy (``proxy``) sits between the tap and the emulator for what the emulator cannot do
itself: report the bytes a dry run would bill (it always says 0), and let a test act at one
exact moment of a run (after the tap read the range, before the rows)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from google.cloud import bigquery

from sandbox.bigquery import BigQueryEmulator, shared
from tap_bigquery.tap import TapBigQuery
from tapkit.testing import TapRunner, json_api

# never let google-auth probe a metadata server (169.254.169.254), in this process or the taps
os.environ["NO_GCE_CHECK"] = "True"

Field = bigquery.SchemaField
ORDERS = [
    Field("id", "INT64", mode="REQUIRED"),
    Field("updated_at", "TIMESTAMP"),
    Field("changed", "DATETIME"),
    Field("day", "DATE"),
    Field("status", "STRING"),
    Field("amount", "NUMERIC"),
    Field("tags", "STRING", mode="REPEATED"),
    Field(
        "address",
        "RECORD",
        fields=[
            Field("city", "STRING"),
            Field("zip", "INT64"),
            Field("lines", "STRING", mode="REPEATED"),
        ],
    ),
    Field(
        "items",
        "RECORD",
        mode="REPEATED",
        fields=[Field("sku", "STRING"), Field("quantity", "INT64")],
    ),
    Field("legacy_stamp", "STRING"),
]


@dataclass
class Dataset:
    client: bigquery.Client
    name: str

    def table(self, name: str, schema: list[Field] = ORDERS) -> str:
        table = self.client.create_table(
            bigquery.Table(f"{self.client.project}.{self.name}.{name}", schema=schema)
        )
        return f"{self.name}.{table.table_id}"

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), 5_000):
            errors = self.client.insert_rows_json(
                f"{self.client.project}.{table}", rows[start : start + 5_000]
            )
            assert not errors, errors[:3]

    def select(self, sql: str) -> list[dict[str, Any]]:
        return [dict(row.items()) for row in self.client.query(sql).result()]


@pytest.fixture(scope="session")
def emulator() -> BigQueryEmulator:
    return shared()


@pytest.fixture
def dataset(emulator: BigQueryEmulator, request: pytest.FixtureRequest) -> Dataset:
    client = emulator.client()
    name = re.sub(r"\W", "_", request.node.name).lower()[:60]
    client.create_dataset(name, exists_ok=True)
    for table in client.list_tables(name):
        client.delete_table(table)
    return Dataset(client, name)


@pytest.fixture
def runner(emulator: BigQueryEmulator, tmp_path: Path) -> Callable[..., TapRunner]:
    """``runner(streams=[...], **settings)``: the tap's CLI against the emulator."""

    def make(endpoint: str | None = None, **config: Any) -> TapRunner:
        base = {
            "project_id": emulator.project,
            "api_endpoint": endpoint or emulator.rest_url,
            "read_api": "rest",
            "progress_interval_seconds": 0,
            **config,
        }
        return TapRunner("tap_bigquery", TapBigQuery, tmp_path, base)

    return make


@dataclass
class Proxy:
    """What the tap sent through, and hooks on it."""

    url: str = ""
    jobs: list[dict[str, Any]] = field(default_factory=list)
    dry_run_bytes: int | None = None
    #: Called once, before the first query that reads rows (one with ORDER BY) runs.
    before_rows: Callable[[], None] | None = None


@pytest.fixture
def proxy(emulator: BigQueryEmulator) -> Iterator[Proxy]:
    found = Proxy()

    def answer(method: str, path: str, headers: Any, body: str) -> tuple[int, Any]:
        job = json.loads(body) if method == "POST" and "/jobs" in path and body else None
        query = ((job or {}).get("configuration") or {}).get("query") or {}
        dry = bool((job or {}).get("configuration", {}).get("dryRun"))
        if job is not None:
            found.jobs.append({"sql": query.get("query", ""), "dry_run": dry})
        if found.before_rows and "ORDER BY" in query.get("query", "") and not dry:
            hook, found.before_rows = found.before_rows, None
            hook()
        forwarded = requests.request(
            method,
            emulator.rest_url + path,
            data=body.encode() if body else None,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        document = forwarded.json() if forwarded.content else {}
        if dry and found.dry_run_bytes is not None:
            statistics = document.setdefault("statistics", {})
            statistics["totalBytesProcessed"] = str(found.dry_run_bytes)
            statistics.setdefault("query", {})["totalBytesProcessed"] = str(found.dry_run_bytes)
        return forwarded.status_code, document

    with json_api(answer) as url:
        found.url = url
        yield found
