"""Fixtures: a Pinterest Ads sandbox per test, and the tap run as its real CLI in a subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tap_pinterest_ads.tap import TapPinterestAds

from sandbox.pinterest.sandbox import PinterestSandbox
from tapkit.testing import TapRunner

CLIENT_ID = "1484362"
SECRET = "pinterest-app-sEcReT-0123456789"
REFRESH = "pinr_seed-refresh-token-0123456789abcdef"


def pinterest_runner(sandbox: PinterestSandbox, workdir: Path, **config: object) -> TapRunner:
    base = {
        "api_url": sandbox.base_url,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "refresh_token": REFRESH,
        # Pinterest retires a refresh token once rotated: runs chain through the file
        "refresh_token_file": str(workdir / "refresh-token.json"),
        "rate_limit_percent": 0,
        "max_retries": 6,
        "progress_interval_seconds": 0,
        **config,
    }
    return TapRunner("tap_pinterest_ads", TapPinterestAds, workdir, base)


@pytest.fixture
def sandbox() -> Iterator[PinterestSandbox]:
    """Two ad accounts (their seeded hard cases included) with rate limits off."""
    with PinterestSandbox(seed=5, campaigns=30, rate_limits=False) as sandbox:
        yield sandbox


@pytest.fixture
def run_tap(sandbox: PinterestSandbox, tmp_path: Path) -> TapRunner:
    return pinterest_runner(sandbox, tmp_path)


@pytest.fixture
def make_runner() -> type:
    """For tests that start their own sandbox: ``make_runner(sandbox, workdir, **config)``."""
    return pinterest_runner  # type: ignore[return-value]
