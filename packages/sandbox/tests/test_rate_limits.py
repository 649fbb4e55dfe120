"""Token buckets per operation: burst per second, steady per minute, 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.core.clock import FakeClock
from sandbox.core.ratelimit import RateLimiter, Tier
from sandbox.klaviyo.client import KlaviyoClient as Client
from sandbox.klaviyo.sandbox import KlaviyoSandbox


def test_tier_notation_from_the_spec() -> None:
    assert Tier.parse("75/s", "750/m") == Tier(75, 750)
    assert Tier(3, 60).scaled(0.1) == Tier(1, 6)
    with pytest.raises(ValueError, match="per 'm'"):
        Tier.parse("3/s", "60/h")


def test_burst_then_steady_with_a_fake_clock() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock)
    tier = Tier(burst=3, steady=10)
    assert [limiter.acquire("op", tier).allowed for _ in range(4)] == [True, True, True, False]
    # Steady refills 1 token per 6 s: 7 -> 4.17 -> 1.33 after two more bursts.
    for _ in range(2):
        clock.advance(1.0)
        assert [limiter.acquire("op", tier).allowed for _ in range(4)] == [True, True, True, False]
    clock.advance(1.0)  # steady 1.5: one request, then the steady bucket is what refuses
    assert limiter.acquire("op", tier).allowed
    refused = limiter.acquire("op", tier)
    assert not refused.allowed
    assert refused.retry_after_seconds == 3
    clock.advance(refused.retry_after_seconds)
    assert limiter.acquire("op", tier).allowed


def test_buckets_are_per_operation() -> None:
    limiter = RateLimiter(FakeClock())
    tier = Tier(burst=1, steady=5)
    assert limiter.acquire("a", tier).allowed
    assert not limiter.acquire("a", tier).allowed
    assert limiter.acquire("b", tier).allowed


@pytest.fixture
def clocked() -> Iterator[tuple[KlaviyoSandbox, FakeClock, Client]]:
    clock = FakeClock()
    with KlaviyoSandbox(profiles=100, events=200, monotonic=clock) as sandbox:
        yield sandbox, clock, Client(sandbox.api_url)


def test_sandbox_answers_429_and_rate_headers(
    clocked: tuple[KlaviyoSandbox, FakeClock, Client],
) -> None:
    _, _clock, client = clocked
    responses = [client.get("/api/flows") for _ in range(4)]  # flows: 3/s burst, 60/m steady
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    first = responses[0].headers
    assert first["RateLimit-Limit"] == "60"
    assert [r.headers["RateLimit-Remaining"] for r in responses[:3]] == ["59", "58", "57"]
    assert int(first["RateLimit-Reset"]) >= 1
    throttled = responses[3]
    assert throttled.headers["Retry-After"] == "1"
    assert "RateLimit-Limit" not in throttled.headers
    error = throttled.json()["errors"][0]
    assert error["code"] == "throttled"
    assert error["status"] == 429


def test_honouring_retry_after_never_meets_a_second_429(
    clocked: tuple[KlaviyoSandbox, FakeClock, Client],
) -> None:
    _, clock, client = clocked
    statuses: list[int] = []
    retry_then_429 = 0
    just_waited = False
    while len([s for s in statuses if s == 200]) < 120:  # two minutes' worth of the steady limit
        response = client.get("/api/flows")
        statuses.append(response.status_code)
        if response.status_code == 429:
            retry_then_429 += just_waited
            clock.advance(int(response.headers["Retry-After"]))
            just_waited = True
        else:
            just_waited = False
    assert retry_then_429 == 0
    # steady state: 60 per minute after the initial bucket of 60 plus the burst.
    assert 429 in statuses


def test_rate_limits_can_be_turned_off_and_scaled(
    clocked: tuple[KlaviyoSandbox, FakeClock, Client],
) -> None:
    sandbox, _, client = clocked
    sandbox.control.set_rate_limits(enabled=False)
    assert all(client.get("/api/flows").status_code == 200 for _ in range(10))
    sandbox.control.set_rate_limits(enabled=True, scale=10)  # 30/s burst for flows
    assert all(client.get("/api/flows").status_code == 200 for _ in range(30))
    assert client.get("/api/flows").status_code == 429


def test_predictive_analytics_uses_its_lower_tier(
    clocked: tuple[KlaviyoSandbox, FakeClock, Client],
) -> None:
    _, _, client = clocked
    statuses = [
        client.get(
            "/api/profiles", {"additional-fields[profile]": "predictive_analytics"}
        ).status_code
        for _ in range(11)
    ]
    assert statuses == [200] * 10 + [429]
    assert client.get("/api/profiles").status_code == 200  # the plain read has its own bucket
