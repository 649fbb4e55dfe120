"""Full and incremental syncs against the sandbox: nothing lost, nothing invented."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from sandbox.shopify.sandbox import ShopifySandbox
from tapkit.testing import Run, TapRunner

STREAM_KINDS = {
    "orders": "order",
    "transactions": "transaction",
    "customers": "customer",
    "products": "product",
    "locations": "location",
}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_ok(run: Run) -> None:
    assert run.returncode == 0, run.stderr[-3000:]


def level_keys(records: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(r["inventory_item_id"], r["location_id"]) for r in records]


def order_requests(sandbox: ShopifySandbox, since: int = 0) -> list[dict[str, list[str]]]:
    return [
        r["query"]
        for r in sandbox.control.requests(since)
        if r["path"].endswith("/orders.json") and "page_info" not in r["query"]
    ]


@pytest.fixture
def shop() -> Iterator[ShopifySandbox]:
    """A shop whose clock follows the wall clock, as Shopify's does (a sandbox clock behind the
    tap's would make the tap's window ends look like the future to it)."""
    with ShopifySandbox(seed=5, orders=300, rate_limits=False) as sb:
        yield sb


@pytest.fixture
def run_shop(shop: ShopifySandbox, tmp_path: Path, make_runner: Any) -> TapRunner:
    return make_runner(shop, tmp_path, rate_limit_percent=0)


def test_full_sync_returns_exactly_the_sandbox_records(
    run_tap: TapRunner, sandbox: ShopifySandbox
) -> None:
    run = run_tap()
    assert_ok(run)
    for stream, kind in STREAM_KINDS.items():
        got = run.ids(stream)
        assert len(got) == len(set(got)), f"{stream}: duplicates"
        assert sorted(got) == sorted(r["id"] for r in sandbox.control.truth(kind)), stream
    assert sorted(level_keys(run.records("inventory_levels"))) == sorted(
        level_keys(sandbox.control.truth("inventory_level"))
    )
    order = run.records("orders")[0]
    assert order["line_items"]
    # Shopify writes the shop's offset (-05:00); the tap hands loaders UTC, the same instants.
    served = {o["id"]: o for o in sandbox.control.truth("order")}
    for record in run.records("orders"):
        for field in ("created_at", "updated_at", "processed_at"):
            assert record[field].endswith("+00:00"), field
            assert instant(record[field]) == instant(served[record["id"]][field]), field
    bookmarks = run.state["bookmarks"]
    for stream in ("orders", "customers", "products"):
        assert bookmarks[stream]["replication_key"] == "updated_at"
    assert len(bookmarks["inventory_levels"]["partitions"]) == 3


def test_first_run_loads_by_created_at_then_by_updated_at(
    run_shop: TapRunner, shop: ShopifySandbox
) -> None:
    first = run_shop(streams=["orders"])
    assert_ok(first)
    requests = order_requests(shop)
    assert requests
    assert all("created_at_min" in q and "updated_at_min" not in q for q in requests)
    assert all(q["status"] == ["any"] for q in requests)
    assert len(requests) > 1  # 30-day windows from start_date
    seen = shop.control.requests()[-1]["seq"]
    shop.control.update("order", count=10)
    second = run_shop(streams=["orders"], state=first.state)
    assert_ok(second)
    later = order_requests(shop, seen)
    assert later
    assert all("updated_at_min" in q and "created_at_min" not in q for q in later)
    assert instant(later[0]["updated_at_min"][0]) == instant(
        first.state["bookmarks"]["orders"]["replication_key_value"]
    )


def test_incremental_after_mutations_reads_every_change(
    run_shop: TapRunner, shop: ShopifySandbox
) -> None:
    first = run_shop()
    assert_ok(first)
    control = shop.control
    updated = set(control.update("order", count=25))
    created = set(control.create("order", count=4))
    refund = control.create("transaction")[0]
    customers = set(control.update("customer", count=7))
    products = set(control.update("product", count=3))
    levels = {tuple(k) for k in control.update("inventory_level", count=5)}
    second = run_shop(state=first.state)
    assert_ok(second)
    assert updated | created <= set(second.ids("orders"))
    assert refund in second.ids("transactions")
    assert customers <= set(second.ids("customers"))
    assert products <= set(second.ids("products"))
    assert levels <= set(level_keys(second.records("inventory_levels")))
    # far less than a full read: only what changed since the bookmark (and ties at it)
    assert len(second.ids("orders")) < len(first.ids("orders")) / 4
    for stream, kind in STREAM_KINDS.items():
        together = set(first.ids(stream)) | set(second.ids(stream))
        assert together == {r["id"] for r in control.truth(kind)}, stream


def test_ties_at_one_updated_at_across_pages_and_at_the_bookmark(
    run_shop: TapRunner, shop: ShopifySandbox
) -> None:
    truth = shop.control.truth("order")
    tied_at, count = Counter(o["updated_at"] for o in truth).most_common(1)[0]
    assert count == 60  # the sandbox's bulk edit
    first = run_shop(streams=["orders"], page_size=7)
    assert_ok(first)
    assert sorted(first.ids("orders")) == sorted(o["id"] for o in truth)
    bookmark = first.state["bookmarks"]["orders"]["replication_key_value"]
    assert instant(tied_at) < instant(bookmark)
    last = shop.control.update("order", count=3)
    second = run_shop(streams=["orders"], state=first.state, page_size=7)
    assert_ok(second)
    assert set(last) <= set(second.ids("orders"))
    moved = second.state["bookmarks"]["orders"]["replication_key_value"]
    assert instant(moved) > instant(bookmark)
    # Two more orders written in the very second the bookmark holds, after the run read it:
    # the next run must still get them (the bound is inclusive).
    late = shop.control.mutate("order", "update", count=2, at=moved)["ids"]
    third = run_shop(streams=["orders"], state=second.state, page_size=7)
    assert_ok(third)
    assert set(late) <= set(third.ids("orders"))


def test_windows_emit_state_and_a_killed_backfill_resumes(
    run_shop: TapRunner, shop: ShopifySandbox
) -> None:
    def after_third_state(message: dict[str, Any], messages: list[dict[str, Any]]) -> bool:
        return message["type"] == "STATE" and sum(m["type"] == "STATE" for m in messages) >= 3

    killed = run_shop.until(after_third_state, streams=["orders"], backfill_window_days=20)
    assert killed.returncode != 0
    resumed = run_shop(streams=["orders"], state=killed.state, backfill_window_days=20)
    assert_ok(resumed)
    together = set(killed.ids("orders")) | set(resumed.ids("orders"))
    assert together == {o["id"] for o in shop.control.truth("order")}
    windows = [q for q in order_requests(shop) if "created_at_max" in q]
    assert len(windows) >= 3


def test_end_date_bounds_the_load(run_shop: TapRunner, shop: ShopifySandbox) -> None:
    end = "2026-03-01T00:00:00Z"
    run = run_shop(streams=["orders", "customers"], end_date=end)
    assert_ok(run)
    orders = run.records("orders")
    assert orders
    assert all(instant(o["created_at"]) <= instant(end) for o in orders)
    assert instant(run.state["bookmarks"]["orders"]["replication_key_value"]) <= instant(end)
    expected = {
        c["id"]
        for c in shop.control.truth("customer")
        if instant("2025-01-01T00:00:00Z") <= instant(c["updated_at"]) <= instant(end)
    }
    assert expected <= set(run.ids("customers"))


def test_an_order_created_exactly_at_a_window_edge_is_read(
    run_shop: TapRunner, shop: ShopifySandbox
) -> None:
    start = "2026-01-01T00:00:00Z"  # with 10-day windows, an edge every 10 days from here
    edge = "2026-03-02T00:00:00+00:00"
    created = shop.control.mutate("order", "create", count=1, at=edge)["ids"][0]
    run = run_shop(streams=["orders"], start_date=start, backfill_window_days=10)
    assert_ok(run)
    windows = [q for q in order_requests(shop) if "created_at_max" in q]
    assert any(instant(q["created_at_max"][0]) == instant(edge) for q in windows)
    assert created in run.ids("orders")
    expected = {
        o["id"] for o in shop.control.truth("order") if instant(o["created_at"]) >= instant(start)
    }
    assert set(run.ids("orders")) == expected


def test_a_server_clock_behind_the_taps_loses_nothing(tmp_path: Path, make_runner: Any) -> None:
    """The shop's clock is months behind the tap's: window ends (the tap's clock) must not
    become bookmarks past what the shop can still write (its Date header says where it is)."""
    with ShopifySandbox(
        seed=5, orders=200, now="2026-07-01T00:00:00+00:00", frozen_clock=True, rate_limits=False
    ) as behind:
        run_tap = make_runner(behind, tmp_path, rate_limit_percent=0)
        first = run_tap(streams=["orders"], backfill_window_days=30)
        assert_ok(first)
        bookmark = first.state["bookmarks"]["orders"]["replication_key_value"]
        assert instant(bookmark) <= instant(behind.control.now())
        changed = set(behind.control.update("order", count=10))
        second = run_tap(streams=["orders"], state=first.state)
        assert_ok(second)
        assert changed <= set(second.ids("orders"))
