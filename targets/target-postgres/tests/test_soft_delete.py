"""Soft deletes through the real CLI into a real Postgres: a record carrying `_sdc_deleted_at`
(a tap's tombstone: often nothing but the key and the mark) keeps the row's last known values;
a later record of the key un-deletes it; `hard_delete` removes the row; the log counts them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from target_postgres.loader import CORE_METADATA, RECORD_METADATA
from target_postgres.table import BOOKKEEPING
from target_postgres.testing import SCHEMA, Database, Run

PRODUCTS = {
    "id": {"type": "integer"},
    "title": {"type": ["string", "null"]},
    "price": {"type": ["number", "null"]},
    "tags": {"type": ["array", "null"], "items": {"type": "string"}},
    "updated_at": {"type": ["string", "null"], "format": "date-time"},
    "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
}
DELETED = "2024-05-01T12:00:00-04:00"
DELETED_UTC = datetime(2024, 5, 1, 16, tzinfo=UTC)
VALUES = "id, title, price, tags, updated_at, _sdc_deleted_at"


def product(n: int, **changes: Any) -> dict[str, Any]:
    values = {
        "id": n,
        "title": f"product {n}",
        "price": n * 10,
        "tags": ["a", f"t{n}"],
        "updated_at": f"2024-04-0{n}T10:00:00+00:00",
    }
    return {**values, **changes}


def tombstone(n: int, moment: str = DELETED) -> dict[str, Any]:
    return {"id": n, "_sdc_deleted_at": moment}


def load(db: Database, records: list[dict[str, Any]], **settings: Any) -> Run:
    messages = [db.schema("products", PRODUCTS), *(db.record("products", r) for r in records)]
    return db.load([*messages, db.state({"bookmarks": {"products": len(records)}})], **settings)


def rows(db: Database) -> dict[int, tuple[Any, ...]]:
    found = db.rows(f"SELECT {VALUES} FROM {SCHEMA}.products ORDER BY id")
    return {row[0]: row[1:] for row in found}


def bookkeeping(db: Database, n: int) -> tuple[Any, ...]:
    found = db.rows(
        "SELECT _sdc_ingested_at, _sdc_batched_at, _sdc_sequence, _sdc_checksum, "
        f"_sdc_received_at FROM {SCHEMA}.products WHERE id = %s",
        n,
    )
    return found[0]


def values_of(record: dict[str, Any]) -> tuple[Any, ...]:
    """A live record's values as ``rows`` reads them back."""
    return (
        record["title"],
        Decimal(record["price"]),
        record["tags"],
        datetime.fromisoformat(record["updated_at"]),
        None,
    )


def committed(run: Run) -> str:
    (line,) = [line for line in run.stderr.splitlines() if "batch committed" in line]
    return line


def test_a_tombstone_keeps_the_rows_last_values_and_an_unknown_key_is_inserted_as_is(
    db: Database,
) -> None:
    load(db, [product(1), product(2), product(3)])
    before = rows(db)
    kept_before = bookkeeping(db, 2)
    run = load(db, [tombstone(2), tombstone(9)])
    after = rows(db)
    assert after[2] == (*before[2][:-1], DELETED_UTC)  # every value kept, the mark set
    assert after[9] == (None, None, None, None, DELETED_UTC)
    assert after[1] == before[1]
    assert after[3] == before[3]
    kept_after = bookkeeping(db, 2)
    assert kept_after[0] == kept_before[0]  # _sdc_ingested_at: the first insert's
    assert kept_after[1] > kept_before[1]  # _sdc_batched_at, _sdc_sequence, _sdc_checksum,
    assert kept_after[2] > kept_before[2]  # _sdc_received_at: the tombstone's
    assert kept_after[3] != kept_before[3]
    assert kept_after[4] > kept_before[4]
    assert "2 rows staged, 1 inserted, 1 updated, 0 unchanged, 2 deleted" in committed(run)

    # the same tombstone again (a tap re-reading its deletions) changes nothing
    again = load(db, [tombstone(2)])
    assert "1 rows staged, 0 inserted, 0 updated, 1 unchanged, 0 deleted" in committed(again)
    assert rows(db) == after


def test_a_later_record_of_the_key_undeletes_it(db: Database) -> None:
    load(db, [product(1), product(2)])
    load(db, [tombstone(1), tombstone(2)])
    # the very values it had before (a key some taps reuse) and new ones both un-delete
    run = load(db, [product(1), product(2, title="back")])
    assert "2 rows staged, 0 inserted, 2 updated, 0 unchanged, 0 deleted" in committed(run)
    assert rows(db) == {1: values_of(product(1)), 2: values_of(product(2, title="back"))}
    # within one batch the last record per key wins: the tombstone, then the record again
    run = load(db, [product(1, title="gone"), tombstone(1), product(1, title="here")])
    assert rows(db)[1][0] == "here"
    assert rows(db)[1][-1] is None


def test_a_backfill_of_tombstones_into_an_empty_table_inserts_them_as_they_are(
    db: Database,
) -> None:
    """Into an empty table a batch is COPYed straight in: tombstones too, counted as deleted."""
    run = load(db, [tombstone(4), product(5)])
    assert "2 rows staged, 2 inserted, 0 updated, 0 unchanged, 1 deleted" in committed(run)
    assert rows(db)[4] == (None, None, None, None, DELETED_UTC)
    assert rows(db)[5][-1] is None


def test_hard_delete_removes_the_row_a_tombstone_names(db: Database) -> None:
    load(db, [product(1), product(2)], hard_delete=True)
    run = load(db, [tombstone(2)], hard_delete=True)
    assert sorted(rows(db)) == [1]
    assert "1 deleted" in committed(run)


def test_bookkeeping_is_the_loaders_metadata() -> None:
    assert {name for name, _ in CORE_METADATA + RECORD_METADATA} == BOOKKEEPING
