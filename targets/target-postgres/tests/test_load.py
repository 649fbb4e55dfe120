"""Loading through the real CLI into a real Postgres: types and time zones, the
checksum-guarded merge, load methods, deletes, schema changes, BATCH files."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from target_postgres.testing import SCHEMA, Database

ORDERS = {
    "id": {"type": "integer"},
    "updated_at": {"type": ["string", "null"], "format": "date-time"},
    "day": {"type": ["string", "null"], "format": "date"},
    "total": {"type": ["number", "null"]},
    "paid": {"type": ["boolean", "null"]},
    "lines": {"type": ["array", "null"], "items": {"type": "object"}},
    "customer": {"type": ["object", "null"], "properties": {"name": {"type": "string"}}},
    "note": {"type": ["string", "null"]},
}


def order(n: int, **changes: Any) -> dict[str, Any]:
    values = {
        "id": n,
        "updated_at": f"2024-03-0{1 + n % 9}T10:00:00-05:00",
        "day": "2024-03-01",
        "total": Decimal(f"{n}.10"),
        "paid": n % 2 == 0,
        "lines": [{"sku": f"s{n}", "qty": n}],
        "customer": {"name": f"c{n}"},
        "note": f"order {n}",
    }
    return {**values, **changes}


def load_orders(db: Database, orders: list[dict[str, Any]], **settings: Any) -> Any:
    messages = [db.schema("orders", ORDERS), *(db.record("orders", o) for o in orders)]
    return db.load([*messages, db.state({"bookmarks": {"orders": len(orders)}})], **settings)


def test_types_keep_their_values_and_instants(db: Database) -> None:
    run = load_orders(db, [order(1), order(2, note="nul\u0000here", lines=[{"a": "x\u0000y"}])])
    assert run.states == [{"bookmarks": {"orders": 2}}]
    rows = db.rows(
        f"SELECT id, updated_at, day, total, paid, lines, customer, note FROM {SCHEMA}.orders ORDER BY id"
    )
    assert rows[0] == (
        1,
        datetime(2024, 3, 2, 15, 0, tzinfo=UTC),  # 10:00 at -05:00 is 15:00 UTC
        date(2024, 3, 1),
        Decimal("1.10"),
        False,
        [{"sku": "s1", "qty": 1}],
        {"name": "c1"},
        "order 1",
    )
    assert rows[1][5] == [{"a": "xy"}]
    assert rows[1][7] == "nulhere"
    types = dict(
        db.rows(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'orders'",
            SCHEMA,
        )
    )
    assert types["updated_at"] == "timestamp with time zone"
    assert types["lines"] == "jsonb"  # not jsonb[]
    assert types["total"] == "numeric"
    assert {"_sdc_checksum", "_sdc_ingested_at", "_sdc_extracted_at", "_sdc_table_version"} <= set(
        types
    )


def test_an_unchanged_resync_writes_nothing_and_one_change_updates_one_row(db: Database) -> None:
    orders = [order(n) for n in range(50)]
    first = load_orders(db, orders)
    assert "50 inserted, 0 updated, 0 unchanged" in first.stderr
    before = versions(db)

    again = load_orders(db, orders)
    assert "0 inserted, 0 updated, 50 unchanged" in again.stderr
    assert versions(db) == before  # not one tuple rewritten

    orders[7] = order(7, note="changed")
    changed = load_orders(db, orders)
    assert "0 inserted, 1 updated, 49 unchanged" in changed.stderr
    after = versions(db)
    assert [n for n in after if after[n] != before[n]] == [7]
    assert after[7][0] == before[7][0]  # _sdc_ingested_at: the first load's
    assert db.rows(f"SELECT note FROM {SCHEMA}.orders WHERE id = 7") == [("changed",)]


def test_a_record_spelled_differently_is_unchanged(db: Database) -> None:
    """The checksum is of the record's canonical JSON: key order, offsets spelled ``Z`` or
    ``+00:00`` or left out (UTC), ``1.0`` for an integer and unknown properties do not count;
    the respellings also take the converters' slow path, which must agree with the fast one."""
    first = [order(n, updated_at="2024-03-01T10:00:00Z") for n in range(3)]
    load_orders(db, first)
    before = versions(db)
    respelled = [
        dict(reversed(list(order(0, updated_at="2024-03-01T10:00:00+00:00").items()))),
        order(1, updated_at="2024-03-01T10:00:00", extra="not in the schema"),
        order(2, updated_at="2024-03-01T10:00:00Z", id=Decimal("2.0")),
    ]
    again = load_orders(db, respelled)
    assert "0 inserted, 0 updated, 3 unchanged" in again.stderr
    assert versions(db) == before


def versions(db: Database) -> dict[int, tuple[Any, ...]]:
    """Per row: when first ingested, when last received, and its tuple version (xmin)."""
    rows = db.rows(
        f"SELECT id, _sdc_ingested_at, _sdc_received_at, xmin::text FROM {SCHEMA}.orders"
    )
    return {row[0]: row[1:] for row in rows}


def test_the_last_record_of_a_key_in_a_batch_wins(db: Database) -> None:
    load_orders(db, [order(1, note="first"), order(2), order(1, note="last")])
    assert db.rows(f"SELECT id, note FROM {SCHEMA}.orders ORDER BY id") == [
        (1, "last"),
        (2, "order 2"),
    ]


def test_a_key_repeated_in_a_later_batch_of_a_backfill_is_merged(db: Database) -> None:
    """Into an empty table batches are COPYed straight in until a key comes back; that batch
    rolls back to its savepoint and merges, as does every batch after it."""
    orders = [order(1), order(2), order(3, note="old"), order(4), order(3, note="new"), order(5)]
    run = load_orders(db, orders, batch_size_rows=2)
    assert "2 inserted, 0 updated" in run.stderr  # the first batches, straight in
    assert "1 inserted, 1 updated" in run.stderr  # (4, 3 again): merged
    rows = db.rows(
        f"SELECT id, note, _sdc_ingested_at IS NOT NULL, _sdc_batched_at IS NOT NULL "
        f"FROM {SCHEMA}.orders ORDER BY id"
    )
    assert [r[:2] for r in rows] == [(n, "new" if n == 3 else f"order {n}") for n in range(1, 6)]
    assert all(r[2] and r[3] for r in rows)


def test_load_methods(db: Database) -> None:
    load_orders(db, [order(1), order(2)], load_method="append-only")
    load_orders(db, [order(1)], load_method="append-only")
    assert db.rows(f"SELECT id, count(*) FROM {SCHEMA}.orders GROUP BY id ORDER BY id") == [
        (1, 2),
        (2, 1),
    ]

    keyless = db.schema("events", {"id": {"type": "integer"}}, key=[])
    db.load([keyless, db.record("events", {"id": 1}), db.record("events", {"id": 1})])
    assert db.rows(f"SELECT count(*) FROM {SCHEMA}.events") == [(2,)]


def test_overwrite_replaces_the_table_with_the_runs_records(db: Database) -> None:
    load_orders(db, [order(1), order(2), order(3)])
    load_orders(db, [order(2), order(4)], load_method="overwrite", batch_size_rows=1)
    assert db.rows(f"SELECT id FROM {SCHEMA}.orders ORDER BY id") == [(2,), (4,)]


def full_table(db: Database, version: int, ids: list[int]) -> list[dict[str, Any]]:
    activate = {"type": "ACTIVATE_VERSION", "stream": "orders", "version": version}
    records = [db.record("orders", order(n), version=version) for n in ids]
    return [db.schema("orders", ORDERS), activate, *records, activate]


def test_activate_version_marks_exactly_the_rows_gone_from_the_source(db: Database) -> None:
    db.load(full_table(db, 1, [1, 2, 3, 4]))
    db.load(full_table(db, 2, [1, 3, 4]))
    deleted = db.rows(f"SELECT id FROM {SCHEMA}.orders WHERE _sdc_deleted_at IS NOT NULL")
    assert deleted == [(2,)]
    db.load(full_table(db, 3, [1, 2]))  # 2 is back, 3 and 4 are gone
    marked = db.rows(f"SELECT id, _sdc_deleted_at IS NOT NULL FROM {SCHEMA}.orders ORDER BY id")
    assert marked == [(1, False), (2, False), (3, True), (4, True)]


def test_a_version_announced_only_before_its_records_completes_at_the_end(db: Database) -> None:
    """singer-sdk taps send ACTIVATE_VERSION once, before the records: older rows are retired
    with the last batch, not at the announcement (nothing looks deleted mid-sync)."""
    db.load(full_table(db, 1, [1, 2, 3, 4]))
    announce = {"type": "ACTIVATE_VERSION", "stream": "orders", "version": 2}
    records = [db.record("orders", order(n), version=2) for n in (1, 3)]
    run = db.load([db.schema("orders", ORDERS), announce, *records], batch_size_rows=1)
    assert run.stderr.count("batch committed") == 2  # one record per batch
    marked = db.rows(f"SELECT id, _sdc_deleted_at IS NOT NULL FROM {SCHEMA}.orders ORDER BY id")
    assert marked == [(1, False), (2, True), (3, False), (4, True)]
    retired = [line for line in run.stderr.splitlines() if "version 2 complete" in line]
    assert len(retired) == 1
    assert "(end of input)" in retired[0]
    assert "2 deleted" in retired[0]


def test_hard_delete_removes_the_rows(db: Database) -> None:
    db.load(full_table(db, 1, [1, 2, 3]), hard_delete=True)
    db.load(full_table(db, 2, [2]), hard_delete=True)
    assert db.rows(f"SELECT id FROM {SCHEMA}.orders") == [(2,)]
    gone = order(2, _sdc_deleted_at="2024-04-01T00:00:00Z")
    db.load([db.schema("orders", ORDERS), db.record("orders", gone)], hard_delete=True)
    assert db.rows(f"SELECT id FROM {SCHEMA}.orders") == []


def test_a_record_carrying_sdc_deleted_at_soft_deletes_its_row(db: Database) -> None:
    load_orders(db, [order(1), order(2)])
    load_orders(db, [order(2, _sdc_deleted_at="2024-04-01T00:00:00+02:00")])
    assert db.rows(f"SELECT id, _sdc_deleted_at FROM {SCHEMA}.orders ORDER BY id") == [
        (1, None),
        (2, datetime(2024, 3, 31, 22, tzinfo=UTC)),
    ]


def test_schema_changes_add_and_widen_columns_and_drop_nothing(db: Database) -> None:
    first = {"id": {"type": "integer"}, "n": {"type": "integer"}, "old": {"type": "string"}}
    db.load([db.schema("items", first), db.record("items", {"id": 1, "n": 5, "old": "kept"})])
    second = {"id": {"type": "integer"}, "n": {"type": "number"}, "new": {"type": "boolean"}}
    run = db.load(
        [db.schema("items", second), db.record("items", {"id": 2, "n": 2.5, "new": True})]
    )
    assert "widened n from bigint to numeric" in run.stderr
    assert "added new boolean" in run.stderr
    third = {"id": {"type": "integer"}, "n": {"type": "string"}}
    db.load([db.schema("items", third), db.record("items", {"id": 3, "n": "many"})])
    assert db.rows(f"SELECT id, n, old, new FROM {SCHEMA}.items ORDER BY id") == [
        (1, "5", "kept", None),
        (2, "2.5", None, True),
        (3, "many", None, None),
    ]


def test_a_narrower_schema_writes_into_the_wider_column(db: Database) -> None:
    db.load(
        [
            db.schema("items", {"id": {"type": "integer"}, "n": {"type": "number"}}),
            db.record("items", {"id": 1, "n": 1.5}),
        ]
    )
    db.load(
        [
            db.schema("items", {"id": {"type": "integer"}, "n": {"type": "integer"}}),
            db.record("items", {"id": 2, "n": 7}),
        ]
    )
    assert db.rows(f"SELECT n FROM {SCHEMA}.items ORDER BY id") == [
        (Decimal("1.5"),),
        (Decimal("7"),),
    ]


def batch_of(path: Path, file_format: str) -> dict[str, Any]:
    """A BATCH message for one gzip-compressed file of the orders stream."""
    return {
        "type": "BATCH",
        "stream": "orders",
        "encoding": {"format": file_format, "compression": "gzip"},
        "manifest": [path.as_uri()],
    }


def test_batch_messages_of_jsonl_files(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "orders-1.jsonl.gz"
    with gzip.open(path, "wt") as file:
        for n in range(3):
            file.write(json.dumps({"id": n, "note": f"from a file {n}"}) + "\n")
    db.load([db.schema("orders", ORDERS), batch_of(path, "jsonl")])
    assert db.rows(f"SELECT id, note FROM {SCHEMA}.orders ORDER BY id") == [
        (0, "from a file 0"),
        (1, "from a file 1"),
        (2, "from a file 2"),
    ]


def test_batch_messages_of_parquet_files(db: Database, tmp_path: Path) -> None:
    """As singer-sdk's ParquetBatcher writes them: pyarrow tables from the records."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "orders=1.parquet"
    records = [order(n) for n in range(3)]
    pq.write_table(pa.Table.from_pylist(records), path, compression="gzip")
    db.load([db.schema("orders", ORDERS), batch_of(path, "parquet")])
    from_file = db.rows(
        f"SELECT id, updated_at, total, lines, customer FROM {SCHEMA}.orders ORDER BY id"
    )
    assert from_file[1] == (
        1,
        datetime(2024, 3, 2, 15, 0, tzinfo=UTC),
        Decimal("1.10"),
        [{"sku": "s1", "qty": 1}],
        {"name": "c1"},
    )
    assert len(from_file) == 3
