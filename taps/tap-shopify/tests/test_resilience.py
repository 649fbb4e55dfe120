"""Limits, faults and failures: pace by the shop's bucket, finish when asked to wait, stop
clearly when the shop says no, and never show the token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.shopify.sandbox import ShopifySandbox
from tapkit.testing import Run, TapRunner

SECRET = "shpat_sEcReT0123456789abcdefXYZ"


def assert_ok(run: Run) -> None:
    assert run.returncode == 0, run.stderr[-3000:]


def assert_token_hidden(run: Run) -> None:
    assert SECRET not in run.stdout
    assert SECRET not in run.stderr


@pytest.fixture
def paced(tmp_path: Path, make_runner: Any) -> Iterator[tuple[ShopifySandbox, TapRunner]]:
    """Shopify's bucket of 40 leaking 10/s (an Advanced-to-Plus pace, so the test is short)."""
    sandbox = ShopifySandbox(seed=6, orders=100, leak_per_second=10).start()
    yield sandbox, make_runner(sandbox, tmp_path, calls_per_second=10)
    sandbox.stop()


def test_the_call_limit_header_paces_the_tap_without_429(
    paced: tuple[ShopifySandbox, TapRunner],
) -> None:
    sandbox, run_tap = paced
    # Another app of the same shop has just filled most of the bucket: only the header tells.
    for _ in range(34):
        requests.get(
            sandbox.api_url() + "/locations.json",
            headers={"X-Shopify-Access-Token": SECRET},
            timeout=10,
        )
    sandbox.control.clear_requests()
    run = run_tap(streams=["orders", "transactions"])
    assert_ok(run)
    log = sandbox.control.requests()
    assert len(log) > 100  # an order page per window, a transactions request per order
    assert [e for e in log if e["status"] == 429] == []
    assert len(set(run.ids("orders"))) == 100


def test_a_429_storm_is_waited_out(run_tap: TapRunner, sandbox: ShopifySandbox) -> None:
    sandbox.control.inject_fault("429", seconds=3, retry_after=1)
    run = run_tap(streams=["customers", "locations"])
    assert_ok(run)
    assert any(e["status"] == 429 for e in sandbox.control.requests())
    assert len(set(run.ids("customers"))) == len(sandbox.control.truth("customer"))
    assert "as the API asks" in run.stderr


def test_the_bucket_overflowing_is_waited_out(tmp_path: Path, make_runner: Any) -> None:
    """A tap told the wrong plan (50/s against a 5/s shop) overfills the bucket: Shopify's 429
    and Retry-After bring it back in step, with every record."""
    with ShopifySandbox(seed=6, orders=30, leak_per_second=5) as sandbox:
        sandbox.control.set_bucket(size=10)
        run = make_runner(sandbox, tmp_path, calls_per_second=50)(
            streams=["orders", "transactions"]
        )
        assert_ok(run)
        assert any(e["status"] == 429 for e in sandbox.control.requests())
        assert sorted(set(run.ids("transactions"))) == sorted(
            t["id"] for t in sandbox.control.truth("transaction")
        )


@pytest.mark.parametrize("kind", ["500", "502", "503", "drop", "truncate", "malformed"])
def test_server_errors_and_broken_connections_are_retried(
    run_tap: TapRunner, sandbox: ShopifySandbox, kind: str
) -> None:
    sandbox.control.inject_fault(kind, count=2, path="/admin/api/2025-10/customers")
    run = run_tap(streams=["customers"])
    assert_ok(run)
    assert len(set(run.ids("customers"))) == len(sandbox.control.truth("customer"))
    assert sum(1 for e in sandbox.control.requests() if e["fault"] == kind) == 2


def test_a_wrong_token_stops_at_once_naming_the_setting(tmp_path: Path, make_runner: Any) -> None:
    with ShopifySandbox(
        seed=2, orders=20, tokens={"shpat_the_right_one": ["read_orders"]}
    ) as strict:
        run = make_runner(strict, tmp_path)(streams=["customers"])
        assert run.returncode != 0
        assert "401" in run.stderr
        assert "Check access_token" in run.stderr
        assert "Traceback" not in run.stderr
        assert len(strict.control.requests()) == 1  # a 401 is not retried
        assert_token_hidden(run)


def test_a_missing_scope_names_it(tmp_path: Path, make_runner: Any) -> None:
    with ShopifySandbox(seed=2, orders=20, tokens={SECRET: ["read_orders"]}) as strict:
        run = make_runner(strict, tmp_path)(streams=["customers"])
        assert run.returncode != 0
        assert "read_customers" in run.stderr
        assert_token_hidden(run)


def test_recent_orders_only_is_warned_about(tmp_path: Path, make_runner: Any) -> None:
    scopes = ["read_orders", "read_customers"]
    with ShopifySandbox(seed=2, orders=200, tokens={SECRET: scopes}) as shop:
        run = make_runner(shop, tmp_path)(streams=["orders"])
        assert_ok(run)
        assert "lacks the read_all_orders scope" in run.stderr
        assert 0 < len(run.ids("orders")) < 200  # what Shopify shows this token
        recent = make_runner(shop, tmp_path, start_date=shop.control.now())(streams=["orders"])
        assert "read_all_orders" not in recent.stderr
        assert_token_hidden(run)


def test_a_retired_api_version_is_warned_about(run_tap: TapRunner, sandbox: ShopifySandbox) -> None:
    run = run_tap(streams=["locations", "customers"], api_version="2023-04")
    assert_ok(run)
    assert (
        "Shopify served API version 2025-07, not the configured api_version 2023-04" in run.stderr
    )
    assert run.stderr.count("Shopify served API version") == 1
    assert len(run.ids("locations")) == 3
    quiet = run_tap(streams=["locations"])
    assert "Shopify served API version" not in quiet.stderr


def test_the_token_never_appears_in_output(run_tap: TapRunner, sandbox: ShopifySandbox) -> None:
    sandbox.control.inject_fault("500", count=2)
    run = run_tap(streams=["customers", "locations"])
    assert_ok(run)
    assert_token_hidden(run)
    logged = sandbox.control.requests()[0]["headers"]
    assert logged["x-shopify-access-token"] == "[redacted]"
