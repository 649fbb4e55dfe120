"""Fixtures: a sandbox per test, and the tap run as its real CLI in a subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.klaviyo.sandbox import KlaviyoSandbox
from tap_klaviyo.tap import TapKlaviyo
from tapkit.testing import TapRunner

SECRET_KEY = "pk_live_sEcReT0123456789abcdefXYZ"
START = "2024-06-01T00:00:00Z"


def klaviyo_runner(sandbox: KlaviyoSandbox, workdir: Path) -> TapRunner:
    config = {
        "api_key": SECRET_KEY,
        "api_url": sandbox.api_url,
        "start_date": START,
        "max_retries": 6,
    }
    return TapRunner("tap_klaviyo", TapKlaviyo, workdir, config)


@pytest.fixture
def sandbox() -> Iterator[KlaviyoSandbox]:
    """A small account with Klaviyo's real rate limits."""
    with KlaviyoSandbox(seed=3, profiles=400, events=3_000) as sandbox:
        yield sandbox


@pytest.fixture
def run_tap(sandbox: KlaviyoSandbox, tmp_path: Path) -> TapRunner:
    return klaviyo_runner(sandbox, tmp_path)


@pytest.fixture
def make_runner() -> type:
    """For tests that start their own sandbox: ``make_runner(sandbox, workdir)``."""
    return klaviyo_runner  # type: ignore[return-value]
