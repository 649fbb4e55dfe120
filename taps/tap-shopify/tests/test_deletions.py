"""Deleted orders and products: read from the sandbox's Events API (``verb=destroy``) and emitted
as records of their stream carrying only the key and ``_sdc_deleted_at``, before the stream's
other records, never moving its bookmark."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sandbox.shopify.sandbox import ShopifySandbox
from tapkit.testing import Message, Run, TapRunner

STREAMS = ["orders", "transactions", "products", "customers"]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_ok(run: Run) -> None:
    assert run.returncode == 0, run.stderr[-3000:]


def tombstones(run: Run, stream: str) -> list[dict[str, Any]]:
    return [r for r in run.records(stream) if "_sdc_deleted_at" in r]


def live_ids(run: Run, stream: str) -> set[int]:
    return {r["id"] for r in run.records(stream) if "_sdc_deleted_at" not in r}


def event_requests(shop: ShopifySandbox, since: int = 0) -> list[dict[str, list[str]]]:
    return [r["query"] for r in shop.control.requests(since) if r["path"].endswith("/events.json")]


@pytest.fixture
def shop() -> Iterator[ShopifySandbox]:
    """A shop whose clock follows the wall clock, so deletions happen after the run's bookmark."""
    with ShopifySandbox(seed=7, orders=300, rate_limits=False) as sb:
        yield sb


@pytest.fixture
def run_shop(shop: ShopifySandbox, tmp_path: Path, make_runner: Any) -> TapRunner:
    return make_runner(shop, tmp_path, rate_limit_percent=0, page_size=50)


def test_the_next_run_emits_exactly_the_deleted_ids(
    run_shop: TapRunner, shop: ShopifySandbox
) -> None:
    first = run_shop(streams=STREAMS)
    assert_ok(first)
    assert tombstones(first, "orders") == tombstones(first, "products") == []
    control = shop.control
    orders = control.delete("order", count=7)
    products = control.delete("product", count=3)
    customers = control.delete("customer", count=2)
    updated = set(control.update("order", count=4))
    seen = control.requests()[-1]["seq"]

    second = run_shop(streams=STREAMS, state=first.state)
    assert_ok(second)
    events = {e["subject_id"]: e for e in control.truth("event")}
    for stream, deleted in (("orders", orders), ("products", products)):
        emitted = tombstones(second, stream)
        assert sorted(r["id"] for r in emitted) == sorted(deleted), stream
        for record in emitted:
            assert set(record) == {"id", "_sdc_deleted_at"}
            assert record["_sdc_deleted_at"].endswith("+00:00")  # in UTC, like every timestamp
            assert instant(record["_sdc_deleted_at"]) == instant(events[record["id"]]["created_at"])
        assert not set(deleted) & live_ids(second, stream)
    # customers have no events: their deletions are seen by a full refresh only
    assert tombstones(second, "customers") == []
    assert not set(customers) & set(second.ids("customers"))
    assert updated <= live_ids(second, "orders")
    # no transactions are asked for a deleted order (it has none left: a 404)
    assert not any(r["status"] == 404 for r in control.requests(seen)), (
        "transactions of a deleted order requested"
    )

    # the deletion read covers the incremental read's range, less the events' delay
    bookmarks = first.state["bookmarks"]
    for query in event_requests(shop, seen):
        stream = {"Order": "orders", "Product": "products"}[query["filter"][0]]
        assert query["verb"] == ["destroy"]
        start = instant(bookmarks[stream]["replication_key_value"])
        assert instant(query["created_at_min"][0]) == start - timedelta(minutes=10)
        assert instant(query["created_at_max"][0]) >= instant(
            max(e["created_at"] for e in events.values())
        )
    # the deletions moved no bookmark: products changed only by deletions keep theirs
    assert (
        second.state["bookmarks"]["products"]["replication_key_value"]
        == bookmarks["products"]["replication_key_value"]
    )

    # a run with nothing deleted since emits no deletion newer than its bookmark's margin
    third = run_shop(streams=STREAMS, state=second.state)
    assert_ok(third)
    assert {r["id"] for r in tombstones(third, "orders")} <= set(orders)


def test_deletions_are_emitted_before_any_state_that_moves_past_them(
    run_shop: TapRunner, shop: ShopifySandbox
) -> None:
    """A backfill killed after a few windows' STATE has emitted every deletion of its range
    before that STATE, and the resumed run reads them again from its bookmark: none is lost
    to a bookmark that moved past it."""
    deleted = shop.control.delete("order", count=5)

    def after_third_state(message: Message, messages: list[Message]) -> bool:
        return message["type"] == "STATE" and sum(m["type"] == "STATE" for m in messages) >= 3

    killed = run_shop.until(after_third_state, streams=["orders"], backfill_window_days=20)
    assert killed.returncode != 0
    first_move = next(
        index
        for index, m in enumerate(killed.messages)
        if m["type"] == "STATE"
        and m["value"].get("bookmarks", {}).get("orders", {}).get("replication_key_value")
    )
    before = [m["record"] for m in killed.messages[:first_move] if m["type"] == "RECORD"]
    assert sorted(r["id"] for r in before if "_sdc_deleted_at" in r) == sorted(deleted)
    assert not any(
        "_sdc_deleted_at" in m["record"]
        for m in killed.messages[first_move:]
        if m["type"] == "RECORD"
    )

    resumed = run_shop(streams=["orders"], state=killed.state, backfill_window_days=20)
    assert_ok(resumed)
    assert sorted(r["id"] for r in tombstones(resumed, "orders")) == sorted(deleted)
    together = live_ids(killed, "orders") | live_ids(resumed, "orders")
    assert together == {o["id"] for o in shop.control.truth("order")}


def test_end_date_bounds_the_deletions_too(run_shop: TapRunner, shop: ShopifySandbox) -> None:
    end = (instant(shop.control.now()) - timedelta(hours=1)).isoformat()
    first = run_shop(streams=["orders"], end_date=end)
    assert_ok(first)
    deleted = shop.control.delete("order", count=2)
    bounded = run_shop(streams=["orders"], state=first.state, end_date=end)
    assert_ok(bounded)
    assert tombstones(bounded, "orders") == []  # deleted after end_date: the next run's
    later = run_shop(streams=["orders"], state=bounded.state)
    assert_ok(later)
    assert sorted(r["id"] for r in tombstones(later, "orders")) == sorted(deleted)
