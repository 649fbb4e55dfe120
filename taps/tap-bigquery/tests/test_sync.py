"""Syncs against the emulator: what a run reads equals a SELECT of the same table through
google-cloud-bigquery, for every key type; ties at a slice edge; rows arriving between and
during runs; a kill mid-run with parallel slices, resumed."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tapkit.testing import TapRunner, upserted

if TYPE_CHECKING:
    from conftest import Dataset, Proxy

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def order(n: int, at: datetime) -> dict[str, Any]:
    return {
        "id": n,
        "updated_at": at.isoformat(),
        "changed": at.replace(tzinfo=None).isoformat(),
        "day": (at.date() + timedelta(days=n % 3)).isoformat(),
        "status": ["paid", "open", "refunded"][n % 3],
        "amount": f"{n}.25",
        "tags": ["gift", "rush"][: n % 3],
        "address": {"city": f"city{n % 7}", "zip": 10_000 + n, "lines": [f"{n} Main St"]},
        "items": [{"sku": f"sku{n % 5}", "quantity": n % 4 + 1}] * (n % 2),
        "legacy_stamp": at.strftime("%Y-%m-%d %H:%M:%S.") + f"{at.microsecond // 1000:03d}",
    }


KEYS = {  # stream -> its replication key
    "by_timestamp": "updated_at",
    "by_datetime": "changed",
    "by_date": "day",
    "by_integer": "id",
}


def same(record: Any, truth: Any) -> bool:
    """A record's JSON value against google-cloud-bigquery's Python value."""
    if isinstance(truth, datetime):
        moment = truth if truth.tzinfo else truth.replace(tzinfo=UTC)
        return datetime.fromisoformat(record) == moment
    if isinstance(truth, date):
        return record == truth.isoformat()
    if isinstance(truth, Decimal):
        return Decimal(str(record)) == truth
    if isinstance(truth, bytes):
        return base64.b64decode(record) == truth
    if isinstance(truth, dict):
        return record.keys() == truth.keys() and all(same(record[k], truth[k]) for k in truth)
    if isinstance(truth, list):
        return len(record) == len(truth) and all(map(same, record, truth))
    return bool(record == truth)


def test_a_full_sync_equals_a_select_for_every_key_type(
    dataset: Dataset, runner: Callable[..., TapRunner]
) -> None:
    table = dataset.table("orders")
    dataset.insert(table, [order(n, T0 + timedelta(minutes=7 * n)) for n in range(1_200)])
    streams = [
        {"name": name, "table": table, "replication_key": key, "primary_keys": ["id"]}
        for name, key in KEYS.items()
    ]
    run = runner(streams=streams, page_size=100, max_parallel_reads=3)()
    assert run.returncode == 0, run.stderr
    for name, key in KEYS.items():
        truth = dataset.select(f"SELECT * FROM `{table}` ORDER BY `{key}`, id")
        records = run.records(name)
        assert [r["id"] for r in records] == [t["id"] for t in truth], name
        assert all(same(r, t) for r, t in zip(records, truth, strict=True)), name
        bookmark = run.state["bookmarks"][name]["replication_key_value"]
        assert same(bookmark, truth[-1][key]), name
    # REPEATED columns are arrays (empty, not null), RECORD columns objects
    first = run.records("by_integer")[1]
    assert first["tags"] == ["gift"]
    assert first["address"] == {"city": "city1", "zip": 10_001, "lines": ["1 Main St"]}
    assert first["items"] == [{"sku": "sku1", "quantity": 2}]
    assert run.records("by_integer")[0]["tags"] == []


def test_a_string_key_in_the_sql_server_format(
    dataset: Dataset, runner: Callable[..., TapRunner]
) -> None:
    table = dataset.table("orders")
    dataset.insert(
        table, [order(n, T0 + timedelta(seconds=n, microseconds=1_500)) for n in range(300)]
    )
    stream = {
        "name": "legacy",
        "table": table,
        "replication_key": "legacy_stamp",
        "primary_keys": ["id"],
    }
    tap = runner(streams=[stream], bound_format="yyyy-MM-dd HH:mm:ss.SSS", page_size=50)
    first = tap(start_value="2024-01-01 00:01:40.001")
    assert first.returncode == 0, first.stderr
    assert first.ids("legacy") == list(range(100, 300))
    assert (
        first.state["bookmarks"]["legacy"]["replication_key_value"]
        == "2024-01-01T00:04:59.001000+00:00"
    )
    again = tap(state=first.state)
    assert again.ids("legacy") == [299]  # the bookmark's own row, read again on purpose


def test_ties_across_a_page_and_a_slice_edge_all_arrive_once(
    dataset: Dataset, runner: Callable[..., TapRunner]
) -> None:
    table = dataset.table("orders")
    tied = T0 + timedelta(hours=5)
    rows = [order(n, T0 + timedelta(seconds=n)) for n in range(300)]
    rows += [order(n, tied) for n in range(300, 800)]  # 500 rows, one key value
    rows += [order(n, tied + timedelta(seconds=n)) for n in range(800, 1_100)]
    dataset.insert(table, rows)
    stream = {
        "name": "orders",
        "table": table,
        "replication_key": "updated_at",
        "primary_keys": ["id"],
    }
    tap = runner(streams=[stream], page_size=100, max_parallel_reads=4)
    run = tap()
    assert run.returncode == 0, run.stderr
    assert sorted(run.ids("orders")) == list(range(1_100))  # all, none twice
    # a slice ends where the ties begin: STATE says so before the first tied row
    order_of = [m for m in run.messages if m["type"] in ("RECORD", "STATE")]
    first_tied = next(
        i for i, m in enumerate(order_of) if m["type"] == "RECORD" and m["record"]["id"] >= 300
    )
    edges = [
        m["value"]["bookmarks"]["orders"]["replication_key_value"]
        for m in order_of[:first_tied]
        if m["type"] == "STATE"
    ]
    assert edges[-1] == tied.isoformat()

    # killed halfway through the ties (5 pages of them), the next run reads every tied row
    def halfway(message: dict[str, Any], messages: list[dict[str, Any]]) -> bool:
        return (
            sum(m["type"] == "RECORD" and 300 <= m["record"]["id"] < 800 for m in messages) == 250
        )

    killed = tap.until(halfway)
    resumed = tap(state=killed.state)
    assert set(range(300, 1_100)) <= set(resumed.ids("orders"))
    assert len(upserted([killed, resumed], "orders", ("id",))) == 1_100


def test_rows_arriving_after_and_during_a_run_arrive_next_run(
    dataset: Dataset, runner: Callable[..., TapRunner], proxy: Proxy
) -> None:
    table = dataset.table("orders")
    dataset.insert(table, [order(n, T0 + timedelta(minutes=n)) for n in range(400)])
    stream = {
        "name": "orders",
        "table": table,
        "replication_key": "updated_at",
        "primary_keys": ["id"],
    }
    tap = runner(proxy.url, streams=[stream], page_size=100, max_parallel_reads=2)
    first = tap()
    bookmark = first.state["bookmarks"]["orders"]["replication_key_value"]
    assert bookmark == (T0 + timedelta(minutes=399)).isoformat()

    # after the run: a row with the bookmark's exact key, and one older (not read: it is
    # behind the bookmark, the limit of any key-based incremental read)
    dataset.insert(table, [order(1_000, T0 + timedelta(minutes=399)), order(1_001, T0)])
    # during the next run, after it read MAX and before its rows: above the upper bound
    during = [order(2_000, T0 + timedelta(minutes=500)), order(2_001, T0 + timedelta(minutes=399))]
    proxy.before_rows = lambda: dataset.insert(table, during)
    second = tap(state=first.state)
    assert second.returncode == 0, second.stderr
    assert 1_000 in second.ids("orders")
    assert 2_000 not in second.ids("orders")  # above the upper bound read at the start
    assert second.state["bookmarks"]["orders"]["replication_key_value"] == bookmark
    third = tap(state=second.state)
    assert {2_000, 2_001} <= set(third.ids("orders"))
    loaded = upserted([first, second, third], "orders", ("id",))
    assert set(loaded) == {(n,) for n in [*range(400), 1_000, 2_000, 2_001]}


def test_killed_mid_run_with_parallel_slices_resumes_without_loss(
    dataset: Dataset, runner: Callable[..., TapRunner]
) -> None:
    table = dataset.table("orders")
    dataset.insert(table, [order(n, T0 + timedelta(seconds=30 * n)) for n in range(900)])
    stream = {"name": "orders", "table": table, "replication_key": "id", "primary_keys": ["id"]}
    tap = runner(streams=[stream], page_size=100, max_parallel_reads=3)

    def enough(message: dict[str, Any], messages: list[dict[str, Any]]) -> bool:
        return sum(m["type"] == "STATE" for m in messages) == 5  # into the second slice

    killed = tap.until(enough)
    assert killed.state
    assert 0 < len(killed.ids("orders")) < 900
    resumed = tap(state=killed.state)
    assert resumed.returncode == 0, resumed.stderr
    bookmark = killed.state["bookmarks"]["orders"]["replication_key_value"]
    assert min(resumed.ids("orders")) == bookmark  # starts at the last STATE, not over
    assert len(upserted([killed, resumed], "orders", ("id",))) == 900


def test_a_query_stream_and_a_full_table_stream(
    dataset: Dataset, runner: Callable[..., TapRunner]
) -> None:
    table = dataset.table("orders")
    dataset.insert(table, [order(n, T0 + timedelta(hours=n)) for n in range(120)])
    streams = [
        {
            "name": "paid_orders",
            "query": f"SELECT id, updated_at, amount, address.city AS city FROM `{table}` WHERE status = 'paid'",
            "replication_key": "updated_at",
            "primary_keys": ["id"],
            "filters": ["amount > 10"],
        },
        {"name": "statuses", "table": table, "columns": ["status", "tags"], "primary_keys": ["id"]},
    ]
    run = runner(streams=streams, page_size=25)()
    assert run.returncode == 0, run.stderr
    assert run.ids("paid_orders") == [n for n in range(120) if n % 3 == 0 and n > 10]
    assert set(run.records("paid_orders")[0]) == {"id", "updated_at", "amount", "city"}
    assert len(run.records("statuses")) == 120  # read whole, with the primary key added
    assert set(run.records("statuses")[0]) == {"status", "tags", "id"}
    assert "statuses" not in run.state.get("bookmarks", {}) or not run.state["bookmarks"][
        "statuses"
    ].get("replication_key_value")
