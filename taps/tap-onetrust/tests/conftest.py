"""Fixtures: a OneTrust sandbox per test, and the tap run as its real CLI in a subprocess."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sandbox.onetrust.sandbox import OneTrustSandbox
from tap_onetrust.tap import TapOneTrust
from tapkit.testing import TapRunner

CLIENT_ID = "tapworks-tests"
SECRET = "oT-sEcReT-0123456789abcdefXYZ"
REQUESTS_PATH = "/api/datasubject/v2/requestqueues/en-us"
#: Before the sandbox's ~14 months of history, so the first load walks every month of it.
START = "2025-06-01T00:00:00Z"


def onetrust_runner(sandbox: OneTrustSandbox, workdir: Path, **config: object) -> TapRunner:
    base = {
        "base_url": sandbox.base_url,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "start_date": START,
        "rate_limit_percent": 0,
        "max_retries": 6,
        "progress_interval_seconds": 0,
        **config,
    }
    return TapRunner("tap_onetrust", TapOneTrust, workdir, base)


@pytest.fixture
def sandbox() -> Iterator[OneTrustSandbox]:
    """A small tenant (its seeded hard cases included) with rate limits off."""
    with OneTrustSandbox(seed=3, requests=200, rate_limits=False) as sandbox:
        yield sandbox


@pytest.fixture
def run_tap(sandbox: OneTrustSandbox, tmp_path: Path) -> TapRunner:
    return onetrust_runner(sandbox, tmp_path)


@pytest.fixture
def make_runner() -> type:
    """For tests that start their own sandbox: ``make_runner(sandbox, workdir, **config)``."""
    return onetrust_runner  # type: ignore[return-value]


@pytest.fixture
def dsar_queries(sandbox: OneTrustSandbox) -> Callable[[], list[dict[str, list[str]]]]:
    """The query of every DSAR request-list call the sandbox has logged, in order."""
    return lambda: [r["query"] for r in sandbox.control.requests() if r["path"] == REQUESTS_PATH]
