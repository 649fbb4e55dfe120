"""The BigQuery job end to end against the emulator: the tables in Postgres equal a SELECT of
the demo dataset through google-cloud-bigquery, nested and repeated columns as JSON; rows
written after a run with the bookmark's own key value, and later ones, arrive in the next run,
each once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from devstack.testing import Project
from sandbox.bigquery import BigQueryEmulator
from sandbox.bigquery.dataset import load_demo

RAW = "tap_bigquery"


@pytest.fixture(scope="module")
def warehouse() -> Iterator[BigQueryEmulator]:
    with BigQueryEmulator() as emulator:
        load_demo(emulator.client(), orders=600, events=3_000)
        yield emulator


@pytest.fixture
def bigquery_project(project: Project, warehouse: BigQueryEmulator) -> Project:
    project.bigquery = warehouse
    return project


def selected(emulator: BigQueryEmulator, sql: str) -> dict[Any, dict[str, Any]]:
    return {row[0]: dict(row) for row in emulator.client().query(sql).result()}


def loaded(project: Project, table: str, key: str) -> dict[Any, dict[str, Any]]:
    rows = project.query(f"select to_jsonb(t) from {RAW}.{table} t")
    assert len({row[0][key] for row in rows}) == len(rows), f"{table}: a key twice"
    return {row[0][key]: row[0] for row in rows}


def as_loaded(value: Any) -> Any:
    """A BigQuery value as the loader keeps it and to_jsonb gives it back."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    if isinstance(value, Decimal):
        return float(value) if value % 1 else int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return json.loads(json.dumps(value))


def assert_same(project: Project, emulator: BigQueryEmulator, table: str, key: str) -> None:
    source = selected(emulator, f"select * from demo.{table}")
    target = loaded(project, table, key)
    assert set(target) == set(source), table
    for id_, row in source.items():
        got = {column: target[id_][column] for column in row}
        assert got == {column: as_loaded(value) for column, value in row.items()}, (table, id_)


@pytest.mark.slow
def test_the_job_loads_the_tables_as_bigquery_has_them_and_then_what_came_later(
    bigquery_project: Project, warehouse: BigQueryEmulator
) -> None:
    first = bigquery_project.meltano("run", "bigquery-to-postgres")
    assert first.returncode == 0, first.output[-4000:]
    assert_same(bigquery_project, warehouse, "orders", "id")
    assert_same(bigquery_project, warehouse, "web_events", "event_id")
    state = bigquery_project.state("dev:tap-bigquery-to-target-postgres")["singer_state"]
    bookmark = state["bookmarks"]["orders"]["replication_key_value"]
    # a row with exactly the bookmark's value (a late insert in the same instant), a later one,
    # and an update of an order already loaded
    client = warehouse.client()
    client.query(
        "insert into demo.orders (id, customer, line_items, status, total, created_at,"
        " updated_at) values"
        " (9001, struct('late@example.com' as email, 'US' as country), [], 'paid',"
        f" cast(12.5 as numeric), timestamp '{bookmark}', timestamp '{bookmark}'),"
        " (9002, struct('new@example.com' as email, 'GB' as country), [], 'paid',"
        " cast(20 as numeric), timestamp '2030-01-01 00:00:00+00', timestamp '2030-01-01 00:00:00+00')"
    ).result()
    client.query(
        "update demo.orders set status = 'refunded', updated_at = timestamp '2030-01-02 00:00:00+00'"
        " where id = 5"
    ).result()
    second = bigquery_project.meltano("run", "bigquery-to-postgres")
    assert second.returncode == 0, second.output[-4000:]
    assert_same(bigquery_project, warehouse, "orders", "id")
    assert {9001, 9002} <= set(loaded(bigquery_project, "orders", "id"))
    assert loaded(bigquery_project, "orders", "id")[5]["status"] == "refunded"
