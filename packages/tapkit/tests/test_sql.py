"""The SQL adapter against a real SQLite database: the engine's windows as parameterised
queries, ordered rows as pages, several windows in flight, and a resume from saved state
that reads every row once more at most (the rows tied at the bookmark)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tapkit.engine import Engine, Plan
from tapkit.incremental import ApiFilter, Op
from tapkit.keys import Instant, Integer, KeyValue
from tapkit.pool import WorkerPool
from tapkit.sql import (
    BIGQUERY_TIMESTAMP,
    STANDARD,
    Dialect,
    Parameters,
    ParamStyle,
    TableQuery,
    select,
    where,
)
from tapkit.timeformats import INTEGER, ISO8601_Z
from tapkit.transport import Fetch, Record
from tapkit.windows import WindowPolicy

START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2024, 3, 1, tzinfo=UTC)
COLUMNS = ("id", "updated_at", "note")


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            'CREATE TABLE "orders" (id INTEGER PRIMARY KEY, updated_at TEXT, note TEXT)'
        )
        # three rows at each instant (ties), every 15 h from Dec 30 to Mar 5
        first = START - timedelta(days=2)
        rows = [(n, stamp(first + timedelta(hours=15 * (n // 3))), f"o{n}") for n in range(320)]
        connection.executemany('INSERT INTO "orders" VALUES (?, ?, ?)', rows)
    return path


class Database:
    """``run`` for the adapter: a connection per query (queries come from several threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.queries: list[tuple[str, Parameters]] = []

    def run(self, sql: str, parameters: Parameters) -> Iterator[Record]:
        self.queries.append((sql, parameters))
        connection = sqlite3.connect(self.path)
        try:
            cursor = connection.execute(sql, parameters)
            names = [column[0] for column in cursor.description]
            for row in cursor:
                yield dict(zip(names, row, strict=True))
        finally:
            connection.close()

    def rows(self, sql: str, parameters: list[Any]) -> list[Record]:
        return list(self.run(sql, parameters))


def instant_plan(start: datetime, **changes: Any) -> Plan:
    options: dict[str, Any] = {
        "key": Instant(ISO8601_Z),
        "key_field": "updated_at",
        "api_filter": ApiFilter(
            "updated_at", Op.GTE, ISO8601_Z, upper_field="updated_at", upper_op=Op.LT
        ),
        "start": start,
        "end": END,
        "windows": WindowPolicy(timedelta(days=7)),
        "primary_keys": ("id",),
    }
    return Plan(**(options | changes))


def run(plan: Plan, fetch: Fetch, engine: Engine) -> tuple[list[Record], list[KeyValue]]:
    states: list[KeyValue] = []
    return list(engine.run(plan, fetch, states.append)), states


@pytest.mark.parametrize("in_flight", [1, 3])
@pytest.mark.parametrize("sorted_", [False, True], ids=["unsorted", "sorted"])
def test_a_table_read_in_windows_and_resumed_from_state(
    database: Path, in_flight: int, sorted_: bool
) -> None:
    db = Database(database)
    fetch = TableQuery(db.run, "orders", COLUMNS, order_by=("updated_at", "id"), page_size=16)
    pool = WorkerPool(in_flight, "test-sql")
    try:
        engine = Engine(pool, in_flight)
        records, states = run(instant_plan(START, sorted=sorted_, slices=in_flight), fetch, engine)
        truth = db.rows(
            'SELECT * FROM "orders" WHERE updated_at >= ? AND updated_at < ? ORDER BY updated_at, id',
            [stamp(START), stamp(END)],
        )
        assert records == truth  # each row once, in key order
        assert states == sorted(set(states))
        assert states[-1] == datetime.fromisoformat(truth[-1]["updated_at"])

        # rows arrive late, some tied with the bookmark; the next run starts at the bookmark
        bookmark = states[-1]
        with sqlite3.connect(database) as connection:
            connection.executemany(
                'INSERT INTO "orders" VALUES (?, ?, ?)',
                [
                    (1000, stamp(bookmark), "tied"),
                    (1001, stamp(bookmark + timedelta(hours=1)), "late"),
                ],
            )
        again, _ = run(instant_plan(bookmark, sorted=sorted_), fetch, engine)
        tied_before = {r["id"] for r in truth if r["updated_at"] == stamp(bookmark)}
        assert {r["id"] for r in again} == tied_before | {1000, 1001}  # re-reads only the ties
    finally:
        pool.shutdown()
    # values travel as parameters, never in the SQL text
    assert all(stamp(START) not in sql for sql, _ in db.queries)


def test_integer_keys_without_an_end(database: Path) -> None:
    db = Database(database)
    fetch = TableQuery(db.run, "orders", COLUMNS, order_by=("id",), page_size=50)
    plan = Plan(
        key=Integer(),
        key_field="id",
        api_filter=ApiFilter("id", Op.GT, INTEGER),
        start=299,
        end=None,
        sorted=True,
    )
    records, states = run(plan, fetch, Engine(None))
    # an exclusive filter rewinds by its precision: the bookmark's row is read again
    assert [r["id"] for r in records] == list(range(299, 320))
    assert states[-1] == 319
    assert db.queries[0][0].endswith('WHERE "id" > ? ORDER BY "id"')
    assert db.queries[0][1] == [298]


def test_the_probe_asks_for_one_row_more_than_a_page(database: Path) -> None:
    db = Database(database)
    fetch = TableQuery(db.run, "orders", COLUMNS, order_by=("updated_at", "id"), page_size=500)
    plan = instant_plan(START, sorted=True, windows=WindowPolicy(None))
    records, _ = run(plan, fetch, Engine(None))
    assert len(db.queries) == 1  # the whole range fits one page: the probe was the run
    assert db.queries[0][0].endswith("LIMIT 501")
    assert len(records) == len(
        db.rows(
            'SELECT id FROM "orders" WHERE updated_at >= ? AND updated_at < ?',
            [stamp(START), stamp(END)],
        )
    )


def test_each_paramstyle_renders_the_window() -> None:
    api_filter = ApiFilter(
        "updated_at", Op.GT, ISO8601_Z, upper_field="updated_at", upper_op=Op.LTE
    )
    bounds = api_filter.bounds(START, END)
    assert where(bounds) == (
        '"updated_at" > ? AND "updated_at" <= ?',
        ["2023-12-31T23:59:59Z", "2024-03-01T00:00:00Z"],
    )
    assert where(bounds, BIGQUERY_TIMESTAMP) == (
        "`updated_at` > TIMESTAMP(@b0) AND `updated_at` <= TIMESTAMP(@b1)",
        {"b0": "2023-12-31T23:59:59Z", "b1": "2024-03-01T00:00:00Z"},
    )
    assert (
        where(bounds, Dialect(ParamStyle.PYFORMAT))[0]
        == '"updated_at" > %(b0)s AND "updated_at" <= %(b1)s'
    )
    assert where([], STANDARD) == ("TRUE", [])
    sql, _ = select(
        "shop.orders", ["id"], bounds[:1], order_by=["id"], dialect=BIGQUERY_TIMESTAMP, limit=5
    )
    assert (
        sql
        == "SELECT `id` FROM `shop`.`orders` WHERE `updated_at` > TIMESTAMP(@b0) ORDER BY `id` LIMIT 5"
    )


@pytest.mark.parametrize("name", ['orders"; DROP TABLE orders; --', "", "a..b"])
def test_a_name_that_is_not_an_identifier_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a plain SQL identifier"):
        STANDARD.identifier(name)
