from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.klaviyo.client import KlaviyoClient
from sandbox.klaviyo.sandbox import KlaviyoSandbox

# Fixtures pin the history's end and freeze the data clock, so every timestamp is predictable.
NOW = "2026-07-01T00:00:00+00:00"


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[KlaviyoSandbox]:
    """Read-only sandbox shared by tests that do not change data (rate limits off)."""
    with KlaviyoSandbox(
        seed=11, profiles=1_200, events=6_000, now=NOW, frozen_clock=True, rate_limits=False
    ) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox() -> Iterator[KlaviyoSandbox]:
    """A fresh sandbox for tests that change data, the clock, faults or limits."""
    with KlaviyoSandbox(
        seed=5, profiles=300, events=2_000, now=NOW, frozen_clock=True, rate_limits=False
    ) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def client(shared_sandbox: KlaviyoSandbox) -> KlaviyoClient:
    return KlaviyoClient(shared_sandbox.api_url)


@pytest.fixture
def fresh_client(sandbox: KlaviyoSandbox) -> KlaviyoClient:
    return KlaviyoClient(sandbox.api_url)
