"""The modelled page time: each API answer waits base + per record, in its own handler thread.

Timings are asserted as lower bounds (the wait happened) or against a generous upper bound that
only a serialised wait would break (four 300 ms waits in a row are 1.2 s): functional
properties, not performance figures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests

from sandbox.cli import build_parser, klaviyo_command, shopify_command
from sandbox.core.clock import FakeClock
from sandbox.core.control import SandboxControlError
from sandbox.klaviyo.client import KlaviyoClient
from sandbox.klaviyo.sandbox import KlaviyoSandbox
from sandbox.shopify.sandbox import ShopifySandbox

NOW = "2026-07-01T00:00:00+00:00"


@pytest.fixture
def slow() -> Iterator[KlaviyoSandbox]:
    with KlaviyoSandbox(
        seed=3,
        profiles=200,
        events=100,
        now=NOW,
        frozen_clock=True,
        rate_limits=False,
        latency_ms=100,
        latency_per_record_ms=2,
    ) as sandbox:
        yield sandbox


def timed_get(client: KlaviyoClient, path: str, **params: str) -> tuple[float, requests.Response]:
    started = time.perf_counter()
    response = client.get(path, params)
    return time.perf_counter() - started, response


def test_a_page_waits_base_plus_per_record(slow: KlaviyoSandbox) -> None:
    client = KlaviyoClient(slow.api_url)
    seconds, response = timed_get(client, "/profiles", **{"page[size]": "50"})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 50
    assert seconds >= 0.100 + 50 * 0.002
    [entry] = slow.control.requests()
    assert entry["records"] == 50
    assert entry["duration_ms"] >= 200


def test_an_error_answer_waits_the_base_only(slow: KlaviyoSandbox) -> None:
    seconds, response = timed_get(KlaviyoClient(slow.api_url), "/nowhere")
    assert response.status_code == 404
    assert seconds >= 0.100


def test_admin_routes_never_wait() -> None:
    with KlaviyoSandbox(profiles=20, events=20, rate_limits=False, latency_ms=2_000) as sandbox:
        control = sandbox.control
        started = time.perf_counter()
        control.info()
        control.requests()
        control.latency()
        assert time.perf_counter() - started < 1.0  # one API answer alone would take 2 s


def test_concurrent_requests_wait_in_parallel_and_are_counted_in_flight() -> None:
    with KlaviyoSandbox(profiles=50, events=50, rate_limits=False, latency_ms=300) as sandbox:
        control = sandbox.control
        assert control.max_in_flight() == 0
        statuses = _concurrently(sandbox, "/profiles", 4)
        assert statuses == [200] * 4
        assert control.max_in_flight() == 4
        control.clear_requests()
        assert control.max_in_flight() == 0
        KlaviyoClient(sandbox.api_url).get("/profiles")
        assert control.max_in_flight() == 1


def _concurrently(sandbox: KlaviyoSandbox, path: str, count: int) -> list[int]:
    """``count`` requests at once, each on its own connection; fails if they took as long as
    waiting one after another would."""
    start = threading.Barrier(count + 1)
    statuses: list[int] = []

    def one() -> None:
        client = KlaviyoClient(sandbox.api_url)
        start.wait()
        statuses.append(client.get(path).status_code)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    assert time.perf_counter() - started < 1.0  # serialised: 4 x 300 ms = 1.2 s
    return sorted(statuses)


def test_rate_limits_count_a_request_when_it_arrives_not_when_it_is_answered() -> None:
    clock = FakeClock()  # the buckets never refill: only arrival order matters
    with KlaviyoSandbox(profiles=20, events=20, monotonic=clock, latency_ms=1_000) as sandbox:
        threads = [
            threading.Thread(target=KlaviyoClient(sandbox.api_url).get, args=("/flows",))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        deadline = time.perf_counter() + 0.8
        decided: list[int] = []
        while time.perf_counter() < deadline:
            decided = sorted(r["status"] for r in sandbox.control.requests() if r["status"])
            if len(decided) == 4:
                break
            time.sleep(0.02)
        still_waiting = all(thread.is_alive() for thread in threads)
        for thread in threads:
            thread.join()
    # flows allow a burst of 3: all four were decided while every answer was still waiting
    assert still_waiting
    assert decided == [200, 200, 200, 429]


def test_the_admin_route_changes_latency_at_runtime() -> None:
    with KlaviyoSandbox(profiles=20, events=20, rate_limits=False) as sandbox:
        control = sandbox.control
        client = KlaviyoClient(sandbox.api_url)
        assert control.latency() == {"base_ms": 0.0, "per_record_ms": 0.0}
        assert control.set_latency(base_ms=250) == {"base_ms": 250.0, "per_record_ms": 0.0}
        seconds, _ = timed_get(client, "/profiles", **{"page[size]": "10"})
        assert seconds >= 0.250
        assert control.set_latency(per_record_ms=20) == {"base_ms": 250.0, "per_record_ms": 20.0}
        seconds, _ = timed_get(client, "/profiles", **{"page[size]": "10"})
        assert seconds >= 0.250 + 10 * 0.020
        assert control.info()["latency"] == {"base_ms": 250.0, "per_record_ms": 20.0}
        with pytest.raises(SandboxControlError, match="at least 0"):
            control.set_latency(base_ms=-1)
        with pytest.raises(SandboxControlError, match="unknown latency option"):
            control._call("POST", "latency", {"latency_ms": 5})
        assert control.latency() == {"base_ms": 250.0, "per_record_ms": 20.0}


def test_shopify_list_answers_wait_per_record_too() -> None:
    with ShopifySandbox(
        seed=2, orders=80, now=NOW, rate_limits=False, latency_ms=50, latency_per_record_ms=3
    ) as shop:
        started = time.perf_counter()
        response = requests.get(
            f"{shop.api_url()}/orders.json",
            headers={"X-Shopify-Access-Token": "shpat_test"},
            params={"status": "any", "limit": "50"},
            timeout=10,
        )
        seconds = time.perf_counter() - started
        assert len(response.json()["orders"]) == 50
        assert seconds >= 0.050 + 50 * 0.003
        assert shop.control.requests()[0]["records"] == 50
        assert shop.control.info()["max_in_flight"] == 1


def test_every_emulator_command_takes_the_latency_flags() -> None:
    parser = build_parser()
    commands = [
        klaviyo_command(0, 1, 10, 10, latency_ms=250, latency_per_record_ms=0.5),
        shopify_command(0, 1, 10, latency_ms=250, latency_per_record_ms=0.5),
    ]
    for command in commands:
        args = parser.parse_args(command[3:])  # after `python -m sandbox`
        assert (args.latency_ms, args.latency_per_record_ms) == (250.0, 0.5)
    defaults = parser.parse_args(["shopify"])
    assert (defaults.latency_ms, defaults.latency_per_record_ms) == (0.0, 0.0)
    with pytest.raises(SystemExit):
        parser.parse_args(["klaviyo", "--latency-ms", "-5"])
