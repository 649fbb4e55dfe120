"""Fixtures: a Shopify sandbox per test, and the tap run as its real CLI in a subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.shopify.sandbox import ShopifySandbox
from tap_shopify.tap import TapShopify
from tapkit.testing import TapRunner

SECRET_TOKEN = "shpat_sEcReT0123456789abcdefXYZ"
START = "2025-01-01T00:00:00Z"
#: A fast-leaking bucket (a Plus shop's pace and more) so tests do not wait on it; the
#: pacing tests use Shopify's standard 2/s.
FAST_LEAK = 200


def shopify_runner(sandbox: ShopifySandbox, workdir: Path, **config: object) -> TapRunner:
    base = {
        "shop": "sandbox-shop",
        "base_url": sandbox.base_url,
        "access_token": SECRET_TOKEN,
        "start_date": START,
        "calls_per_second": FAST_LEAK,
        "max_retries": 6,
        **config,
    }
    return TapRunner("tap_shopify", TapShopify, workdir, base)


@pytest.fixture
def sandbox() -> Iterator[ShopifySandbox]:
    """A small shop with the leaky bucket on (leaking fast)."""
    with ShopifySandbox(seed=3, orders=300, leak_per_second=FAST_LEAK) as sandbox:
        yield sandbox


@pytest.fixture
def run_tap(sandbox: ShopifySandbox, tmp_path: Path) -> TapRunner:
    return shopify_runner(sandbox, tmp_path)


@pytest.fixture
def make_runner() -> type:
    """For tests that start their own sandbox: ``make_runner(sandbox, workdir, **config)``."""
    return shopify_runner  # type: ignore[return-value]
